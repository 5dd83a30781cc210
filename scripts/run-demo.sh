#!/usr/bin/env bash
# The README's run command: Billing Desk on a demo SQLite database (created, migrated and
# seeded on first start in the user data folder), logged in as the demo manager, with a local
# gateway sandbox so demo top-ups can be paid in a browser.
# Without a display it runs inside Xvfb (xvfb-run), e.g. for screenshots on a server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/_env.sh"
cd "$ROOT"

apt_install "${QT_OFFSCREEN_PKGS[@]}" "${QT_WINDOW_PKGS[@]}"
ensure_venv
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "No display found: running inside a virtual X server (xvfb-run)."
  exec xvfb-run -a -s "-screen 0 1400x900x24" "$VENV/bin/billing-desk" gui --demo "$@"
fi
exec "$VENV/bin/billing-desk" gui --demo "$@"
