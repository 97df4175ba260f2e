"""``Authorization: Bearer <JWT>`` authentication and ``generate_jwt``."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from switchboard import clock
from switchboard.auth import Authenticator
from switchboard.auth.authenticator import APPLICATION_ACCOUNT_GONE, BAD_CREDENTIALS
from switchboard.auth.bearer import BAD_SIGNATURE, LEEWAY_SECONDS
from switchboard.auth.failure import AuthenticationFailed
from switchboard.domain.message import Principal
from switchboard.provisioning import generate_jwt
from tests.support.stores import AccountStore
from switchboard.domain.tenancy import Application
from tests.support.stores import wired_authenticator

T0 = 1_700_000_000


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def new_rsa_key_pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return KeyPair(private_pem, public_pem)


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return new_rsa_key_pair()


@pytest.fixture(scope="module")
def other_keys() -> KeyPair:
    return new_rsa_key_pair()


@pytest.fixture
def fixed_clock() -> Iterator[list[float]]:
    now = [float(T0)]
    clock.set_clock(lambda: now[0])
    yield now
    clock.set_clock(None)


class MemoryStore(AccountStore):
    """The real store over a dict instead of DynamoDB, for the many claim cases that need no AWS."""

    def __init__(self) -> None:
        super().__init__(table_name="memory")
        self.items: dict[str, dict[str, str]] = {}

    def _put_new(self, item: dict[str, str | None]) -> bool:
        if item["pk"] in self.items:
            return False
        self.items[str(item["pk"])] = {k: v for k, v in item.items() if v is not None}
        return True

    def _get_raw(self, pk: str) -> dict[str, dict[str, str]] | None:
        item = self.items.get(pk)
        return None if item is None else {k: {"S": v} for k, v in item.items()}


@pytest.fixture
def store(aws) -> AccountStore:
    return AccountStore()


@pytest.fixture
def app(store: AccountStore, keys: KeyPair) -> Application:
    account, _ = store.create_account()
    return store.create_application(account.api_key, "App", keys.public_pem)


@pytest.fixture
def authenticator(store: AccountStore) -> Authenticator:
    return wired_authenticator(store)


def claims_for(app: Application, **overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {"application_id": app.application_id, "iat": T0, "jti": str(uuid.uuid4())}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def signed(
    claims: dict[str, object], keys: KeyPair, algorithm: str = "RS256", headers: dict[str, object] | None = None
) -> str:
    return jwt.encode(claims, keys.private_pem, algorithm=algorithm, headers=headers)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_built(header: dict[str, object], claims: dict[str, object], sign=lambda signing_input: b"") -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


def bearer(token: str | bytes) -> str:
    return "Bearer " + (token.decode() if isinstance(token, bytes) else token)


def reject(authenticator: Authenticator, token: str) -> str:
    """Why ``token`` was refused (the log's reason); the client's detail is always the same."""
    with pytest.raises(AuthenticationFailed) as raised:
        authenticator.authenticate(bearer(token))
    assert raised.value.detail == BAD_CREDENTIALS
    return raised.value.reason


# -- accepted tokens -----------------------------------------------------------------------------


def test_token_from_generate_jwt_gives_a_jwt_principal(
    fixed_clock: list[float], authenticator: Authenticator, app: Application, keys: KeyPair
) -> None:
    token = generate_jwt(app.application_id, keys.private_pem, now=T0)

    principal = authenticator.authenticate(bearer(token))

    assert principal == Principal(api_key=app.api_key, application_id=app.application_id, auth_method="jwt")


def test_token_from_the_official_sdk_is_accepted(authenticator: Authenticator, app: Application, keys: KeyPair) -> None:
    from vonage_jwt import JwtClient

    token = JwtClient(app.application_id, keys.private_pem).generate_application_jwt()

    principal = authenticator.authenticate(bearer(token))

    assert principal.application_id == app.application_id
    assert principal.api_key == app.api_key
    assert principal.auth_method == "jwt"


def test_a_token_may_be_reused_until_it_expires(
    fixed_clock: list[float], authenticator: Authenticator, app: Application, keys: KeyPair
) -> None:
    token = generate_jwt(app.application_id, keys.private_pem, ttl_seconds=600, now=T0)

    for offset in (0, 1, 100, 300, 599):
        fixed_clock[0] = T0 + offset
        assert authenticator.authenticate(bearer(token)).application_id == app.application_id

    fixed_clock[0] = T0 + 600 + LEEWAY_SECONDS
    assert reject(authenticator, token) == "JWT has expired"


# -- applications and their keys ----------------------------------------------------------------


def test_tampered_claims_are_rejected(
    fixed_clock: list[float], authenticator: Authenticator, store: AccountStore, app: Application, keys: KeyPair
) -> None:
    account, _ = store.create_account()
    victim = store.create_application(account.api_key, "Victim", new_rsa_key_pair().public_pem)
    header, _, signature = generate_jwt(app.application_id, keys.private_pem, now=T0).split(".")
    forged_claims = b64url(json.dumps(claims_for(victim)).encode())

    assert "signature" in reject(authenticator, f"{header}.{forged_claims}.{signature}")


def test_unknown_application_is_rejected(fixed_clock: list[float], authenticator: Authenticator, keys: KeyPair) -> None:
    token = generate_jwt(str(uuid.uuid4()), keys.private_pem, now=T0)

    assert reject(authenticator, token) == "JWT application_id does not match a known application"


def test_application_whose_account_was_deleted_is_rejected(
    aws, fixed_clock: list[float], authenticator: Authenticator, app: Application, keys: KeyPair
) -> None:
    aws.client("dynamodb").delete_item(TableName="AccountsTable", Key={"pk": {"S": f"account#{app.api_key}"}})

    assert reject(authenticator, generate_jwt(app.application_id, keys.private_pem, now=T0)) == (
        APPLICATION_ACCOUNT_GONE
    )


# -- caching -------------------------------------------------------------------------------------


def test_deleted_application_stops_working_after_the_cache_ttl(
    aws, fixed_clock: list[float], store: AccountStore, app: Application, keys: KeyPair
) -> None:
    authenticator = wired_authenticator(store, cache_ttl_seconds=60)
    token = generate_jwt(app.application_id, keys.private_pem, now=T0)
    authenticator.authenticate(bearer(token))

    aws.client("dynamodb").delete_item(
        TableName="AccountsTable", Key={"pk": {"S": f"application#{app.application_id}"}}
    )
    fixed_clock[0] = T0 + 59
    assert authenticator.authenticate(bearer(token)).application_id == app.application_id

    fixed_clock[0] = T0 + 60
    assert reject(authenticator, token) == "JWT application_id does not match a known application"


def test_rotated_public_key_takes_effect_after_the_cache_ttl(
    aws, fixed_clock: list[float], store: AccountStore, app: Application, keys: KeyPair, other_keys: KeyPair
) -> None:
    authenticator = wired_authenticator(store, cache_ttl_seconds=60)
    old_token = generate_jwt(app.application_id, keys.private_pem, now=T0)
    authenticator.authenticate(bearer(old_token))
    aws.client("dynamodb").update_item(
        TableName="AccountsTable",
        Key={"pk": {"S": f"application#{app.application_id}"}},
        UpdateExpression="SET public_key_pem = :k",
        ExpressionAttributeValues={":k": {"S": other_keys.public_pem}},
    )

    fixed_clock[0] = T0 + 61
    new_token = generate_jwt(app.application_id, other_keys.private_pem, now=T0 + 61)
    assert "signature" in reject(authenticator, old_token)
    assert authenticator.authenticate(bearer(new_token)).application_id == app.application_id


def test_unusable_stored_public_key_is_rejected(
    fixed_clock: list[float], authenticator: Authenticator, store: AccountStore, keys: KeyPair
) -> None:
    account, _ = store.create_account()
    broken = store.create_application(account.api_key, "Broken", "-----BEGIN PUBLIC KEY-----\nnope\n")

    assert reject(authenticator, generate_jwt(broken.application_id, keys.private_pem, now=T0)) == (
        "The application has no usable RSA public key"
    )


class TestClaimsAndAlgorithms:
    """Verification rules, run against the store over a dict (these need no AWS)."""

    @pytest.fixture
    def store(self) -> AccountStore:
        return MemoryStore()

    @pytest.fixture(autouse=True)
    def _frozen_time(self, fixed_clock: list[float]) -> None:
        pass

    # -- lifetime --------------------------------------------------------------------------------

    def test_token_like_the_2018_node_sdk_without_exp_is_accepted(
        self, authenticator: Authenticator, app: Application, keys: KeyPair
    ) -> None:
        token = signed(claims_for(app), keys)

        assert authenticator.authenticate(bearer(token)).application_id == app.application_id

    def test_scheme_is_case_insensitive(self, authenticator: Authenticator, app: Application, keys: KeyPair) -> None:
        token = generate_jwt(app.application_id, keys.private_pem, now=T0)

        assert authenticator.authenticate("bearer " + token).auth_method == "jwt"

    def test_token_without_exp_expires_fifteen_minutes_after_iat(
        self, fixed_clock: list[float], authenticator: Authenticator, app: Application, keys: KeyPair
    ) -> None:
        token = signed(claims_for(app), keys)

        fixed_clock[0] = T0 + 899
        authenticator.authenticate(bearer(token))
        fixed_clock[0] = T0 + 900 + LEEWAY_SECONDS
        assert reject(authenticator, token) == "JWT has expired"

    def test_expired_token_is_rejected(self, authenticator: Authenticator, app: Application, keys: KeyPair) -> None:
        token = signed(claims_for(app, iat=T0 - 3600, exp=T0 - 60), keys)

        assert reject(authenticator, token) == "JWT has expired"

    def test_lifetime_of_exactly_24_hours_is_accepted(
        self, authenticator: Authenticator, app: Application, keys: KeyPair
    ) -> None:
        token = signed(claims_for(app, exp=T0 + 86400), keys)

        assert authenticator.authenticate(bearer(token)).auth_method == "jwt"

    def test_lifetime_over_24_hours_is_rejected(
        self, authenticator: Authenticator, app: Application, keys: KeyPair
    ) -> None:
        token = signed(claims_for(app, exp=T0 + 86401), keys)

        assert reject(authenticator, token) == "JWT lifetime exceeds 24 hours"

    def test_exp_before_iat_is_rejected(self, authenticator: Authenticator, app: Application, keys: KeyPair) -> None:
        token = signed(claims_for(app, exp=T0 - 1), keys)

        assert reject(authenticator, token) == "JWT exp must be after iat"

    def test_iat_in_the_future_beyond_the_leeway_is_rejected(
        self, authenticator: Authenticator, app: Application, keys: KeyPair
    ) -> None:
        token = signed(claims_for(app, iat=T0 + LEEWAY_SECONDS + 1), keys)

        assert reject(authenticator, token) == "JWT iat is in the future"

    def test_iat_slightly_ahead_within_the_leeway_is_accepted(
        self, authenticator: Authenticator, app: Application, keys: KeyPair
    ) -> None:
        token = signed(claims_for(app, iat=T0 + LEEWAY_SECONDS - 1), keys)

        assert authenticator.authenticate(bearer(token)).auth_method == "jwt"

    def test_nbf_in_the_future_is_rejected_until_it_passes(
        self, fixed_clock: list[float], authenticator: Authenticator, app: Application, keys: KeyPair
    ) -> None:
        token = signed(claims_for(app, nbf=T0 + 120), keys)

        assert reject(authenticator, token) == "JWT is not valid yet (nbf)"
        fixed_clock[0] = T0 + 120
        assert authenticator.authenticate(bearer(token)).auth_method == "jwt"

    @pytest.mark.parametrize("claim", ["iat", "exp", "nbf"])
    @pytest.mark.parametrize("value", ["1700000000", True, [1], float("nan"), float("inf")])
    def test_time_claims_must_be_numbers(
        self, authenticator: Authenticator, app: Application, keys: KeyPair, claim: str, value: object
    ) -> None:
        token = hand_built({"alg": "RS256", "typ": "JWT"}, claims_for(app, **{claim: value}), rs256_signer(keys))

        assert reject(authenticator, token) == f"JWT {claim} claim must be a number"

    def test_a_reused_token_is_verified_once_but_its_expiry_is_checked_every_time(
        self, fixed_clock: list[float], authenticator: Authenticator, app: Application, keys: KeyPair,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        verifications = []
        real_decode = jwt.decode
        monkeypatch.setattr(jwt, "decode", lambda *a, **kw: verifications.append(1) or real_decode(*a, **kw))
        token = generate_jwt(app.application_id, keys.private_pem, ttl_seconds=5, now=T0)

        for _ in range(5):
            assert authenticator.authenticate(bearer(token)).application_id == app.application_id
        fixed_clock[0] = T0 + 5 + LEEWAY_SECONDS  # still inside the 60 s cache TTL

        assert len(verifications) == 1
        assert reject(authenticator, token) == "JWT has expired"

    # -- required claims -------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("claim", "detail"),
        [
            ("application_id", "JWT is missing the application_id claim"),
            ("iat", "JWT is missing the iat claim"),
            ("jti", "JWT is missing the jti claim"),
        ],
    )
    def test_each_required_claim_must_be_present(
        self, authenticator: Authenticator, app: Application, keys: KeyPair, claim: str, detail: str
    ) -> None:
        claims = claims_for(app)
        del claims[claim]

        assert reject(authenticator, signed(claims, keys)) == detail

    @pytest.mark.parametrize("jti", ["", 42])
    def test_jti_must_be_a_non_empty_string(
        self, authenticator: Authenticator, app: Application, keys: KeyPair, jti: object
    ) -> None:
        token = hand_built({"alg": "RS256", "typ": "JWT"}, claims_for(app, jti=jti), rs256_signer(keys))

        assert reject(authenticator, token)

    # -- algorithms and keys ---------------------------------------------------------------------

    @pytest.mark.parametrize("header", [{"alg": "none", "typ": "JWT"}, {"alg": "None"}, {"typ": "JWT"}, {}])
    def test_alg_none_or_missing_is_rejected(
        self, authenticator: Authenticator, app: Application, header: dict[str, object]
    ) -> None:
        token = hand_built(header, claims_for(app))

        assert reject(authenticator, token) == "Unsupported JWT algorithm; only RS256 is accepted"

    def test_hs256_signed_with_the_public_key_as_secret_is_rejected(
        self, authenticator: Authenticator, app: Application, keys: KeyPair
    ) -> None:
        def sign(signing_input: bytes) -> bytes:
            return hmac.new(keys.public_pem.encode(), signing_input, hashlib.sha256).digest()

        token = hand_built({"alg": "HS256", "typ": "JWT"}, claims_for(app), sign)

        assert reject(authenticator, token) == "Unsupported JWT algorithm; only RS256 is accepted"

    def test_rs512_with_the_right_key_is_rejected(
        self, authenticator: Authenticator, app: Application, keys: KeyPair
    ) -> None:
        token = signed(claims_for(app), keys, algorithm="RS512")

        assert reject(authenticator, token) == "Unsupported JWT algorithm; only RS256 is accepted"

    def test_es256_is_rejected(self, authenticator: Authenticator, app: Application) -> None:
        token = jwt.encode(claims_for(app), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")

        assert reject(authenticator, token) == "Unsupported JWT algorithm; only RS256 is accepted"

    def test_rs256_signed_by_another_key_is_rejected(
        self, authenticator: Authenticator, app: Application, other_keys: KeyPair
    ) -> None:
        token = generate_jwt(app.application_id, other_keys.private_pem, now=T0)

        assert reject(authenticator, token) == BAD_SIGNATURE

    @pytest.mark.parametrize(
        "token", ["abc", "a.b.c", "a.b", "not a jwt", "x" * 5000], ids=["word", "three", "two", "spaces", "huge"]
    )
    def test_malformed_tokens_are_rejected(self, authenticator: Authenticator, token: str) -> None:
        assert reject(authenticator, token) == "Malformed JWT"

    @pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer  "])
    def test_bearer_without_a_token_is_rejected(self, authenticator: Authenticator, header: str) -> None:
        with pytest.raises(AuthenticationFailed) as raised:
            authenticator.authenticate(header)
        assert raised.value.detail == BAD_CREDENTIALS


# -- generate_jwt --------------------------------------------------------------------------------


def test_generate_jwt_claims_and_header(keys: KeyPair) -> None:
    token = generate_jwt("app-id", keys.private_pem, ttl_seconds=120, now=T0 + 0.7)

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, keys.public_pem, algorithms=["RS256"], options={"verify_exp": False})
    assert header == {"alg": "RS256", "typ": "JWT"}
    assert set(claims) == {"application_id", "iat", "jti", "exp"}
    assert claims["application_id"] == "app-id"
    assert claims["iat"] == T0
    assert claims["exp"] == T0 + 120
    assert uuid.UUID(claims["jti"]).version == 4


def test_generate_jwt_defaults_to_fifteen_minutes_and_the_injected_clock(
    fixed_clock: list[float], keys: KeyPair
) -> None:
    claims = jwt.decode(
        generate_jwt("app-id", keys.private_pem.encode()),
        keys.public_pem,
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )

    assert (claims["iat"], claims["exp"]) == (T0, T0 + 900)


def test_generate_jwt_gives_each_token_its_own_jti(keys: KeyPair) -> None:
    first, second = (generate_jwt("app-id", keys.private_pem, now=T0) for _ in range(2))

    assert jwt.decode(first, options={"verify_signature": False})["jti"] != jwt.decode(
        second, options={"verify_signature": False}
    )["jti"]


@pytest.mark.parametrize("ttl", [0, -1, 86401, 1.5, True])
def test_generate_jwt_rejects_a_ttl_out_of_range(keys: KeyPair, ttl: object) -> None:
    with pytest.raises(ValueError, match="ttl"):
        generate_jwt("app-id", keys.private_pem, ttl_seconds=ttl)  # type: ignore[arg-type]


@pytest.mark.parametrize("ttl", [1, 86400])
def test_generate_jwt_accepts_the_ttl_bounds(keys: KeyPair, ttl: int) -> None:
    token = generate_jwt("app-id", keys.private_pem, ttl_seconds=ttl, now=T0)

    claims = jwt.decode(token, keys.public_pem, algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False})
    assert (claims["application_id"], claims["exp"] - claims["iat"]) == ("app-id", ttl)


@pytest.mark.parametrize("pem", ["", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_generate_jwt_rejects_an_unusable_key(pem: str) -> None:
    with pytest.raises(ValueError, match="private key"):
        generate_jwt("app-id", pem)


def test_generate_jwt_rejects_a_public_key(keys: KeyPair) -> None:
    with pytest.raises(ValueError, match="private key"):
        generate_jwt("app-id", keys.public_pem)


def test_generate_jwt_rejects_an_empty_application_id(keys: KeyPair) -> None:
    with pytest.raises(ValueError, match="application id"):
        generate_jwt("", keys.private_pem)


def rs256_signer(keys: KeyPair):
    private_key = serialization.load_pem_private_key(keys.private_pem.encode(), password=None)

    def sign(signing_input: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())

    return sign


# -- key ids, two keys, and headers that point elsewhere ------------------------------------------


def test_key_ids_are_rfc_7638_thumbprints() -> None:
    """The example of RFC 7638, section 3.1."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    from switchboard.auth.key_ids import key_id

    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj"
        "hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQ"
        "vRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKn"
        "qDKgw"
    )
    modulus = int.from_bytes(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4)), "big")

    assert key_id(RSAPublicNumbers(65537, modulus).public_key()) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_an_application_with_two_keys_accepts_tokens_signed_by_either(
    fixed_clock: list[float], authenticator: Authenticator, store: AccountStore, app: Application, keys: KeyPair,
    other_keys: KeyPair,
) -> None:
    store.add_public_key(app.application_id, other_keys.public_pem)

    for signer in (keys, other_keys):
        token = generate_jwt(app.application_id, signer.private_pem, now=T0)
        assert authenticator.authenticate(bearer(token)).application_id == app.application_id
    assert reject(authenticator, generate_jwt(app.application_id, new_rsa_key_pair().private_pem, now=T0)) == (
        BAD_SIGNATURE
    )


def test_a_kid_naming_one_key_checks_only_that_key(
    fixed_clock: list[float], authenticator: Authenticator, store: AccountStore, app: Application, keys: KeyPair,
    other_keys: KeyPair, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from switchboard.auth.key_ids import key_id_of_pem

    store.add_public_key(app.application_id, other_keys.public_pem)
    verifications: list[object] = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **kw: verifications.append(a[1]) or real_decode(*a, **kw))
    second_kid = key_id_of_pem(other_keys.public_pem)

    accepted = signed(claims_for(app), other_keys, headers={"kid": second_kid})
    refused = signed(claims_for(app), keys, headers={"kid": second_kid})

    assert authenticator.authenticate(bearer(accepted)).application_id == app.application_id
    assert len(verifications) == 1
    assert reject(authenticator, refused) == BAD_SIGNATURE
    assert len(verifications) == 2  # the named key only, not the key that signed it


class _CountingHandler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        type(self).requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def key_server() -> Iterator[str]:
    """An HTTP server an attacker's jku/x5u would point at; it records every request it gets."""
    _CountingHandler.requests = []
    server = HTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_jku_x5u_jwk_and_x5c_headers_are_never_used_or_fetched(
    fixed_clock: list[float], authenticator: Authenticator, app: Application, keys: KeyPair, other_keys: KeyPair,
    key_server: str,
) -> None:
    foreign_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(
        serialization.load_pem_public_key(other_keys.public_pem.encode())
    ))
    pointing_elsewhere = {
        "jku": f"{key_server}/jwks.json",
        "x5u": f"{key_server}/cert.pem",
        "jwk": foreign_jwk,
        "x5c": ["MIIB"],
        "kid": foreign_jwk.get("kid", "attacker-key"),
    }

    forged = signed(claims_for(app), other_keys, headers=pointing_elsewhere)
    genuine = signed(claims_for(app), keys, headers=pointing_elsewhere)

    assert reject(authenticator, forged) == BAD_SIGNATURE
    assert authenticator.authenticate(bearer(genuine)).application_id == app.application_id  # headers ignored
    assert _CountingHandler.requests == []
