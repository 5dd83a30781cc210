#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers for the test suite, and prints its URL.
# Uses BILLING_DESK_TEST_POSTGRES_URL if set, else the server at 127.0.0.1:5432; where none
# answers, installs Debian's postgresql if needed and starts a private trust-auth cluster
# under .cache/pg on port 54329 (stopped by `scripts/postgres.sh stop`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/_env.sh"

PGDATA_DIR="$ROOT/.cache/pg"
PRIVATE_PORT=54329

answers() {  # host port
  "$VENV/bin/python" - "$1" "$2" <<'PY' 2>/dev/null
import sys, psycopg2
psycopg2.connect(host=sys.argv[1], port=int(sys.argv[2]), user="postgres", dbname="postgres", connect_timeout=3).close()
PY
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n "$dir" ]] && echo "$dir"
}

start_private() {
  [[ -n "$(pg_bin)" ]] || apt_install postgresql >&2
  local bin owner
  bin="$(pg_bin)"
  owner=postgres
  id "$owner" >/dev/null 2>&1 || owner="$(id -un)"
  mkdir -p "$PGDATA_DIR"
  chown "$owner" "$PGDATA_DIR" 2>/dev/null || true
  local as=()
  [[ $(id -u) -eq 0 && "$owner" != root ]] && as=(runuser -u "$owner" --)
  if [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
    "${as[@]}" "$bin/initdb" -D "$PGDATA_DIR" -U postgres -A trust >/dev/null
  fi
  "${as[@]}" "$bin/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w \
    -o "-p $PRIVATE_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >&2
}

case "${1:-url}" in
  stop)
    bin="$(pg_bin || true)"
    if [[ -n "$bin" && -f "$PGDATA_DIR/postmaster.pid" ]]; then
      owner=postgres; id "$owner" >/dev/null 2>&1 || owner="$(id -un)"
      as=(); [[ $(id -u) -eq 0 && "$owner" != root ]] && as=(runuser -u "$owner" --)
      "${as[@]}" "$bin/pg_ctl" -D "$PGDATA_DIR" -m fast stop >/dev/null
    fi
    ;;
  url)
    if [[ -n "${BILLING_DESK_TEST_POSTGRES_URL:-}" ]]; then
      echo "$BILLING_DESK_TEST_POSTGRES_URL"
    elif answers 127.0.0.1 5432; then
      echo "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    else
      # A machine's own cluster may just be stopped: try starting it first.
      if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql/*/main >/dev/null 2>&1; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start >&2 2>/dev/null || true
      fi
      if answers 127.0.0.1 5432; then
        echo "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
      else
        answers 127.0.0.1 "$PRIVATE_PORT" || start_private
        echo "postgresql+psycopg2://postgres@127.0.0.1:$PRIVATE_PORT/postgres"
      fi
    fi
    ;;
esac
