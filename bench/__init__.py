"""The benchmark suite behind ``make bench`` (``python -m bench``).

Every figure is a ratio against a baseline measured in the same run, because absolute times on a
shared, noisy machine mean little on their own. Each measurement runs in its own subprocess
(``bench.worker``), so one cannot warm caches or leave threads behind for the next.

This package's ``__init__`` imports nothing: the cold-start probe must not pay for it.
"""
