#!/usr/bin/env bash
# The README's test command: the whole suite, every database test on SQLite and PostgreSQL.
# Extra arguments go to pytest (e.g. scripts/run-tests.sh tests/unit -x, or -m "not slow" for the
# everyday run); with options only, pytest still runs tests/ (testpaths in pyproject.toml).
# Tests run in parallel with pytest-xdist: one worker per CPU unless BILLING_DESK_TEST_WORKERS
# or -n says otherwise (-n 0: no workers, in this process). --dist loadgroup keeps each
# xdist_group on one worker, so the many-connection concurrency tests run one at a time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/_env.sh"
cd "$ROOT"

apt_install "${QT_OFFSCREEN_PKGS[@]}"
ensure_venv
BILLING_DESK_TEST_POSTGRES_URL="$("$ROOT/scripts/postgres.sh" url)"
export BILLING_DESK_TEST_POSTGRES_URL
# A private cluster started for this run is stopped again when the run ends.
[[ "$BILLING_DESK_TEST_POSTGRES_URL" == *":54329/"* ]] && trap '"$ROOT/scripts/postgres.sh" stop' EXIT
export QT_QPA_PLATFORM=offscreen
echo "PostgreSQL for tests: $BILLING_DESK_TEST_POSTGRES_URL"

# pytest's exit code is the script's (5, "collected nothing", is a failure here too).
PYTEST=("$VENV/bin/python" -m pytest -p no:cacheprovider)
if (($#)); then
  "${PYTEST[@]}" -n "${BILLING_DESK_TEST_WORKERS:-auto}" --dist loadgroup "$@"
else
  # The whole suite in two phases: everything else in parallel, then the many-connection
  # concurrency races (marked xdist_group) on their own, so that fifty desks' connections never
  # meet another worker's at PostgreSQL's connection limit (100 by default).
  "${PYTEST[@]}" -n "${BILLING_DESK_TEST_WORKERS:-auto}" -m "not xdist_group"
  "${PYTEST[@]}" -n 0 -m "xdist_group"
fi
