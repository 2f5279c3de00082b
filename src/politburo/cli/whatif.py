"""``politburo whatif``, ``politburo explain`` and ``politburo sensitivity``: the lever commands.

A thin edge over ``politburo.experiment``: parse options, build an ``Experiment``, call a verb,
and print Rich tables on stdout (or one JSON object with ``--json``) and progress on stderr.
Mistakes a user can fix (an unknown lever, a bad value, no posterior for a counterfactual)
end with one clear message and exit code 2.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import Executor
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from politburo.cli.common import (
    MAX_SEED,
    MAX_WORKERS,
    PriorOpt,
    ScenarioOpt,
    SchedulerOpt,
    err,
    executor_or_fail,
    fail,
    falls_table,
    guard_runs,
    leader_label,
    load_or_fail,
    out,
    pct,
)
from politburo.experiment.attribution import MAX_EXACT_LEVERS
from politburo.experiment.worlds import Experiment, ExperimentError
from politburo.scenario.levers import LeverError, bundle_table, lever_table, parse_lever_args
from politburo.scenario.loader import DEFAULT
from politburo.scenario.schema import Scenario


def default_target(s: Scenario, target: str | None) -> str:
    """``--target`` of ``explain`` and ``sensitivity``: the one given, else the leader the
    scenario's question names (``question.leader``: the built-in scenario asks why Stalin, and
    not Trotsky, came to rule). No rule of the model names a winner; with neither, the command
    asks for one."""
    if target is not None:
        return target
    if s.question.leader is None:
        fail(f"scenario {s.id} declares no leader in its question; name one with --target "
             f"(one of {', '.join(p.id for p in s.principals)}, or none)")
    return str(s.question.leader)

ModeOpt = Annotated[str, typer.Option(
    "--mode", "-m", help="ex-ante: fresh histories from the scenario's start; counterfactual: "
                         "re-run "
                         "the calibration's accepted histories")]
SeedOpt = Annotated[int, typer.Option(min=0, max=MAX_SEED, help="seed of the histories")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]
WorkersOpt = Annotated[int, typer.Option(min=1, max=MAX_WORKERS, help="worker processes")]
PosteriorOpt = Annotated[str | None, typer.Option("--posterior",
                                                  help="posterior file to use instead of the "
                                                       "scenario's own")]


def _run(bar: Any, work: Any,
         errors: tuple[type[Exception], ...] = (LeverError, ExperimentError)
         ) -> dict[str, Any] | None:
    """Run ``work`` under the progress bar; a user's error becomes a message and exit 2."""
    try:
        return work().to_dict()  # type: ignore[no-any-return]
    except errors as exc:
        fail(str(exc))
        return None
    finally:
        bar.stop()


def _show(d: dict[str, Any], as_json: bool, table: Any) -> None:
    """Print the result as one JSON object, or as tables."""
    if as_json:
        sys.stdout.write(json.dumps(d, indent=2) + "\n")
    else:
        table(d)


_scenario = load_or_fail


def _guard(s: Scenario, runs: int | None, worlds: int = 2, option: str = "--runs") -> None:
    """Refuse a number of histories whose results (``worlds`` at a time) cannot fit."""
    from politburo.runner.batches import bytes_per_history
    from politburo.scenario.compile import compile_scenario

    if runs is not None:
        guard_runs(runs, worlds * bytes_per_history(compile_scenario(s)), option)


def _names(option: str, text: str | None) -> list[str] | None:
    """A comma-separated list option: None when not given; an empty one is an error (it would
    otherwise read as 'all' or 'none', silently)."""
    if text is None:
        return None
    names = [x.strip() for x in text.split(",") if x.strip()]
    if not names:
        fail(f"{option} {text!r} names nothing; name at least one, or leave {option} out")
    return names


def _mode(mode: str) -> str:
    if mode not in ("ex-ante", "counterfactual"):
        fail(f"--mode must be ex-ante or counterfactual, got {mode!r}")
    return mode


class _Bar:
    """Progress on stderr, fed by the experiment's callback: a Rich bar on a terminal, else
    (when ``lines``) a plain line at every tenth of the work, for logs."""

    def __init__(self, label: str, lines: bool = False) -> None:
        self.label, self.lines, self.shown = label, lines, -1
        self.task: TaskID | None = None
        self.bar: Progress | None = None
        if err.is_terminal:
            self.bar = Progress(TextColumn(label), BarColumn(),
                                TextColumn("{task.completed:,}/{task.total:,} histories"),
                                TimeElapsedColumn(), TimeRemainingColumn(), console=err,
                                transient=True)

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            tenth = 10 * done // max(total, 1)
            if self.lines and tenth > self.shown:
                self.shown = tenth
                sys.stderr.write(f"{self.label}: {done:,}/{total:,} histories\n")
            return
        if self.task is None:
            self.task = self.bar.add_task(self.label, total=total)
            self.bar.start()
        self.bar.update(self.task, completed=done, total=max(total, done))

    def stop(self) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.stop()


def _experiment(s: Scenario, levers: Any, runs: int | None, seed: int, mode: str, prior: bool,
                posterior: str | None, workers: int, progress: Any,
                executor: Executor | None = None) -> Experiment:
    return Experiment(s, levers=levers, runs=runs, seed=seed, mode=_mode(mode),  # type: ignore[arg-type]
                      parameters="prior" if prior else "auto", posterior=posterior,
                      workers=workers, progress=progress, executor=executor)


def _print_levers(s: Scenario) -> None:
    t = Table(title=f"Levers of {s.id}")
    t.add_column("lever")
    t.add_column("value")
    t.add_column("the world it makes")
    t.add_column("sources")
    t.add_column("essay claims")
    for row in lever_table(s):
        v = row["value"]
        t.add_row(row["id"], escape("switch" if v is None
                                    else f"{v['kind']} (default {v['default']})"),
                  escape(row["title"]), escape(", ".join(row["sources"])),
                  ", ".join(str(c) for c in row["essay_claims"]))
    out.print(t)
    if not s.bundles:
        return
    b = Table(title=f"Bundles of {s.id} (each means its levers set one by one)")
    for col in ("bundle", "levers", "the story it tells", "sources", "essay claims"):
        b.add_column(col)
    for row in bundle_table(s):
        levers = ", ".join(k if v is None else f"{k}={v}" for k, v in row["levers"].items())
        b.add_row(row["id"], escape(levers), escape(row["title"]),
                  escape(", ".join(row["sources"])),
                  ", ".join(str(c) for c in row["essay_claims"]))
    out.print(b)


def _delta(x: float) -> str:
    """A signed difference in probability."""
    return f"{x:+.1%}" if x else "0.0%"


def _print_whatif(d: dict[str, Any]) -> None:
    lv = ", ".join(k if v is None else f"{k}={v}" for k, v in d["levers"].items())
    t = Table(title=f"What if {lv}? {d['runs']:,} paired histories ({d['mode']}, seed "
                    f"{d['seed']}, parameters from the {d['parameters']})")
    for col in ("leader", "baseline", "intervened", "difference", "95% interval"):
        t.add_column(col, justify="left" if col == "leader" else "right")
    order = sorted(d["difference"], key=lambda a: -max(d["baseline"]["winners"][a],
                                                        d["intervened"]["winners"][a]))
    for a in order:
        diff = d["difference"][a]
        lo, hi = diff["ci"]
        t.add_row(leader_label(a),
                  pct(d['baseline']['winners'][a]), pct(d['intervened']['winners'][a]),
                  _delta(diff["delta"]), f"{lo:+.1%} to {hi:+.1%}")
    out.print(t)
    out.print(f"The winner changes in {d['flipped']:.1%} of the histories.")
    def cell(a: str, e: dict[str, Any], step: str) -> str:
        shift = ("n/a" if e["median_shift"] is None else
                 f"{e['median_shift']:+.0f} (mean {e['mean_shift']:+.1f}) months")
        return (f"{shift}; {e['baseline_median'] or 'never'} -> "
                f"{e['intervened_median'] or 'never'}; "
                f"{e['baseline_share']:.0%} -> {e['intervened_share']:.0%}")

    out.print(falls_table("Milestone months: median (mean) shift where both worlds reach the "
                          "step; baseline median -> intervened median; share of histories "
                          "reaching it", d["shifts"], cell))
    if d.get("parameters_note"):
        out.print(escape(f"parameters: {d['parameters']} ({d['parameters_note']})"),
                  highlight=False)
    out.print(f"scenario hash {d['scenario_hash']}, politburo {d['version']}")


def _print_explain(d: dict[str, Any], top: int) -> None:
    t = Table(title=f"Weight of each lever on P({escape(d['target'])} rules): Shapley values "
                    f"({d['method']}, {d['worlds']:,} worlds x {d['runs']:,} histories, "
                    f"{d['mode']}, seed {d['seed']})")
    for col in ("lever", "weight", "95% interval", "alone"):
        t.add_column(col, justify="left" if col == "lever" else "right")
    for name, v in sorted(d["shapley"].items(), key=lambda kv: -abs(kv[1]["value"])):
        alone = d["alone"][name] if d["alone"] else None
        t.add_row(name, _delta(v["value"]), f"{v['ci'][0]:+.1%} to {v['ci'][1]:+.1%}",
                  "" if alone is None else _delta(alone))
    out.print(t)
    lo, hi = d["total_effect_ci"]
    out.print(f"P({escape(d['target'])} rules): {d['baseline']:.1%} with no lever, "
              f"{d['all_levers']:.1%} with all; total effect {_delta(d['total_effect'])} "
              f"({lo:+.1%} to {hi:+.1%}), the sum of the weights.")
    if d["interactions"]:
        i = Table(title="Strongest pairwise interactions (Shapley interaction index; positive: "
                        "the levers reinforce each other, negative: they substitute)")
        for col in ("levers", "interaction", "95% interval"):
            i.add_column(col, justify="left" if col == "levers" else "right")
        for row in d["interactions"][:top]:
            i.add_row(" x ".join(row["levers"]), _delta(row["value"]),
                      f"{row['ci'][0]:+.1%} to {row['ci'][1]:+.1%}")
        out.print(i)
    e = Table(title="The essay's factors, weighed (claims numbered as in essay-claims.md)")
    for col in ("claim", "the essay says", "lever", "weight"):
        e.add_column(col, justify="right" if col in ("claim", "weight") else "left")
    for row in d["essay_factors"]:
        e.add_row(str(row["claim"]), row["paraphrase"], row["lever"], _delta(row["weight"]))
    out.print(e)
    out.print(f"{d['seconds']:.0f} s; parameters from the {d['parameters']}; scenario hash "
              f"{d['scenario_hash']}, politburo {d['version']}")


def register(app: typer.Typer) -> None:
    @app.command()
    def whatif(
        levers: Annotated[list[str] | None, typer.Argument(
            help="levers to set, as NAME or NAME=VALUE (whatif --list lists the "
                 "scenario's)")] = None,
        mode: ModeOpt = "ex-ante",
        runs: Annotated[int | None, typer.Option(
            "--runs", "-n", min=1, help="histories (default 4000 ex ante; every accepted "
                                        "history in counterfactual mode)")] = None,
        seed: SeedOpt = 1,
        scenario: ScenarioOpt = DEFAULT,
        as_json: JsonOpt = False,
        workers: WorkersOpt = 1,
        scheduler: SchedulerOpt = None,
        prior: PriorOpt = False,
        posterior: PosteriorOpt = None,
        list_levers: Annotated[bool, typer.Option("--list", help="list the levers")] = False,
    ) -> None:
        """Set levers and compare paired worlds: the odds, the difference, what flips."""
        s = _scenario(scenario)
        _guard(s, runs)
        if list_levers or not levers:
            if not levers and not list_levers:
                err.print("name at least one lever; the scenario has these:")
            _print_levers(s)
            if not list_levers:
                raise typer.Exit(2)
            return
        bar = _Bar("paired worlds")

        def work() -> Any:
            settings = parse_lever_args(levers)
            n = 4000 if runs is None and mode == "ex-ante" else runs
            return _experiment(s, settings, n, seed, mode, prior, posterior, workers,
                               bar, executor).whatif()

        with executor_or_fail(scheduler) as executor:
            d = _run(bar, work)
        if d is not None:
            _show(d, as_json, _print_whatif)

    @app.command()
    def explain(
        levers: Annotated[str | None, typer.Option(
            "--levers", "-l", help="comma-separated levers to weigh, NAME or NAME=VALUE "
                                   "(default: all of the scenario's)")] = None,
        target: Annotated[str | None, typer.Option(
            "--target", "-t", help="whose chance to rule is explained (default: the leader "
                                   "of the scenario's question; any principal or none)")]
        = None,
        mode: ModeOpt = "ex-ante",
        runs: Annotated[int | None, typer.Option(
            "--runs", "-n", min=1, help="histories per lever combination (default 1000 ex "
                                        "ante; every accepted history in counterfactual "
                                        "mode)")] = None,
        seed: SeedOpt = 1,
        scenario: ScenarioOpt = DEFAULT,
        as_json: JsonOpt = False,
        workers: Annotated[int, typer.Option(min=1, max=MAX_WORKERS,
                                             help="worker processes (default: all cores)")]
        = max(1, os.cpu_count() or 1),
        scheduler: SchedulerOpt = None,
        boot: Annotated[int, typer.Option("--boot", min=2, max=100_000,
                                          help="bootstrap replicates")] = 1000,
        permutations: Annotated[int, typer.Option(
            "--permutations", min=4, max=100_000,
            help="sampled permutations beyond 12 levers (even)")] = 64,
        top: Annotated[int, typer.Option("--top", min=0, help="interactions shown")] = 5,
        prior: PriorOpt = False,
        posterior: PosteriorOpt = None,
    ) -> None:
        """Weigh each lever (Shapley values over all combinations) on one leader's odds."""
        s = _scenario(scenario)
        names = _names("--levers", levers)
        _guard(s, runs)
        # Every lever of the scenario when --levers is left out: past twelve that samples too.
        count = len(names) if names is not None else len(s.levers)
        if count > MAX_EXACT_LEVERS and permutations % 2:
            fail(f"--permutations must be even (antithetic pairs); {count} levers are "
                 f"weighed by sampling, beyond the {MAX_EXACT_LEVERS} computed exactly")
        if runs is None and mode == "ex-ante":
            runs = 1000
        target = default_target(s, target)
        bar = _Bar("lever combinations", lines=True)
        with executor_or_fail(scheduler) as executor:
            d = _run(bar, lambda: _experiment(s, {}, runs, seed, mode, prior, posterior,
                                              workers, bar, executor).explain(
                names, target, n_boot=boot, n_permutations=permutations))
        if d is not None:
            _show(d, as_json, lambda d: _print_explain(d, top))

    @app.command()
    def sensitivity(
        target: Annotated[str | None, typer.Option(
            "--target", "-t", help="whose chance to rule is the output (default: the leader "
                                   "of the scenario's question)")] = None,
        params: Annotated[str | None, typer.Option(
            "--params", help="comma-separated parameters to vary (default: all not pinned)")]
        = None,
        levers: Annotated[str | None, typer.Option(
            "--levers", "-l", help="comma-separated levers that set the world first")] = None,
        n_base: Annotated[int, typer.Option(
            "--n-base", min=2, help="Saltelli base sample (a power of two); the model runs "
                                    "n_base x (D + 2) parameter rows")] = 64,
        histories: Annotated[int, typer.Option(
            "--histories", min=1, help="histories per parameter row (same indices in every "
                                       "row)")] = 100,
        seed: SeedOpt = 1,
        scenario: ScenarioOpt = DEFAULT,
        as_json: JsonOpt = False,
        workers: Annotated[int, typer.Option(min=1, max=MAX_WORKERS, help="worker processes")]
        = max(1, os.cpu_count() or 1),
        scheduler: SchedulerOpt = None,
    ) -> None:
        """Sobol' indices of a leader's odds over the continuous parameters (SALib)."""
        s = _scenario(scenario)
        target = default_target(s, target)
        lv = _names("--levers", levers) or []
        names = _names("--params", params)
        _guard(s, histories, 1, "--histories")
        bar = _Bar("parameter rows", lines=True)
        with executor_or_fail(scheduler) as executor:
            d = _run(bar, lambda: _experiment(s, lv, None, seed, "ex-ante", True, None,
                                              workers, bar, executor).sensitivity(
                target, parameters=names, n_base=n_base, histories_per_row=histories),
                     (LeverError, ExperimentError, ValueError))
        if d is None:
            return
        if as_json:
            sys.stdout.write(json.dumps(d, indent=2) + "\n")
            return
        t = Table(title=f"Sobol' indices of P({escape(target)} rules), {d['n_evaluations']:,} "
                        f"parameter rows x {histories} histories (seed {seed})")
        for col in ("parameter", "first order S1", "total ST", "bounds (prior 95%)"):
            t.add_column(col, justify="left" if col == "parameter" else "right")
        for row in sorted(d["parameters"], key=lambda r: -r["ST"]):
            t.add_row(escape(row["name"]), f"{row['S1']:.3f} ± {row['S1_conf']:.3f}",
                      f"{row['ST']:.3f} ± {row['ST_conf']:.3f}",
                      f"{row['bounds'][0]:.3g} - {row['bounds'][1]:.3g}")
        out.print(t)
        out.print(f"scenario hash {d['scenario_hash']}, politburo {d['version']}")
