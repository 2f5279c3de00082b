"""``politburo fit`` reads cleanly in an 80-column terminal: no month cut to "1925-…"."""

from __future__ import annotations

import os
import subprocess
import sys


def test_fit_fits_an_80_column_terminal() -> None:
    env = {**os.environ, "COLUMNS": "80", "LINES": "50", "TERM": "dumb"}
    res = subprocess.run([sys.executable, "-c", "from politburo.cli import main; main()", "fit",
                          "--runs", "200"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in res.stdout, "a cell was cut short"
    rows = [line for line in lines if line.strip().startswith("trotsky removed war")]
    assert len(rows) == 2  # one table per ensemble: prior and posterior
    assert all("1925-01" in r for r in rows)  # history and the simulated months, whole
