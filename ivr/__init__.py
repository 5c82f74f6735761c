"""Outbound voice broadcast and IVR engine: telephony, dialer, voice, storage."""
