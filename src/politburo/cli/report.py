"""``politburo report`` and ``politburo plot``: the ensemble as a web page or as single charts.

The I/O edge of ``politburo.report`` and ``politburo.report.plots``: run the ensemble, read the
optional calibration (``--fit``) and factor-weight (``--weights``) files, and write the result
atomically. The optional files are read defensively because they come from other commands
(``politburo calibrate``, ``politburo explain --json``) that may be absent from a build or
may change their format: anything unreadable is one clear error, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from politburo.cli.common import (
    MAX_SEED,
    MAX_WORKERS,
    PriorOpt,
    ScenarioOpt,
    SchedulerOpt,
    check_output_or_fail,
    err,
    executor_or_fail,
    fail,
    guard_runs,
    load_or_fail,
    posterior_or_fail,
    progress_bar,
    self_check_line,
)
from politburo.scenario.loader import DEFAULT

RunsOpt = Annotated[int, typer.Option("--runs", "-n", min=1, help="histories to simulate")]
SeedOpt = Annotated[int, typer.Option(min=0, max=MAX_SEED, help="seed of the ensemble")]
WorkersOpt = Annotated[int, typer.Option(min=1, max=MAX_WORKERS, help="worker processes")]


@contextmanager
def _running(runs: int, scheduler: str | None) -> Iterator[tuple[Executor | None, Any]]:
    """The executor (a Dask cluster's with ``--scheduler``, else None: local processes) and a
    progress callback, for the length of the simulation."""
    with executor_or_fail(scheduler) as executor:
        bar, cb = progress_bar(runs, "histories")
        if bar:
            bar.start()
        try:
            yield executor, cb
        finally:
            if bar:
                bar.stop()


class Kind(StrEnum):
    winners = "winners"
    power = "power"
    milestones = "milestones"
    orders = "orders"
    tallies = "tallies"


def _ensemble(scenario: str, runs: int, seed: int, prior: bool = False, workers: int = 1,
              scheduler: str | None = None) -> tuple[Any, Any]:
    """The scenario and its ensemble with monthly power kept (for the fan chart); parameters
    from the scenario's shipped posterior, as ``politburo run`` draws them, unless ``prior``.
    The histories run on ``workers`` local processes or on the cluster at ``scheduler``; they
    are the same either way."""
    from politburo.experiment.run import run_scenario
    from politburo.runner.batches import bytes_per_history
    from politburo.scenario.compile import compile_scenario

    s = load_or_fail(scenario)
    guard_runs(runs, bytes_per_history(compile_scenario(s), keep_power=True))
    posterior = posterior_or_fail(s, prior)
    with _running(runs, scheduler) as (executor, cb):
        return s, run_scenario(s, runs=runs, seed=seed, keep_power=True, posterior=posterior,
                               workers=workers, executor=executor, progress=cb)


def _paired(scenario: str, runs: int, seed: int, prior: bool, levers: list[str],
            extra: dict[str, Any], workers: int = 1, scheduler: str | None = None) -> Any:
    """The baseline and the lever's world over the same histories, as ``politburo whatif``
    runs them (``Experiment.whatif``: same seed, parameter draws and random numbers), reduced
    to one report's data with the lever's world beside the baseline."""
    from politburo.chronicle import story as ch
    from politburo.engine.state import LADDER
    from politburo.experiment.worlds import Experiment, ExperimentError
    from politburo.report import ensemble as rp
    from politburo.report import side as report_side
    from politburo.runner.batches import bytes_per_history
    from politburo.runner.summary import historical_falls, summarise
    from politburo.scenario.compile import compile_scenario
    from politburo.scenario.levers import LeverError, apply_levers, parse_lever_args

    s = load_or_fail(scenario)
    guard_runs(runs, 2 * bytes_per_history(compile_scenario(s), keep_power=True))
    posterior = posterior_or_fail(s, prior)  # a broken or stale file is reported as for run
    try:
        with _running(2 * runs, scheduler) as (executor, cb):
            w = Experiment(s, levers=parse_lever_args(levers), runs=runs, seed=seed,
                           parameters="prior" if posterior is None else "posterior",
                           keep_power=True, workers=workers, progress=cb,
                           executor=executor).whatif()
        world, fixed = apply_levers(s, w.levers)
    except (LeverError, ExperimentError) as exc:
        fail(f"--lever: {exc}")
        raise  # unreachable: fail exits
    world_model = compile_scenario(world, fixed=fixed)
    known = historical_falls(s.milestones)
    base_h, new_h = w.baseline, w.intervened
    k = rp.typical_history(base_h)
    theta = base_h.params
    story = ch.write_chronicle(s, w.model, ch.rerun(w.model, seed, k, lambda idx: theta[idx]))
    base = rp.collect(s, w.model, base_h, summarise(w.model, base_h, known), story,
                      parameters=w.parameters, **extra)
    other = rp.collect(world, world_model, new_h, summarise(world_model, new_h, known),
                       parameters=w.parameters)
    order = rp.display_order(s, w.model)
    pb = LADDER.index("politburo")
    falls = (base_h.falls[:, order, pb], new_h.falls[:, order, pb])
    return report_side.pair(s, base, other, w.to_dict(), falls, prior)


def _model(scenario: str) -> Any:
    from politburo.scenario.compile import compile_scenario

    return compile_scenario(load_or_fail(scenario))


def fit_section(data: Any, source: str) -> dict[str, Any]:
    """A calibration result (``calibrate``'s JSON, a fit report, or a posterior summary) as a
    table for the report: ``{"source", "columns", "rows", "notes"}``."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    notes = [f"{k}: {data[k]}" for k in ("method", "particles", "ess", "epsilon",
                                          "acceptance_rate", "until") if k in data]
    if isinstance(data.get("parameters"), list) and data["parameters"]:
        records = [r for r in data["parameters"] if isinstance(r, dict)]
        columns = list(records[0])
        rows = [[_fmt(r.get(c)) for c in columns] for r in records]
        return {"source": source, "columns": columns, "rows": rows, "notes": notes}
    if isinstance(data.get("milestones"), list) and "ensembles" in data:
        ens = [str(e) for e in data["ensembles"]]
        columns = ["milestone", "history", *(f"{e}: median [10%-90%]" for e in ens)]
        rows = [[str(m.get("id")), str(m.get("historical")),
                 *(f"{m[e].get('median')} [{m[e].get('p10')} - {m[e].get('p90')}]"
                   + (f"; record at {m[e]['rank']:.0%}" if isinstance(m[e].get("rank"), float)
                      else "") for e in ens)] for m in data["milestones"]]
        totals = data.get("totals") or {}
        notes += [f"{e}: {t.get('inside')} of {t.get('milestones')} milestones inside the "
                  f"10-90% range" for e, t in totals.items() if isinstance(t, dict)]
        if any(isinstance(m.get(e), dict) and "rank" in m[e] for m in data["milestones"]
               for e in ens):
            notes.append("record at: the share of histories in which the step came earlier "
                         "than in the record (50% = the median history)")
        selves = data.get("self_check") or {}
        notes += [self_check_line(e, c) for e, c in selves.items() if isinstance(c, dict)]
        for a in data.get("alignments") or []:
            if not isinstance(a, dict):
                continue
            shares = ", ".join(f"{e} {a[e]['months']:.0%}" for e in ens
                               if isinstance(a.get(e), dict) and "months" in a[e])
            notes.append(f"who ruled with whom: {a.get('name')}, {a.get('start')} to "
                         f"{a.get('end')}, matched in {shares} of the months")
        return {"source": source, "columns": columns, "rows": rows, "notes": notes}
    scalars = [[str(k), _fmt(v)] for k, v in data.items() if not isinstance(v, (dict, list))]
    if not scalars:
        raise ValueError("found no parameters, milestones or values to show")
    return {"source": source, "columns": ["item", "value"], "rows": scalars, "notes": notes}


def weights_section(data: Any, source: str) -> dict[str, Any]:
    """Factor weights from ``politburo explain --json`` (or ``{name: value}``) for the report."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    table = data.get("shapley", data.get("weights", data))
    if not isinstance(table, dict) or not table:
        raise ValueError("expected 'shapley': {lever: {value, ci}}")
    names, values, ci = [], [], []
    for name, v in sorted(table.items(), key=lambda kv: -abs(_value(kv[1]))):
        names.append(str(name))
        values.append(_value(v))
        c = v.get("ci") if isinstance(v, dict) else None
        ci.append([float(c[0]), float(c[1])] if isinstance(c, list) and len(c) == 2 else None)
    return {"source": source, "target": str(data.get("target", "the target")), "names": names,
            "value": values, "ci": ci if all(c is not None for c in ci) else None}


def _value(v: Any) -> float:
    x = v.get("value") if isinstance(v, dict) else v
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"expected a number as a weight, got {x!r}")
    return float(x)


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _read_fit(path: Path, model: Any) -> dict[str, Any]:
    _regular(path)
    if path.suffix == ".parquet":
        from politburo.calibration.abc_smc import PosteriorError, read_posterior

        try:
            post = read_posterior(path)
            summary = post.summary(model.priors).to_dict(orient="records")
        except (PosteriorError, ValueError) as exc:
            raise ValueError(str(exc)) from None
        return fit_section({"parameters": summary, "method": post.method,
                            "particles": len(post.weights), "ess": round(post.ess(), 1)},
                           path.name)
    return fit_section(_read_json(path), path.name)


def _regular(path: Path) -> None:
    """Input files must be regular files: reading a pipe or a device could wait for ever."""
    if not path.is_file():
        raise ValueError("no such file" if not path.exists() else "not a regular file")


MAX_JSON = 50_000_000


def _read_json(path: Path) -> Any:
    _regular(path)
    if path.stat().st_size > MAX_JSON:
        raise ValueError(f"larger than {MAX_JSON:,} bytes; expected a result file")
    try:
        return json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON ({exc})") from None


def _need_matplotlib() -> None:
    """Charts are an optional extra; say how to get them rather than fail with a traceback."""
    try:
        import matplotlib  # noqa: F401
    except ModuleNotFoundError:
        fail("reports and plots need Matplotlib: pip install 'politburo[report]'")


def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="the HTML file to write ('-': "
                                                         "standard output)")],
    runs: RunsOpt = 10_000,
    seed: SeedOpt = 1,
    scenario: ScenarioOpt = DEFAULT,
    prior: PriorOpt = False,
    fit: Annotated[Path | None, typer.Option(
        "--fit", help="calibration result: posterior .parquet or JSON from calibrate/fit")]
    = None,
    weights: Annotated[Path | None, typer.Option(
        "--weights", help="factor weights: JSON from 'politburo explain --json'")] = None,
    lever: Annotated[list[str] | None, typer.Option(
        "--lever", "-l", help="report a lever's or bundle's world beside the baseline, "
                              "from paired histories: NAME or NAME=VALUE (repeatable)")]
    = None,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Write one self-contained HTML report of an ensemble (works offline)."""
    _need_matplotlib()
    from politburo._version import __version__
    from politburo.chronicle import story as ch
    from politburo.io import OutputError, atomic_write_bytes
    from politburo.report import ensemble as rp

    if out.suffix.lower() not in (".html", ".htm") and str(out) != "-":
        fail(f"--out {out}: expected a file name ending in .html (or - for standard output)")
    check_output_or_fail(out)
    extra: dict[str, Any] = {}
    if lever:
        model = None
    else:
        s, result = _ensemble(scenario, runs, seed, prior, workers, scheduler)
        model = result.model
    for key, path in (("fit", fit), ("weights", weights)):
        if path is None:
            continue
        try:
            extra[key] = (_read_fit(path, model or _model(scenario)) if key == "fit"
                          else weights_section(_read_json(path), path.name))
        except ValueError as exc:
            fail(f"--{key} {path}: {exc}")
    if lever:
        data = _paired(scenario, runs, seed, prior, lever, extra, workers, scheduler)
    else:
        k = rp.typical_history(result.histories)
        theta = result.histories.params
        story = ch.write_chronicle(s, result.model,
                                   ch.rerun(result.model, seed, k, lambda idx: theta[idx]))
        data = rp.collect(s, result.model, result.histories, result.summary, story,
                          parameters=result.parameters, **extra)
    try:
        atomic_write_bytes(out, rp.render_html(data, __version__).encode("utf-8"))
    except OutputError as exc:
        fail(str(exc))
    err.print(f"wrote {escape(str(out))} ({runs:,} histories, seed {seed})", highlight=False)


def plot(
    kind: Annotated[Kind, typer.Argument(help="which chart")],
    out: Annotated[Path, typer.Option("--out", "-o", help="FILE.png or FILE.svg")],
    runs: RunsOpt = 10_000,
    seed: SeedOpt = 1,
    scenario: ScenarioOpt = DEFAULT,
    prior: PriorOpt = False,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Draw one chart of the report as PNG or SVG, for papers and slides."""
    _need_matplotlib()
    from politburo.io import OutputError, atomic_write_bytes
    from politburo.report import ensemble as rp
    from politburo.report import plots

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        fail(f"--out {out}: expected a file name ending in .png or .svg")
    check_output_or_fail(out)
    s, result = _ensemble(scenario, runs, seed, prior, workers, scheduler)
    data = rp.collect(s, result.model, result.histories, result.summary,
                      parameters=result.parameters)
    figs = rp.figures(data, (kind.value,))
    if kind.value not in figs:
        fail(f"no data for the {kind.value} chart in scenario {s.id}")
    try:
        atomic_write_bytes(out, plots.to_bytes(figs[kind.value], fmt))
    except OutputError as exc:
        fail(str(exc))
    err.print(f"wrote {escape(str(out))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("plot")(plot)
