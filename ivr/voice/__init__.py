"""Voice: how messages are worded and read aloud, and turned into telephone audio.

speech (values -> words), templates (messages), keypad_dates (DTMF dates),
tts (engines), cache (synthesised audio), compose (personal messages), cli (`say`).
"""
