"""SMS previews: the encoding a text needs and the parts the network splits it into."""

from __future__ import annotations

import pytest

from local_stack.simulators.sms_parts import GSM_7, UCS_2, split_sms


@pytest.mark.parametrize(
    ("text", "encoding", "parts", "sizes"),
    [
        ("a" * 160, GSM_7, 1, [160]),
        ("a" * 161, GSM_7, 2, [153, 8]),
        ("a" * 306, GSM_7, 2, [153, 153]),
        ("a" * 307, GSM_7, 3, [153, 153, 1]),
        ("é" * 70 + "я", UCS_2, 2, [67, 4]),
        ("я" * 70, UCS_2, 1, [70]),
        ("я" * 161, UCS_2, 3, [67, 67, 27]),
        ("", GSM_7, 1, [0]),
    ],
)
def test_the_encoding_and_the_parts_follow_the_gsm_and_ucs2_limits(
    text: str, encoding: str, parts: int, sizes: list[int]
) -> None:
    split = split_sms(text)

    assert split.encoding == encoding
    assert len(split.parts) == parts
    assert [len(part) for part in split.parts] == sizes
    assert "".join(split.parts) == text


def test_a_161_character_text_is_one_part_short_of_two_only_in_gsm() -> None:
    gsm = split_sms("x" * 161)
    unicode = split_sms("ж" * 161)

    assert (gsm.encoding, len(gsm.parts), gsm.part_limit) == (GSM_7, 2, 153)
    assert (unicode.encoding, len(unicode.parts), unicode.part_limit) == (UCS_2, 3, 67)


def test_extension_characters_take_two_septets_and_are_never_split() -> None:
    text = "a" * 152 + "€" + "b" * 10  # 152 + 2 + 10 = 164 septets: over 160, so parts of 153

    split = split_sms(text)

    assert split.units == 164
    assert split.parts[0] == "a" * 152  # the € (2 septets) does not fit in the 153rd septet
    assert split.parts[1] == "€" + "b" * 10


def test_emoji_take_two_utf16_units_and_are_never_split() -> None:
    text = "a" * 66 + "😀" + "b" * 3  # 66 + 2 + 3 = 71 units: over 70, so parts of 67

    split = split_sms(text)

    assert (split.encoding, split.units) == (UCS_2, 71)
    assert split.parts == ["a" * 66, "😀bbb"]


def test_a_requested_encoding_wins_and_gsm_lists_what_it_cannot_carry() -> None:
    forced_gsm = split_sms("hello ж", GSM_7)
    forced_unicode = split_sms("hello", UCS_2)

    assert forced_gsm.encoding == GSM_7
    assert forced_gsm.unsupported == ["ж"]
    assert (forced_unicode.encoding, forced_unicode.units) == (UCS_2, 5)
