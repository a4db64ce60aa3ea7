#!/usr/bin/env bash
# A throw-away local PostgreSQL 15 server for development and tests: the team's shared state
# backend (`pulumi login postgres://...`) on one machine. Not for real teams: use your own server.
#
#   scripts/postgres.sh start [DIR] [PORT]   start (initialising DIR on first use); prints the URL
#   scripts/postgres.sh url   [DIR] [PORT]   print the URL of that server
#   scripts/postgres.sh stop  [DIR]          stop it (DIR stays; rm -rf it to start over)
#
# DIR defaults to /tmp/email-partners-postgres-PORT and PORT to 55432 ($EMAIL_PARTNERS_PG_PORT).
# The server listens on 127.0.0.1 only, trusts every local connection (-A trust: a throw-away
# cluster, no password anywhere) and holds one database, `pulumi`. PostgreSQL is installed with
# apt-get (package postgresql-15) when missing. initdb and pg_ctl refuse to run as root, so as
# root they run as the `postgres` user (DIR must then be reachable by that user).
# Exit status 3: PostgreSQL is missing and cannot be installed here (no root, no apt-get).
set -euo pipefail

command=${1:-}
port=${3:-${EMAIL_PARTNERS_PG_PORT:-55432}}
dir=${2:-/tmp/email-partners-postgres-$port}
bin=/usr/lib/postgresql/15/bin
database=pulumi

say() { echo "postgres.sh: $*" >&2; }

# PostgreSQL 15 when present, else the newest installed version (the backend needs nothing newer).
find_bin() {
  [ -x "$bin/initdb" ] && return 0
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$newest" ] && [ -x "$newest/initdb" ] && bin=$newest
}

install_postgres() {
  find_bin && [ -x "$bin/initdb" ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and this user cannot install it:" \
        "run 'apt-get install postgresql-15' as root"
    exit 3
  fi
  say "installing postgresql-15 with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || { say "apt-get update failed"; exit 3; }
  apt-get install -y -qq postgresql-15 >&2 || apt-get install -y -qq postgresql >&2 \
    || { say "apt-get install postgresql-15 (or postgresql) failed"; exit 3; }
  find_bin && [ -x "$bin/initdb" ] || { say "installed, but no initdb found"; exit 3; }
}

# Run a PostgreSQL binary as a user it accepts (never root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

url() { echo "postgres://postgres@127.0.0.1:$port/$database?sslmode=disable"; }

case "$command" in
  start)
    install_postgres
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off" >/dev/null \
        || { say "the server did not start; its log:"; tail -n 20 "$dir/server.log" >&2; exit 1; }
    fi
    if ! as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
         "SELECT 1 FROM pg_database WHERE datname = '$database'" postgres | grep -q 1; then
      as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"
    fi
    url
    ;;
  url)
    url
    ;;
  stop)
    find_bin || true
    if [ -f "$dir/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    fi
    ;;
  *)
    sed -n '2,14p' "$0" >&2
    exit 2
    ;;
esac
