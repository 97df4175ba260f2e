"""Sandbox simulators of the three providers, served by one HTTP server under path prefixes.

Over 350 lines on purpose: the one HTTP server of the three simulators, its routing and scenarios, which the per-provider modules plug into.

    /messenger/<version>/me/messages   Messenger Send API
    /viber/send_message                Viber Service Messages partner API
    /sms/sms/json                      Nexmo SMS API
    /whatsapp/<version>/<number id>/messages  WhatsApp Cloud API (and its media routes)

Credentials are random per instance; ``channels_secret()`` gives the ChannelsSecret JSON that
points the adapters here. What each simulator does is chosen by the recipient's last four digits
(see ``scenarios``). Every request under a provider prefix is appended to
``<state_dir>/provider-requests.jsonl`` with the simulator's answer beside it (``response_status``,
``response_body``), whether the provider accepted the message (``accepted``, true even when the
answer was then lost) and the fault injected into the answer (``fault``: ``slow_answer``,
``reset_after_accept``, ``server_error_after_accept``, else null), ``access_token`` and
``api_secret`` values as ``***``.

Once ``send_reports_to(api_url)`` is called, the delivery and read reports of accepted messages are
sent to the API's provider webhook routes as signed provider webhooks (``reports``), each attempt
appended to ``<state_dir>/provider-reports.jsonl``; before that they are only recorded.
``stop_sending_reports()`` stops that and keeps what was still to send (``unsent_reports()``), so
a stopping stack can save it and the next one ``resend()`` it.

Given a saved channels secret, the simulators take their credentials from it, so a restarted stack
keeps them. Pages and Viber services are those of the channels secret; with
``follow_channels_secret(read)``, one the simulators do not know yet (added to the secret by
``switchboard local add-sender`` while the stack runs) is looked up again before it is refused.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from local_stack.simulators.http_server import BackgroundHttpServer, HttpRequest, HttpResponse
from local_stack.simulators.jsonl import JsonLinesLog, iso_utc_now
from local_stack.simulators.messenger import MessengerSimulator
from local_stack.simulators.reports import (
    HttpPoster,
    ReportDispatcher,
    ReportSecrets,
    WebhookPoster,
    report_webhook,
)
from local_stack.simulators.scenarios import RecipientBehaviour, Scenario, ScheduledReport
from local_stack.simulators.sms import SmsSimulator
from local_stack.simulators.viber import ViberSimulator
from local_stack.simulators.whatsapp import WhatsAppSimulator

__all__ = [
    "DEMO_PAGE_ID",
    "DEMO_SMS_NUMBER",
    "DEMO_SMS_SENDER_ID",
    "DEMO_VIBER_SERVICE_ID",
    "DEMO_WHATSAPP_NUMBER",
    "DEMO_WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_API_VERSION",
    "MESSENGER_API_VERSION",
    "PROVIDER_REPORTS_FILE",
    "PROVIDER_REQUESTS_FILE",
    "ProviderSimulators",
    "Scenario",
    "ScheduledReport",
]

DEMO_PAGE_ID = "107083064136738"
DEMO_VIBER_SERVICE_ID = "16273"
DEMO_SMS_NUMBER = "447700900001"  # the seed example's `from`: inbound SMS to it reach the demo application
DEMO_SMS_SENDER_ID = "Acme"  # the alphanumeric SMS sender of the README's SDK example
MESSENGER_API_VERSION = "v18.0"
DEMO_WHATSAPP_NUMBER = "447700900100"  # the demo WhatsApp business number
DEMO_WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
WHATSAPP_API_VERSION = "v21.0"
SMS_SIGNATURE_METHOD = "md5hash"
PROVIDER_REQUESTS_FILE = "provider-requests.jsonl"
PROVIDER_REPORTS_FILE = "provider-reports.jsonl"

REDACTED = "***"
SECRET_FIELDS = frozenset({"access_token", "api_secret"})


def _random_alphanumeric(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _redacted(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: REDACTED if key in SECRET_FIELDS else value for key, value in fields.items()}


def _logged_path(request: HttpRequest) -> str:
    if not request.query:
        return request.path
    return request.path + "?" + urlencode(_redacted(request.query), safe="*")


def _logged_body(request: HttpRequest) -> Any:
    if not request.body:
        return None
    text = request.body.decode("utf-8", errors="replace")
    if request.media_type() == "application/x-www-form-urlencoded":
        return _redacted(dict(parse_qsl(text, keep_blank_values=True)))
    return _logged_json_or_text(text)


def _logged_json_or_text(text: str) -> Any:
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return _redacted(parsed) if isinstance(parsed, dict) else parsed


def _logged_response_body(response: HttpResponse) -> Any:
    return _logged_json_or_text(response.body.decode("utf-8", errors="replace")) if response.body else None
ChannelsReader = Callable[[], Mapping[str, Any]]


def new_page_token() -> str:
    return "EAA" + _random_alphanumeric(60)


def new_whatsapp_number_entry() -> dict[str, str]:
    """A phone number id and access token for a simulated WhatsApp business number."""
    return {"phone_number_id": "1" + "".join(secrets.choice(string.digits) for _ in range(14)),
            "access_token": new_page_token()}


class SenderDirectory:
    """The pages (with their access tokens) and Viber services the simulators serve.

    Looked up by the simulators through ``page_ids_by_token`` and ``service_ids``; a miss re-reads
    the channels secret once (``follow``), so a sender added while the stack runs is served too.
    """

    def __init__(
        self, pages: Mapping[str, str], service_ids: list[str], whatsapp_numbers: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._pages = dict(pages)  # page id -> token
        self._service_ids = [str(s) for s in service_ids]
        # WhatsApp business number -> {"phone_number_id", "access_token"}
        self._whatsapp = {str(k): dict(v) for k, v in (whatsapp_numbers or {}).items()}
        self._read: ChannelsReader | None = None

    def follow(self, read: ChannelsReader) -> None:
        self._read = read

    def adopt(self, channels: Mapping[str, Any]) -> None:
        pages = (channels.get("messenger") or {}).get("pages") or {}
        service_ids = (channels.get("viber") or {}).get("service_ids") or []
        numbers = (channels.get("whatsapp") or {}).get("numbers") or {}
        with self._lock:
            self._whatsapp.update({str(k): dict(v) for k, v in numbers.items() if isinstance(v, Mapping)})
            self._pages.update({str(page): str(token) for page, token in pages.items()})
            self._service_ids += [str(s) for s in service_ids if str(s) not in self._service_ids]

    def pages(self) -> dict[str, str]:
        with self._lock:
            return dict(self._pages)

    def service_ids(self) -> list[str]:
        with self._lock:
            return list(self._service_ids)

    def whatsapp_numbers(self) -> dict[str, dict[str, str]]:
        with self._lock:
            return {number: dict(entry) for number, entry in self._whatsapp.items()}

    def whatsapp_number_for_id(self, phone_number_id: str) -> tuple[str, str] | None:
        """``(business number, access token)`` of a phone number id."""
        for attempt in range(2):
            with self._lock:
                found = next(
                    ((number, str(entry.get("access_token"))) for number, entry in self._whatsapp.items()
                     if str(entry.get("phone_number_id")) == phone_number_id),
                    None,
                )
            if found is not None or attempt or not self._refresh():
                return found
        return None

    def whatsapp_token_known(self, token: str) -> bool:
        with self._lock:
            return any(str(entry.get("access_token")) == token for entry in self._whatsapp.values())

    def page_for_token(self, token: str) -> str | None:
        for attempt in range(2):
            with self._lock:
                found = next((page for page, known in self._pages.items() if known == token), None)
            if found is not None or attempt or not self._refresh():
                return found
        return None

    def has_service(self, service_id: int) -> bool:
        for attempt in range(2):
            with self._lock:
                if str(service_id) in self._service_ids:
                    return True
            if attempt or not self._refresh():
                return False
        return False

    def _refresh(self) -> bool:
        if self._read is None:
            return False
        try:
            self.adopt(self._read())
        except Exception:  # noqa: BLE001 - an unreadable secret means: not known
            return False
        return True


class _PagesByToken(Mapping[str, str]):
    def __init__(self, directory: SenderDirectory) -> None:
        self._directory = directory

    def __getitem__(self, token: str) -> str:
        page = self._directory.page_for_token(token)
        if page is None:
            raise KeyError(token)
        return page

    def __iter__(self) -> Iterator[str]:
        return iter({token: page for page, token in self._directory.pages().items()})

    def __len__(self) -> int:
        return len(self._directory.pages())


class _ServiceIds:
    def __init__(self, directory: SenderDirectory) -> None:
        self._directory = directory

    def __contains__(self, service_id: object) -> bool:
        return isinstance(service_id, int) and self._directory.has_service(service_id)

    def __iter__(self) -> Iterator[int]:
        return iter(int(s) for s in self._directory.service_ids() if s.isdigit())

    def __len__(self) -> int:
        return len(self._directory.service_ids())


class ProviderSimulators:
    def __init__(
        self, state_dir: Path, host: str = "127.0.0.1", port: int = 0, saved_channels: Mapping[str, Any] | None = None
    ) -> None:
        self.state_dir = state_dir
        saved = saved_channels or {}
        messenger, viber, sms, whatsapp = (
            dict(saved.get(name) or {}) for name in ("messenger", "viber", "sms", "whatsapp")
        )
        self._whatsapp_app_secret = whatsapp.get("app_secret") or secrets.token_hex(16)
        self._whatsapp_verify_token = whatsapp.get("verify_token") or secrets.token_urlsafe(16)
        self._messenger_app_secret = messenger.get("app_secret") or secrets.token_hex(16)
        self._messenger_verify_token = messenger.get("verify_token") or secrets.token_urlsafe(16)
        self._viber_callback_secret = viber.get("callback_secret") or secrets.token_hex(16)
        self._sms_api_key = sms.get("api_key") or secrets.token_hex(4)
        self._sms_api_secret = sms.get("api_secret") or _random_alphanumeric(16)
        self._sms_signature_secret = sms.get("signature_secret") or secrets.token_urlsafe(32)
        demo_whatsapp = {DEMO_WHATSAPP_NUMBER: {**new_whatsapp_number_entry(), "phone_number_id": DEMO_WHATSAPP_PHONE_NUMBER_ID}}
        if saved:
            # A state saved before WhatsApp existed gets the demo number too.
            self._senders = SenderDirectory({}, [], {} if saved.get("whatsapp") else demo_whatsapp)
            self._senders.adopt(saved)
        else:
            self._senders = SenderDirectory({DEMO_PAGE_ID: new_page_token()}, [DEMO_VIBER_SERVICE_ID], demo_whatsapp)

        self._behaviour = RecipientBehaviour()
        self._log = JsonLinesLog(state_dir / PROVIDER_REQUESTS_FILE)
        self._reports_log = JsonLinesLog(state_dir / PROVIDER_REPORTS_FILE)
        self._dispatcher: ReportDispatcher | None = None
        self._unsent_lock = threading.Lock()
        self._unsent: list[list[ScheduledReport]] = []
        self._simulators = {
            "messenger": MessengerSimulator(_PagesByToken(self._senders), self._behaviour),
            "viber": ViberSimulator(_ServiceIds(self._senders), self._behaviour),
            "sms": SmsSimulator(self._sms_api_key, self._sms_api_secret, self._behaviour),
            "whatsapp": WhatsAppSimulator(
                self._senders.whatsapp_number_for_id,
                self._senders.whatsapp_token_known,
                self._behaviour,
                lambda: self.base_url("whatsapp"),
            ),
        }
        self._server = BackgroundHttpServer(self._handle, host, port, name="provider-simulators")

    def follow_channels_secret(self, read: ChannelsReader) -> None:
        """Look a page or Viber service up in the channels secret (``read()``) before refusing it."""
        self._senders.follow(read)

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The logged requests, oldest first (the most recent 10 000; the file keeps all)."""
        return self._log.records()

    @property
    def scheduled_reports(self) -> list[ScheduledReport]:
        return self._behaviour.scheduled_reports()

    @property
    def requests_log_path(self) -> Path:
        return self._log.path

    @property
    def sent_reports(self) -> list[dict[str, Any]]:
        """Every attempt to send a report to the API, oldest first (the most recent 10 000)."""
        return self._reports_log.records()

    @property
    def reports_log_path(self) -> Path:
        return self._reports_log.path

    @property
    def report_dispatcher(self) -> ReportDispatcher | None:
        return self._dispatcher

    def report_secrets(self) -> ReportSecrets:
        return ReportSecrets(
            messenger_app_secret=self._messenger_app_secret,
            viber_callback_secret=self._viber_callback_secret,
            sms_signature_secret=self._sms_signature_secret,
            sms_signature_method=SMS_SIGNATURE_METHOD,
            whatsapp_app_secret=self._whatsapp_app_secret,
        )

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._server.start()

    def send_reports_to(self, api_url: str, post: WebhookPoster | None = None) -> None:
        """From now on, send each accepted message's reports to ``api_url`` (``http://host:port``).

        ``post`` replaces the HTTP client (tests). Reports scheduled before this call are not sent.
        """
        if self._dispatcher is not None:
            raise RuntimeError("reports are sent already")
        secrets = self.report_secrets()
        self._dispatcher = ReportDispatcher(
            lambda report: report_webhook(report, secrets), post or HttpPoster(api_url), self._reports_log
        )
        self._dispatcher.start()
        self._behaviour.set_report_listener(self._dispatcher.submit)

    def stop_sending_reports(self) -> None:
        """Stop sending reports (one being sent is finished); keep the rest, and those of later sends."""
        self._behaviour.set_report_listener(self._keep_unsent)
        if self._dispatcher is not None:
            unsent = self._dispatcher.stop()
            self._dispatcher = None
            with self._unsent_lock:
                self._unsent[:0] = unsent

    def unsent_reports(self) -> list[list[ScheduledReport]]:
        """Reports not sent since ``stop_sending_reports()``: one list per message, in order."""
        with self._unsent_lock:
            return [list(reports) for reports in self._unsent]

    def resend(self, pending: list[list[ScheduledReport]]) -> None:
        """Send reports a previous stack had still to send (after ``send_reports_to``)."""
        if self._dispatcher is None:
            raise RuntimeError("call send_reports_to() first")
        for reports in pending:
            self._dispatcher.submit(reports)

    def _keep_unsent(self, reports: list[ScheduledReport]) -> None:
        with self._unsent_lock:
            self._unsent.append(list(reports))

    def stop(self) -> None:
        self.stop_sending_reports()
        self._behaviour.set_report_listener(None)
        self._server.stop()

    def base_url(self, provider: str) -> str:
        if not self.port:
            raise RuntimeError("start() the simulators first: the port is chosen when the server binds")
        return f"http://{self.host}:{self.port}/{provider}"

    def channels_secret(self) -> dict[str, Any]:
        return {
            "messenger": {
                "api_base": self.base_url("messenger"),
                "api_version": MESSENGER_API_VERSION,
                "app_secret": self._messenger_app_secret,
                "verify_token": self._messenger_verify_token,
                "pages": self._senders.pages(),
            },
            "viber": {
                "api_base": self.base_url("viber"),
                "callback_secret": self._viber_callback_secret,
                "service_ids": self._senders.service_ids(),
            },
            "sms": {
                "api_base": self.base_url("sms"),
                "api_key": self._sms_api_key,
                "api_secret": self._sms_api_secret,
                "signature_secret": self._sms_signature_secret,
                "signature_method": SMS_SIGNATURE_METHOD,
            },
            "whatsapp": {
                "api_base": self.base_url("whatsapp"),
                "api_version": WHATSAPP_API_VERSION,
                "app_secret": self._whatsapp_app_secret,
                "verify_token": self._whatsapp_verify_token,
                "numbers": self._senders.whatsapp_numbers(),
            },
        }

    def _handle(self, request: HttpRequest) -> HttpResponse:
        _, provider, route = (request.path + "/").split("/", 2)
        simulator = self._simulators.get(provider)
        if simulator is None:
            return HttpResponse.text(404, "Not Found")
        received_at = iso_utc_now()
        response = simulator.handle(request, "/" + route.rstrip("/"))
        self._log.append(
            {
                "provider": provider,
                "method": request.method,
                "path": _logged_path(request),
                "body": _logged_body(request),
                "response_status": response.status,
                "response_body": _logged_response_body(response),
                "accepted": response.accepted,
                "fault": response.fault,
                "received_at": received_at,
            }
        )
        return response
