"""The provider webhook routes: Messenger, Viber and the SMS API report deliveries and inbound messages here.

Every route does the same four things, in this order: authenticate the provider (403 and nothing
changed when that fails), parse the whole body (400 and nothing changed when it is malformed),
apply the events (``ingestion.py``), answer 200. Our own failures answer 500 (problem+json, never
a stack trace) so the provider resends; applying a resent event again is safe.

Authentication: Messenger by ``X-Hub-Signature-256`` / ``X-Hub-Signature``, WhatsApp by
``X-Hub-Signature-256`` only (with ``whatsapp.app_secret``), Viber by
``X-Viber-Content-Signature`` (and the optional source allow-list), SMS by the signed-request
``sig`` with ``sms.signature_secret``. A provider whose secret is not configured has every request
refused (and an error logged saying what to configure): nothing could be verified. The one
exception is explicit: with the template parameter ``AllowUnsignedSmsWebhooks=true`` and no SMS
secret, SMS webhooks are accepted unsigned (for an SMS API account that does not sign them).

Messenger and Viber sign the raw body, so it is verified before it is parsed; the SMS API signs the
parameters, so those are parsed first, by the same bounded parser (size, nesting depth) as the API.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from switchboard import clock
from switchboard.domain import errors
from switchboard.domain.message import ApiVersion
from switchboard.domain.provider_events import InboundMessage, StatusReceipt, WatermarkReceipt
from switchboard.http.problem_responses import (
    internal_error,
    problem_for,
    problem_response,
    request_base_url,
    unmatched_route_response,
)
from switchboard.http.request_body import raw_body
from switchboard.metric_catalog import WEBHOOK_REFUSED, emit
from switchboard.notifier.outbox import NotificationInProgress
from switchboard.observability import logger
from switchboard.receipts import messenger_webhook as messenger
from switchboard.receipts import sms_signature
from switchboard.receipts import sms_webhook as sms
from switchboard.receipts import viber_webhook as viber
from switchboard.receipts import whatsapp_webhook as whatsapp
from switchboard.receipts.ingestion import Ingestion, emit_metrics
from switchboard.receipts.receipt_ports import Effect, ProviderEvent, WebhookServices
from switchboard.receipts.webhook_fields import MAX_BODY_BYTES

MESSENGER_PATH = "/webhooks/messenger"
VIBER_PATH = "/webhooks/viber"
SMS_DLR_PATH = "/webhooks/sms/dlr"
SMS_INBOUND_PATH = "/webhooks/sms/inbound"
WHATSAPP_PATH = "/webhooks/whatsapp"
# Where the owner of a WhatsApp business number downloads an inbound media item (api/whatsapp_media.py).
WHATSAPP_MEDIA_PATH = "/v1/whatsapp/media/{number}/{media_id}"
SMS_SIGNATURE_REFUSED = "The sig parameter is missing or invalid."

# Every route this function serves, for telling 404 (unknown path) from 405 (known path, wrong method).
# Path regex -> methods, for telling 404 from 405.
ROUTES: dict[str, tuple[str, ...]] = {
    re.escape(MESSENGER_PATH): ("GET", "POST"),
    re.escape(VIBER_PATH): ("POST",),
    re.escape(SMS_DLR_PATH): ("GET", "POST"),
    re.escape(SMS_INBOUND_PATH): ("GET", "POST"),
    re.escape(WHATSAPP_PATH): ("GET", "POST"),
}


def create_app(services: Callable[[], WebhookServices]) -> APIGatewayHttpResolver:
    """The webhook routes, using what ``services()`` returns (called per request, built on first use)."""
    app = APIGatewayHttpResolver()

    def base_url() -> str:
        return request_base_url(app.current_event.raw_event)

    def refused(provider: str, reason: str, detail: str) -> Response:
        return _refused(provider, reason, detail, base_url())

    def meta_handshake(provider: str) -> Response:
        """Meta's subscription handshake, the same for Messenger and WhatsApp: the raw ``hub.challenge``
        back for the provider's own ``verify_token``."""
        verify_token = str(_section(services(), provider).get("verify_token") or "")
        query = dict(parse_qsl(app.current_event.raw_query_string, keep_blank_values=True))
        challenge = messenger.handshake_challenge(query, verify_token)
        if challenge is None:
            return refused(provider, "handshake", "The subscription handshake was refused.")
        return Response(
            status_code=200, content_type="text/plain", body=challenge, headers={"X-Content-Type-Options": "nosniff"}
        )

    # -- Messenger ----------------------------------------------------------------------------

    @app.get(MESSENGER_PATH)
    def messenger_handshake() -> Response:
        return meta_handshake("messenger")

    @app.post(MESSENGER_PATH)
    def messenger_events() -> Response:
        body = raw_body(app.current_event, MAX_BODY_BYTES, "webhook body")
        app_secret = str(_section(services(), "messenger").get("app_secret") or "")
        if not app_secret:
            logger.error("messenger.app_secret is not configured: every Messenger webhook is refused")
        if not messenger.signature_valid(app.current_event.headers, body, app_secret):
            return refused("messenger", "signature", "The X-Hub-Signature is missing or invalid.")
        return _ingest(services, "messenger", messenger.parse_events(body, clock.now()))

    # -- Viber --------------------------------------------------------------------------------

    @app.post(VIBER_PATH)
    def viber_callback() -> Response:
        deps = services()
        event = app.current_event
        if not viber.source_allowed(event.request_context.http.source_ip, deps.viber_allowed_cidrs):
            return refused("viber", "source", "Callbacks are not accepted from this address.")
        body = raw_body(event, MAX_BODY_BYTES, "webhook body")
        callback_secret = str(_section(deps, "viber").get("callback_secret") or "")
        if not callback_secret:
            logger.error("viber.callback_secret is not configured: every Viber callback is refused")
        if not viber.signature_valid(event.headers, body, callback_secret):
            return refused("viber", "signature", "The X-Viber-Content-Signature is missing or invalid.")
        return _ingest(services, "viber", viber.parse_callback(body, clock.now()))

    # -- WhatsApp Cloud API -------------------------------------------------------------------

    @app.get(WHATSAPP_PATH)
    def whatsapp_handshake() -> Response:
        return meta_handshake("whatsapp")

    @app.post(WHATSAPP_PATH)
    def whatsapp_events() -> Response:
        deps = services()
        body = raw_body(app.current_event, MAX_BODY_BYTES, "webhook body")
        section = _section(deps, "whatsapp")
        app_secret = str(section.get("app_secret") or "")
        if not app_secret:
            logger.error("whatsapp.app_secret is not configured: every WhatsApp webhook is refused")
        if not whatsapp.signature_valid(app.current_event.headers, body, app_secret):
            return refused("whatsapp", "signature", "The X-Hub-Signature-256 is missing or invalid.")
        media_base = base_url()

        def media_url(number: str, media_id: str) -> str:
            return media_base + WHATSAPP_MEDIA_PATH.format(number=number, media_id=media_id)

        events = whatsapp.parse_events(body, clock.now(), _whatsapp_numbers(section), media_url)
        applied: list[ProviderEvent] = []
        for event in events:
            if isinstance(event, whatsapp.AccountNotice):
                logger.info("whatsapp account notice", extra={"field": event.field, "notice": event.value})
                continue
            if isinstance(event, InboundMessage):
                # Before the message is applied, so a retried webhook records the window again.
                deps.whatsapp_windows.record_inbound(
                    event.recipient.address, event.sender.address, event.occurred_at
                )
                _name_the_replied_message(deps, event)
            applied.append(event)
        return _ingest(services, "whatsapp", applied)

    # -- SMS API ------------------------------------------------------------------------------

    @app.route(SMS_DLR_PATH, method=["GET", "POST"])
    def sms_delivery_receipt() -> Response:
        return _sms_webhook(sms.parse_dlr)

    @app.route(SMS_INBOUND_PATH, method=["GET", "POST"])
    def sms_inbound() -> Response:
        return _sms_webhook(sms.parse_inbound)

    def _sms_webhook(parse: Callable[[Mapping[str, str], float], list[ProviderEvent]]) -> Response:
        deps = services()
        section = _section(deps, "sms")
        secret = str(section.get("signature_secret") or "")
        if not secret and not deps.allow_unsigned_sms:
            # Refused before the body is even read: nothing unsigned can be verified, so nothing is parsed.
            logger.error(
                "sms.signature_secret is not configured: every SMS webhook is refused. Set it in the channels "
                "secret to the SMS API account's signature secret (and sms.signature_method to its method), or "
                "deploy with AllowUnsignedSmsWebhooks=true to accept unsigned SMS webhooks"
            )
            return refused("sms", "signature_not_configured", SMS_SIGNATURE_REFUSED)
        event = app.current_event
        params = sms.request_params(
            event.request_context.http.method,
            event.headers.get("content-type"),
            raw_body(event, MAX_BODY_BYTES, "webhook body"),
            event.raw_query_string,
        )
        if not params:
            # Nothing to verify or apply (a reachability check of the URL): answered like any webhook.
            return _ok()
        if not secret:
            _warn_unsigned_sms_accepted()
            return _ingest(services, "sms", parse(params, clock.now()))
        check = sms_signature.verify(params, secret, section.get("signature_method"), clock.now())
        if check is sms_signature.SignatureCheck.UNSUPPORTED_METHOD:
            logger.error("sms.signature_method is not supported: every SMS webhook is refused")
        if check is sms_signature.SignatureCheck.STALE:
            return refused("sms", "signature_stale", "The signed request's timestamp is too old or too far ahead.")
        if check is not sms_signature.SignatureCheck.VALID:
            return refused("sms", f"signature_{check.value}", SMS_SIGNATURE_REFUSED)
        return _ingest(services, "sms", parse(params, clock.now()))

    # -- errors -------------------------------------------------------------------------------

    @app.exception_handler(errors.SwitchboardError)
    def handle_domain_error(exc: errors.SwitchboardError) -> Response:
        problem = problem_for(exc, ApiVersion.V0_1)
        if problem.status >= 500:
            logger.warning("webhook failed", extra={"status": problem.status, "title": problem.title})
        elif problem.status == 400:
            logger.warning(
                "malformed provider webhook", extra={"path": app.current_event.raw_path, "detail": exc.detail}
            )
        return problem_response(problem, base_url())

    @app.exception_handler(NotificationInProgress)
    def handle_notification_in_progress(exc: NotificationInProgress) -> Response:
        # Another invocation is queuing this event's webhook right now; the provider's retry finds it done.
        logger.info("webhook of a resent event is being queued elsewhere; asking for a retry")
        return problem_response(
            problem_for(errors.ServiceUnavailable("The event is being processed; retry."), None), base_url()
        )

    @app.exception_handler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        logger.exception("webhook failed; the provider will resend it")
        return problem_response(internal_error(), base_url())

    @app.not_found
    def handle_not_found(exc: NotFoundError) -> Response:
        event = app.current_event
        return unmatched_route_response(
            ROUTES, event.raw_path, event.request_context.http.method.upper(), base_url()
        )

    return app


@lru_cache(maxsize=1)
def _warn_unsigned_sms_accepted() -> None:
    """Once per warm function: the deployment chose to trust unsigned SMS webhooks."""
    logger.warning(
        "accepting unsigned SMS webhooks (AllowUnsignedSmsWebhooks=true and no sms.signature_secret): "
        "anyone who knows the webhook URLs can forge delivery receipts and inbound SMS"
    )


def _name_the_replied_message(deps: WebhookServices, inbound: InboundMessage) -> None:
    """A reply's ``context`` gets our uuid of the quoted message, when it is the number owner's."""
    context = inbound.content.get("context")
    if not isinstance(context, dict) or not context.get("provider_message_id"):
        return
    found = deps.whatsapp_replies.message_uuid(
        inbound.recipient.address, inbound.sender.address, str(context["provider_message_id"])
    )
    if found is not None:
        context["message_uuid"] = found


def _whatsapp_numbers(section: Mapping[str, Any]) -> Callable[[str, str], str]:
    """The business number of a phone number id: the configured one, else the display number's digits."""
    from switchboard.domain.whatsapp_cloud import display_number_of

    def business_number_of(phone_number_id: str, display: str) -> str:
        return display_number_of(section, phone_number_id) or "".join(ch for ch in display if ch.isdigit())

    return business_number_of


def _section(services: WebhookServices, name: str) -> Mapping[str, Any]:
    section = services.channels_config().get(name)
    return section if isinstance(section, Mapping) else {}


def _ingest(services: Callable[[], WebhookServices], provider: str, events: list[ProviderEvent]) -> Response:
    effects = Ingestion(_LazyStatuses(services), _LazyInbound(services)).apply(events)
    emit_metrics(provider, effects)
    logger.info("provider webhook handled", extra={"provider": provider, "events": len(events), **effects})
    return _ok()


class _LazyStatuses:
    """Reaches the status service only when an event needs it: an inbound-only body never builds it."""

    def __init__(self, services: Callable[[], WebhookServices]) -> None:
        self._services = services

    def apply_receipt(self, receipt: StatusReceipt) -> Effect:
        return self._services().statuses.apply_receipt(receipt)

    def apply_watermark(self, receipt: WatermarkReceipt) -> Sequence[Effect]:
        return self._services().statuses.apply_watermark(receipt)


class _LazyInbound:
    def __init__(self, services: Callable[[], WebhookServices]) -> None:
        self._services = services

    def accept(self, inbound: InboundMessage) -> Effect:
        return self._services().inbound.accept(inbound)


def _ok() -> Response:
    return Response(status_code=200, content_type="text/plain", body="OK")


def _refused(provider: str, reason: str, detail: str, base_url: str) -> Response:
    logger.warning("provider webhook refused", extra={"provider": provider, "reason": reason})
    emit({WEBHOOK_REFUSED: 1}, {"provider": provider, "reason": reason})
    return problem_response(problem_for(errors.Forbidden(detail), None), base_url)
