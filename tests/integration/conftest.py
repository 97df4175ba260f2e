"""The integration tests share the session's local stack; its fixture lives in ``tests/support/stack.py``.

``ROOT`` and ``RunningStack`` stay importable from here for the modules that import them.
"""

from __future__ import annotations

from tests.support.stack import ROOT, RunningStack

__all__ = ["ROOT", "RunningStack"]
