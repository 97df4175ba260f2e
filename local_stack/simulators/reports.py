"""Delivery and read reports, sent to the local API's provider webhook routes as the real providers send them.

Over 350 lines on purpose: the delivery and read reports of all three providers share scheduling and signing; moving each provider's payload builder beside its simulator is the next step (issue 9, item 4).

    Messenger  POST /webhooks/messenger  the Graph webhook envelope ``{"object": "page", "entry": [{"id":
               <page>, "time", "messaging": [{"sender": {"id": <psid>}, "recipient": {"id": <page>},
               "timestamp", "delivery": {"mids": [<mid>], "watermark", "seq": 0}}]}]}``, then the same
               with ``"read": {"watermark", "seq": 0}``; signed with ``messenger.app_secret``.
               Messenger has no webhook for a failed delivery, so a 0002 message gets no report at all.
    Viber      POST /webhooks/viber      ``{"message_token", "message_status", "message_time",
               "phone_number", "service_id"}``; status 0 delivered, 1 seen, and 2 expired for the
               failed report (Viber's only failure callback); signed with ``viber.callback_secret``.
    WhatsApp   POST /webhooks/whatsapp   the Cloud API envelope ``{"object": "whatsapp_business_account",
               "entry": [{"id", "changes": [{"field": "messages", "value": {"messaging_product",
               "metadata": {"display_phone_number", "phone_number_id"}, "statuses": [{"id", "status":
               sent|delivered|read|failed, "timestamp", "recipient_id", "biz_opaque_callback_data",
               "errors"?}]}}]}]}``; a failed report carries error 131026 (undeliverable); signed
               with ``X-Hub-Signature-256`` and ``whatsapp.app_secret``.
    SMS        POST /webhooks/sms/dlr    a form-encoded DLR (the SMS API's "POST" webhook method):
               ``msisdn`` (the recipient), ``to`` (the sender), ``network-code``, ``messageId``,
               ``price``, ``status`` (delivered, or failed with ``err-code`` 2, absent subscriber),
               ``scts``, ``err-code``, ``message-timestamp``, ``client-ref`` (when the send had one),
               then ``timestamp``, ``nonce`` and ``sig`` signed with ``sms.signature_secret`` and
               ``sms.signature_method``. The SMS API has no read receipts.

Times in a report are the report's due time (when the provider saw the delivery or the read); an
SMS ``timestamp`` is when the request is signed, as the freshness check expects.

``ReportDispatcher`` sends every report when it is due, from a scheduler thread handing the work
to a few sender threads. One message's reports go out strictly in order: its read report waits for
its delivered report to be answered (or given up on), whatever their due times. A report answered
with anything but 2xx, or not answered at all, is sent again after ``RETRY_DELAYS_SECONDS`` (as
providers resend webhooks), then given up. Every attempt is appended to ``provider-reports.jsonl``.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import json
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from local_stack.simulators.jsonl import JsonLinesLog, iso_utc_now
from local_stack.simulators.scenarios import ScheduledReport
from local_stack.simulators.signing import (
    messenger_signature_headers,
    sms_signed_params,
    viber_signature_headers,
)

logger = logging.getLogger(__name__)

MESSENGER_WEBHOOK_PATH = "/webhooks/messenger"
VIBER_WEBHOOK_PATH = "/webhooks/viber"
SMS_DLR_PATH = "/webhooks/sms/dlr"
WHATSAPP_WEBHOOK_PATH = "/webhooks/whatsapp"
WHATSAPP_BUSINESS_ACCOUNT_ID = "102290129340398"
WHATSAPP_UNDELIVERABLE = {"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
                          "error_data": {"details": "Message Undeliverable."}}

MESSENGER_USER_AGENT = "facebookexternalua"
VIBER_USER_AGENT = "Viber"
SMS_USER_AGENT = "Nexmo/MessagingHUB/v1.0"
JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

VIBER_STATUSES = {"delivered": 0, "read": 1, "failed": 2}  # 2: expired, Viber's failed delivery
SMS_FAILED_ERR_CODE = "2"  # Absent Subscriber - Temporary
SMS_NETWORK_CODE = "23410"
SMS_PRICE = "0.03330000"

RETRY_DELAYS_SECONDS: tuple[float, ...] = (1.0, 2.0, 4.0)
SENDER_THREADS = 4
POST_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ReportSecrets:
    """The signing secrets of the channels secret the API verifies provider webhooks with."""

    messenger_app_secret: str
    viber_callback_secret: str
    sms_signature_secret: str
    sms_signature_method: str = "md5hash"
    whatsapp_app_secret: str = ""


@dataclass(frozen=True)
class ProviderWebhook:
    """One HTTP request to the API: ``path`` starts with ``/`` and may carry a query string."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def messenger_report(report: ScheduledReport, secrets: ReportSecrets) -> ProviderWebhook | None:
    due_ms = _epoch_ms(report.due_at)
    event: dict[str, Any] = {
        "sender": {"id": report.recipient},
        "recipient": {"id": report.sender},
        "timestamp": due_ms,
    }
    if report.status == "delivered":
        event["delivery"] = {"mids": [report.message_id], "watermark": due_ms, "seq": 0}
    elif report.status == "read":
        event["read"] = {"watermark": due_ms, "seq": 0}
    else:
        return None  # no failed-delivery webhook exists
    envelope = {"object": "page", "entry": [{"id": report.sender, "time": due_ms, "messaging": [event]}]}
    body = json.dumps(envelope).encode("utf-8")  # ASCII with \u escapes, as Facebook signs it
    headers = {"Content-Type": JSON_CONTENT_TYPE, "User-Agent": MESSENGER_USER_AGENT}
    headers |= messenger_signature_headers(body, secrets.messenger_app_secret)
    return ProviderWebhook("POST", MESSENGER_WEBHOOK_PATH, headers, body)


def viber_report(report: ScheduledReport, secrets: ReportSecrets) -> ProviderWebhook | None:
    status = VIBER_STATUSES.get(report.status)
    if status is None:
        return None
    callback = {
        "message_token": int(report.message_id),
        "message_status": status,
        "message_time": _epoch_ms(report.due_at),
        "phone_number": report.recipient,
        "service_id": int(report.sender),
    }
    body = json.dumps(callback).encode("utf-8")
    headers = {"Content-Type": JSON_CONTENT_TYPE, "User-Agent": VIBER_USER_AGENT}
    headers |= viber_signature_headers(body, secrets.viber_callback_secret)
    return ProviderWebhook("POST", VIBER_WEBHOOK_PATH, headers, body)


def sms_report(report: ScheduledReport, secrets: ReportSecrets, now: float | None = None) -> ProviderWebhook | None:
    if report.status not in ("delivered", "failed"):
        return None  # the SMS API has no read receipts
    due = report.due_at.astimezone(timezone.utc)
    params = {
        "msisdn": report.recipient,
        "to": report.sender,
        "network-code": SMS_NETWORK_CODE,
        "messageId": report.message_id,
        "price": SMS_PRICE,
        "status": report.status,
        "scts": due.strftime("%y%m%d%H%M"),
        "err-code": "0" if report.status == "delivered" else SMS_FAILED_ERR_CODE,
        "message-timestamp": due.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if report.client_ref:
        params["client-ref"] = report.client_ref
    if secrets.sms_signature_secret:
        params = sms_signed_params(params, secrets.sms_signature_secret, secrets.sms_signature_method, now)
    headers = {"Content-Type": FORM_CONTENT_TYPE, "User-Agent": SMS_USER_AGENT}
    return ProviderWebhook("POST", SMS_DLR_PATH, headers, urlencode(params).encode("ascii"))


def whatsapp_envelope(display_number: str, phone_number_id: str, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The Cloud API webhook body around ``statuses`` or ``messages`` (``key``)."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_number, "phone_number_id": phone_number_id},
        key: items,
    }
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": WHATSAPP_BUSINESS_ACCOUNT_ID, "changes": [change]}]}


def whatsapp_signed(envelope: dict[str, Any], app_secret: str) -> ProviderWebhook:
    body = json.dumps(envelope).encode("utf-8")
    headers = {"Content-Type": JSON_CONTENT_TYPE, "User-Agent": MESSENGER_USER_AGENT}
    headers |= {"X-Hub-Signature-256": messenger_signature_headers(body, app_secret)["X-Hub-Signature-256"]}
    return ProviderWebhook("POST", WHATSAPP_WEBHOOK_PATH, headers, body)


def whatsapp_report(report: ScheduledReport, secrets: ReportSecrets) -> ProviderWebhook | None:
    status: dict[str, Any] = {
        "id": report.message_id,
        "status": report.status,
        "timestamp": str(int(report.due_at.timestamp())),
        "recipient_id": report.recipient,
    }
    if report.client_ref:
        status["biz_opaque_callback_data"] = report.client_ref
    if report.status == "failed":
        status["errors"] = [WHATSAPP_UNDELIVERABLE]
    elif report.status in ("sent", "delivered"):
        status["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
    envelope = whatsapp_envelope(report.sender, report.sender_id or "", "statuses", [status])
    return whatsapp_signed(envelope, secrets.whatsapp_app_secret)


def report_webhook(report: ScheduledReport, secrets: ReportSecrets) -> ProviderWebhook | None:
    """The request the provider sends for ``report``, or None when it sends none for it."""
    if report.provider == "messenger":
        return messenger_report(report, secrets)
    if report.provider == "viber":
        return viber_report(report, secrets)
    if report.provider == "sms":
        return sms_report(report, secrets)
    if report.provider == "whatsapp":
        return whatsapp_report(report, secrets)
    return None


class HttpPoster:
    """Sends a ``ProviderWebhook`` to ``base_url`` (``http://host:port``); the HTTP status, or ``OSError``."""

    def __init__(self, base_url: str, timeout: float = POST_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"reports are sent over plain HTTP to a local address, not {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout = timeout

    def __call__(self, webhook: ProviderWebhook) -> int:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(webhook.method, webhook.path, body=webhook.body or None, headers=webhook.headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except http.client.HTTPException as exc:
            raise OSError(f"bad HTTP response: {exc!r}") from exc
        finally:
            connection.close()


WebhookPoster = Callable[[ProviderWebhook], int]
WebhookBuilder = Callable[[ScheduledReport], "ProviderWebhook | None"]


def _logged_body(webhook: ProviderWebhook) -> Any:
    text = webhook.body.decode("utf-8", errors="replace")
    if webhook.headers.get("Content-Type") == FORM_CONTENT_TYPE:
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass
class _MessageReports:
    """One message's reports, sent one after the other."""

    reports: Sequence[ScheduledReport]
    index: int = 0
    attempt: int = 1

    @property
    def current(self) -> ScheduledReport:
        return self.reports[self.index]


@dataclass(order=True)
class _Due:
    at: float
    sequence: int
    work: _MessageReports = field(compare=False)


class ReportDispatcher:
    """Sends reports when due (see the module docstring). ``submit`` takes one message's reports, in order."""

    def __init__(
        self,
        build: WebhookBuilder,
        post: WebhookPoster,
        log: JsonLinesLog,
        retry_delays: Sequence[float] = RETRY_DELAYS_SECONDS,
        sender_threads: int = SENDER_THREADS,
    ) -> None:
        self._build = build
        self._post = post
        self._log = log
        self._retry_delays = tuple(retry_delays)
        self._sender_threads = sender_threads
        self._queue: list[_Due] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._unfinished = 0
        self._stopped = False
        self._unsent: list[_MessageReports] = []  # set aside by stop()
        self._scheduler: threading.Thread | None = None
        self._senders: ThreadPoolExecutor | None = None

    def start(self) -> None:
        if self._scheduler is not None:
            raise RuntimeError("report dispatcher already started")
        self._senders = ThreadPoolExecutor(self._sender_threads, thread_name_prefix="provider-report")
        self._scheduler = threading.Thread(target=self._schedule, name="provider-report-scheduler", daemon=True)
        self._scheduler.start()

    def stop(self) -> list[list[ScheduledReport]]:
        """Stop sending: reports being sent are finished; the others are returned unsent.

        The result has one list per message, its reports still to send in order (a report that
        was being retried is in it again, from its first attempt).
        """
        with self._condition:
            self._stopped = True
            self._unsent.extend(due.work for due in sorted(self._queue))
            self._queue.clear()
            self._condition.notify_all()
        if self._scheduler is not None:
            self._scheduler.join()
        if self._senders is not None:
            self._senders.shutdown(wait=True)
        self._scheduler = self._senders = None
        with self._condition:
            unsent, self._unsent = self._unsent, []
        return [list(work.reports[work.index :]) for work in unsent]

    def submit(self, reports: Sequence[ScheduledReport]) -> None:
        if not reports:
            return
        with self._condition:
            self._unfinished += 1
        self._enqueue(_MessageReports(list(reports)), reports[0].due_at.timestamp())

    def unfinished(self) -> int:
        """How many messages still have reports to send."""
        with self._condition:
            return self._unfinished

    def wait_until_idle(self, timeout: float) -> bool:
        """True once every submitted report was sent or given up on; False after ``timeout`` seconds."""
        with self._condition:
            return self._condition.wait_for(lambda: self._unfinished == 0 or self._stopped, timeout)

    def _enqueue(self, work: _MessageReports, at: float) -> None:
        with self._condition:
            if self._stopped:
                self._unsent.append(work)
                return
            heapq.heappush(self._queue, _Due(at, next(self._sequence), work))
            self._condition.notify_all()

    def _schedule(self) -> None:
        while True:
            with self._condition:
                while not self._stopped:
                    now = datetime.now(timezone.utc).timestamp()
                    if self._queue and self._queue[0].at <= now:
                        break
                    self._condition.wait(self._queue[0].at - now if self._queue else None)
                if self._stopped:
                    return
                due = heapq.heappop(self._queue)
                senders = self._senders
            if senders is None:
                return
            try:
                senders.submit(self._send, due.work)
            except RuntimeError:  # shut down meanwhile
                return

    def _send(self, work: _MessageReports) -> None:
        with self._condition:
            if self._stopped:  # handed to a sender thread just before stop(): not sent
                self._unsent.append(work)
                return
        report = work.current
        try:
            webhook = self._build(report)
        except Exception:  # noqa: BLE001 - one bad report must not stop the others
            logger.exception("could not build the %s %s report", report.provider, report.status)
            webhook = None
        if webhook is None:
            self._record(report, work.attempt, None, skipped=True)
            self._next_report(work)
            return
        response_status: int | None = None
        error: str | None = None
        try:
            response_status = self._post(webhook)
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
        self._record(report, work.attempt, webhook, response_status=response_status, error=error)
        if response_status is not None and 200 <= response_status < 300:
            self._next_report(work)
        elif work.attempt <= len(self._retry_delays):
            delay = self._retry_delays[work.attempt - 1]
            work.attempt += 1
            self._enqueue(work, datetime.now(timezone.utc).timestamp() + delay)
        else:
            logger.warning(
                "%s %s report for %s given up after %d attempts",
                report.provider,
                report.status,
                report.message_id,
                work.attempt,
            )
            self._next_report(work)

    def _next_report(self, work: _MessageReports) -> None:
        work.index += 1
        work.attempt = 1
        if work.index < len(work.reports):
            now = datetime.now(timezone.utc).timestamp()
            self._enqueue(work, max(work.current.due_at.timestamp(), now))
            return
        with self._condition:
            self._unfinished -= 1
            self._condition.notify_all()

    def _record(
        self,
        report: ScheduledReport,
        attempt: int,
        webhook: ProviderWebhook | None,
        *,
        skipped: bool = False,
        response_status: int | None = None,
        error: str | None = None,
    ) -> None:
        record: dict[str, Any] = {
            "provider": report.provider,
            "report": report.status,
            "message_id": report.message_id,
            "recipient": report.recipient,
            "attempt": attempt,
            "sent_at": iso_utc_now(),
        }
        if skipped:
            record["skipped"] = "the provider sends no webhook for this report"
        if webhook is not None:
            record |= {"method": webhook.method, "path": webhook.path, "body": _logged_body(webhook)}
            record["response_status"] = response_status
        if error is not None:
            record["error"] = error
        self._log.append(record)
