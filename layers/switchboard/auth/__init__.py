"""Request authentication: Basic (account API key and secret) and Bearer (application JWT, RS256)."""
from switchboard.auth.authenticator import Authenticator

__all__ = ["Authenticator"]
