"""What every command shares: the Typer app, the console, common options, and the checks that
turn a user's mistake into one clear message with exit code 2 (``fail``), never a traceback."""

from __future__ import annotations

import os
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

from politburo.scenario.loader import BUILTIN, ScenarioError, load_scenario
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


def self_check_line(e: str, c: dict[str, Any]) -> str:
    """What records drawn from the model itself score, beside the real one (``self_check``)."""
    line = (f"{e}, the model judged against itself: {c['records']:,} of its own histories, each "
            f"taken in turn as the record, pass {c['main_pass_mean']:.1f} of {c['main']} main "
            f"checks on average against the other {c['reference']:,} (all {c['main']}: "
            f"{c['share_all_pass']:.1%}; no more than the real record's "
            f"{c['record_main_pass']}: {c['share_no_better']:.0%})")
    if "record_months_off" in c:
        lo, med, hi = c["months_off"]
        line += (f"; months off: the real record {c['record_months_off']:.1f}, the model's own "
                 f"{med:.1f} [10-90%: {lo:.1f}-{hi:.1f}], {c['share_farther']:.0%} of them "
                 "farther (a predictive p-value: a small one would mean the record is unusual "
                 "for the model)")
    if "held_out" in c:
        lo, med, hi = c["held_out"]["months_off"]
        line += (f"; on the held-out milestones alone: the real record "
                 f"{c['held_out']['record_months_off']:.1f}, the model's own {med:.1f} "
                 f"[{lo:.1f}-{hi:.1f}], {c['held_out']['share_farther']:.0%} farther")
    return line


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
        from politburo.engine.switch import ENGINES, set_default_engine

        if engine not in ENGINES:
            fail(f"--engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
        set_default_engine(engine)
