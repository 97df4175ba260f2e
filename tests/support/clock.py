"""The fixed time the tests' ``now`` fixture starts at."""
from __future__ import annotations

T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z
