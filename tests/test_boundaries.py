"""The core is pure: it imports no front end, prints nothing, reads no environment."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "politburo"
CORE = ["politburo.engine.month", "politburo.runner.batches", "politburo.runner.summary",
        "politburo.experiment.run", "politburo.scenario.loader", "politburo.scenario.compile",
        "politburo.engine.mechanisms.votes", "politburo.engine.mechanisms.coalitions",
        "politburo.engine.mechanisms.circular_flow", "politburo.engine.mechanisms.standing",
        "politburo.engine.mechanisms.policy", "politburo.chronicle.where",
        "politburo.experiment.attribution", "politburo.experiment.sensitivity",
        "politburo.calibration.abc_smc"]
FRONT_ENDS = ["typer", "rich", "matplotlib", "plotly", "playwright", "fastapi", "uvicorn",
              "jinja2", "starlette", "politburo.web", "politburo.cli"]
WEB_EDGE = {SRC / "web", SRC / "cli" / "serve.py"}


def test_core_imports_no_front_end() -> None:
    code = ("import sys\n" + "".join(f"import {m}\n" for m in CORE)
            + f"bad = [m for m in {FRONT_ENDS!r} if m in sys.modules]\n"
            + "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"the core imported {out}"


def test_core_does_not_print_or_read_the_environment() -> None:
    core_files = [*sorted((SRC / "engine").rglob("*.py")), SRC / "runner" / "batches.py",
                  SRC / "runner" / "summary.py", *sorted((SRC / "scenario").glob("*.py"))]
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


def test_the_web_app_is_an_edge_nothing_else_imports() -> None:
    """``politburo.web`` calls the API; only ``politburo serve`` may import it."""
    for f in SRC.rglob("*.py"):
        if any(f == e or e in f.parents for e in WEB_EDGE):
            continue
        for node in ast.walk(ast.parse(f.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not (name == "politburo.web" or name.startswith("politburo.web.")), \
                    f"{f} imports {name}: the web app is an edge"


def test_the_web_app_calls_no_mechanism_or_engine_internals() -> None:
    """The web layer builds on the Python API, not on the engine's parts (which change)."""
    banned = ("politburo.engine.mechanisms", "politburo.engine.state", "politburo.engine.rng",
              "politburo.chronicle.prose", "politburo.chronicle.frame")
    for f in (SRC / "web").rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(banned), f"{f} imports {node.module}"
            if isinstance(node, ast.Import):
                for a in node.names:
                    assert not a.name.startswith(banned), f"{f} imports {a.name}"
