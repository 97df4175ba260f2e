"""The GSM 03.38 7-bit alphabet: decides whether an SMS can go as ``text`` or needs ``unicode``."""
from __future__ import annotations

BASIC_CHARACTERS = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as an escape plus a second septet: still GSM, but two characters' worth of space each.
EXTENSION_CHARACTERS = frozenset("\f^{}\\[~]|€")
GSM_CHARACTERS = BASIC_CHARACTERS | EXTENSION_CHARACTERS


def is_gsm(text: str) -> bool:
    """True when every character is in the GSM default alphabet or its extension table."""
    return all(character in GSM_CHARACTERS for character in text)
