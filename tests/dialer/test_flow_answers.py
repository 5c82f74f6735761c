"""What an owner answered, onto the attempt and the account (settle.apply_flow_outcome)."""
from __future__ import annotations

from decimal import Decimal

from dialer_helpers import BUSINESS_HOURS
from sqlalchemy import select

from ivr.dialer.call_result import CallResult
from ivr.dialer.seed import campaign_with_accounts
from ivr.dialer.settle import apply_flow_outcome
from ivr.storage import Account, Attempt, CampaignKind


def _result(*steps: tuple[str, str]) -> CallResult:
    result = CallResult(1, dial_status="ANSWER", hangup_cause=16, stage="completed")
    result.steps = list(steps)
    return result


def _apply(sessions, result: CallResult, kind: CampaignKind = CampaignKind.ARREARS) -> tuple[Attempt, Account]:
    with sessions() as s:
        campaign = campaign_with_accounts(s, "answers", [dict(room="1栋1", phones=["13640000081"],
                                                              amount_owed=Decimal("100"))],
                                          now=BUSINESS_HOURS, kind=kind)
        attempt = s.scalars(select(Attempt).where(Attempt.campaign_id == campaign.id)).one()
        apply_flow_outcome(s, attempt, result, BUSINESS_HOURS)
        s.commit()
        account = s.get(Account, attempt.account_id)
        s.expunge_all()
        return attempt, account


def test_an_acknowledged_outage_notice_is_recorded(sessions):
    attempt, _ = _apply(sessions, _result(("heard", "notice"), ("acknowledged", "yes")), kind=CampaignKind.OUTAGE)
    assert attempt.choice == "acknowledged"


def test_a_voice_message_is_kept_on_the_attempt_not_as_a_server_path_for_staff(sessions):
    path = "/var/lib/ivr/run/x/pbx/recordings/messages/1-2.wav"
    attempt, account = _apply(sessions, _result(("identity", "yes"), ("heard", "message"),
                                                ("choice", "voice_message"), ("voice_message", path)))
    assert (attempt.choice, attempt.voice_message) == ("voice_message", path)
    assert account.complaint is None          # staff listen, then write what it says


def test_already_paid_is_flagged_for_staff_to_verify(sessions):
    attempt, account = _apply(sessions, _result(("identity", "yes"), ("heard", "message"),
                                                ("choice", "already_paid")))
    assert attempt.choice == "already_paid" and account.paid_claim_at is not None
    assert account.paid_at is None
