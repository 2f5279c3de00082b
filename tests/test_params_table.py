"""The parameter table of docs/model.md (§7.8) agrees with the built-in scenario's priors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "params_table.py"


def _tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("params_table", TOOL)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_parameter_table_matches_the_scenario_file() -> None:
    tool = _tool()
    text = tool.DOC.read_text(encoding="utf-8")
    assert tool.rebuilt(text) == text, "run tools/params_table.py to re-write the table"


def test_the_table_tool_notices_a_stale_prior() -> None:
    tool = _tool()
    text = tool.DOC.read_text(encoding="utf-8")
    stale = text.replace("| `motion_rate` | beta(3, 5) |", "| `motion_rate` | beta(6, 3) |")
    assert stale != text
    assert tool.rebuilt(stale) == text
