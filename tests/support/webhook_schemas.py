"""Validating a customer webhook body against the JSON Schemas in ``tests/contract/schemas``.

The contract suite checks golden bodies with them; unit and integration tests check the bodies the
notifier actually publishes or delivers. ``schemas/README.md`` names each schema's source.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parents[1] / "contract" / "schemas"
# The channel names in schema file names: v1 says viber_service, the 2018 shape viber_service_msg.
_V1_CHANNELS = {"viber_service_msg": "viber_service"}


@cache
def _validator(version: str, kind: str, channel: str) -> Draft202012Validator:
    name = "message-status" if kind == "status" else "inbound-message"
    channel_name = _V1_CHANNELS.get(channel, channel) if version == "v1" else channel
    schema = json.loads((SCHEMAS / version / f"{name}-{channel_name}.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_errors(version: str, kind: str, channel: str, body: dict[str, Any]) -> list[str]:
    """Why ``body`` fails the ``version`` (``v0.1`` | ``v1``) schema of a ``kind`` (``status`` | ``inbound``)
    webhook of ``channel`` (a stored channel value: ``sms``, ``messenger``, ``viber_service_msg``); [] if it passes."""
    validator = _validator(version, kind, channel)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in validator.iter_errors(body)]
