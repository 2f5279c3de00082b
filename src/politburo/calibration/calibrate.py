"""Calibrate a scenario's uncertain parameters against its milestones by ABC.

Rejection ABC (Pritchard, Seielstad, Perez-Lezaun and Feldman 1999) or ABC-SMC (Beaumont, Cornuet,
Marin and Robert 2009) from ``politburo.calibration.abc_smc``, over the engine as a batched
simulator (``simulator.EngineDistance``) scored by the distance of ``targets``. ABC works on the
probit scale of the priors and, for SMC, only on the parameters a screening run finds informative,
the rest being integrated out by simulation (``space`` explains both and why). With a checkpoint
folder the run is resumable (``checkpoint.CachedSimulator``). The posterior's metadata records what
it fits (scenario, baseline and engine hashes, ``until``, the distance weights, the free parameters)
and the command that made it; every particle keeps the (seed, history index) of its accepted
history, which re-runs exactly from its stored parameter row.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from politburo._version import __version__
from politburo.calibration.abc_smc import (
    BatchSimulator,
    Posterior,
    Progress,
    abc_rejection,
    abc_smc,
)
from politburo.calibration.checkpoint import CachedSimulator
from politburo.calibration.posterior import baseline_hash, engine_hash
from politburo.calibration.simulator import EngineDistance
from politburo.calibration.space import FreeParameters, OnFreeScale, screen
from politburo.calibration.targets import Targets, Weights, build_targets, scenario_record_end
from politburo.engine.fingerprint import platform_stamp
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.loader import scenario_hash
from politburo.scenario.schema import Scenario


@dataclass(frozen=True)
class CalibrationSpec:
    """What to run. ``runs`` is the number of simulations for rejection, the budget for SMC.

    ``free``: the parameters ABC moves; ``"auto"`` picks the ``free_count`` with the strongest
    rank correlation with the distance over ``screen`` prior histories (SMC only; rejection
    always draws every parameter from its prior, where free and nuisance are the same thing).
    """

    method: Literal["rejection", "smc"] = "rejection"
    runs: int = 100_000
    seed: int = 1
    quantile: float | None = 0.01
    epsilon: float | None = None
    particles: int = 1000
    generations: int = 6
    alpha: float = 0.5
    until: str | None = None
    record_end: str | None = None  # None: the scenario's own (fit.record_end, else its end)
    batch_size: int | None = None  # None: 10,000 for rejection; the particle count for SMC
    weights: Weights = field(default_factory=Weights)
    free: tuple[str, ...] | Literal["auto", "all"] = "auto"
    free_count: int = 8
    screen: int = 20_000


@dataclass(frozen=True)
class Calibration:
    """A posterior with the targets it fits and how long it took."""

    posterior: Posterior
    model: Compiled
    targets: Targets
    spec: CalibrationSpec
    free: tuple[str, ...]
    screening: pd.DataFrame | None
    seconds: float
    simulated: int  # histories simulated by this run
    reused: int  # distances taken from a checkpoint

    def summary(self) -> pd.DataFrame:
        """Prior beside posterior (mean, 5%-95%) for every parameter, and whether it was free."""
        out = self.posterior.summary(self.model.priors)
        out["free"] = out["name"].isin(self.free)
        return out

    def to_dict(self) -> dict[str, Any]:
        p = self.posterior
        return {
            "scenario": self.model.scenario_id, "method": p.method, "seed": p.seed,
            "until": self.spec.until, "n_simulated": p.n_simulated, "particles": len(p.weights),
            "acceptance_rate": p.acceptance_rate, "ess": p.ess(), "epsilon": p.epsilon,
            "stopped_early": p.stopped_early, "generations": p.generations,
            "free": list(self.free),
            "screening": (None if self.screening is None
                          else self.screening.to_dict(orient="records")),
            "seconds": self.seconds, "simulated_now": self.simulated, "reused": self.reused,
            "histories_per_second": self.simulated / self.seconds if self.seconds > 0 else None,
            "parameters": self.summary().to_dict(orient="records"),
            "held_out": [m.id for m in self.targets.held_out],
            "meta": dict(p.meta),
        }


def fingerprint(scenario: Scenario, spec: CalibrationSpec) -> dict[str, Any]:
    """What every cached distance depends on (the checkpoint is refused if any differs)."""
    return {"scenario": scenario.id, "baseline_hash": baseline_hash(scenario),
            "engine_hash": engine_hash(), "version": __version__, "seed": spec.seed,
            "until": spec.until,
            "record_end": spec.record_end or scenario_record_end(scenario),
            "weights": asdict(spec.weights)}


def calibrate(scenario: Scenario, spec: CalibrationSpec, *, workers: int = 1,
              checkpoint: Path | None = None, progress: Progress | None = None,
              command: str = "", executor: Executor | None = None) -> Calibration:
    """Run ABC on ``scenario``'s milestones known by ``spec.until``; see the module docstring.

    Batches are scored here, on ``workers`` local processes, or on ``executor`` (a Dask
    ``Client.get_executor()``, say); the posterior is the same in every case.

    ``progress(done, total)`` is called after every batch; ``total`` changes when the screening
    run ends and ABC begins.
    """
    if spec.method not in ("rejection", "smc"):
        raise ValueError(f"unknown method {spec.method!r}; expected rejection or smc")
    model = compile_scenario(scenario)
    prior = model.priors
    targets = build_targets(scenario, model, until=spec.until, record_end=spec.record_end,
                            weights=spec.weights)
    if not targets.milestones:
        when = f" up to {spec.until}" if spec.until else ""
        first = min((m.month for m in scenario.milestones), default=None)
        raise ValueError(f"scenario {scenario.id} has no milestone{when} to calibrate on"
                         + (f"; its first is in {first}" if first else "")
                         + "; ABC needs at least one")
    t0 = time.perf_counter()
    screening = None
    with EngineDistance(model, targets, workers=workers, executor=executor) as engine:
        inner: BatchSimulator = engine
        cached = None
        if checkpoint is not None:
            cached = CachedSimulator(engine, checkpoint, fingerprint(scenario, spec)).open()
            inner = cached
        if spec.method == "rejection" or spec.free == "all":
            free = prior.names
        elif spec.free == "auto":
            screening = screen(inner, prior, n=spec.screen, seed=spec.seed,
                               batch_size=spec.batch_size or 10_000, progress=progress)
            free = tuple(screening["name"][: spec.free_count])
        else:
            free = tuple(spec.free)
        space = FreeParameters(prior, free)
        meta = {
            "scenario": scenario.id, "baseline_hash": baseline_hash(scenario),
            "scenario_hash": scenario_hash(scenario), "engine_hash": engine_hash(),
            "platform": json.dumps(platform_stamp()),
            "version": __version__, "until": spec.until or "",
            "record_end": spec.record_end or scenario_record_end(scenario),
            "weights": json.dumps(asdict(spec.weights)), "command": command,
            "free": ",".join(space.names),
        }
        sim, zprior = OnFreeScale(inner, space), space.abc_prior()
        if spec.method == "rejection":
            post = abc_rejection(sim, zprior, n=spec.runs, seed=spec.seed,
                                 quantile=spec.quantile, epsilon=spec.epsilon,
                                 batch_size=spec.batch_size or 10_000, progress=progress,
                                 meta=meta)
        else:
            post = abc_smc(sim, zprior, n_particles=spec.particles,
                           generations=spec.generations, seed=spec.seed, alpha=spec.alpha,
                           batch_size=spec.batch_size or max(500, spec.particles),
                           max_simulations=spec.runs,
                           progress=progress, meta=meta)
    post = Posterior(prior.names, space.full(post.theta, post.seed, post.history_index),
                     post.weights, post.distance, post.seed, post.history_index, post.epsilon,
                     post.n_simulated, post.acceptance_rate, post.method, post.generations,
                     dict(post.meta), post.stopped_early)
    return Calibration(post, model, targets, spec, space.names, screening,
                       time.perf_counter() - t0, engine.simulated,
                       cached.reused if cached is not None else 0)
