from click.testing import CliRunner

from ivr.voice.cli import say

ARREARS = ["--var", "title=张先生", "--var", "room=3栋2单元1501", "--var", "amount=1234.50",
           "--var", "months=3", "--var", "due_date=2026-11-30"]


def invoke(tmp_path, *args):
    return CliRunner().invoke(say, [*args, "--cache-dir", str(tmp_path / "cache")])


def test_say_writes_the_message(tmp_path, wav):
    out = tmp_path / "msg.wav"
    result = invoke(tmp_path, "arrears-first", *ARREARS, "--out", str(out), "--engine", "espeak",
                    "--today", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert "共计一千二百三十四元五角，交费截止日期是十一月三十日星期一" in result.output
    wav.check(out, 10, 60)


def test_say_in_english(tmp_path, wav):
    out = tmp_path / "en.wav"
    result = invoke(tmp_path, "identity-gate", "--var", "room=3栋2单元1501", "--lang", "en",
                    "--out", str(out), "--engine", "espeak")
    assert result.exit_code == 0, result.output
    assert "Are you the owner of building 3, unit 2, room 1 5 0 1?" in result.output
    wav.check(out, 1, 20)


def test_missing_variable_is_named_with_what_the_template_needs(tmp_path):
    out = tmp_path / "msg.wav"
    result = invoke(tmp_path, "arrears-first", "--var", "title=张先生", "--out", str(out), "--engine", "espeak")
    assert result.exit_code == 2
    assert "missing variable {room}" in result.output
    assert "needs: title, room, months, amount, due_date" in result.output
    assert not out.exists()


def test_unknown_template_lists_the_known_ones(tmp_path):
    result = invoke(tmp_path, "arrears-frist", "--out", str(tmp_path / "x.wav"))
    assert result.exit_code == 2
    assert "unknown template 'arrears-frist'" in result.output and "arrears-first" in result.output


def test_bad_values_and_bad_var_syntax(tmp_path):
    bad_amount = [a if a != "amount=1234.50" else "amount=很多" for a in ARREARS]
    result = invoke(tmp_path, "arrears-first", *bad_amount, "--out", str(tmp_path / "x.wav"), "--engine", "espeak")
    assert result.exit_code == 2 and "variable {amount}" in result.output
    result = invoke(tmp_path, "goodbye", "--var", "oops", "--out", str(tmp_path / "x.wav"))
    assert result.exit_code == 2 and "NAME=VALUE" in result.output
