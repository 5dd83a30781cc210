#!/usr/bin/env bash
# Shared set-up for the README's two commands: system libraries Qt needs, and the virtual
# environment with the package installed. Idempotent: a second run only checks.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BILLING_DESK_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

# Libraries Qt's offscreen platform needs (tests) and, with --window, the xcb platform under Xvfb.
QT_OFFSCREEN_PKGS=(libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core)
QT_WINDOW_PKGS=(xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-randr0
                libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1)

_apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if ! command -v apt-get >/dev/null; then
    echo "billing-desk: missing system packages ${missing[*]} and no apt-get to install them" >&2
    return 1
  fi
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "Installing system packages: ${missing[*]}"
  if ((! _apt_updated)); then
    $sudo apt-get update -qq
    _apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  if [[ ! -x "$VENV/bin/python" ]]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
      apt_install python3-venv
      "$PYTHON" -m venv "$VENV"
    fi
  fi
  # Reinstall only when the project's dependencies changed.
  local stamp="$VENV/.billing-desk-installed"
  local want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "Installing Billing Desk and its Python packages into $VENV (the first time takes a few minutes)..."
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # One line per package as pip fetches it, so a long first install is not a silent one
    # (pipefail, set above, still stops the script when pip fails).
    "$VENV/bin/python" -m pip install -e "$ROOT[test]" \
      | sed -un 's/^Collecting \([^ ;]*\).*/  collecting \1/p; s/^Successfully installed.*/  installed./p'
    echo "$want" > "$stamp"
  fi
}
