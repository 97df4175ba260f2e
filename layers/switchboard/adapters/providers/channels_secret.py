"""Provider configuration and credentials, read from the channels secret.

Layout (``CHANNELS_SECRET_ID``, JSON)::

    {"messenger": {"api_base", "api_version", "app_secret", "verify_token",
                   "pages": {"<page id>": "<page access token>"}},
     "viber": {"api_base", "callback_secret", "service_ids": ["<service id>"]},
     "sms": {"api_base", "api_key", "api_secret", "signature_secret", "signature_method"},
     "whatsapp": {"api_base", "api_version", "app_secret", "verify_token",
                  "numbers": {"<business number, E.164 without +>": {"phone_number_id", "access_token"}}}}
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities import parameters


@dataclass(frozen=True)
class ChannelsSecret:
    """The channels secret as a dict, cached for ``max_age_seconds`` (``SECRETS_MAX_AGE_SECONDS``).

    Warm invocations within that age make no Secrets Manager call. The returned dict is the cached
    object itself: read it, never change it.
    """

    secret_id: str
    max_age_seconds: int

    def __call__(self) -> dict[str, Any]:
        return parameters.get_secret(self.secret_id, transform="json", max_age=self.max_age_seconds)
