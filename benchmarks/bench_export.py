"""Export benchmark: the whale customer's whole history (about 1,000,000 rows) to xlsx and csv.

    .venv/bin/python benchmarks/bench_export.py [DATABASE_URL]

Each export runs in a fresh child process, so its peak RSS (ru_maxrss) is the export's own,
with the interpreter, SQLAlchemy and openpyxl loaded. Without a URL the SQLite whale database
of bench_ledger.py is used (built on first use).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from billing_desk.bootstrap import build_app
from billing_desk.config import Settings
from billing_desk.domain.enums import Role
from billing_desk.domain.permissions import Actor

OUT = Path("/tmp/bench_ledger")


def child(url: str, fmt: str) -> None:
    app = build_app(Settings(database_url=url, config_path=None))
    from bench_ledger import whale_id  # the same lookup as the history benchmark

    cid = whale_id(app)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    target = OUT / f"whale-export.{fmt}"
    ticks = []
    started = time.perf_counter()
    result = app.exports.export_credit_history(Actor(None, "bench", Role.ADMIN), cid, None, target, fmt,
                                               progress=lambda done, total: ticks.append(done))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"format": fmt, "rows": result.rows, "seconds": round(seconds, 1),
                      "rows_per_second": round(result.rows / seconds), "peak_rss_mb": round(peak, 1),
                      "rss_before_mb": round(baseline, 1), "progress_calls": len(ticks),
                      "file_mb": round(target.stat().st_size / 2**20, 1)}))
    app.close()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_ledger import whale_database

    url = sys.argv[1] if len(sys.argv) > 1 else whale_database("sqlite", False)
    print("| format | rows | seconds | rows/s | peak RSS MB | RSS before export MB | file MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for fmt in ("xlsx", "csv"):
        done = subprocess.run([sys.executable, __file__, "--child", url, fmt], check=True, capture_output=True,
                              text=True, cwd=Path(__file__).parent)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {r['format']} | {r['rows']:,} | {r['seconds']} | {r['rows_per_second']:,} | {r['peak_rss_mb']} | "
              f"{r['rss_before_mb']} | {r['file_mb']} |", flush=True)


if __name__ == "__main__":
    main()
