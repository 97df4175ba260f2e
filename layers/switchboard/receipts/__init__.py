"""What providers report back: delivery and read receipts and inbound messages (WebhooksFunction).

``webhook_routes`` authenticates and parses each provider's webhooks (``messenger_webhook``,
``viber_webhook``, ``sms_webhook`` with ``sms_signature``), ``ingestion`` applies the events in
order: receipts through the status state machine (``status_machine``), inbound messages to the
owner of the recipient address (``inbound_routing``), recorded and published once (``inbound_intake``).
"""
