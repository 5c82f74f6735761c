"""The first real calls, through both Asterisk instances, on SQLite and on PostgreSQL."""
from __future__ import annotations

from ivr.storage import AttemptStatus
from ivr.telephony.pstn_sim import Behaviour

from audio_checks import wav_stats

PROMPT_SECONDS = 7.7  # audio/prompts/first-call.wav


def test_outcomes_reach_the_database(place_calls, sessions, sim, site):
    # Numbers unique per backend run so recordings don't mix.
    tag = "1" if "sqlite" in str(sessions.kw["bind"].url) else "2"
    n = lambda k: f"1390000{tag}{k:03d}"  # noqa: E731
    attempts = place_calls(sessions, {
        n(1): Behaviour.answer(0.5, [(1.5, "1")]),
        n(2): Behaviour.answer(0.5, [(1.5, "20261130#")]),
        n(3): Behaviour.busy(),
        n(4): Behaviour.no_answer(),
        n(5): Behaviour.unreachable(),
        n(6): Behaviour.hang_up_mid_message(0.5, listen=2.0),
        n(7): Behaviour.answer(0.5, [], record=True),
    }, dial_timeout=4, key_timeout=3)

    assert all(a.status == AttemptStatus.DONE for a in attempts.values()), \
        {k: (a.status, a.error) for k, a in attempts.items()}

    one, date, busy, noanswer, empty, early, listened = (attempts[n(i)] for i in range(1, 8))
    assert (one.disposition, one.keys, one.key_log) == ("answered", "1", "1")
    assert (date.disposition, date.keys, date.key_log) == ("answered", "20261130", "20261130#")
    assert one.answered_at is not None and one.ended_at >= one.answered_at

    assert (busy.disposition, busy.dial_status, busy.hangup_cause) == ("busy", "BUSY", 17)
    assert (noanswer.disposition, noanswer.dial_status) == ("no_answer", "NOANSWER")
    assert (empty.disposition, empty.hangup_cause) == ("unreachable", 1)
    assert (early.disposition, early.stage) == ("hung_up_early", "message")
    for a in (busy, noanswer, empty):
        assert a.answered_at is None and a.keys is None

    # The simulated phone really heard the message: as long as it, and not silence.
    assert listened.disposition == "answered"
    heard = sim.recordings(n(7))
    assert len(heard) == 1
    duration, rms = wav_stats(heard[0])
    assert rms > 300, f"recording is silent (rms={rms:.0f})"
    # It heard the prompt, the 3 s key timeout and the goodbye.
    assert PROMPT_SECONDS <= duration <= PROMPT_SECONDS + 3 + 1.6 + 1.5, duration
