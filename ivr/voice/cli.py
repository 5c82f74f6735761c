"""`say`: render a template for one contact and write the audio (registered by the lead as `ivr say`).

    ivr say arrears-first --var title=张先生 --var room=3栋2单元1501 \\
        --var amount=1234.50 --var months=3 --var due_date=2026-11-30 --out msg.wav
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ivr.voice import audio, templates
from ivr.voice.cache import AudioCache
from ivr.voice.compose import prepare_message
from ivr.voice.tts import ENGINE_NAMES, SynthesisError, engine_from_config


def _parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--var")
        values[name.strip()] = value
    return values


@click.command("say")
@click.argument("template")
@click.option("--var", "pairs", multiple=True, metavar="NAME=VALUE", help="A template variable; repeatable.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="WAV file to write (8 kHz, 16-bit, mono).")
@click.option("--engine", type=click.Choice(ENGINE_NAMES), default=None,
              help="TTS engine (default: env IVR_TTS_ENGINE, else auto = edge with espeak fallback).")
@click.option("--lang", type=click.Choice(templates.LANGS), default="zh", show_default=True)
@click.option("--rate", type=int, default=0, help="Speaking rate change in percent, e.g. -10.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Audio cache folder (default: env IVR_AUDIO_DIR, else ./var/audio).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, hidden=True,
              help="Pretend today is this date (decides whether dates are read with their year).")
def say(template: str, pairs: tuple[str, ...], out: Path, engine: str | None, lang: str,
        rate: int, cache_dir: Path | None, today) -> None:
    """Say TEMPLATE (a name such as arrears-first) with the given variables into --out."""
    if template not in templates.TEMPLATES[lang]:
        raise click.UsageError(f"unknown template {template!r}; known: {', '.join(templates.TEMPLATE_NAMES)}")
    variables = _parse_vars(pairs)
    day: date | None = today.date() if today else None
    try:
        text = templates.render(template, variables, lang=lang, today=day)
    except templates.TemplateError as err:
        if err.variable and err.variable not in variables:
            needed = ", ".join(templates.required_variables(template, lang))
            raise click.UsageError(f"{err} (template {template} needs: {needed})") from None
        raise click.UsageError(str(err)) from None
    try:
        wav = prepare_message(template, variables, engine_from_config(engine, lang=lang),
                              AudioCache(cache_dir), lang=lang, rate=rate, today=day)
    except SynthesisError as err:
        raise click.ClickException(f"speech synthesis failed: {err}") from None
    audio.write_atomic(out, wav.read_bytes())
    click.echo(text)
    click.echo(f"{out} ({audio.duration(out):.1f} s)")


if __name__ == "__main__":  # pragma: no cover
    say()
