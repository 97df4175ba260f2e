"""Reading the hashed requirement files ``make lock`` writes (``requirements.lock``, ``layers/requirements.txt``)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_LOCK = ROOT / "requirements.lock"
LAYER_REQUIREMENTS = ROOT / "layers" / "requirements.txt"

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)\s*(?:;\s*(?P<marker>.+?))?$")


def canonical_name(name: str) -> str:
    """PEP 503: ``Typing_Extensions`` and ``typing-extensions`` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    marker: str  # "" when the pin applies everywhere
    hashes: frozenset[str]


def read_pins(path: Path) -> dict[str, Pin]:
    """Every pinned requirement by canonical name; a line that is not ``name==version [; marker] --hash ...`` fails."""
    text = path.read_text(encoding="utf-8")
    logical_lines = re.sub(r"\\\n\s*", " ", text).splitlines()
    pins: dict[str, Pin] = {}
    for line in logical_lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = re.split(r"\s+(?=--)", line)
        match = _PIN.match(requirement.strip())
        if match is None:
            raise ValueError(f"{path.name}: not an exact pin: {line!r}")
        hashes = frozenset(o.removeprefix("--hash=") for o in options if o.startswith("--hash="))
        if not hashes or len(hashes) != len(options):
            raise ValueError(f"{path.name}: {requirement.strip()} must carry hashes and nothing else")
        name = canonical_name(match["name"])
        if name in pins:
            raise ValueError(f"{path.name}: {name} is pinned twice")
        pins[name] = Pin(name, match["version"], (match["marker"] or "").strip(), hashes)
    return pins
