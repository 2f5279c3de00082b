"""The CLI, the chronicle and the report speak of the scenario they are given: the built-in file
with every person, body, place and year renamed (``_scenarios.renamed``) comes back in its own
words, with no Soviet name, body or year from the code (the web app's pages are checked in
``test_web.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from _scenarios import renamed, soviet_pattern
from typer.testing import CliRunner

from politburo.cli import app
from politburo.scenario.loader import load_scenario

runner = CliRunner()


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    data = renamed(load_scenario())
    path = tmp_path_factory.mktemp("other") / "other.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return path, data


def _soviet(text: str) -> list[str]:
    text = re.sub(r"<svg.*?</svg>", "", text, flags=re.S)  # chart coordinates are not years
    return sorted({m.group(0) for m in soviet_pattern(load_scenario()).finditer(text)})


@pytest.mark.parametrize("args", [
    ["validate"], ["run", "-n", "300", "--seed", "2"],
    ["chronicle", "--history", "0"], ["chronicle", "--history", "3", "--format", "json"],
    ["chronicle", "--where", "winner == none", "--search", "300"],
    ["whatif", "--list"], ["run", "--help"], ["whatif", "--help"], ["chronicle", "--help"],
])
def test_the_cli_tells_another_scenario_in_its_own_words(
        other: tuple[Path, dict[str, object]], args: list[str]) -> None:
    path, _ = other
    full = [args[0], str(path)] if args == ["validate"] else (
        args if "--help" in args else [*args, "--scenario", str(path)])
    r = runner.invoke(app, full, terminal_width=200)
    assert r.exit_code == 0, r.output
    assert r.output.strip()
    said = r.output.replace("soviet-1922", "") if "--help" in args else r.output  # the default
    assert not _soviet(said), (args, _soviet(said))


def test_the_report_of_another_scenario_speaks_of_its_bodies(
        other: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    path, data = other
    out = tmp_path / "report.html"
    r = runner.invoke(app, ["report", "-s", str(path), "-o", str(out), "--runs", "300"])
    assert r.exit_code == 0, r.output
    page = out.read_text("utf-8")
    assert not _soviet(page), _soviet(page)
    bodies = data["bodies"]
    assert isinstance(bodies, dict)
    assert f"removed from the {bodies['leadership']}" in page
    assert "seven shares" in page  # the built-in file's seven principals, counted
