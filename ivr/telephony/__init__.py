"""Telephony integration: talking to Asterisk (AMI) and dialplan helpers."""
