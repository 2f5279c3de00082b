"""politburo: calibrated Monte Carlo histories of power struggles in a ruling party.

The public API, for notebooks and scripts; the command line (``politburo``) is built on it::

    import politburo
    scenario = politburo.load_scenario()                 # the built-in soviet-1922
    result = politburo.run_scenario(scenario, runs=10_000, seed=1)
    result.summary.winners                               # leader -> probability
    politburo.Experiment(scenario, levers={"lenin_lives": "1925-06"}, runs=2000).whatif()
"""

from __future__ import annotations

from politburo._version import __version__
from politburo.engine.histories import Histories
from politburo.engine.month import simulate
from politburo.experiment.run import RunResult, run_scenario
from politburo.runner.summary import Summary, summarise
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.levers import apply_levers
from politburo.scenario.loader import ScenarioError, load_scenario, scenario_hash
from politburo.scenario.schema import Scenario


def __getattr__(name: str) -> object:
    # Experiment pulls in pandas; importing it lazily keeps worker processes and the engine's
    # start-up lean.
    if name == "Experiment":
        from politburo.experiment.worlds import Experiment

        return Experiment
    raise AttributeError(f"module 'politburo' has no attribute {name!r}")


__all__ = [
    "Compiled",
    "Experiment",
    "Histories",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Summary",
    "__version__",
    "apply_levers",
    "compile_scenario",
    "load_scenario",
    "run_scenario",
    "scenario_hash",
    "simulate",
    "summarise",
]
