"""Moved to ``switchboard.adapters.webhook_http`` (guard, connection, POST) and ``switchboard.notifier.webhook_signing``;
the modules here are shims removed when the restructuring completes."""
