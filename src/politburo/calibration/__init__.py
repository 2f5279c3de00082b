"""Calibration of a scenario against the historical record (issue 3).

The scenario's milestones become predicates over simulated histories and a per-history fit
score (``targets``; the distance is documented there); approximate Bayesian computation
(rejection, Pritchard, Seielstad, Perez-Lezaun and Feldman 1999, *Mol. Biol. Evol.* 16:1791; and
ABC-SMC, Beaumont, Cornuet, Marin and Robert 2009, *Biometrika* 96:983; both in
``politburo.calibration.abc_smc``) turns the priors into a posterior (``calibrate``), resumably
(``checkpoint``); ``posterior`` loads, checks and draws from the result.

The shipped posterior ``politburo/scenarios/soviet-1922.posterior.parquet`` was made by::

    politburo calibrate --scenario soviet-1922 --method rejection --runs 200000 --seed 1922 \
        --quantile 0.02 --workers 2 --ship

(rejection rather than ABC-SMC: on this scenario the two gave the same fit to the milestones
for the same 200,000 simulations, and rejection keeps 1,000 equally weighted particles, an
effective sample size of 1,000 against about 100 for SMC, in a third of the time; see the report
of issue 3). Re-run it whenever the scenario or the engine changes: ``politburo run`` refuses a
posterior made for another version of the scenario and warns about one made by other engine
code. The command is also stored in the file's metadata under ``command``. ``politburo run``
draws per-history parameters from it unless ``--prior`` is given; ``politburo fit`` sets prior
and posterior beside history.
"""

from __future__ import annotations

from politburo.calibration.calibrate import Calibration, CalibrationSpec, calibrate
from politburo.calibration.checkpoint import CachedSimulator, CheckpointError
from politburo.calibration.posterior import (
    SHIP_COMMAND,
    baseline_hash,
    default_posterior_path,
    draw_posterior_params,
    engine_hash,
    load_default_posterior,
    load_posterior,
    stale_engine,
)
from politburo.calibration.simulator import EngineDistance
from politburo.calibration.targets import Targets, Weights, build_targets, components, distance

__all__ = [
    "SHIP_COMMAND",
    "CachedSimulator",
    "Calibration",
    "CalibrationSpec",
    "CheckpointError",
    "EngineDistance",
    "Targets",
    "Weights",
    "baseline_hash",
    "build_targets",
    "calibrate",
    "components",
    "default_posterior_path",
    "distance",
    "draw_posterior_params",
    "engine_hash",
    "load_default_posterior",
    "load_posterior",
    "stale_engine",
]
