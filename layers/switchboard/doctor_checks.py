"""The checks of ``switchboard doctor``: is a stack ready to send, and what to fix when it is not.

Each check reads what an operator would look at on day one and returns a ``Check``: ``pass``,
``fail`` (with one line per problem saying what to fix) or ``n/a`` (nothing to check, e.g. no
alarm topic on the local stack, or no Messenger page linked). ``DoctorStack`` is everything the
checks need, read once by ``cli_doctor`` from the local stack's state files or a deployed stack's
outputs and parameters; the checks themselves only make HTTP requests to the stack's own API,
TCP connections to customer webhook hosts (no request is sent to them), and read-only AWS calls.
"""
from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from switchboard.adapters.webhook_http.ssrf_guard import UnsafeWebhookUrl, resolve_webhook_target
from switchboard.receipts import sms_signature

PASS = "pass"
FAIL = "fail"
NOT_APPLICABLE = "n/a"

HEALTH_PATH = "/health"
MESSENGER_WEBHOOK_PATH = "/webhooks/messenger"
WHATSAPP_WEBHOOK_PATH = "/webhooks/whatsapp"
SMS_DLR_PATH = "/webhooks/sms/dlr"
HTTP_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.0
# The SMS API's DLR status that changes nothing (sms_webhook.py): a signed one is answered 200.
SMS_NO_CHANGE_STATUS = "accepted"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # PASS, FAIL or NOT_APPLICABLE
    summary: str
    fixes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "summary": self.summary, "fixes": list(self.fixes)}


@dataclass(frozen=True)
class WebhookOwner:
    """An account or application and the webhook URLs it has registered."""

    kind: str  # "account" or "application"
    ident: str  # api key or application id
    urls: Mapping[str, str]  # "inbound_url"/"status_url" -> URL


@dataclass(frozen=True)
class LinkedSender:
    channel: str  # messenger, viber_service_msg, sms, whatsapp
    address: str
    api_key: str


@dataclass
class DoctorStack:
    """What the checks look at; ``cli_doctor`` fills it from the local stack or a deployed one."""

    description: str  # "local stack in .local" or "stack NAME"
    api_https_url: str | None  # https://host[:port], no trailing slash
    tls_verify: bool | str  # True (the system's CAs) or the local stack's certificate file
    channels: dict[str, Any]  # the channels secret
    links: list[LinkedSender]
    webhook_owners: list[WebhookOwner]
    allowed_private_webhook_hosts: tuple[str, ...]
    dead_letter_queues: Mapping[str, str]  # output name -> queue URL
    sqs: Any  # a boto3 SQS client
    alarm_topic_arn: str | None  # None: the local stack (no alarms)
    sns: Any = None  # a boto3 SNS client (deployed only)
    allow_unsigned_sms_webhooks: bool = False
    http: requests.Session = field(default_factory=requests.Session)
    connect: Callable[[str, int, float], None] = field(default=lambda host, port, timeout: tcp_connect(host, port, timeout))
    resolve: Any = None  # the SSRF guard's resolver (tests); None: the system's

    @property
    def is_local(self) -> bool:
        return self.alarm_topic_arn is None


def tcp_connect(host: str, port: int, timeout: float) -> None:
    """Open and close a TCP connection: the webhook's host accepts connections (nothing is sent)."""
    socket.create_connection((host, port), timeout=timeout).close()


def run_checks(stack: DoctorStack) -> list[Check]:
    return [check(stack) for check in CHECKS]


def api_https(stack: DoctorStack) -> Check:
    name = "api_https"
    if not stack.api_https_url or not stack.api_https_url.startswith("https://"):
        return Check(name, FAIL, "no HTTPS URL for the API", ("deploy the stack again: its ApiUrl output is missing",))
    url = stack.api_https_url + HEALTH_PATH
    try:
        response = stack.http.get(url, timeout=HTTP_TIMEOUT_SECONDS, verify=stack.tls_verify)
    except requests.exceptions.SSLError as exc:
        return Check(name, FAIL, f"{url}: TLS failed ({_short(exc)})", (_tls_fix(stack),))
    except requests.RequestException as exc:
        return Check(name, FAIL, f"{url}: not reachable ({_short(exc)})", (_reach_fix(stack),))
    if response.status_code != 200:
        return Check(
            name, FAIL, f"{url} answered {response.status_code}",
            ("look at the ApiFunction's log group (/aws/lambda/...ApiFunction...) for the error",),
        )
    return Check(name, PASS, f"{url} answered 200")


def channels_secret(stack: DoctorStack) -> Check:
    """Every channel an account links has what sending and its webhooks need."""
    name = "channels_secret"
    if not stack.links:
        return Check(name, NOT_APPLICABLE, "no account links a sender yet (switchboard links create)")
    problems: list[str] = []
    messenger = _section(stack.channels, "messenger")
    viber = _section(stack.channels, "viber")
    sms = _section(stack.channels, "sms")
    by_channel: dict[str, list[LinkedSender]] = {}
    for link in stack.links:
        by_channel.setdefault(link.channel, []).append(link)
    if "messenger" in by_channel:
        pages = messenger.get("pages") if isinstance(messenger.get("pages"), dict) else {}
        for link in by_channel["messenger"]:
            if not str(pages.get(link.address) or "").strip():
                problems.append(
                    f"messenger page {link.address} (linked to account {link.api_key}) has no page access token: "
                    f"set messenger.pages[\"{link.address}\"] in the channels secret"
                )
        if not str(messenger.get("app_secret") or ""):
            problems.append("messenger.app_secret is empty: every Messenger webhook is refused; set the Facebook app secret")
    if "viber_service_msg" in by_channel:
        service_ids = {str(each) for each in viber.get("service_ids") or []}
        for link in by_channel["viber_service_msg"]:
            if link.address not in service_ids:
                problems.append(
                    f"viber service {link.address} (linked to account {link.api_key}) is not in viber.service_ids: add it"
                )
        if not str(viber.get("callback_secret") or ""):
            problems.append(
                "viber.callback_secret is empty: every Viber callback is refused; set the service's token"
            )
    if "sms" in by_channel:
        for key in ("api_key", "api_secret"):
            if not str(sms.get(key) or ""):
                problems.append(f"sms.{key} is empty: nothing can be sent by SMS; set the SMS API account's {key}")
        if not str(sms.get("signature_secret") or ""):
            unsigned = " (AllowUnsignedSmsWebhooks=true accepts them unsigned: anyone can forge receipts)" \
                if stack.allow_unsigned_sms_webhooks else ": every SMS webhook is refused"
            problems.append(
                f"sms.signature_secret is empty{unsigned}; set the SMS API account's signature secret "
                "(Dashboard, Settings) in the channels secret"
            )
    if "whatsapp" in by_channel:
        problems += _whatsapp_problems(_section(stack.channels, "whatsapp"), by_channel["whatsapp"])
    channels = ", ".join(sorted(by_channel))
    if problems:
        return Check(name, FAIL, f"{len(problems)} problem(s) for the linked channels ({channels})", tuple(problems))
    return Check(name, PASS, f"filled for every linked channel ({channels})")


def provider_webhooks(stack: DoctorStack) -> Check:
    """The provider webhook routes answer as the providers need, with the secrets the functions read."""
    name = "provider_webhooks"
    linked = {link.channel for link in stack.links}
    if not linked & {"messenger", "sms", "whatsapp"}:
        return Check(name, NOT_APPLICABLE, "no Messenger page, SMS sender or WhatsApp number linked")
    if not stack.api_https_url:
        return Check(name, FAIL, "the API has no HTTPS URL to check the webhook routes on", (_reach_fix(stack),))
    problems: list[str] = []
    passed: list[str] = []
    if "messenger" in linked:
        problem = _verify_handshake(stack, "messenger", MESSENGER_WEBHOOK_PATH)
        (problems if problem else passed).append(problem or "Messenger verify handshake answered")
    if "whatsapp" in linked:
        problem = _verify_handshake(stack, "whatsapp", WHATSAPP_WEBHOOK_PATH)
        (problems if problem else passed).append(problem or "WhatsApp verify handshake answered")
    if "sms" in linked:
        problem = _sms_signature(stack)
        (problems if problem else passed).append(problem or "signed SMS receipt accepted")
    if problems:
        return Check(name, FAIL, f"{len(problems)} provider webhook(s) not verifiable", tuple(problems))
    return Check(name, PASS, "; ".join(passed))


def webhook_urls(stack: DoctorStack) -> Check:
    """Every registered customer webhook passes the SSRF guard and takes a TCP connection."""
    name = "webhook_urls"
    targets = [(owner, kind, url) for owner in stack.webhook_owners for kind, url in owner.urls.items() if url]
    if not targets:
        return Check(name, NOT_APPLICABLE, "no account or application has a webhook URL")
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(lambda target: _webhook_problem(stack, target[2]), targets))
    problems = [
        f"{owner.kind} {owner.ident} {kind} {url}: {problem}; {_webhook_fix(stack)}"
        for (owner, kind, url), problem in zip(targets, verdicts) if problem
    ]
    if problems:
        return Check(name, FAIL, f"{len(problems)} of {len(targets)} webhook URL(s) unusable", tuple(problems))
    return Check(name, PASS, f"{len(targets)} webhook URL(s) pass the SSRF guard and accept connections")


def dead_letter_queues(stack: DoctorStack) -> Check:
    name = "dead_letter_queues"
    problems: list[str] = []
    for output, url in sorted(stack.dead_letter_queues.items()):
        try:
            attributes = stack.sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
        except Exception as exc:  # an AWS error: reported, never a traceback
            problems.append(f"{output}: cannot be read ({_short(exc)})")
            continue
        count = sum(int(attributes.get(key, 0)) for key in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"))
        if count:
            problems.append(
                f"{output} holds {count} message(s): see what failed in docs/operations.md (Dead-letter queues), "
                "then redrive or delete them"
            )
    if not stack.dead_letter_queues:
        return Check(name, FAIL, "no dead-letter queue outputs found", ("is this a Switchboard stack?",))
    if problems:
        return Check(name, FAIL, f"{len(problems)} dead-letter queue(s) not empty", tuple(problems))
    return Check(name, PASS, f"{len(stack.dead_letter_queues)} dead-letter queue(s) empty")


def alarm_topic(stack: DoctorStack) -> Check:
    name = "alarm_topic"
    if stack.is_local:
        return Check(name, NOT_APPLICABLE, "the local stack has no alarms")
    fix = "deploy with --parameter-overrides AlarmTopicArn=<SNS topic ARN> and subscribe someone to the topic"
    if not stack.alarm_topic_arn:
        return Check(name, FAIL, "AlarmTopicArn is empty: alarms notify nobody", (fix,))
    try:
        attributes = stack.sns.get_topic_attributes(TopicArn=stack.alarm_topic_arn)["Attributes"]
    except Exception as exc:
        return Check(name, FAIL, f"topic {stack.alarm_topic_arn} cannot be read ({_short(exc)})", (fix,))
    confirmed = int(attributes.get("SubscriptionsConfirmed", 0) or 0)
    if not confirmed:
        return Check(
            name, FAIL, f"topic {stack.alarm_topic_arn} has no confirmed subscription",
            ("subscribe an address to the topic (aws sns subscribe ...) and confirm it",),
        )
    return Check(name, PASS, f"alarms notify {stack.alarm_topic_arn} ({confirmed} confirmed subscription(s))")


CHECKS: tuple[Callable[[DoctorStack], Check], ...] = (
    api_https, channels_secret, provider_webhooks, webhook_urls, dead_letter_queues, alarm_topic,
)


# -- helpers --------------------------------------------------------------------------------------


def _whatsapp_problems(whatsapp: Mapping[str, Any], links: list[LinkedSender]) -> list[str]:
    problems: list[str] = []
    numbers = whatsapp.get("numbers") if isinstance(whatsapp.get("numbers"), dict) else {}
    for link in links:
        entry = numbers.get(link.address)
        entry = entry if isinstance(entry, dict) else {}
        missing = [key for key in ("phone_number_id", "access_token") if not str(entry.get(key) or "").strip()]
        if missing:
            problems.append(
                f"whatsapp number {link.address} (linked to account {link.api_key}) has no {' or '.join(missing)}: "
                f"set whatsapp.numbers[\"{link.address}\"] in the channels secret"
            )
    if not str(whatsapp.get("app_secret") or ""):
        problems.append("whatsapp.app_secret is empty: every WhatsApp webhook is refused; set the Meta app secret")
    return problems


def _verify_handshake(stack: DoctorStack, section: str, path: str) -> str | None:
    """Meta's subscription handshake (Messenger and WhatsApp alike) against our own route."""
    label = "Messenger" if section == "messenger" else "WhatsApp"
    verify_token = str(_section(stack.channels, section).get("verify_token") or "")
    if not verify_token:
        return (f"{section}.verify_token is empty: Meta cannot subscribe the {label} webhook; set one in the channels "
                "secret and give the same token in the app's Webhooks settings")
    challenge = secrets.token_hex(8)
    url = stack.api_https_url + path
    params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
    try:
        response = stack.http.get(url, params=params, timeout=HTTP_TIMEOUT_SECONDS, verify=stack.tls_verify)
    except requests.RequestException as exc:
        return f"{url}: not reachable ({_short(exc)})"
    if response.status_code != 200 or response.text != challenge:
        return (f"the {label} verify handshake on {url} answered {response.status_code} without the challenge: "
                f"the functions read a different {section}.verify_token (wait 5 minutes after changing the secret)")
    return None


def _sms_signature(stack: DoctorStack) -> str | None:
    """A signed delivery receipt that changes nothing must be accepted: method and secret agree."""
    sms = _section(stack.channels, "sms")
    method = sms.get("signature_method")
    if not str(method or "").strip():
        return (f"sms.signature_method is not set: set it to the SMS API account's method "
                f"({', '.join(sms_signature.SIGNATURE_METHODS)})")
    try:
        sms_signature.normalize_method(str(method))
    except ValueError as exc:
        return f"{exc}: every SMS webhook is refused"
    secret = str(sms.get("signature_secret") or "")
    if not secret:
        return "sms.signature_secret is empty: SMS receipts cannot be verified (channels_secret says more)"
    params = {
        "messageId": f"doctor-{secrets.token_hex(6)}",
        "status": SMS_NO_CHANGE_STATUS,
        "timestamp": str(int(time.time())),
    }
    params["sig"] = sms_signature.sign(params, secret, str(method))
    url = stack.api_https_url + SMS_DLR_PATH
    try:
        response = stack.http.get(url, params=params, timeout=HTTP_TIMEOUT_SECONDS, verify=stack.tls_verify)
    except requests.RequestException as exc:
        return f"{url}: not reachable ({_short(exc)})"
    if response.status_code != 200:
        return (f"a receipt signed with sms.signature_secret ({method}) was answered {response.status_code} on {url}: "
                "the functions read a different secret or method (wait 5 minutes after changing the secret)")
    return None


def _webhook_problem(stack: DoctorStack, url: str) -> str | None:
    try:
        target = resolve_webhook_target(url, stack.allowed_private_webhook_hosts, stack.resolve)
    except UnsafeWebhookUrl as exc:
        return f"refused by the SSRF guard ({exc})"
    errors = []
    for address in target.addresses:
        try:
            stack.connect(address, target.url.port, CONNECT_TIMEOUT_SECONDS)
            return None
        except OSError as exc:
            errors.append(f"{address}:{target.url.port} {exc.strerror or exc}")
    return f"unreachable ({'; '.join(errors) or 'no address'})"


def _webhook_fix(stack: DoctorStack) -> str:
    if stack.is_local:
        return "use a public URL, the webhook sink or http://localhost:<port>/... with something listening"
    return "ask the account owner for a public http(s) URL that accepts connections, and update it"


def _tls_fix(stack: DoctorStack) -> str:
    if stack.is_local:
        return "restart the local stack (make run): its certificate is in <state dir>/tls"
    return "check the custom domain's ACM certificate (CertificateArn) covers DomainName"


def _reach_fix(stack: DoctorStack) -> str:
    if stack.is_local:
        return "start the local stack: make run"
    return "check the stack deployed completely (aws cloudformation describe-stacks) and, with a custom domain, its DNS record"


def _section(channels: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = channels.get(name)
    return section if isinstance(section, Mapping) else {}


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def failed(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if check.status == FAIL]
