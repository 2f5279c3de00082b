"""The Python API: what the CLI calls, and what a notebook can call directly."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from politburo._version import __version__
from politburo.dates import month_name, parse_month
from politburo.engine.fingerprint import platform_stamp
from politburo.engine.histories import Histories
from politburo.runner.batches import Progress, run
from politburo.runner.summary import Summary, historical_falls, summarise
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.labels import committee
from politburo.scenario.loader import scenario_hash
from politburo.scenario.schema import Scenario

if TYPE_CHECKING:
    from politburo.calibration.abc_smc import Posterior


@dataclass(frozen=True)
class RunResult:
    """An ensemble with its provenance: seed, scenario hash, version, where parameters came from."""

    scenario: Scenario
    model: Compiled
    histories: Histories
    summary: Summary
    parameters: str  # "prior" or "posterior"

    def to_dict(self) -> dict[str, Any]:
        d = self.summary.to_dict()
        d.update({"scenario_hash": scenario_hash(self.scenario), "version": __version__,
                  "platform": platform_stamp(),
                  "parameters": self.parameters,
                  "horizon": month_name(parse_month(self.scenario.end)),
                  "leadership": self.scenario.bodies.leadership,
                  "committee": committee(self.scenario)})
        return d


def run_scenario(scenario: Scenario, *, runs: int, seed: int, batch_size: int = 5000,
                 workers: int = 1, progress: Progress | None = None,
                 keep_power: bool = False, posterior: Posterior | None = None,
                 fixed: dict[str, float] | None = None,
                 executor: Executor | None = None) -> RunResult:
    """Histories ``0 .. runs-1`` of ``seed``; parameters from ``posterior`` when given (drawn
    per history by ``politburo.calibration.draw_posterior_params``), else from the priors.
    ``fixed`` pins parameters, as ``apply_levers`` returns them for a lever's world.

    Batches of ``batch_size`` histories run here, on ``workers`` local processes, or on
    ``executor``: any ``concurrent.futures.Executor``, such as a Dask cluster's
    ``Client.get_executor()``. The histories are bit-identical whichever runs them."""
    model = compile_scenario(scenario, fixed=fixed)
    params = None
    if posterior is not None:
        from politburo.calibration.posterior import draw_posterior_params

        params = draw_posterior_params(model, posterior, seed, np.arange(runs, dtype=np.int64))
    h = run(model, seed, runs, batch_size=batch_size, workers=workers, progress=progress,
            keep_power=keep_power, params=params, executor=executor)
    summary = summarise(model, h, historical_falls(scenario.milestones))
    return RunResult(scenario=scenario, model=model, histories=h, summary=summary,
                     parameters="prior" if posterior is None else "posterior")
