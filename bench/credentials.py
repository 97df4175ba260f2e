"""An account and an application to call the API with, made by the product's own provisioning code."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

JWT_TTL_SECONDS = 900
BENCH_RATE_LIMIT_PER_SECOND = 100_000


@dataclass(frozen=True)
class Credentials:
    api_key: str
    api_secret: str
    application_id: str
    private_key_pem: str


def provision_credentials(key_dir: Path) -> Credentials:
    """Needs the functions' environment (table names, AWS) in ``os.environ``. No webhook URLs.

    The account owns the local stack's demo senders, which ``bench.api_requests.v1_message`` sends from;
    its limit is far above the default: the benchmarks measure the API, not the per-account limit.
    """
    from tests.support.tenants import provision_sender_owner

    account, application = provision_sender_owner(key_dir / "bench.key", BENCH_RATE_LIMIT_PER_SECOND, "bench")
    return Credentials(
        api_key=account["api_key"],
        api_secret=account["api_secret"],
        application_id=application["application_id"],
        private_key_pem=Path(application["private_key_path"]).read_text(encoding="utf-8"),
    )


def jwt_signer(credentials: Credentials) -> Callable[[], str]:
    """Fresh application JWTs with ``switchboard.provisioning.generate_jwt``'s claims and algorithm.

    The private key is loaded once: ``generate_jwt`` loads it for every token (about 40 ms each),
    which would make signing a thousand tokens take longer than the measurement.
    """
    import jwt
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from switchboard import clock

    key = load_pem_private_key(credentials.private_key_pem.encode("utf-8"), password=None)

    def sign() -> str:
        iat = int(clock.now())
        claims = {
            "application_id": credentials.application_id,
            "iat": iat,
            "jti": str(uuid.uuid4()),
            "exp": iat + JWT_TTL_SECONDS,
        }
        return jwt.encode(claims, key, algorithm="RS256", headers={"typ": "JWT"})

    return sign
