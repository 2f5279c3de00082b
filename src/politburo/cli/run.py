"""``politburo run``: simulate histories and print each leader's odds, as a table or JSON, and
optionally one row per history as Parquet."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from politburo.cli.common import (
    MAX_SEED,
    MAX_WORKERS,
    PriorOpt,
    ScenarioOpt,
    SchedulerOpt,
    check_output_or_fail,
    executor_or_fail,
    fail,
    falls_table,
    guard_runs,
    leader_label,
    out,
    pct,
    posterior_or_fail,
    progress_bar,
)
from politburo.scenario.loader import DEFAULT, ScenarioError, load_scenario


def run(
    scenario: ScenarioOpt = DEFAULT,
    runs: Annotated[int, typer.Option("--runs", "-n", min=1)] = 10_000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED)] = 1,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 5000,
    workers: Annotated[int, typer.Option(min=1, max=MAX_WORKERS, help="worker processes")] = 1,
    scheduler: SchedulerOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    parquet: Annotated[Path | None, typer.Option(
        "--out", help="write one row per history to this Parquet file ('-': standard output)")]
    = None,
    prior: PriorOpt = False,
) -> None:
    """Simulate histories and print each leader's odds of coming to rule.

    Parameters come from the scenario's calibrated posterior when it ships one (see
    ``politburo calibrate``), else from its priors; ``--prior`` forces the priors.
    """
    from politburo.experiment.run import run_scenario
    from politburo.runner.batches import bytes_per_history
    from politburo.scenario.compile import compile_scenario

    if parquet is not None and str(parquet) == "-" and as_json:
        fail("--json and --out - would both write to standard output; choose one")
    check_output_or_fail(parquet)
    try:
        s = load_scenario(scenario)
    except ScenarioError as exc:
        fail(str(exc))
        return
    guard_runs(runs, bytes_per_history(compile_scenario(s)))
    posterior = posterior_or_fail(s, prior)
    with executor_or_fail(scheduler) as executor:
        bar, cb = progress_bar(runs, "histories")
        t0 = time.perf_counter()
        if bar:
            bar.start()
        try:
            result = run_scenario(s, runs=runs, seed=seed, batch_size=batch_size,
                                  workers=workers, progress=cb, posterior=posterior,
                                  executor=executor)
        finally:
            if bar:
                bar.stop()
    elapsed = time.perf_counter() - t0
    data = result.to_dict()
    data["histories_per_second"] = runs / elapsed if elapsed > 0 else None
    if parquet is not None:
        from politburo.io import OutputError
        from politburo.report.files import write_histories

        try:
            write_histories(parquet, result)
        except OutputError as exc:
            fail(str(exc))
        if str(parquet) == "-":
            return  # standard output holds the Parquet file; a table would corrupt it
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    _print_run(data)


def _print_run(d: dict[str, Any]) -> None:
    t = Table(title=f"Who comes to rule? {d['runs']:,} histories of {d['scenario']} "
                    f"(seed {d['seed']}, parameters from the {d['parameters']})")
    t.add_column("leader")
    t.add_column("probability", justify="right")
    t.add_column("95% interval", justify="right")
    for a, p in sorted(d["winners"].items(), key=lambda kv: -kv[1]):
        lo, hi = d["winner_ci"][a]
        t.add_row(leader_label(a), pct(p),
                  f"{pct(lo)} - {pct(hi)}")
    out.print(t)
    def cell(a: str, e: dict[str, Any], step: str) -> str:
        hist = d["historical"].get(a, {}).get(step)
        h = f" (history: {hist})" if hist else ""
        if e["median"] is None:
            return f"never{h}"
        return f"{e['median']} [{e['p10']} - {e['p90']}], {e['share']:.0%}{h}"

    leadership = d.get("leadership", "leadership")
    out.print(falls_table("When each leader falls: median month [10%-90%], share of histories "
                          f"by {d.get('horizon', 'the end')}; history in brackets", d["falls"],
                          cell, leadership))
    r = d.get("rules_alone") or {}
    if r.get("median"):
        out.print(f"Someone first rules alone (his own and his clients' votes carry the "
                  f"{leadership}, his followers the {d.get('committee', 'committee')}) in "
                  f"{r['share']:.0%} of histories: median "
                  f"{r['median']} [{r['p10']} - {r['p90']}].")
    out.print(f"{d['histories_per_second']:,.0f} histories per second; scenario hash "
              f"{d['scenario_hash']}, politburo {d['version']}")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
