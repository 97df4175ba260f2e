"""``make replay EVENT=<receipt> MESSAGE=<uuid>`` against the running stack: the receipt reaches the message."""

from __future__ import annotations

import pytest

from local_stack.child import ROOT
from local_stack.replay import main
from tests.support.stack import RunningStack
from tests.support.stack_requests import NO_REPORT, unique_msisdn

pytestmark = pytest.mark.integration


def test_a_delivery_receipt_replayed_for_a_sent_message_makes_it_delivered(
    stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    to = unique_msisdn(NO_REPORT)  # the simulator sends no report of its own: only the replay's
    sent = stack.post("/v1/messages", auth=stack.auth, json={
        "message_type": "text", "channel": "sms", "from": "447700900001", "to": to, "text": "replay target",
    })
    assert sent.status_code == 202, sent.text
    message_uuid = sent.json()["message_uuid"]

    def status() -> str:
        return stack.get(f"/v1/messages/{message_uuid}", auth=stack.auth).json().get("status", "")

    stack.wait_for(lambda: status() == "submitted", what="the message submitted")

    code = main([str(ROOT / "events" / "webhooks_sms_dlr_delivered.json"), "--local-dir", str(stack.local_dir),
                 "--message", message_uuid, "--wait", "5"])

    assert code == 0
    output = capsys.readouterr().out
    assert f"Message {message_uuid}: submitted -> delivered" in output
    assert status() == "delivered"
    assert [w for w in stack.webhooks() if w["body"].get("message_uuid") == message_uuid
            and w["body"].get("status") == "delivered" and w["signature_valid"]]
