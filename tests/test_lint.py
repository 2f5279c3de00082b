"""CI runs what developers run: ruff for lint, mypy for types, on the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean() -> None:
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "src", "tests"], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_is_clean() -> None:
    res = subprocess.run([sys.executable, "-m", "mypy", "-p", "politburo"], cwd=ROOT / "src",
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
