"""Calibrate a scenario's uncertain parameters against its milestones by ABC.

Rejection ABC (Pritchard et al. 1999) or ABC-SMC (Beaumont et al. 2009) from ``politburo.abc``,
over the engine as a batched simulator (``simulator.EngineDistance``) scored by the distance of
``targets``. With a checkpoint folder the run is resumable (``checkpoint.CachedSimulator``). The
posterior's metadata records what it fits (scenario, baseline and engine hashes, ``until``, the
distance weights) and the command that made it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from politburo import __version__
from politburo.abc import Posterior, Progress, abc_rejection, abc_smc
from politburo.calibration.checkpoint import CachedSimulator
from politburo.calibration.posterior import baseline_hash, engine_hash
from politburo.calibration.simulator import EngineDistance
from politburo.calibration.targets import RECORD_END, Targets, Weights, build_targets
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.loader import scenario_hash
from politburo.scenario.schema import Scenario


@dataclass(frozen=True)
class CalibrationSpec:
    """What to run. ``runs`` is the number of simulations for rejection, the budget for SMC."""

    method: Literal["rejection", "smc"] = "rejection"
    runs: int = 100_000
    seed: int = 1
    quantile: float | None = 0.01
    epsilon: float | None = None
    particles: int = 1000
    generations: int = 5
    alpha: float = 0.5
    until: str | None = None
    record_end: str = RECORD_END
    batch_size: int = 10_000
    weights: Weights = Weights()


@dataclass(frozen=True)
class Calibration:
    """A posterior with the targets it fits and how long it took."""

    posterior: Posterior
    model: Compiled
    targets: Targets
    spec: CalibrationSpec
    seconds: float
    simulated: int  # histories simulated by this run
    reused: int  # distances taken from a checkpoint

    def summary(self) -> pd.DataFrame:
        """Prior beside posterior (mean, 5%-95%) for every parameter."""
        return self.posterior.summary(self.model.priors)

    def to_dict(self) -> dict[str, Any]:
        p = self.posterior
        return {
            "method": p.method, "seed": p.seed, "until": self.spec.until,
            "n_simulated": p.n_simulated, "particles": len(p.weights),
            "acceptance_rate": p.acceptance_rate, "ess": p.ess(), "epsilon": p.epsilon,
            "stopped_early": p.stopped_early, "generations": p.generations,
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
            "until": spec.until, "record_end": spec.record_end, "weights": asdict(spec.weights)}


def calibrate(scenario: Scenario, spec: CalibrationSpec, *, workers: int = 1,
              checkpoint: Path | None = None, progress: Progress | None = None,
              command: str = "") -> Calibration:
    """Run ABC on ``scenario``'s milestones known by ``spec.until``; see the module docstring."""
    model = compile_scenario(scenario)
    targets = build_targets(scenario, model, until=spec.until, record_end=spec.record_end,
                            weights=spec.weights)
    meta = {
        "scenario": scenario.id, "baseline_hash": baseline_hash(scenario),
        "scenario_hash": scenario_hash(scenario), "engine_hash": engine_hash(),
        "version": __version__, "until": spec.until or "", "record_end": spec.record_end,
        "weights": json.dumps(asdict(spec.weights)), "command": command,
    }
    t0 = time.perf_counter()
    with EngineDistance(model, targets, workers=workers) as engine:
        sim: EngineDistance | CachedSimulator = engine
        cached = None
        if checkpoint is not None:
            cached = CachedSimulator(engine, checkpoint, fingerprint(scenario, spec)).open()
            sim = cached
        if spec.method == "rejection":
            post = abc_rejection(sim, model.priors, n=spec.runs, seed=spec.seed,
                                 quantile=spec.quantile, epsilon=spec.epsilon,
                                 batch_size=spec.batch_size, progress=progress, meta=meta)
        elif spec.method == "smc":
            post = abc_smc(sim, model.priors, n_particles=spec.particles,
                           generations=spec.generations, seed=spec.seed, alpha=spec.alpha,
                           batch_size=spec.batch_size, max_simulations=spec.runs,
                           progress=progress, meta=meta)
        else:
            raise ValueError(f"unknown method {spec.method!r}; expected rejection or smc")
    return Calibration(post, model, targets, spec, time.perf_counter() - t0, engine.simulated,
                       cached.reused if cached is not None else 0)
