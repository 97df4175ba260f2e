"""Provider webhook ingestion: the HTTP routes Messenger, Viber and the SMS API call with delivery and
read reports and inbound messages (``app.py``), one module per provider for authentication and
parsing, and the SMS API's request signing (``sms_signature.py``)."""
