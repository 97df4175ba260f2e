"""A queue URL is required: an empty one would send every message nowhere without an error."""
from __future__ import annotations


def required_url(owner: str, url: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"{owner} needs a queue URL")
    return url
