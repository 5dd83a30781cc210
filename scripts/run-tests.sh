#!/usr/bin/env bash
# The README's test command: the whole suite, every database test on SQLite and PostgreSQL.
# Extra arguments go to pytest (e.g. scripts/run-tests.sh tests/unit -x).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/_env.sh"
cd "$ROOT"

apt_install "${QT_OFFSCREEN_PKGS[@]}"
ensure_venv
BILLING_DESK_TEST_POSTGRES_URL="$("$ROOT/scripts/postgres.sh" url)"
export BILLING_DESK_TEST_POSTGRES_URL
export QT_QPA_PLATFORM=offscreen
echo "PostgreSQL for tests: $BILLING_DESK_TEST_POSTGRES_URL"

set +e
"$VENV/bin/python" -m pytest -p no:cacheprovider "${@:-tests}"
code=$?
set -e
# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
exit "$code"
