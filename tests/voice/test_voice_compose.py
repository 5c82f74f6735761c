from datetime import date

import pytest

from ivr.voice import audio, compose
from ivr.voice.compose import Fragment, fragments, prepare_message
from ivr.voice.templates import TemplateError
from ivr.voice.tts import FallbackEngine, SynthesisError

TODAY = date(2026, 11, 20)
ZHANG = dict(title="张先生", room="3栋2单元1501", amount="1234.50", months=3, due_date="2026-11-30")
LI = dict(title="李女士", room="5栋1单元302", amount="880", months=3, due_date="2026-11-30")


def test_fragments_separate_fixed_wording_from_values():
    frags = fragments("arrears-first", ZHANG, today=TODAY)
    values = {f.variable: f.text for f in frags if f.variable}
    assert values == {"title": "张先生", "company": "物业服务中心", "room": "三栋二单元一五零一",
                      "months": "三个月", "amount": "一千二百三十四元五角", "due_date": "十一月三十日星期一"}
    assert frags[:4] == [
        Fragment("张先生", "title", compose.JOIN_PAUSE_MS),
        Fragment("您好，", None, compose.CLAUSE_PAUSE_MS),
        Fragment("这里是", None, compose.JOIN_PAUSE_MS),
        Fragment("物业服务中心", "company", compose.SENTENCE_PAUSE_MS),  # "。" after a value is a pause
    ]
    assert frags[-1] == Fragment("感谢您的支持。", None, 0)
    # nothing lost or reordered
    assert "".join(f.text for f in frags).replace("。", "").replace("，", "").replace("：", "") == \
        "张先生您好这里是物业服务中心温馨提示您名下三栋二单元一五零一的物业服务费尚有三个月未交纳" \
        "共计一千二百三十四元五角交费截止日期是十一月三十日星期一如果您已经交费请忽略本次提醒感谢您的支持"


def test_english_fragments_do_not_split_inside_numbers():
    frags = fragments("arrears-first", {**ZHANG, "title": "Mr Zhang"}, lang="en", today=TODAY)
    assert Fragment("1,234 yuan and 50 fen", "amount", compose.JOIN_PAUSE_MS) in frags


def test_cold_then_warm(cache, espeak, doubles, wav):
    counted = doubles.Counting(espeak)
    frags = fragments("arrears-first", ZHANG, today=TODAY)
    cold = prepare_message("arrears-first", ZHANG, counted, cache, today=TODAY)
    assert len(counted.calls) == len({f.text for f in frags})  # each distinct fragment once
    seconds = wav.check(cold, 10, 60)
    # exactly the trimmed fragments plus the pauses between them
    parts = [audio.trim_silence(audio.read_pcm(cache.get_or_make(f.text, counted))) for f in frags]
    expected = sum(len(p) for p in parts) / 16000 + sum(f.pause_ms for f in frags) / 1000
    assert seconds == pytest.approx(expected, abs=0.002)

    warm = prepare_message("arrears-first", ZHANG, counted, cache, today=TODAY)
    assert warm == cold and len(counted.calls) == len({f.text for f in frags})


def test_second_owner_costs_only_the_new_fragments(cache, espeak, doubles):
    counted = doubles.Counting(espeak)
    prepare_message("arrears-first", ZHANG, counted, cache, today=TODAY)
    before = len(counted.calls)
    prepare_message("arrears-first", LI, counted, cache, today=TODAY)
    # same months and due date: only title, room and amount are new
    assert sorted(counted.calls[before:]) == sorted(["李女士", "五栋一单元三零二", "八百八十元"])


def test_one_voice_per_message_when_the_online_engine_fails_midway(cache, espeak, doubles, wav):
    online = doubles.Counting(espeak, name="online", fail_when=lambda text: "元" in text)
    offline = doubles.Counting(espeak)
    path = prepare_message("arrears-first", ZHANG, FallbackEngine(online, offline, cooldown=0), cache, today=TODAY)
    frags = fragments("arrears-first", ZHANG, today=TODAY)
    assert path.name.startswith("msg-espeak-")
    assert sorted(offline.calls) == sorted({f.text for f in frags})  # every fragment from the fallback
    wav.check(path, 10, 60)
    assert not [p for p in wav.files(cache.root) if p.stat().st_size == 0 or p.name.startswith(".")]


def test_no_engine_no_message(cache, doubles, wav):
    with pytest.raises(SynthesisError):
        prepare_message("goodbye", {}, FallbackEngine(doubles.Raising(), doubles.Raising()), cache)
    assert wav.files(cache.root) == []


def test_missing_variable_fails_before_any_synthesis(cache, espeak, doubles):
    counted = doubles.Counting(espeak)
    with pytest.raises(TemplateError) as err:
        prepare_message("arrears-first", {"title": "张先生"}, counted, cache)
    assert err.value.variable == "room" and counted.calls == []
