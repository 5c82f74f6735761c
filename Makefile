# The two commands of the README. Both install whatever is missing first (Debian packages,
# the virtualenv, the Asterisk root, PostgreSQL) and are safe to run twice.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
IVR := $(VENV)/bin/ivr

.PHONY: demo test setup asterisk postgres bench clean-runtime

setup:
	scripts/bootstrap.sh
	$(IVR) asterisk setup

postgres: setup
	@scripts/postgres.sh ivr_test25000 > /dev/null

demo: setup
	$(IVR) demo

# Real parts only: two Asterisk instances on loopback, SQLite and PostgreSQL.
test: setup postgres
	$(VENV)/bin/pytest -q

bench: setup
	$(PY) bench/dialer.py
