"""Moved to ``switchboard.api.routes`` (routes) and ``switchboard.composition.api_function`` (wiring);
this shim is removed when the restructuring completes."""
from switchboard.api.routes import ROUTES, create_app  # noqa: F401
