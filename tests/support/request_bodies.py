"""Valid request bodies of the Messages API, from the senders ``local_stack.provision.DEMO_SENDERS`` links."""
from __future__ import annotations

PAGE_ID = "107083064136738"
VIBER_SERVICE = "16273"
PSID = "3523523523520000"

SEED_SMS = {
    "from": {"type": "sms", "number": "447700900001"},
    "to": {"type": "sms", "number": "447700900000"},
    "message": {"content": {"type": "text", "text": "This is an SMS sent from the Messages API"}},
}
MESSENGER_V01 = {
    "from": {"type": "messenger", "id": PAGE_ID},
    "to": {"type": "messenger", "id": PSID},
    "message": {
        "content": {"type": "image", "image": {"url": "https://example.com/a.jpg"}},
        "messenger": {"category": "message_tag", "tag": "ticket_update"},
    },
    "client_ref": "order-1",
}
VIBER_V1 = {
    "to": "447700900000",
    "from": VIBER_SERVICE,
    "channel": "viber_service",
    "message_type": "text",
    "text": "Your order has shipped",
}
SMS_V1 = {"to": "447700900000", "from": "Acme", "channel": "sms", "message_type": "text", "text": "hello"}

# Failover workflows: a Messenger step waiting for "read", then SMS.
MESSENGER_STEP = {
    "from": {"type": "messenger", "id": PAGE_ID},
    "to": {"type": "messenger", "id": PSID},
    "message": {"content": {"type": "text", "text": "Your order has shipped"}},
    "failover": {"expiry_time": 600, "condition_status": "read"},
}
SMS_STEP = {
    "from": {"type": "sms", "number": "447700900001"},
    "to": {"type": "sms", "number": "447700900000"},
    "message": {"content": {"type": "text", "text": "Your order has shipped"}},
}
WORKFLOW = {"template": "failover", "workflow": [MESSENGER_STEP, SMS_STEP]}
V1_FAILOVER = {
    "channel": "messenger", "message_type": "text", "from": PAGE_ID, "to": PSID, "text": "Shipped",
    "failover": [{"channel": "sms", "message_type": "text", "from": "Acme", "to": "447700900000", "text": "Shipped"}],
}
