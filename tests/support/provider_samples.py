"""The secrets the sample provider webhooks in ``events/webhooks_*.json`` are signed with."""
from __future__ import annotations

SAMPLE_SECRETS = {
    "messenger": {"app_secret": "sample-messenger-app-secret", "verify_token": "sample-verify-token", "pages": {}},
    "viber": {"callback_secret": "sample-viber-callback-secret", "service_ids": ["16273"]},
    "sms": {"signature_secret": "sample-sms-signature-secret", "signature_method": "md5hash"},
    "whatsapp": {
        "app_secret": "sample-whatsapp-app-secret", "verify_token": "sample-whatsapp-verify-token",
        "numbers": {"447700900100": {"phone_number_id": "106540352242922", "access_token": "sample-whatsapp-token"}},
    },
}
SIGNED_AT = 1_795_780_800  # the SMS samples' "timestamp"
