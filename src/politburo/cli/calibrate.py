"""``politburo calibrate`` and ``politburo fit``: learn the parameters, then check the fit.

A thin edge over ``politburo.calibration`` and ``politburo.calibration.fit``: parse options, call
the core, write the posterior file, print Rich tables on stdout (or one JSON object with ``--json``)
and a progress bar on stderr. Mistakes a user can fix (a bad option, an unusable posterior or
checkpoint) end with one clear message and exit code 2.

``calibrate`` keeps a checkpoint folder beside its output file (``.<out name>.checkpoint``) with
every finished batch of distances, so an interrupted run resumes where it stopped when the same
command is run again; the folder is removed once the posterior is written (atomically).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from politburo.cli.common import (
    MAX_SEED,
    MAX_WORKERS,
    ScenarioOpt,
    SchedulerOpt,
    check_output_or_fail,
    err,
    executor_or_fail,
    fail,
    guard_runs,
    load_or_fail,
    out,
    pct,
    self_check_line,
)
from politburo.scenario.loader import DEFAULT

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


_scenario = load_or_fail


def _bar(label: str) -> tuple[Progress, Any]:
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=err, transient=True)
    task = bar.add_task(label, total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


def _month_cell(e: dict[str, Any]) -> str:
    med = e["median"] or "never"
    return escape(f"{med} [{e['p10'] or 'never'} - {e['p90'] or 'never'}] {e['share']:.0%}")


def _check(e: dict[str, Any]) -> str:
    err_m = e["abs_error_months"]
    mark = "[green]ok[/]" if e["pass"] else ("in range" if e["inside"] else "[red]outside[/]")
    return f"{mark}, {'-' if err_m is None else f'{err_m:.0f} mo'}"


NARROW = 130
"""Below this many columns the milestones get one table per ensemble, with each month in a
column of its own, so that no month is cut short ("1925-...") in an 80-column terminal."""


def _milestone_name(m: dict[str, Any]) -> str:
    """A milestone's id with its marks, escaped for Rich (ids come from the scenario file)."""
    return escape(m["id"] + (" *" if m["main"] else "") + (" (held out)" if m["held_out"] else ""))


def _narrow_fit_table(d: dict[str, Any], e: str, title: str) -> Table:
    t = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1),
              collapse_padding=True)
    t.add_column("milestone", overflow="fold", min_width=14)
    for col in ("history", "median", "10%", "90%"):
        t.add_column(col, no_wrap=True)
    t.add_column("share", justify="right", no_wrap=True)
    t.add_column("check", no_wrap=True)
    for m in d["milestones"]:
        c = m[e]
        err_m = c["abs_error_months"]
        mark = "[green]ok[/]" if c["pass"] else ("in range" if c["inside"] else "[red]outside[/]")
        t.add_row(_milestone_name(m).replace("_", " "), m["historical"], c["median"] or "never",
                  c["p10"] or "never", c["p90"] or "never", f"{c['share']:.0%}",
                  mark + ("" if err_m is None else f" {err_m:.0f} mo"))
    return t


def rank_line(e: str, d: dict[str, Any]) -> str:
    """Each milestone's record ranked among the histories (``fit.rank``): above 50% the model
    puts the step too early, below too late."""
    return (f"{e}, where the record falls (share of histories with the step earlier; 50% = the "
            "median history): " + ", ".join(
                f"{m['id']} {m[e]['rank']:.0%}"
                for m in d["milestones"] if m[e].get("rank") is not None))


def print_fit(d: dict[str, Any]) -> None:
    """The fit report as Rich tables (milestones, vote shares, winner odds, totals)."""
    ens = d["ensembles"]
    title = (f"Fit to history: {d['runs']:,} histories of {d['scenario']} (seed {d['seed']}): "
             "median [10%-90%] share happened; check = history inside 10-90% and median "
             f"within {d['within_months']} months")
    if out.width < NARROW:
        out.print(title.replace("median [10%-90%] share happened", "median and 10%-90% of "
                                "each milestone's month; share: how often it happened"),
                  highlight=False)
        for e in ens:
            out.print(_narrow_fit_table(d, e, f"parameters from the {e}"))
    else:
        t = Table(title=title)
        t.add_column("milestone", no_wrap=True)
        t.add_column("history", no_wrap=True)
        for e in ens:
            t.add_column(e)
            t.add_column("check")
        for m in d["milestones"]:
            t.add_row(_milestone_name(m), m["historical"],
                      *(c for e in ens for c in (_month_cell(m[e]), _check(m[e]))))
        out.print(t)
    v = Table(title="Share of delegates backing the leadership: median [10%-90%], share of "
                    "histories with >= 80%")
    v.add_column("assembly")
    v.add_column("history")
    for e in ens:
        v.add_column(e)
    for r in d["tallies"]:
        hist = "won, large majority" if r["historical"] is None else (
            f"{r['historical']:.0%}" + ("" if r["verified"] else " (UNVERIFIED)"))
        v.add_row(escape(f"{r['assembly']} ({r['month']})" + (" *" if r["main"] else "")), hist,
                  *(escape(f"{r[e]['median']:.0%} [{r[e]['p10']:.0%} - {r[e]['p90']:.0%}] "
                           f"{r[e]['large_majority']:.0%}") for e in ens))
    out.print(v)
    if d.get("alignments"):
        a = Table(title=escape("Who ruled with whom: share of the months in which the ruling "
                               "coalition held the allies and none of their opponents [share of "
                               "histories matching in at least half of them]"))
        a.add_column("alignment")
        a.add_column("history")
        for e in ens:
            a.add_column(e, justify="right")
        for r in d["alignments"]:
            hist = (f"{', '.join(r['together'])} against {', '.join(r['against'])}, "
                    f"{r['start']} to {r['end']} ({r['source']})")
            a.add_row(escape(r["name"]), escape(hist),
                      *(escape(f"{r[e]['months']:.0%} [{r[e]['mostly']:.0%}]") for e in ens))
        out.print(a)
    w = Table(title="Who comes to rule: probability [95% interval]")
    w.add_column("leader")
    for e in ens:
        w.add_column(e, justify="right")
    first = d["winners"][ens[-1]]
    for a in sorted(first, key=lambda k: -first[k]["p"]):
        w.add_row(a, *(escape(f"{pct(d['winners'][e][a]['p'])} ["
                              f"{pct(d['winners'][e][a]['ci'][0])} - "
                              f"{pct(d['winners'][e][a]['ci'][1])}]") for e in ens))
    out.print(w)
    votes = [t["assembly"] for t in d.get("tallies", []) if t["main"]]
    with_votes = f", with the {' and the '.join(votes)} vote" if votes else ""
    for e, tot in d["totals"].items():
        line = (f"{e}: {tot['inside']} of {tot['milestones']} milestones inside 10-90%, "
                f"{tot['within']} with the median within {d['within_months']} months; main "
                f"checks (*{with_votes}) passing: {tot['main_pass']} of {tot['main']}")
        if tot["held_out"]:
            line += (f"; held out (after {d['until']}): {tot['held_out_inside']} of "
                     f"{tot['held_out']} inside, {tot['held_out_within']} within")
        off = d.get("months_off", {}).get(e, {})
        if off:
            line += "; months off per milestone (never: horizon + 12): " + ", ".join(
                f"{'held out' if k == 'held_out' else k} {v[0]:.1f} [{v[1]:.1f}-{v[2]:.1f}]"
                for k, v in off.items())
        out.print(line, highlight=False)
        if d["milestones"] and "rank" in d["milestones"][0][e]:
            out.print(escape(rank_line(e, d)), highlight=False)
        me = d.get("self_check", {}).get(e)
        if me:
            out.print(escape(self_check_line(e, me)), highlight=False)


def print_calibration(d: dict[str, Any]) -> None:
    """Acceptance, ESS, generations and prior beside posterior for every parameter."""
    out.print(f"{d['method']} ABC on {d['scenario']}"
              + (f", milestones up to {d['until']}" if d["until"] else "")
              + f": {d['n_simulated']:,} simulations, {d['particles']:,} particles, acceptance "
              f"rate {d['acceptance_rate']:.2%}, ESS {d['ess']:.0f}, epsilon {d['epsilon']:.3f}"
              + (" (stopped early: budget spent)" if d["stopped_early"] else ""), highlight=False)
    out.print(f"{d['simulated_now']:,} histories simulated in {d['seconds']:.1f} s "
              f"({d['histories_per_second'] or 0:,.0f}/s), {d['reused']:,} reused from a "
              f"checkpoint", highlight=False)
    if len(d["generations"]) > 1:
        g = Table(title="Generations")
        for c in ("generation", "epsilon", "simulated", "acceptance", "ESS"):
            g.add_column(c, justify="right")
        for r in d["generations"]:
            g.add_row(str(r["generation"]), f"{r['epsilon']:.3f}", f"{r['n_simulated']:,}",
                      f"{r['acceptance_rate']:.2%}",
                      "-" if r["ess"] is None else f"{r['ess']:.0f}")
        out.print(g)
    p = Table(title="Prior and posterior: mean [5% - 95%]; * = moved by ABC (free)")
    for c in ("parameter", "prior", "posterior"):
        p.add_column(c)
    for r in d["parameters"]:
        p.add_row(escape(r["name"] + (" *" if r["free"] else "")),
                  escape(f"{r['prior_mean']:.3g} [{r['prior_q05']:.3g} - {r['prior_q95']:.3g}]"),
                  escape(f"{r['posterior_mean']:.3g} [{r['posterior_q05']:.3g} - "
                         f"{r['posterior_q95']:.3g}]"))
    out.print(p)
    if d["screening"]:
        top = ", ".join(f"{r['name']} {r['rho']:+.3f}" for r in d["screening"][:12])
        out.print(f"screening (Spearman rho of parameter and distance): {escape(top)}",
                  highlight=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def calibrate(
        scenario: ScenarioOpt = DEFAULT,
        method: Annotated[str, typer.Option(help="rejection or smc")] = "smc",
        runs: Annotated[int, typer.Option(
            "--runs", "-n", min=1, help="simulations (rejection) or simulation budget (smc)")]
        = 200_000,
        seed: Annotated[int, typer.Option(min=0, max=MAX_SEED)] = 1,
        quantile: Annotated[float | None, typer.Option(
            help="rejection: keep this fraction of the closest histories")] = None,
        epsilon: Annotated[float | None, typer.Option(
            help="rejection: keep histories with distance <= epsilon")] = None,
        particles: Annotated[int, typer.Option(min=2, help="smc: particles")] = 1000,
        generations: Annotated[int, typer.Option(
            min=1, help="smc: generations, counting the prior one")] = 6,
        alpha: Annotated[float, typer.Option(
            help="smc: each tolerance is this quantile of the last distances")] = 0.5,
        free: Annotated[str, typer.Option(
            help="smc: parameters ABC moves: auto (screened), all, or NAME,NAME,...")] = "auto",
        free_count: Annotated[int, typer.Option("--free-count", min=1,
                                                help="smc: how many auto picks")] = 8,
        screen: Annotated[int, typer.Option(min=100, help="smc: screening histories")] = 20_000,
        until: Annotated[str | None, typer.Option(
            help="calibrate on milestones up to YYYY-MM; later ones are held out")] = None,
        out_path: Annotated[Path | None, typer.Option(
            "--out", "-o", help="posterior file (default ./posterior.parquet, or the "
                                "package's shipped file with --ship)")] = None,
        ship: Annotated[bool, typer.Option(
            help="write the scenario's shipped posterior (what `politburo run` uses)")] = False,
        workers: Annotated[int, typer.Option(min=1, max=MAX_WORKERS, help="worker processes")] = 2,
        scheduler: SchedulerOpt = None,
        batch_size: Annotated[int | None, typer.Option(
            "--batch-size", min=100, help="histories per batch (default: 10,000 for rejection, "
                                         "the particle count for smc)")] = None,
        check_runs: Annotated[int, typer.Option(
            "--check-runs", min=0, help="histories for the posterior check (0: skip)")] = 5000,
        fresh: Annotated[bool, typer.Option(help="discard a checkpoint of an earlier run")]
        = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Learn the scenario's uncertain parameters from its milestones by ABC.

        Reports the acceptance rate, effective sample size, prior beside posterior for every
        parameter and, on fresh histories drawn from the posterior, the fit to every milestone
        (with --until, separately for the held-out ones). Interrupted runs resume.
        """
        from politburo.calibration import CalibrationSpec, CheckpointError, default_posterior_path
        from politburo.calibration import calibrate as run_calibration
        from politburo.calibration.abc_smc import write_posterior
        from politburo.calibration.fit import fit_report
        from politburo.calibration.posterior import source_checkout
        from politburo.dates import format_month, parse_month
        from politburo.runner.batches import bytes_per_history
        from politburo.scenario.compile import compile_scenario

        s = _scenario(scenario)
        if method not in ("rejection", "smc"):
            fail(f"--method must be rejection or smc, not {method!r}")
        if quantile is not None and epsilon is not None:
            fail("give --quantile or --epsilon, not both")
        if until is not None:
            try:
                cut = format_month(parse_month(until))
            except ValueError as exc:
                fail(f"--until: {exc}")
                return
            if not s.start <= cut <= s.end:
                fail(f"--until {until}: expected a month between {s.start} and {s.end}")
            if not any(m.month <= cut for m in s.milestones):
                fail(f"--until {until}: no milestone of {s.id} falls by then, so there is "
                     "nothing to calibrate on"
                     + (f" (the first is in {min(m.month for m in s.milestones)})"
                        if s.milestones else ""))
        if not s.milestones:
            fail(f"scenario {s.id} has no milestones; calibration needs at least one")
        if ship and out_path is not None:
            fail("give --ship or --out, not both")
        if out_path is not None and str(out_path) == "-":
            fail("--out -: the posterior needs a file (its checkpoint is kept beside it)")
        target = (default_posterior_path(s.id) if ship else out_path or Path("posterior.parquet"))
        if ship:
            checkout = source_checkout(target)
            if checkout is None:
                fail(f"--ship writes the posterior shipped inside the package, {target}, which "
                     "is not in a source checkout (it is installed); run it from a git "
                     "checkout of politburo installed with 'pip install -e', or give --out")
            err.print(f"--ship: writing {escape(str(target))} in the checkout "
                      f"{escape(str(checkout))}", highlight=False)
        check_output_or_fail(target)
        per_run = 8 * (2 * len(s.parameters) + 8)  # each simulation's row and distance
        guard_runs(runs, per_run)
        if method == "smc" and free == "auto":
            guard_runs(screen, per_run, "--screen")
        if check_runs:
            guard_runs(check_runs, bytes_per_history(compile_scenario(s)), "--check-runs")
        free_arg: Any = free if free in ("auto", "all") else tuple(
            n.strip() for n in free.split(",") if n.strip())
        if not free_arg:
            fail(f"--free {free!r} names no parameter; give auto, all or NAME,NAME,...")
        spec = CalibrationSpec(
            method=method,  # type: ignore[arg-type]
            runs=runs, seed=seed, epsilon=epsilon, particles=particles,
            quantile=None if epsilon is not None else (0.01 if quantile is None else quantile),
            generations=generations, alpha=alpha, until=until, batch_size=batch_size,
            free=free_arg, free_count=free_count, screen=screen)
        folder = target.parent / f".{target.name}.checkpoint"
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        opts: list[tuple[str, Any]] = [
            ("--scenario", scenario), ("--method", method), ("--runs", runs), ("--seed", seed)]
        if method == "rejection":
            opts += [("--epsilon", epsilon)] if epsilon is not None else [
                ("--quantile", spec.quantile)]
        else:
            opts += [("--particles", particles), ("--generations", generations),
                     ("--alpha", alpha), ("--free", free)]
            if free == "auto":
                opts += [("--free-count", free_count), ("--screen", screen)]
        if until is not None:
            opts.append(("--until", until))
        # --scheduler is not recorded: the posterior is the same wherever it ran, and the
        # address means nothing on another machine.
        opts.append(("--workers", workers))
        if batch_size is not None:
            opts.append(("--batch-size", batch_size))
        command = "politburo calibrate " + " ".join(
            f"{k} {shlex.quote(str(v))}" for k, v in opts) + (" --ship" if ship else
                                                              f" --out {shlex.quote(str(target))}")
        with executor_or_fail(scheduler) as executor:
            bar, cb = _bar("calibrating")
            bar.start()
            try:
                result = run_calibration(s, spec, workers=workers, checkpoint=folder,
                                         progress=cb, command=command, executor=executor)
            except (CheckpointError, ValueError) as exc:
                fail(str(exc))
                return
            finally:
                bar.stop()
            try:
                write_posterior(target, result.posterior)
                mask = os.umask(0)
                os.umask(mask)
                target.chmod(0o666 & ~mask)  # a temporary file's 0600 would travel with a package
            except OSError as exc:
                fail(f"cannot write {target}: {exc}")
            shutil.rmtree(folder, ignore_errors=True)
            check = (fit_report(s, runs=check_runs, seed=seed + 1, posterior=result.posterior,
                                executor=executor) if check_runs else None)
        data = result.to_dict()
        data["out"] = str(target)
        if check is not None:
            data["check"] = check.to_dict()
        if as_json:
            sys.stdout.write(json.dumps(data, indent=2, default=float) + "\n")
            return
        print_calibration(data)
        if check_runs:
            out.print(f"Posterior check on {check_runs:,} fresh histories (seed {seed + 1}):")
            print_fit(data["check"])
        out.print(f"posterior written to {escape(str(target))}", highlight=False)

    @app.command()
    def fit(
        scenario: ScenarioOpt = DEFAULT,
        runs: Annotated[int, typer.Option("--runs", "-n", min=1)] = 10_000,
        seed: Annotated[int, typer.Option(min=0, max=MAX_SEED)] = 1,
        posterior: Annotated[Path | None, typer.Option(
            "--posterior", help="posterior file (default: the scenario's shipped one)")] = None,
        workers: Annotated[int, typer.Option(min=1, max=MAX_WORKERS, help="worker processes")] = 1,
        scheduler: SchedulerOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Each milestone's simulated month beside history, under prior and posterior."""
        from politburo.calibration import load_default_posterior, load_posterior
        from politburo.calibration.abc_smc import PosteriorError
        from politburo.calibration.fit import fit_report
        from politburo.runner.batches import bytes_per_history
        from politburo.scenario.compile import compile_scenario

        s = _scenario(scenario)
        guard_runs(runs, 2 * bytes_per_history(compile_scenario(s)))
        try:
            post = (load_posterior(posterior, s) if posterior is not None
                    else load_default_posterior(s))
        except PosteriorError as exc:
            fail(str(exc))
            return
        with executor_or_fail(scheduler) as executor:
            report = fit_report(s, runs=runs, seed=seed, posterior=post, workers=workers,
                                executor=executor)
        data = report.to_dict()
        if as_json:
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
            return
        if post is None:
            err.print(f"note: scenario {s.id} has no posterior; showing the priors only",
                      highlight=False)
        print_fit(data)
