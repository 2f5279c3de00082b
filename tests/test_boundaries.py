"""The core is pure: it imports no front end, prints nothing, reads no environment."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "politburo"
CORE = ["politburo.engine", "politburo.runner", "politburo.results", "politburo.api",
        "politburo.scenario.loader", "politburo.scenario.compile", "politburo.mechanisms.votes",
        "politburo.mechanisms.coalitions", "politburo.mechanisms.circular_flow",
        "politburo.mechanisms.standing", "politburo.mechanisms.policy", "politburo.where",
        "politburo.attribution", "politburo.sensitivity", "politburo.abc"]
FRONT_ENDS = ["typer", "rich", "matplotlib", "plotly", "playwright", "fastapi"]


def test_core_imports_no_front_end() -> None:
    code = ("import sys\n" + "".join(f"import {m}\n" for m in CORE)
            + f"bad = [m for m in {FRONT_ENDS!r} if m in sys.modules]\n"
            + "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"the core imported {out}"


def test_core_does_not_print_or_read_the_environment() -> None:
    core_files = [SRC / "engine.py", SRC / "runner.py", SRC / "results.py", SRC / "rng.py",
                  SRC / "priors.py", SRC / "state.py", *sorted((SRC / "mechanisms").glob("*.py")),
                  *sorted((SRC / "scenario").glob("*.py"))]
    for f in core_files:
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                banned = ("print", "input", "eval", "exec")
                assert node.func.id not in banned, f"{f}: {node.func.id}"
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                raise AssertionError(f"{f} reads the environment")


def test_no_global_randomness_in_the_core() -> None:
    for f in SRC.rglob("*.py"):
        text = f.read_text()
        assert "np.random.seed" not in text and "import random\n" not in text, f
        for fn in ("rand(", "randn(", "normal(", "uniform(", "choice("):
            assert f"np.random.{fn}" not in text, f"{f} uses np.random.{fn}"
