#!/bin/sh
# Roles of the one image. Settings come from the environment (see README, Configuration).
set -eu
role="${1:-engine}"
shift || true
case "$role" in
  migrate)   # the schema, once before the others start
    exec ivr db upgrade ;;
  engine)    # the dialer's Asterisk (system package) and the dialer beside it: AMI on loopback
    ivr asterisk setup
    ivr asterisk start
    trap 'ivr asterisk stop' EXIT
    ivr dialer "$@" ;;       # SIGTERM: stops after the calls in flight, then Asterisk stops
  admin)     # the staff admin and the HTTP API behind gunicorn
    : "${IVR_ADMIN_SECRET_KEY:?set IVR_ADMIN_SECRET_KEY}"
    exec gunicorn --bind "0.0.0.0:${PORT:-8080}" --workers "${WORKERS:-2}" --threads 4 \
         --access-logfile - "admin:create_app()" ;;
  webhooks)  # signed event delivery to business systems
    exec ivr webhooks work "$@" ;;
  create-user)
    exec ivr admin create-user "$@" ;;
  *)
    exec "$role" "$@" ;;
esac
