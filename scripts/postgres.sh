#!/usr/bin/env bash
# Starts the machine's PostgreSQL (Debian's cluster) and makes the role and database the
# test suite and demo use. Idempotent. Prints the URL on stdout.
set -euo pipefail
DB=${1:-ivr_test}
command -v pg_lsclusters >/dev/null || { echo "postgresql is not installed (scripts/bootstrap.sh)" >&2; exit 1; }
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$ver main$"; then
  pg_createcluster "$ver" main >&2
fi
if ! pg_lsclusters -h | grep -q "^$ver *main .*online"; then
  pg_ctlcluster "$ver" main start >&2
fi
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
port=$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')
psql_do() { su postgres -c "psql -p $port -qtAX -c \"$1\""; }
[ "$(psql_do "SELECT 1 FROM pg_roles WHERE rolname='ivr'")" = 1 ] \
  || psql_do "CREATE ROLE ivr LOGIN PASSWORD 'ivr' CREATEDB" >&2
[ "$(psql_do "SELECT 1 FROM pg_database WHERE datname='$DB'")" = 1 ] \
  || psql_do "CREATE DATABASE $DB OWNER ivr" >&2
echo "postgresql://ivr:ivr@127.0.0.1:$port/$DB"
