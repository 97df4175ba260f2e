"""``/_console/``: the pages, their static files and the JSON data endpoints, answered by the local gateway.

    GET  /_console/                          the messages page (also /_console/messages/<uuid>, /_console/workflows)
    GET  /_console/static/<file>             the pages' CSS and JavaScript
    GET  /_console/api/messages              ?channel= &status= &account= &direction= &q= &limit=
    GET  /_console/api/messages/<uuid>       one message: timeline, provider calls, webhooks, workflow, actions
    POST /_console/api/messages/<uuid>/reply     {"text": "..."}: the recipient replies (signed provider webhook)
    POST /_console/api/messages/<uuid>/receipts  {"status": "delivered" | "read" | "failed"}: a signed receipt
    GET  /_console/api/workflows             failover workflows, their steps and timers
    GET  /_console/api/events                server-sent events: ``change`` whenever the data changed

Every data answer carries ``version``; ``/api/events?since=<version>`` (or ``Last-Event-ID``) answers
as soon as the version differs, with one ``change`` event, or after ``EVENT_WAIT_SECONDS`` with none.
Each answer ends the response and ``EventSource`` reconnects by itself ``retry`` ms later, so the
stream needs nothing from the HTTP listener beyond ordinary requests.

The console is for the developer's own browser: it answers only requests whose ``Host`` is a
loopback name (a page on another site cannot reach it through DNS rebinding), and actions only
JSON requests from its own origin (a cross-site form or script cannot trigger them).
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from local_stack.console.actions import ActionFailed, ActionRefused, ConsoleActions, InvalidAction, Sender
from local_stack.console.feed import ChangeFeed, log_sizes
from local_stack.console.jsonl import JsonLinesFile
from local_stack.console.state import StackNotReady, StackState
from local_stack.console.tables import StackTables
from local_stack.console.views import MessageFilter, message_detail, messages_view, workflows_view
from local_stack.gateway import HttpRequest, HttpResponse
from local_stack.replay import send

logger = logging.getLogger(__name__)

CONSOLE_PATH = "/_console"
API_PATH = CONSOLE_PATH + "/api"
STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_FILE = "index.html"
STATIC_FILES = frozenset({"console.css", "console.js", "favicon.svg"})
PAGE_PATHS = re.compile(r"/_console/(?:messages/[^/]+|workflows)?")
MESSAGE_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_LIMIT = 200
MAX_LIMIT = 2000
MAX_ACTION_BODY_BYTES = 16 * 1024
EVENT_WAIT_SECONDS = 15.0
RECONNECT_MILLISECONDS = 300

SECURITY_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]


def _response(status: int, body: bytes, content_type: str, extra: list[tuple[str, str]] | None = None) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", content_type), *SECURITY_HEADERS, *(extra or [])], body)


def json_response(status: int, data: Any) -> HttpResponse:
    return _response(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")


def problem(status: int, title: str, detail: str) -> HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return _response(status, json.dumps(body).encode("utf-8"), "application/problem+json")


def _header(request: HttpRequest, name: str) -> str | None:
    return next((value for key, value in request.headers if key.lower() == name.lower()), None)


def host_name(host_header: str) -> str:
    """``[::1]:3000`` -> ``::1``, ``localhost:3000`` -> ``localhost``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


ACCESS_LOGGER = "local_stack.http_listener"


class QuietBackgroundReads(logging.Filter):
    """Leaves the pages' background reads (data and the event stream) out of the stack's access log.

    An open console reads after every change and holds an event stream open: logged, they would
    bury the requests a developer is looking for. Page loads and actions are still logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return f'"GET {API_PATH}/' not in record.getMessage()


def quiet_background_reads(logger_name: str = ACCESS_LOGGER) -> None:
    access_log = logging.getLogger(logger_name)
    if not any(isinstance(existing, QuietBackgroundReads) for existing in access_log.filters):
        access_log.addFilter(QuietBackgroundReads())


@dataclass
class _Stack:
    state: StackState
    tables: StackTables
    requests: JsonLinesFile
    reports: JsonLinesFile
    sink: JsonLinesFile
    actions: ConsoleActions
    feed: ChangeFeed


class Console:
    """The gateway's handler for ``/_console``. The stack's state is read on first use (it exists by then)."""

    def __init__(
        self,
        local_dir: Path | None = None,
        *,
        state: StackState | None = None,
        sender: Sender = send,
        clock: Callable[[], float] = time.time,
        event_wait_seconds: float = EVENT_WAIT_SECONDS,
    ) -> None:
        if local_dir is None and state is None:
            raise ValueError("the console needs the stack's state directory or its state")
        self._local_dir = local_dir
        self._state = state
        self._sender = sender
        self._clock = clock
        self._event_wait = event_wait_seconds
        self._stack: _Stack | None = None
        self._lock = threading.Lock()
        quiet_background_reads()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.handle(request)

    # -- plumbing -------------------------------------------------------------------------------

    def _connected(self) -> _Stack:
        with self._lock:
            if self._stack is None:
                state = self._state or StackState.from_local_dir(self._local_dir)  # type: ignore[arg-type]
                tables = StackTables(state)
                logs = [state.provider_requests_log, state.provider_reports_log, state.webhooks_log]
                self._stack = _Stack(
                    state=state,
                    tables=tables,
                    requests=JsonLinesFile(state.provider_requests_log),
                    reports=JsonLinesFile(state.provider_reports_log),
                    sink=JsonLinesFile(state.webhooks_log),
                    actions=ConsoleActions(state.api_url, tables.channels_secret, self._sender, self._clock),
                    feed=ChangeFeed(lambda: [log_sizes(logs), tables.change_markers()]),
                )
            return self._stack

    def handle(self, request: HttpRequest) -> HttpResponse:
        host = _header(request, "Host")
        if host is None or host_name(host) not in LOOPBACK_HOSTS:
            return problem(403, "Forbidden", "the console answers only on a loopback address (127.0.0.1, localhost)")
        split = urlsplit(request.target)
        path, query = split.path, dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            if path.startswith(API_PATH + "/"):
                return self._api(request, path[len(API_PATH) :], query)
            return self._page(request, path)
        except StackNotReady as exc:
            return problem(503, "Service Unavailable", f"the local stack is not ready: {exc}")
        except (BotoCoreError, ClientError) as exc:
            logger.warning("console: the stack's AWS endpoint failed: %s", exc)
            return problem(502, "Bad Gateway", f"the stack's AWS endpoint did not answer as expected: {exc}")

    def _page(self, request: HttpRequest, path: str) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return problem(405, "Method Not Allowed", "pages are read with GET")
        if path == CONSOLE_PATH:
            return _response(308, b"", "text/plain", [("Location", CONSOLE_PATH + "/")])
        if PAGE_PATHS.fullmatch(path):
            return self._file(PAGE_FILE)
        name = path.removeprefix(CONSOLE_PATH + "/static/")
        if name in STATIC_FILES:
            return self._file(name)
        return _response(404, b"Not Found", "text/plain; charset=utf-8")

    @staticmethod
    def _file(name: str) -> HttpResponse:
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        return _response(200, (STATIC_DIR / name).read_bytes(), content_type)

    # -- data -----------------------------------------------------------------------------------

    def _api(self, request: HttpRequest, route: str, query: Mapping[str, str]) -> HttpResponse:
        parts = route.strip("/").split("/")
        if parts == ["messages"] or parts == ["workflows"] or parts == ["events"]:
            if request.method != "GET":
                return problem(405, "Method Not Allowed", f"{route} is read with GET")
            if parts == ["messages"]:
                return self._messages(query)
            if parts == ["workflows"]:
                return self._workflows()
            return self._events(request, query)
        if len(parts) in (2, 3) and parts[0] == "messages" and MESSAGE_ID.fullmatch(parts[1]):
            if len(parts) == 2:
                if request.method != "GET":
                    return problem(405, "Method Not Allowed", "a message is read with GET")
                return self._message(parts[1])
            if parts[2] in ("reply", "receipts"):
                if request.method != "POST":
                    return problem(405, "Method Not Allowed", f"{parts[2]} is a POST")
                return self._action(request, parts[1], parts[2])
        return problem(404, "Not Found", f"the console has no {route}")

    def _messages(self, query: Mapping[str, str]) -> HttpResponse:
        stack = self._connected()
        try:
            limit = min(MAX_LIMIT, max(1, int(query.get("limit") or DEFAULT_LIMIT)))
        except ValueError:
            return problem(400, "Bad Request", "limit must be a whole number")
        version = stack.feed.version()
        view = messages_view(stack.tables.messages(), MessageFilter.from_query(query), limit)
        return json_response(200, {"version": version, **view})

    def _message(self, message_uuid: str) -> HttpResponse:
        stack = self._connected()
        version = stack.feed.version()
        record = stack.tables.message(message_uuid)
        if record is None or "channel" not in record:
            return problem(404, "Not Found", f"no message {message_uuid}")
        workflow = stack.tables.workflow(str(record["workflow_uuid"])) if record.get("workflow_uuid") else None
        step_messages: dict[str, dict[str, Any]] = {message_uuid: record}
        for step in (workflow or {}).get("steps") or []:
            uuid = str(step.get("message_uuid"))
            if uuid not in step_messages:
                found = stack.tables.message(uuid)
                if found is not None:
                    step_messages[uuid] = found
        detail = message_detail(
            record,
            requests=stack.requests.records(),
            reports=stack.reports.records(),
            sink_records=stack.sink.records(),
            workflow=workflow,
            messages_by_uuid=step_messages,
            actions=stack.actions.availability(record),
            now=self._clock(),
        )
        return json_response(200, {"version": version, "now": self._clock(), **detail})

    def _workflows(self) -> HttpResponse:
        stack = self._connected()
        version = stack.feed.version()
        messages = {str(r["message_uuid"]): r for r in stack.tables.messages() if r.get("message_uuid")}
        now = self._clock()
        views = workflows_view(stack.tables.workflows(), messages, now)
        return json_response(200, {"version": version, "now": now, "workflows": views})

    def _events(self, request: HttpRequest, query: Mapping[str, str]) -> HttpResponse:
        stack = self._connected()
        since = _header(request, "Last-Event-ID") or query.get("since") or None
        version = stack.feed.wait_for_change(since, self._event_wait)
        lines = [f"retry: {RECONNECT_MILLISECONDS}"]
        if version is None:
            lines += [f"id: {since}", ": nothing changed"]
        else:
            event = "change" if since is not None else "ready"
            lines += [f"id: {version}", f"event: {event}", "data: " + json.dumps({"version": version})]
        return _response(200, ("\n".join(lines) + "\n\n").encode("utf-8"), "text/event-stream; charset=utf-8")

    # -- actions --------------------------------------------------------------------------------

    def _action(self, request: HttpRequest, message_uuid: str, action: str) -> HttpResponse:
        refusal = self._cross_site_refusal(request)
        if refusal is not None:
            return refusal
        if len(request.body) > MAX_ACTION_BODY_BYTES:
            return problem(413, "Payload Too Large", f"an action's body is at most {MAX_ACTION_BODY_BYTES} bytes")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return problem(400, "Bad Request", "the body is not JSON")
        if not isinstance(body, dict):
            return problem(400, "Bad Request", "the body must be a JSON object")
        stack = self._connected()
        record = stack.tables.message(message_uuid)
        if record is None or "channel" not in record:
            return problem(404, "Not Found", f"no message {message_uuid}")
        try:
            if action == "reply":
                result = stack.actions.reply(record, body.get("text"))  # type: ignore[arg-type]
            else:
                part_ids = stack.tables.sms_part_ids(record)
                result = stack.actions.receipt(record, body.get("status"), part_ids)  # type: ignore[arg-type]
        except InvalidAction as exc:
            return problem(400, "Bad Request", str(exc))
        except ActionRefused as exc:
            return problem(409, "Conflict", str(exc))
        except ActionFailed as exc:
            return problem(502, "Bad Gateway", str(exc))
        return json_response(200, result)

    @staticmethod
    def _cross_site_refusal(request: HttpRequest) -> HttpResponse | None:
        media_type = (_header(request, "Content-Type") or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            return problem(415, "Unsupported Media Type", "actions take a JSON body (Content-Type: application/json)")
        origin = _header(request, "Origin")
        if origin is not None and host_name(urlsplit(origin).netloc) not in LOOPBACK_HOSTS:
            return problem(403, "Forbidden", f"actions are taken from the console's own pages, not from {origin}")
        if origin is not None and urlsplit(origin).netloc.lower() != (_header(request, "Host") or "").lower():
            return problem(403, "Forbidden", f"actions are taken from the console's own pages, not from {origin}")
        return None
