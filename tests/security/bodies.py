"""Request bodies for the send and workflow routes, in each API version's shape."""

from __future__ import annotations

from typing import Any

BETA_MESSAGES, V0_1_MESSAGES, V1_MESSAGES = "/beta/messages", "/v0.1/messages", "/v1/messages"
BETA_WORKFLOWS, V0_1_DISPATCH = "/beta/workflows", "/v0.1/dispatch"
SEND_ROUTES = (BETA_MESSAGES, V0_1_MESSAGES, V1_MESSAGES)
WORKFLOW_ROUTES = (BETA_WORKFLOWS, V0_1_DISPATCH)


def flat_sms(sender: str, to: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"channel": "sms", "message_type": "text", "from": sender, "to": to, "text": text, **extra}


def nested_sms(sender: str, to: str, text: str) -> dict[str, Any]:
    return {
        "from": {"type": "sms", "number": sender},
        "to": {"type": "sms", "number": to},
        "message": {"content": {"type": "text", "text": text}},
    }


def flat_messenger(page_id: str, psid: str, text: str) -> dict[str, Any]:
    return {"channel": "messenger", "message_type": "text", "from": page_id, "to": psid, "text": text}


def nested_messenger(page_id: str, psid: str, text: str) -> dict[str, Any]:
    return {
        "from": {"type": "messenger", "id": page_id},
        "to": {"type": "messenger", "id": psid},
        "message": {"content": {"type": "text", "text": text}},
    }


def flat_viber(service_id: str, number: str, text: str) -> dict[str, Any]:
    return {"channel": "viber_service", "message_type": "text", "from": service_id, "to": number, "text": text}


def nested_viber(service_id: str, number: str, text: str) -> dict[str, Any]:
    return {
        "from": {"type": "viber_service_msg", "id": service_id},
        "to": {"type": "viber_service_msg", "number": number},
        "message": {"content": {"type": "text", "text": text}},
    }


def workflow(first: dict[str, Any], *rest: dict[str, Any], expiry_time: int = 600) -> dict[str, Any]:
    """A beta Workflows / v0.1 Dispatch failover body: each step but the last fails over on ``delivered``."""
    steps = [first, *rest]
    with_failover = [
        {**step, "failover": {"expiry_time": expiry_time, "condition_status": "delivered"}} for step in steps[:-1]
    ]
    return {"template": "failover", "workflow": [*with_failover, steps[-1]]}


def v1_failover(first: dict[str, Any], *rest: dict[str, Any]) -> dict[str, Any]:
    """A v1 send with ``failover`` steps."""
    return {**first, "failover": list(rest)}
