"""Every code the engine records has a label staff can read, in Chinese and English."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from admin import labels
from ivr.flows.outcome import CHOICES
from ivr.policy.disposition import Disposition


@pytest.mark.parametrize("locale, sample", [("zh_CN", "承诺"), ("en", "Promised")])
def test_every_flow_answer_and_disposition_has_a_label(app, locale, sample):
    with app.test_request_context(), force_locale(locale):
        for code in (*CHOICES, "acknowledged"):
            assert code in labels.CHOICES, code
            assert str(labels.label(labels.CHOICES, code)) != code
        for disposition in Disposition:
            assert disposition.value in labels.DISPOSITIONS, disposition
        assert sample in str(labels.label(labels.CHOICES, "promise_date"))
