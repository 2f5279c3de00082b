"""Experiments with levers: paired what-ifs, the weight of each factor, and sensitivity.

``Experiment`` stores a scenario, a choice of levers and how to draw histories; its verbs do
the work and return result objects with ``to_dict()`` (JSON-ready) and ``to_frame()`` (pandas),
in the manner of scikit-learn's estimators ("constructors store, verbs work").

Two kinds of question, named plainly (model brief, section 3; Pearl's three steps of a
counterfactual: abduction, action, prediction):

``"ex-ante"``
    From the scenario's start, with fresh randomness: histories ``0 .. runs-1`` of ``seed``, their
    parameters drawn from the calibrated posterior when one is available
    (``politburo.calibration``), otherwise from the priors. The result records which.
``"counterfactual"``
    In the histories that matched what happened: the calibration's accepted histories, re-run
    with their own seed, indices and parameters (abduction), with the lever set (action).

Every comparison is paired: the baseline and the intervened world run the same ``(seed,
index)`` with the same parameter rows, so they share every random number (common random
numbers) and the difference is estimated from per-history differences, not from two
independent samples. Shapley values (Shapley 1953) over lever combinations come from
``politburo.experiment.attribution``; Sobol' indices (Saltelli et al. 2010) from
``politburo.experiment.sensitivity``. Nothing here prints; progress goes to a callback.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from politburo.engine import rng
from politburo.engine.histories import Histories
from politburo.engine.month import pin_params, prior_draws, simulate
from politburo.engine.switch import default_engine
from politburo.experiment.attribution import MAX_EXACT_LEVERS, exact_shapley, sampled_shapley
from politburo.experiment.results import ExplainResult, SensitivityResult, Settings, WhatIfResult
from politburo.experiment.sensitivity import sobol_indices
from politburo.runner.batches import run_index
from politburo.runner.pool import map_jobs
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.levers import LeverSettings, apply_levers, overrides, resolve_settings
from politburo.scenario.schema import Scenario

Mode = Literal["ex-ante", "counterfactual"]
ParameterSource = Literal["auto", "prior", "posterior"]
Progress = Callable[[int, int], None]
MODES = ("ex-ante", "counterfactual")


class ExperimentError(ValueError):
    """An experiment that cannot run as asked, with a message fit to show a user."""


@dataclass(frozen=True, eq=False)
class Draws:
    """The histories an experiment runs: ``(seed, index)`` and their parameter rows.

    ``theta`` is ``None`` when each world draws from its own priors (``engine.month.draw_params``);
    otherwise it holds one row per history (posterior draws or accepted particles) and a
    world's pinned parameters overwrite their columns.
    """

    seed: int
    index: NDArray[np.int64]
    theta: NDArray[np.float64] | None
    parameters: str  # "prior" or "posterior"
    note: str = ""

    @property
    def H(self) -> int:
        return int(self.index.shape[0])

    @property
    def contiguous(self) -> bool:
        return bool(self.H == 0 or np.array_equal(self.index, np.arange(self.H)))


def _posterior_module() -> Any | None:
    """``politburo.calibration.posterior`` if the calibration is installed, else None."""
    try:
        from politburo.calibration import posterior as mod
    except ImportError:
        return None
    return mod


def _load_accepted(scenario: Scenario, path: str | Path | None) -> Any:
    """The calibration's posterior for ``scenario`` (a ``calibration.abc_smc.Posterior``)."""
    mod = _posterior_module()
    from politburo.calibration.abc_smc import PosteriorError, read_posterior

    hint = ("run `politburo calibrate` first (or pass the posterior file with --posterior)")
    try:
        if path is not None:
            if mod is not None and hasattr(mod, "load_posterior"):
                return mod.load_posterior(path, scenario)
            return read_posterior(path, expected_names=tuple(scenario.parameters))
        post = mod.load_default_posterior(scenario) if mod is not None else None
    except PosteriorError as exc:
        raise ExperimentError(f"counterfactual mode re-runs the histories the calibration "
                              f"accepted, and no usable posterior was found for scenario "
                              f"{scenario.id} ({str(exc).split('. ')[0]}): {hint}") from None
    if post is None:
        raise ExperimentError(f"counterfactual mode re-runs the histories the calibration "
                              f"accepted, and scenario {scenario.id} has no posterior: {hint}")
    return post


def _pin(theta: NDArray[np.float64], model: Compiled) -> NDArray[np.float64]:
    """Rows of ``theta`` with the world's pinned parameters written in (a copy)."""
    if not model.fixed:
        return theta
    return pin_params(np.array(theta, dtype=np.float64), model)


def simulate_world(model: Compiled, draws: Draws, *, batch_size: int = 5000,
                   workers: int = 1, executor: Executor | None = None,
                   keep_power: bool = False, engine: str | None = None) -> Histories:
    """Run ``draws`` through one compiled world, in index ranges here, on ``workers``
    processes or on ``executor`` (``runner.run_index``).

    ``keep_power`` keeps each month's power shares, which the report's fan chart needs; it
    changes no random number, so the histories are the same either way."""
    theta = None if draws.theta is None else _pin(draws.theta, model)
    return run_index(model, draws.seed, draws.index, theta, batch_size=batch_size,
                     workers=workers if draws.contiguous else 1, executor=executor,
                     keep_power=keep_power, engine=engine)


class _WorldRunner:
    """Simulates the world of a lever mask; picklable, so worker processes can hold one. It
    keeps the engine this process runs (``default_engine()``) when it is made, since a spawned
    or remote worker would otherwise run its own default."""

    def __init__(self, scenario: Scenario, names: Sequence[str], values: Settings,
                 base: Settings, draws: Draws, target: int, batch_size: int) -> None:
        self.scenario, self.names, self.values = scenario, tuple(names), values
        self.base, self.draws, self.target, self.batch_size = base, draws, target, batch_size
        self.base_priors = compile_scenario(scenario).priors
        self.data = scenario.model_dump()
        self.engine = default_engine()
        # Prior draws by set of priors: see ``draws_for``.
        self._prior: dict[tuple[Any, ...], NDArray[np.float64]] = {}

    def key(self, mask: int) -> tuple[tuple[str, str], ...]:
        """What the world of ``mask`` overrides: masks with equal keys are the same world."""
        return overrides(self.scenario, self.settings(mask), self.data)

    def settings(self, mask: int) -> Settings:
        chosen = dict(self.base)
        chosen.update({n: self.values[n] for k, n in enumerate(self.names) if mask >> k & 1})
        return chosen

    def model(self, settings: Settings) -> Compiled:
        s, fixed = apply_levers(self.scenario, settings)
        model = compile_scenario(s, fixed=fixed)
        if self.draws.theta is not None and model.priors != self.base_priors:
            changed = [n for n, a, b in zip(model.priors.names, model.priors.params,
                                            self.base_priors.params, strict=True) if a != b]
            raise ExperimentError(
                f"levers {sorted(settings)} change the prior of {changed}, which does nothing "
                f"when parameters come from the {self.draws.parameters}; pin the parameter "
                "(parameters.NAME) instead")
        return model

    def draws_for(self, model: Compiled) -> Draws:
        """The draws of the world ``model``. Where parameters come from the priors, every world
        with the same priors draws the same values from the same uniforms, and only its pinned
        columns differ (``engine.month.draw_params``); so they are worked out once per set of
        priors in this process, and each world gets them as rows with its own pins written in
        (``simulate_world``): the same bits, without 48 inverse distribution functions per
        history and world (about 8% of the time of a world of 1,000 histories, issue 16)."""
        if self.draws.theta is not None:
            return self.draws
        pri = model.priors
        key = (pri.names, pri.families, tuple(tuple(sorted(p.items())) for p in pri.params),
               model.streams)
        if key not in self._prior:
            theta = prior_draws(model, self.draws.seed, self.draws.index)
            theta.flags.writeable = False  # shared by the worlds: each pins a copy
            self._prior[key] = theta
        return replace(self.draws, theta=self._prior[key])

    def __call__(self, mask: int) -> NDArray[np.int16]:
        model = self.model(self.settings(mask))
        h = simulate_world(model, self.draws_for(model), batch_size=self.batch_size,
                           engine=self.engine)
        return h.winner.astype(np.int16)


_RUNNER: _WorldRunner | None = None


def _init_worker(runner: _WorldRunner) -> None:
    global _RUNNER
    _RUNNER = runner


def _run_mask(mask: int) -> tuple[int, NDArray[np.int16]]:
    assert _RUNNER is not None
    return mask, _RUNNER(mask)


def _winners_by_mask(runner: _WorldRunner, masks: Sequence[int], workers: int,
                     progress: Progress | None, executor: Executor | None = None
                     ) -> dict[int, NDArray[np.int16]]:
    """Winners (H,) of each world, run here or over ``workers`` processes.

    Masks whose levers override the same values (a lever that repeats another, or sets what the
    scenario already has) make the same world, which runs once.
    """
    first: dict[tuple[tuple[str, str], ...], int] = {}
    alias = {m: first.setdefault(runner.key(m), m) for m in masks}
    runs = _run_masks(runner, list(first.values()), workers, progress, executor)
    return {m: runs[alias[m]] for m in masks}


def _run_masks(runner: _WorldRunner, masks: Sequence[int], workers: int,
               progress: Progress | None, executor: Executor | None = None
               ) -> dict[int, NDArray[np.int16]]:
    """Each world's winners, a world a job: here, on ``workers`` local processes (which hold
    the runner from their start), or on ``executor`` (each job carries the runner)."""
    H = runner.draws.H
    total = len(masks) * H
    finished = 0

    def tick(_k: int, _w: tuple[int, NDArray[np.int16]]) -> None:
        nonlocal finished
        finished += 1
        if progress:
            progress(finished * H, total)

    if executor is not None:
        pairs = map_jobs(_MaskJob(runner), masks, executor=executor, done=tick)
    elif workers <= 1 or len(masks) <= 1:
        pairs = map_jobs(lambda m: (m, runner(m)), masks, done=tick)
    else:
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded parent
        pairs = map_jobs(_run_mask, masks, workers=workers, mp_context=ctx,
                         initializer=_init_worker, initargs=(runner,), done=tick)
    return dict(pairs)


class _MaskJob:
    """``mask -> (mask, winners)`` with its runner inside, for an executor whose workers were
    not started holding one (a cluster's)."""

    def __init__(self, runner: _WorldRunner) -> None:
        self.runner = runner

    def __call__(self, mask: int) -> tuple[int, NDArray[np.int16]]:
        return mask, self.runner(mask)


def _sobol_chunk(args: tuple[Compiled, int, NDArray[np.int64], NDArray[np.float64], int,
                             int, str]) -> NDArray[np.float64]:
    model, seed, index, rows, k, target, engine = args
    h = simulate(model, seed, np.tile(index, rows.shape[0]), np.repeat(rows, k, axis=0),
                 engine=engine)
    return (h.winner == target).reshape(rows.shape[0], k).mean(axis=1)


@dataclass(frozen=True)
class Experiment:
    """A scenario, a choice of levers, and which histories to run. Verbs do the work.

    ``levers`` maps lever ids to values (``None`` for a switch or the lever's default), or is a
    list of ``"name"`` / ``"name=value"`` strings. ``runs`` defaults to 1000 ex ante and to every
    accepted history in counterfactual mode. ``parameters``: ``"auto"`` uses the calibrated
    posterior when one is available and the priors otherwise; ``"prior"`` and ``"posterior"``
    insist. ``posterior`` names a posterior file instead of the scenario's shipped one.
    ``keep_power`` keeps the monthly power shares in ``whatif``'s histories (for the report).
    """

    scenario: Scenario
    levers: LeverSettings | Sequence[str] = field(default_factory=dict)
    runs: int | None = None
    seed: int = 1
    mode: Mode = "ex-ante"
    parameters: ParameterSource = "auto"
    posterior: str | Path | None = None
    workers: int = 1
    batch_size: int = 5000
    progress: Progress | None = None
    executor: Executor | None = None
    keep_power: bool = False

    # -- shared machinery -------------------------------------------------------------------

    def _check(self) -> None:
        if self.mode not in MODES:
            raise ExperimentError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.runs is not None and self.runs < 1:
            raise ExperimentError(f"runs must be at least 1, got {self.runs}")
        if self.parameters not in ("auto", "prior", "posterior"):
            raise ExperimentError(f"parameters must be auto, prior or posterior, got "
                                  f"{self.parameters!r}")

    def settings(self) -> Settings:
        """The experiment's levers, checked, with every value resolved."""
        return resolve_settings(self.scenario, self.levers)

    def draws(self) -> Draws:
        """The histories this experiment runs, and where their parameters come from."""
        self._check()
        if self.mode == "counterfactual":
            return self._accepted()
        runs = self.runs or 1000
        index = np.arange(runs, dtype=np.int64)
        if self.parameters == "prior":
            return Draws(self.seed, index, None, "prior", "priors requested")
        mod = _posterior_module()
        note = ""
        post = None
        if mod is None or not hasattr(mod, "draw_posterior_params"):
            note = "politburo.calibration is not installed"
        else:
            from politburo.calibration.abc_smc import PosteriorError

            try:
                post = (mod.load_posterior(self.posterior, self.scenario)
                        if self.posterior is not None
                        else mod.load_default_posterior(self.scenario))
            except PosteriorError as exc:
                if self.parameters == "posterior" or self.posterior is not None:
                    raise ExperimentError(str(exc)) from None
                note = f"no usable posterior: {str(exc).split('. ')[0]}"
            if post is None and not note:
                note = f"scenario {self.scenario.id} ships no posterior"
        if post is None or mod is None:
            if self.parameters == "posterior":
                raise ExperimentError(f"parameters from the posterior were asked for, but "
                                      f"{note}; run `politburo calibrate` first")
            return Draws(self.seed, index, None, "prior", note)
        theta = mod.draw_posterior_params(compile_scenario(self.scenario), post, self.seed,
                                          index)
        return Draws(self.seed, index, np.asarray(theta, dtype=np.float64), "posterior",
                     _stale_note(mod, post))

    def _accepted(self) -> Draws:
        """The calibration's accepted histories (abduction), all of them or ``runs`` by weight.

        With equal weights and ``runs`` unset (or at least their number), every accepted
        history runs once. Otherwise ``runs`` histories are drawn by weight with replacement, by
        counter-based uniforms keyed to ``seed``, so the choice is reproducible.
        """
        if self.parameters == "prior":
            raise ExperimentError("counterfactual mode re-runs the calibration's accepted "
                                  "histories with their own parameters; it cannot use priors")
        post = _load_accepted(self.scenario, self.posterior)
        n = len(post.weights)
        w = np.asarray(post.weights, dtype=np.float64)
        uniform = bool(np.allclose(w, w[0], rtol=0, atol=1e-12))
        if uniform and (self.runs is None or self.runs >= n):
            pick = np.arange(n)
            note = f"all {n} accepted histories"
        else:
            runs = self.runs or n
            u = rng.uniforms(self.seed, np.arange(runs, dtype=np.int64), -1, "counterfactual")
            cdf = np.cumsum(w)
            pick = np.minimum(np.searchsorted(cdf, u[:, 0] * cdf[-1], side="right"), n - 1)
            note = f"{runs} draws by weight from {n} accepted histories (seed {self.seed})"
        mod = _posterior_module()
        stale = _stale_note(mod, post) if mod is not None else ""
        return Draws(int(post.seed), np.asarray(post.history_index, dtype=np.int64)[pick],
                     np.asarray(post.theta, dtype=np.float64)[pick], "posterior",
                     "; ".join(x for x in (note, stale) if x))

    def _runner(self, names: Sequence[str], values: Settings, base: Settings, draws: Draws,
                target: int = 0) -> _WorldRunner:
        return _WorldRunner(self.scenario, names, values, base, draws, target, self.batch_size)

    def _target(self, target: str | None) -> int:
        """Index of ``target`` in the compiled order (``Histories.winner``), ``P`` for none;
        None is the leader the scenario's question names (``question.leader``)."""
        ids = compile_scenario(self.scenario).principals
        if target is None:
            if self.scenario.question.leader is None:
                raise ExperimentError(f"scenario {self.scenario.id} declares no leader in its "
                                      f"question; name a target: one of {', '.join(ids)} or "
                                      f"none")
            target = self.scenario.question.leader
        if target == "none":
            return len(ids)
        if target not in ids:
            raise ExperimentError(f"unknown target {target!r}; expected one of "
                                  f"{', '.join(ids)} or none")
        return ids.index(target)

    # -- verbs --------------------------------------------------------------------------------

    def whatif(self) -> WhatIfResult:
        """Baseline and intervened worlds over the same histories, compared pairwise."""
        settings = self.settings()
        if not settings:
            raise ExperimentError("a what-if needs at least one lever")
        draws = self.draws()
        runner = self._runner(list(settings), settings, {}, draws)
        base_model, new_model = runner.model({}), runner.model(settings)
        total = 2 * draws.H
        base = simulate_world(base_model, draws, batch_size=self.batch_size,
                              workers=self.workers, executor=self.executor,
                              keep_power=self.keep_power)
        if self.progress:
            self.progress(draws.H, total)
        new = simulate_world(new_model, draws, batch_size=self.batch_size, workers=self.workers,
                             executor=self.executor, keep_power=self.keep_power)
        if self.progress:
            self.progress(total, total)
        return WhatIfResult(levers=settings, mode=self.mode, seed=draws.seed,
                            parameters=draws.parameters, parameters_note=draws.note,
                            scenario=self.scenario, model=base_model, baseline=base,
                            intervened=new)

    def explain(self, levers: LeverSettings | Sequence[str] | None = None,
                target: str | None = None,
                *, n_boot: int = 1000, n_permutations: int = 64, boot_seed: int | None = None
                ) -> ExplainResult:
        """Shapley weight of each lever on ``target``'s chance to come to rule.

        ``levers`` defaults to the experiment's levers, or to every lever of the scenario when
        the experiment has none. Up to 12 levers, all ``2**L`` combinations run over the same
        histories and ``attribution.exact_shapley`` gives exact values and pairwise
        interactions; beyond, ``attribution.sampled_shapley`` samples antithetic permutations.
        Intervals: 95% bootstrap over histories (``n_boot`` replicates, seeded by
        ``boot_seed``, default the experiment's seed).
        """
        t0 = time.perf_counter()
        if levers is None:
            levers = self.levers if self.levers else [lv.id for lv in self.scenario.levers]
        chosen = resolve_settings(self.scenario, levers)
        if not chosen:
            raise ExperimentError(f"scenario {self.scenario.id} has no levers to weigh")
        names = list(chosen)
        who = self._target(target)
        target = (list(compile_scenario(self.scenario).principals) + ["none"])[who]
        draws = self.draws()
        runner = self._runner(names, chosen, {}, draws, who)
        runner.model(chosen)  # fail early on a bad combination
        gen = np.random.default_rng(self.seed if boot_seed is None else boot_seed)
        L = len(names)
        if L <= MAX_EXACT_LEVERS:
            masks = list(range(1 << L))
            winners = _winners_by_mask(runner, masks, self.workers, self.progress,
                                       self.executor)
            values = np.stack([winners[m] == who for m in masks], axis=1)
            result = exact_shapley(values, names, rng=gen, n_boot=n_boot)
            mean = values.mean(axis=0)
            alone: dict[str, float] | None = {n: float(mean[1 << k] - mean[0])
                                              for k, n in enumerate(names)}
            method, worlds = "exact", len(masks)
            base_p, all_p = float(mean[0]), float(mean[-1])
        else:
            cache: dict[int, NDArray[np.int16]] = {}

            def value_fn(masks: NDArray[np.int64]) -> NDArray[np.float64]:
                todo = [int(m) for m in masks if int(m) not in cache]
                cache.update(_winners_by_mask(runner, todo, self.workers, None, self.executor))
                if self.progress:
                    self.progress(len(cache) * draws.H, len(cache) * draws.H)
                return np.stack([cache[int(m)] == who for m in masks], axis=1).astype(float)

            result = sampled_shapley(value_fn, L, names, n_permutations=n_permutations,
                                     rng=gen, n_boot=n_boot)
            alone, method, worlds = None, "sampled", len(cache)
            base_p = float(np.mean(cache[0] == who))
            all_p = float(np.mean(cache[(1 << L) - 1] == who))
        return ExplainResult(target=target, levers=chosen, mode=self.mode, seed=draws.seed,
                             parameters=draws.parameters, parameters_note=draws.note,
                             scenario=self.scenario, method=method, shapley=result,
                             baseline=base_p, all_levers=all_p, alone=alone, worlds=worlds,
                             seconds=time.perf_counter() - t0)

    def sensitivity(self, target: str | None = None, *, parameters: Sequence[str] | None = None,
                    n_base: int = 64, histories_per_row: int = 100,
                    second_order: bool = False) -> SensitivityResult:
        """Sobol' first and total indices of ``P(target rules)`` over continuous parameters.

        Each parameter varies over its prior's central 95% interval (``PriorSet.interval``);
        parameters the experiment's levers pin stay pinned, and parameters left out of
        ``parameters`` stay at their prior medians. Every row of the Saltelli sample runs the
        same ``histories_per_row`` history indices of ``seed`` (common random numbers across
        rows), and the output is the share of them ``target`` wins. Ex ante only: the inputs are
        the parameters themselves.
        """
        if self.mode != "ex-ante":
            raise ExperimentError("sensitivity varies the parameters themselves; it runs ex "
                                  "ante only (mode='ex-ante')")
        if histories_per_row < 1:
            raise ExperimentError(f"histories_per_row must be positive, got {histories_per_row}")
        settings = self.settings()
        s, fixed = apply_levers(self.scenario, settings)
        model = compile_scenario(s, fixed=fixed)
        who = self._target(target)
        target = (list(compile_scenario(self.scenario).principals) + ["none"])[who]
        priors = model.priors
        free = [n for n in priors.names if n not in fixed]
        names = list(parameters) if parameters else free
        bad = [n for n in names if n not in free]
        if bad:
            raise ExperimentError(f"cannot vary {bad}: expected parameters of the scenario "
                                  f"not pinned by a lever ({', '.join(free)})")
        box = priors.interval(0.95)
        bounds = {n: (float(box[priors.index(n)][0]), float(box[priors.index(n)][1]))
                  for n in names}
        centre = priors.ppf(np.full((1, priors.dim), 0.5))[0]
        for n, v in fixed.items():
            centre[priors.index(n)] = v
        cols = [priors.index(n) for n in names]
        index = np.arange(histories_per_row, dtype=np.int64)
        per_chunk = max(1, self.batch_size // histories_per_row)
        engine = default_engine()  # named here: a spawned or remote worker has its own default

        def func(x: NDArray[np.float64]) -> NDArray[np.float64]:
            rows = np.tile(centre, (x.shape[0], 1))
            rows[:, cols] = x
            jobs = [(model, self.seed, index, rows[c:c + per_chunk], histories_per_row, who,
                     engine) for c in range(0, rows.shape[0], per_chunk)]
            total = rows.shape[0] * histories_per_row
            done = 0

            def tick(_k: int, part: NDArray[np.float64]) -> None:
                nonlocal done
                done += part.shape[0] * histories_per_row
                if self.progress:
                    self.progress(done, total)

            return np.concatenate(map_jobs(
                _sobol_chunk, jobs, executor=self.executor, workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"), done=tick))

        sobol = sobol_indices(names, [bounds[n] for n in names], func, n_base=n_base,
                              seed=self.seed, calc_second_order=second_order)
        return SensitivityResult(target=target, levers=settings, sobol=sobol, bounds=bounds,
                                 pinned=dict(fixed), histories_per_row=histories_per_row,
                                 n_base=n_base, seed=self.seed, scenario=self.scenario)


def _stale_note(mod: Any, post: Any) -> str:
    stale = getattr(mod, "stale_engine", None)
    if stale is not None and stale(post):
        return "the posterior was made with other engine code; re-run the calibration"
    return ""


__all__ = ["Draws", "Experiment", "ExperimentError", "ExplainResult", "SensitivityResult",
           "WhatIfResult", "simulate_world"]
