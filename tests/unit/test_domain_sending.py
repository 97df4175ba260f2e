"""The send contract's own rules (domain/sending.py)."""
from __future__ import annotations

from switchboard.domain.error_codes import ALREADY_SENT, INTERNAL_ERROR, THROTTLED
from switchboard.domain.sending import SendOutcome, accepted, reason, rejected, retry


def test_only_a_rejection_as_already_sent_means_the_first_send_went_through() -> None:
    assert rejected(ALREADY_SENT).already_sent
    assert not rejected(INTERNAL_ERROR).already_sent
    assert not retry(ALREADY_SENT).already_sent
    assert not accepted("mid-1").already_sent


def test_results_carry_the_code_and_its_reason_with_the_provider_detail() -> None:
    result = retry(THROTTLED, "provider returned HTTP 429")
    assert result.outcome is SendOutcome.RETRY
    assert result.error_code == THROTTLED
    assert result.error_reason == "Throttled: provider returned HTTP 429"
    assert accepted("mid-1").provider_message_id == "mid-1"


def test_a_reason_is_cut_to_300_characters() -> None:
    assert len(reason(INTERNAL_ERROR, "x" * 1000)) == 300
    assert reason(99999) == "Unknown"
