"""The command line: a thin edge over the pure core.

Everything here parses arguments, calls the core, and formats what comes back (Rich tables on
stdout, a progress bar on stderr, JSON with ``--json``). Errors the user can fix are printed as
one clear message with exit code 2, never as a traceback.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from politburo.scenario.loader import BUILTIN, DEFAULT, ScenarioError, load_scenario, scenario_hash
from politburo.scenario.schema import Scenario

if TYPE_CHECKING:
    from politburo.calibration.abc_smc import Posterior

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Monte Carlo histories of succession struggles in a ruling party's "
                       f"leadership (built-in scenarios: {', '.join(BUILTIN)}).")
out = Console()
err = Console(stderr=True)

ScenarioOpt = Annotated[str, typer.Option("--scenario", "-s",
                                          help="built-in scenario name or a YAML file")]
PriorOpt = Annotated[bool, typer.Option("--prior", help="draw parameters from the priors, not "
                                        "from the shipped posterior")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS",
    help="a Dask scheduler (tcp://host:8786): run the histories on its workers instead of "
         "local processes (--workers is then ignored); results are identical. Needs "
         "politburo[cluster]")]


def pct(p: float) -> str:
    """A probability with enough digits that a rare outcome does not read as zero."""
    return f"{p:.1%}" if p >= 0.01 or p == 0 else f"{p:.2%}"


def leader_label(actor: str) -> str:
    """A winner's name for a table: 'none' reads as collective leadership."""
    return "no one (collective leadership)" if actor == "none" else actor


def falls_table(title: str, rows: dict[str, dict[str, Any]],
                cell: Callable[[str, dict[str, Any], str], str],
                leadership: str = "leadership") -> Table:
    """A row per leader, a column each for removal from the leadership body (the scenario's
    name for it) and expulsion from the party; ``cell(leader, entry, step)`` formats one entry
    of ``rows[leader][step]``."""
    f = Table(title=title)
    f.add_column("leader")
    f.add_column(f"removed from the {leadership}")
    f.add_column("expelled from the party")
    for a, steps in rows.items():
        f.add_row(a, *(cell(a, steps[step], step) for step in ("politburo", "party")))
    return f


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr and an exit code; never a traceback for a user's mistake."""
    # Messages quote file names, ids and values from the user; none of it is Rich markup.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def posterior_or_fail(scenario: Scenario, prior: bool) -> Posterior | None:
    """The scenario's shipped posterior, as every command draws parameters by default; None
    with ``--prior`` or where the scenario ships none. A broken file is a clear error."""
    if prior:
        return None
    from politburo.calibration.abc_smc import PosteriorError
    from politburo.calibration.posterior import load_default_posterior, stale_engine

    try:
        posterior = load_default_posterior(scenario)
    except PosteriorError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits
    if posterior is not None and stale_engine(posterior):
        command = str(posterior.meta.get("command", "politburo calibrate --ship"))
        err.print("note: the shipped posterior was made with other engine code; re-make it "
                  f"with: {escape(command)}",
                  highlight=False)
    return posterior


MAX_SEED = 2**63 - 2
"""Seeds are recorded as 64-bit signed integers (Parquet, JSON readers); calibrate's check runs
with ``seed + 1``."""

MAX_WORKERS = max(64, 4 * (os.cpu_count() or 1))
"""More worker processes than this is a typo (a pool may start them all at once)."""

MAX_INDEX = 2**53
"""Histories are numbered below this (an int64 that a float still holds exactly)."""


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux's MemAvailable), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:,.2f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def guard_runs(runs: int, per_history: int, option: str = "--runs") -> None:
    """Refuse, before any work, a number of histories whose results could not fit in memory
    (``per_history``: bytes each, e.g. ``runner.bytes_per_history``)."""
    if runs >= MAX_INDEX:
        fail(f"{option} {runs:,}: expected fewer than {MAX_INDEX:,} histories")
    avail = available_memory()
    need = runs * per_history
    if avail is not None and need > avail:
        fail(f"{option} {runs:,} needs about {_gib(need)} of memory for its results "
             f"({per_history:,} bytes a history) and {_gib(avail)} is available; use at most "
             f"about {avail // per_history:,}")


def check_output_or_fail(path: Path | None) -> Path | None:
    """An output path checked before any work (see ``io.check_output``), or exit 2."""
    from politburo.io import OutputError, probe_output

    if path is None:
        return None
    try:
        probe_output(path)
    except OutputError as exc:
        fail(str(exc))
    return path


@contextmanager
def executor_or_fail(scheduler: str | None) -> Iterator[Executor | None]:
    """The executor of the Dask cluster at ``scheduler`` for the length of a command (None
    without one: the command's own ``--workers`` processes); no cluster, or no
    ``distributed``, is one clear message and exit 2."""
    if scheduler is None:
        yield None
        return
    from politburo.runner.cluster import ClusterError, connect, executor

    try:
        client = connect(scheduler)
    except ClusterError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits
    try:
        yield executor(client)
    finally:
        client.close()


def load_or_fail(name: str) -> Scenario:
    """The scenario, or a clear message and exit code 2."""
    try:
        return load_scenario(name)
    except ScenarioError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


def progress_bar(total: int, label: str) -> tuple[Progress | None, Any]:
    """A Rich progress bar on stderr for long runs; silent when stderr is not a terminal."""
    if total < 20000 and not os.environ.get("POLITBURO_PROGRESS"):
        return None, None
    bar = Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeRemainingColumn(), console=err, transient=True)
    task = bar.add_task(label, total=total)
    return bar, lambda done, _total: bar.update(task, completed=done)


@app.callback()
def options(engine: Annotated[str | None, typer.Option(
        "--engine", help="how each month is computed: 'numpy' (the mechanisms as written) or "
                         "'compiled' (Numba kernels); the histories are the same bit for bit")]
        = None) -> None:
    """Monte Carlo histories of succession struggles in a ruling party's leadership."""
    if engine is not None:
        from politburo.engine.month import ENGINES, set_default_engine

        if engine not in ENGINES:
            fail(f"--engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
        set_default_engine(engine)


@app.command()
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


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors)."""
    from politburo.scenario.schema import Scenario

    out.print_json(json.dumps(Scenario.model_json_schema()))


@app.command()
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
        from politburo.io import OutputError, write_histories

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


for _name in ("calibrate", "whatif", "chronicle", "report", "serve"):
    try:
        importlib.import_module(f"politburo.cli.{_name}").register(app)
    except ModuleNotFoundError as _exc:  # a command family not installed in this build
        if _exc.name != f"politburo.cli.{_name}":
            raise


def main() -> None:
    app()


if __name__ == "__main__":
    main()
