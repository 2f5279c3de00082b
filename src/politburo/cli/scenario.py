"""``politburo validate`` and ``politburo schema``: check a scenario file, print the schema of
scenario files."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from politburo.cli.common import fail, out
from politburo.scenario.loader import BUILTIN, ScenarioError, load_scenario, scenario_hash


def validate(
    path: Annotated[str | None, typer.Argument(help="scenario file or built-in name")] = None,
    scenario: Annotated[str | None, typer.Option(
        "--scenario", "-s", help="built-in scenario name or a YAML file (as the other "
        "commands take it); instead of PATH")] = None,
) -> None:
    """Check a scenario file; exit 0 if it is good, 2 with the problems if not."""
    if path is not None and scenario is not None and path != scenario:
        fail(f"validate takes one scenario: got PATH {path!r} and --scenario {scenario!r}")
        return
    path = path if path is not None else scenario
    if path is None:
        fail("validate needs a scenario: a file, a built-in name, or --scenario NAME "
             f"(built-in: {', '.join(BUILTIN)})")
        return
    try:
        s = load_scenario(path, levers=True)
    except ScenarioError as exc:
        fail(str(exc))
        return
    out.print(f"{escape(path)}: ok ({s.id}, {len(s.principals)} principals, "
              f"{len(s.parameters)} uncertain parameters, hash {scenario_hash(s)})",
              soft_wrap=True)


def schema() -> None:
    """Print the JSON Schema of scenario files (for editors)."""
    from politburo.scenario.schema import Scenario

    out.print_json(json.dumps(Scenario.model_json_schema()))


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("schema")(schema)
