"""How an SMS text travels: GSM-7 or UCS-2, and the parts a long text is split into.

GSM 03.38: a part holds 160 septets, or 153 when the text is split (the rest is the concatenation
header); the extension table's characters (``{ } [ ] ~ \\ | ^ € \\f``) take two septets each and are
never split across parts. UCS-2: 70 UTF-16 code units, or 67 when split; a character outside the
Basic Multilingual Plane (most emoji) takes two units, never split across parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM_7 = "GSM-7"
UCS_2 = "UCS-2"
Encoding = Literal["GSM-7", "UCS-2"]
# (single part, each part of a split text), in septets (GSM-7) or UTF-16 code units (UCS-2)
LIMITS: dict[str, tuple[int, int]] = {GSM_7: (160, 153), UCS_2: (70, 67)}
# The SMS API's ``type`` (and the v1 ``sms.encoding_type``) and the encoding each means.
API_TYPES: dict[str, Encoding] = {"text": GSM_7, "unicode": UCS_2}


def is_gsm(text: str) -> bool:
    return all(character in GSM_BASIC or character in GSM_EXTENSION for character in text)


def character_size(character: str, encoding: str) -> int:
    if encoding == UCS_2:
        return len(character.encode("utf-16-le")) // 2
    return 2 if character in GSM_EXTENSION else 1  # a character GSM-7 lacks goes as one ("?")


@dataclass(frozen=True)
class SmsParts:
    encoding: Encoding
    characters: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2) in the whole text
    unit_name: str
    part_limit: int  # the most units each of these parts may hold
    parts: list[str]
    unsupported: list[str]  # characters GSM-7 cannot carry (sent as "?") when GSM-7 was asked for

    def to_json(self) -> dict[str, object]:
        return {
            "encoding": self.encoding,
            "characters": self.characters,
            "units": self.units,
            "unit_name": self.unit_name,
            "part_limit": self.part_limit,
            "part_count": len(self.parts),
            "parts": self.parts,
            "unsupported_characters": self.unsupported,
        }


def split_sms(text: str, encoding: Encoding | None = None) -> SmsParts:
    """``text`` as the SMS network carries it; ``encoding`` None chooses as the SMS API does (GSM-7 when it can)."""
    chosen: Encoding = encoding or (GSM_7 if is_gsm(text) else UCS_2)
    sizes = [character_size(character, chosen) for character in text]
    single, split = LIMITS[chosen]
    limit = single if sum(sizes) <= single else split
    parts: list[str] = []
    current, used = "", 0
    for character, size in zip(text, sizes):
        if used + size > limit:
            parts.append(current)
            current, used = "", 0
        current += character
        used += size
    if current or not parts:
        parts.append(current)
    unsupported = sorted({c for c in text if chosen == GSM_7 and not is_gsm(c)})
    return SmsParts(
        encoding=chosen,
        characters=len(text),
        units=sum(sizes),
        unit_name="septets" if chosen == GSM_7 else "UTF-16 code units",
        part_limit=limit,
        parts=parts,
        unsupported=unsupported,
    )
