"""The atheris fuzz target (fuzz_parsers.py) for a fixed number of inputs, with ``--long`` only.

Skipped when atheris is not installed (it is an optional extra: ``pip install -e .[fuzz]``).
Invariant: libFuzzer finishes every run with no crash, i.e. every parser returned a value or
refused with a one-line BillingDeskError for every input it was given.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

RUNS = 3000
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.long
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed (extra: fuzz)")
def test_atheris_finds_no_crash_in_the_parsers(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "tests.reliability.fuzz_parsers", f"-atheris_runs={RUNS}",
                           "-seed=20261129", f"-artifact_prefix={tmp_path}/"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    log = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("INFO: Instrumenting"))
    assert proc.returncode == 0, log[-3000:]
    done = re.search(r"Done (\d+) in (\d+) second", log)
    assert done and int(done.group(1)) == RUNS, log[-2000:]
    line = f"hostile atheris: {done.group(1)} inputs in {done.group(2)} s, no crash"
    print(line)
    with Path(os.environ.get("BILLING_DESK_HOSTILE_REPORT", tmp_path / "hostile.txt")).open("a") as out:
        out.write(line + "\n")
