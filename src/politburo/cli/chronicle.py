"""``politburo chronicle``: tell one simulated history as a dated, caused account.

The command is the I/O edge: it parses options, loads the scenario, applies levers, searches for
a history with ``--where`` and prints the account. The search and the prose are pure functions
in ``politburo.chronicle``. Errors the user can fix (a bad scenario, lever or ``--where``
expression) end with one message and exit code 2; finding no match ends with exit code 1.
"""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape

from politburo.cli.common import (
    MAX_INDEX,
    MAX_SEED,
    MAX_WORKERS,
    PriorOpt,
    SchedulerOpt,
    err,
    executor_or_fail,
    fail,
    posterior_or_fail,
)
from politburo.scenario.loader import DEFAULT


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_levers(items: list[str]) -> dict[str, str | None]:
    """``NAME`` or ``NAME=VALUE`` options into the mapping ``apply_levers`` takes.

    Values stay text: ``apply_levers`` checks each against its lever's kind (month or number).
    """
    out: dict[str, str | None] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not _NAME.match(name):
            raise ValueError(f"--lever {item!r}: expected NAME or NAME=VALUE with a lower-case "
                             "name such as no_faction_ban or a_lever=YYYY-MM (politburo whatif "
                             "--list lists them)")
        if sep and not value.strip():
            raise ValueError(f"--lever {item!r}: a value is missing after '='")
        if name in out:
            raise ValueError(f"--lever {name!r} is given twice")
        out[name] = value.strip() if sep else None
    return out


def with_levers(scenario: Any, items: list[str]) -> tuple[Any, Any, tuple[str, ...]]:
    """The scenario and compiled model with levers applied (or none), and their labels.

    Levers come from ``politburo.scenario.levers.apply_levers`` when that module is present;
    in a build without it, asking for a lever is an error that says so.
    """
    from politburo.scenario.compile import compile_scenario

    if not items:
        return scenario, compile_scenario(scenario), ()
    settings = parse_levers(items)
    lever_module: Any
    try:
        from politburo.scenario import levers as lever_module
    except ModuleNotFoundError as exc:
        if exc.name != "politburo.scenario.levers":
            raise
        lever_module = None
    apply = getattr(lever_module, "apply_levers", None)
    if apply is None:
        raise LookupError("levers are not available in this build (politburo.scenario.levers."
                          "apply_levers is missing); run without --lever")
    changed, fixed = apply(scenario, settings)
    labels = tuple(k if v is None else f"{k}={v}" for k, v in settings.items())
    return changed, compile_scenario(changed, fixed=dict(fixed or {})), labels


def _posterior_params(base: Any, model: Any, seed: int, prior: bool) -> Any:
    """Parameter rows from the scenario's shipped posterior, as ``politburo run`` draws them
    (a pure function of seed and history), or None for the priors."""
    from politburo.calibration.posterior import draw_posterior_params

    posterior = posterior_or_fail(base, prior)
    if posterior is None:
        return None
    return lambda idx: draw_posterior_params(model, posterior, seed, idx)


def chronicle(
    scenario: Annotated[str, typer.Option("--scenario", "-s",
                                          help="built-in scenario name or a YAML file")]
    = DEFAULT,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="seed of the ensemble")] = 1,
    history: Annotated[int | None, typer.Option("--history", "-k", min=0, max=MAX_INDEX - 1,
                                                help="which history to tell (default 0)")]
    = None,
    where: Annotated[str | None, typer.Option(
        "--where", "-w", help="tell the first history whose outcome matches, e.g. "
        "'winner == ID' or 'falls.ID.party > YYYY-MM', ID a principal's id")] = None,
    search: Annotated[int, typer.Option(min=1, max=MAX_INDEX - 1,
                                        help="how many histories --where may search")]
    = 100_000,
    workers: Annotated[int, typer.Option(min=1, max=MAX_WORKERS,
                                         help="worker processes for the --where search")] = 1,
    scheduler: SchedulerOpt = None,
    lever: Annotated[list[str] | None, typer.Option(
        "--lever", "-l", help="switch a lever on: NAME or NAME=VALUE (repeatable)")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", case_sensitive=False)]
    = Format.text,
    prior: PriorOpt = False,
) -> None:
    """Tell one simulated history as a dated account in which each event names its causes."""
    from politburo.chronicle import story as ch
    from politburo.chronicle.where import WhereError, compile_where, describe
    from politburo.scenario.loader import ScenarioError, load_scenario

    if history is not None and where is not None:
        fail("give either --history or --where, not both")
    try:
        base = load_scenario(scenario)
        s, model, labels = with_levers(base, list(lever or []))
    except ScenarioError as exc:
        fail(str(exc))
        return
    except (LookupError, ValueError, TypeError) as exc:
        fail(f"--lever: {exc}" if not str(exc).startswith("--lever") else str(exc))
        return
    params = _posterior_params(base, model, seed, prior)
    k = 0 if history is None else history
    predicate = None
    if where is not None:
        try:
            predicate = compile_where(where, model.principals)
            text = describe(where, model.principals)
        except WhereError as exc:
            fail(f"--where: {exc}")
            return
        with executor_or_fail(scheduler) as executor:
            found = ch.find_history(model, seed, predicate, search, params=params,
                                    workers=workers, executor=executor)
        if found.found is None:
            err.print(f"no history of seed {seed} matched [bold]{escape(text)}[/] among the first "
                      f"{found.searched:,} searched (--search {search:,}); try a larger "
                      "--search or a looser condition", highlight=False, soft_wrap=True)
            raise typer.Exit(1)
        k = found.found
        err.print(f"searched {found.searched:,} histories of seed {seed} in batches; history "
                  f"{k} is the first where {escape(text)} ({found.matches:,} matched in its "
                  "batch)",
                  highlight=False, soft_wrap=True)
    h = ch.rerun(model, seed, k, params)
    if predicate is not None and not bool(predicate(ch.outcome_arrays(model, h))[0]):
        raise RuntimeError(f"history {k} matched in the search but not when re-run alone: the "
                           "draws are not keyed by (seed, index) as they must be")
    story = ch.write_chronicle(s, model, h, labels)
    if fmt is Format.json:
        sys.stdout.write(json.dumps(ch.to_json(story), indent=2, ensure_ascii=False) + "\n")
    elif fmt is Format.markdown:
        sys.stdout.write(ch.to_markdown(story))
    else:
        sys.stdout.write(ch.to_text(story))


def register(app: typer.Typer) -> None:
    app.command("chronicle")(chronicle)
