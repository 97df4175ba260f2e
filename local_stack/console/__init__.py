"""The local console: every message, status, webhook and provider call of the local stack, in a browser.

Served by the local stack's own gateway under ``/_console/`` (never part of the deployed API):
static pages from ``static/`` (no build step, nothing fetched from the internet) and JSON data
endpoints under ``/_console/api/``. It reads only what the stack makes public: the JSON Lines logs
in the state directory and the template's DynamoDB tables through the stack's moto endpoint (names
from ``outputs.json``). Its actions are signed provider webhooks sent to the API's public routes,
built and signed by ``local_stack.replay`` and ``local_stack.simulators.reports``.
"""

from local_stack.console.app import CONSOLE_PATH, Console

__all__ = ["CONSOLE_PATH", "Console"]
