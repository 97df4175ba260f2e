"""Server-side request forgery through customer webhook URLs: a v1 ``webhook_url`` and the CLI's URLs.

The target is the canary, a listener on a loopback port the stack has no business calling. The only
private webhook host the stack allows (``AllowedPrivateWebhookHosts``) is its webhook sink, so every
trick here dresses a request to the canary up as something else: another spelling of 127.0.0.1, an
IPv6 form carrying it, a URL that one parser reads as the sink and another as the canary, a redirect
from the sink. Every URL here leads to this machine's loopback interface whichever way it is read.

A refused URL is answered 422 naming ``webhook_url`` (contract 6) and leaves no record; when a URL is
accepted, the test waits for the notifier's first delivery attempt and then looks at the canary.
DNS rebinding cannot be driven end to end here (the stack resolves names with the system resolver);
the guard's own tests cover it with a resolver that answers public, then private.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.security.bodies import V1_MESSAGES, flat_sms
from tests.security.canary import Canary
from tests.security.effects import (
    assert_no_effects,
    assert_problem,
    invalid_parameter_names,
    marker,
    unique_msisdn,
)
from tests.security.tenants import Tenant, accounts_table, sink_netloc
from tests.support.stack import ROOT, RunningStack

ATTEMPT_TIMEOUT_SECONDS = 60

# (canary port, token, sink host:port) -> webhook URL; each must be refused with 422 naming webhook_url.
Url = Callable[[int, str, str], str]
REFUSED_URLS: dict[str, Url] = {
    "loopback": lambda port, token, sink: f"http://127.0.0.1:{port}/{token}",
    # Not "localhost": it is the local stack's own, local-only allowance (a developer's receiver,
    # docs/local-stack.md); a deployed guard refuses it (tests/unit/test_ssrf.py).
    "decimal": lambda port, token, sink: f"http://2130706433:{port}/{token}",
    "hex": lambda port, token, sink: f"http://0x7f000001:{port}/{token}",
    "octal": lambda port, token, sink: f"http://0177.0.0.1:{port}/{token}",
    "dotted-hex": lambda port, token, sink: f"http://0x7f.0x0.0x0.0x1:{port}/{token}",
    "short-form": lambda port, token, sink: f"http://127.1:{port}/{token}",
    "zero-padded": lambda port, token, sink: f"http://127.000.000.001:{port}/{token}",
    "unspecified": lambda port, token, sink: f"http://0.0.0.0:{port}/{token}",
    "zero": lambda port, token, sink: f"http://0:{port}/{token}",
    "fullwidth-digits": lambda port, token, sink: f"http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}/{token}",
    "ipv6-loopback": lambda port, token, sink: f"http://[::1]:{port}/{token}",
    "ipv6-mapped": lambda port, token, sink: f"http://[::ffff:127.0.0.1]:{port}/{token}",
    "ipv6-mapped-hex": lambda port, token, sink: f"http://[::ffff:7f00:1]:{port}/{token}",
    "nat64": lambda port, token, sink: f"http://[64:ff9b::7f00:1]:{port}/{token}",
    "ipv4-compatible": lambda port, token, sink: f"http://[::127.0.0.1]:{port}/{token}",
    "6to4": lambda port, token, sink: f"http://[2002:7f00:1::]:{port}/{token}",
    # one URL, two readings: the SSRF check sees the sink, the HTTP client connects to the canary
    "backslash": lambda port, token, sink: f"http://127.0.0.1:{port}\\{token}@{sink}/",
    "backslash-before-the-userinfo": lambda port, token, sink: f"http://127.0.0.1:{port}\\@{sink}/{token}",
    # userinfo is refused whatever it says (contract: no credentials in webhook URLs)
    "userinfo": lambda port, token, sink: f"http://user:password@{sink}/{token}",
    "userinfo-naming-the-canary": lambda port, token, sink: f"http://127.0.0.1:{port}@{sink}/{token}",
    "encoded-backslash-in-userinfo": lambda port, token, sink: f"http://127.0.0.1:{port}%5C{token}@{sink}/",
    # whitespace and control characters (refused already; urlsplit would silently drop a tab or newline)
    "tab": lambda port, token, sink: f"http://127.0.0.1:{port}\t@{sink}/{token}",
    "newline": lambda port, token, sink: f"http://{sink}/{token}\n@127.0.0.1:{port}",
    "space": lambda port, token, sink: f"http://127.0.0.1:{port} @{sink}/{token}",
    "nul": lambda port, token, sink: f"http://127.0.0.1:{port}\x00@{sink}/{token}",
    # other schemes
    "file": lambda port, token, sink: f"file:///etc/passwd#{token}",
    "gopher": lambda port, token, sink: f"gopher://127.0.0.1:{port}/_{token}",
    "ftp": lambda port, token, sink: f"ftp://{sink}/{token}",
    "scheme-relative": lambda port, token, sink: f"//{sink}/{token}",
}

# Every parser agrees these go to the sink: accepting them is fine, reaching the canary is not.
SINK_URLS: dict[str, Url] = {
    "at-sign-in-the-fragment": lambda port, token, sink: f"http://{sink}/{token}#@127.0.0.1:{port}/",
    "at-sign-in-the-query": lambda port, token, sink: f"http://{sink}/{token}?@127.0.0.1:{port}/",
}


def send_with_webhook_url(stack: RunningStack, attacker: Tenant, url: str) -> tuple[requests.Response, list[str]]:
    to, text = unique_msisdn(), marker("ssrf")
    response = stack.post(V1_MESSAGES, json=flat_sms(attacker.sms_number, to, text, webhook_url=url), auth=attacker.auth)
    return response, [to, text]


def first_webhook_attempt(stack: RunningStack, attacker: Tenant, message_uuid: str) -> dict[str, Any]:
    """The notifier's first attempt at the message's status webhook, as the lookup shows it."""

    def attempts() -> list[dict[str, Any]]:
        response = stack.get(f"/v1/messages/{message_uuid}", auth=attacker.auth)
        assert response.status_code == 200, response.text
        return response.json().get("webhook_attempts") or []

    return stack.wait_for(attempts, timeout=ATTEMPT_TIMEOUT_SECONDS, what=f"a webhook attempt for {message_uuid}")[0]


@pytest.mark.parametrize("case", list(REFUSED_URLS))
def test_a_webhook_url_reaching_a_private_address_is_refused(
    stack: RunningStack, attacker: Tenant, canary: Canary, case: str
) -> None:
    token = f"ssrf-{case}"
    url = REFUSED_URLS[case](canary.port, token, sink_netloc(stack))

    response, markers = send_with_webhook_url(stack, attacker, url)

    if response.status_code == 202:  # accepted: see where the notifier's POST goes before failing
        attempt = first_webhook_attempt(stack, attacker, response.json()["message_uuid"])
        assert canary.requests(token) == [], f"the notifier reached the canary ({attempt})"
    problem = assert_problem(response, 422)
    assert invalid_parameter_names(problem) == ["webhook_url"]
    assert_no_effects(stack, *markers)
    assert canary.requests(token) == []


@pytest.mark.parametrize("case", list(SINK_URLS))
def test_a_webhook_url_that_every_parser_reads_as_the_sink_never_reaches_the_canary(
    stack: RunningStack, attacker: Tenant, canary: Canary, case: str
) -> None:
    token = f"ssrf-{case}"
    url = SINK_URLS[case](canary.port, token, sink_netloc(stack))

    response, _ = send_with_webhook_url(stack, attacker, url)

    if response.status_code == 202:
        attempt = first_webhook_attempt(stack, attacker, response.json()["message_uuid"])
        assert attempt["outcome"] == "delivered", attempt  # to the sink, which answers 200
    else:
        assert invalid_parameter_names(assert_problem(response, 422)) == ["webhook_url"]
    assert canary.requests(token) == []


def test_a_redirect_from_an_allowed_host_is_not_followed(
    stack: RunningStack, attacker: Tenant, canary: Canary
) -> None:
    token = "ssrf-redirect"
    url = f"http://{sink_netloc(stack)}/redirect?location={canary.url(token)}"

    response, _ = send_with_webhook_url(stack, attacker, url)

    assert response.status_code == 202, response.text
    attempt = first_webhook_attempt(stack, attacker, response.json()["message_uuid"])
    assert (attempt["outcome"], attempt.get("http_status")) == ("failed", 307), attempt
    assert [r["path"] for r in stack.webhooks() if r.get("query", {}).get("location") == canary.url(token)] == [
        "/redirect"
    ]
    assert canary.requests(token) == []


# -- the CLI ------------------------------------------------------------------------------------------


def cli(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    """``switchboard`` against the stack, in a deployment whose only private webhook host is the sink."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["ALLOWED_PRIVATE_WEBHOOK_HOSTS"] = sink_netloc(stack)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers"), str(ROOT)])
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args, "--local-dir", str(stack.local_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def items_mentioning(stack: RunningStack, text: str) -> list[dict[str, Any]]:
    client = stack.boto3_client("dynamodb")
    pages = client.get_paginator("scan").paginate(TableName=accounts_table(stack), ConsistentRead=True)
    return [item for page in pages for item in page["Items"] if text in str(item)]


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (("accounts", "create"), "--status-url"),
        (("accounts", "create"), "--inbound-url"),
        (("apps", "create"), "--status-url"),
    ],
    ids=["accounts-status-url", "accounts-inbound-url", "apps-status-url"],
)
def test_the_cli_refuses_a_backslash_webhook_url(
    stack: RunningStack, attacker: Tenant, canary: Canary, tmp_path: Path, command: tuple[str, ...], option: str
) -> None:
    token = f"cli-{command[0]}-{option.strip('-')}"
    url = REFUSED_URLS["backslash"](canary.port, token, sink_netloc(stack))
    key_file = str(tmp_path / "application.key")
    extra = ("--api-key", attacker.api_key, "--name", token, "--private-key-out", key_file) if command[0] == "apps" else ()

    completed = cli(stack, *command, option, url, *extra)

    assert completed.returncode != 0, completed.stdout
    assert completed.stderr.startswith("switchboard: error:"), completed.stderr
    assert items_mentioning(stack, token) == []
