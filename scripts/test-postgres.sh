#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the PostgresStore tests.
# Usage: scripts/test-postgres.sh start|stop|url
#
#   start  creates the cluster when missing, starts it when stopped, creates
#          the role and database `switchyard`, and prints the URL (only the
#          URL goes to stdout; progress goes to stderr). Safe to run again and
#          from several processes at once.
#   stop   stops it (the data stays; delete the folder to start over).
#   url    prints the URL.
#
# SWITCHYARD_PG_DIR (default /tmp/switchyard-test-pg) holds the cluster;
# SWITCHYARD_PG_PORT (default 54329) is its TCP port on 127.0.0.1.
# Durability is switched off (fsync, synchronous_commit): tests throw the data away.
set -euo pipefail

dir="${SWITCHYARD_PG_DIR:-/tmp/switchyard-test-pg}"
port="${SWITCHYARD_PG_PORT:-54329}"
data="$dir/data"
sockets="$dir/sockets"
url="postgres://switchyard@127.0.0.1:$port/switchyard"

say() { echo "test-postgres: $*" >&2; }

# The server binaries: on PATH (/usr/local/bin links them on some images) or
# Debian's versioned folder, newest version first.
find_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return
    fi
  done
}

install_postgres() {
  say "PostgreSQL is not installed; installing it"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
}

# PostgreSQL refuses to run as root: as root, run the server tools as `postgres`.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() { [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

psql_admin() {
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres -tA "$@"
}

start() {
  bin="$(find_bin)"
  if [ -z "$bin" ]; then
    install_postgres
    bin="$(find_bin)"
    [ -n "$bin" ] || { say "error: initdb and pg_ctl not found after installing postgresql"; exit 1; }
  fi

  mkdir -p "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  # Several test processes may start at once: one at a time past this point.
  exec 9>"$dir/.lock"
  flock 9

  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a cluster in $data"
    rm -rf "$data"
    as_owner mkdir -p "$data" "$sockets"
    as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >&2
  fi
  as_owner mkdir -p "$sockets"

  if ! running; then
    say "starting it on 127.0.0.1:$port"
    # The server must inherit no descriptor of whoever ran this script: not the lock (9), and not
    # what a test runner watches to see this script end (a daemon holding it would make the
    # script look alive forever).
    (
      for fd in /proc/self/fd/*; do
        n=${fd##*/}
        if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-" 2>/dev/null || true; fi
      done
      as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $sockets -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2
    ) || { say "error: the server did not start; its log:"; tail -n 20 "$dir/server.log" >&2; exit 1; }
  fi

  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
  done
  pg_isready -q -h 127.0.0.1 -p "$port" || { say "error: no answer on 127.0.0.1:$port"; exit 1; }

  if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'switchyard'")" != 1 ]; then
    psql_admin -c "CREATE ROLE switchyard LOGIN SUPERUSER"
  fi
  if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'switchyard'")" != 1 ]; then
    psql_admin -c "CREATE DATABASE switchyard OWNER switchyard"
  fi
  echo "$url"
}

stop() {
  bin="$(find_bin)"
  if [ -n "$bin" ] && running; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2
  else
    say "not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
