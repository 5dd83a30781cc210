"""The README's command examples run as written, in order, in a fresh home.

The "Everyday commands" block runs through bash with an empty database (the default SQLite
file under the new home) and the password in ``BILLING_DESK_PASSWORD``, as the README says.
Two lines are set aside: the sandbox is started here rather than by ``sandbox-gateway &``, and
its configuration put where that command says (the config file); the window (``gui``) is not
opened. Then the demo block runs on its own new database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from billing_desk.sandbox import demo_config_toml, start_sandbox

ROOT = Path(__file__).resolve().parents[2]
SET_ASIDE = re.compile(r"^billing-desk (sandbox-gateway|gui)\b")


def _blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Everyday commands"):text.index("## Configuration")]
    return re.findall(r"```bash\n(.*?)```", section, re.S)


def _run(script: str, home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    kept = "\n".join(line for line in script.splitlines() if not SET_ASIDE.match(line))
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-x", "-c", kept], cwd=home, env=env, text=True,
                          capture_output=True, timeout=600)


@pytest.mark.slow
def test_the_readme_examples_run_as_written(tmp_path: Path) -> None:
    everyday, demo = _blocks()
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BILLING_DESK_", "XDG_")) or k == "BILLING_DESK_VOUCHER_KEY"}
    env.update(HOME=str(home), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
               PYTHONPATH=str(ROOT), BILLING_DESK_CONFIG=str(home / "config.toml"))
    sandbox = start_sandbox()
    try:
        (home / "config.toml").write_text(demo_config_toml(sandbox.url), encoding="utf-8")
        done = _run(everyday, home, env)
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        sandbox.stop()
    assert "Send this link to the customer: " + sandbox.url in done.stdout
    assert "Ledger OK" in done.stdout and "Audit chain intact" in done.stdout
    assert (home / "history.xlsx").is_file() and len((home / "codes.csv").read_text().splitlines()) == 501

    demo_done = _run(demo, home, env)
    assert demo_done.returncode == 0, demo_done.stderr[-3000:]
    assert (home / "demo.db").is_file() and "Seeded 200 customers" in demo_done.stdout
