"""Calibration of a scenario against the historical record (issue 3).

The scenario's milestones become predicates over simulated histories and a per-history fit
score (``targets``; the distance is documented there); approximate Bayesian computation
(rejection, Pritchard, Seielstad, Perez-Lezaun and Feldman 1999, *Mol. Biol. Evol.* 16:1791; and
ABC-SMC, Beaumont, Cornuet, Marin and Robert 2009, *Biometrika* 96:983; both in
``politburo.abc``) turns the priors into a posterior (``calibrate``), resumably
(``checkpoint``); ``posterior`` loads, checks and draws from the result.

The shipped posterior ``politburo/scenarios/soviet-1922.posterior.parquet`` was made by::

    politburo calibrate --method smc --particles 2000 --generations 6 --runs 200000 \\
        --seed 1922 --workers 2 --ship

(the command is also stored in the file's metadata under ``command``). ``politburo run`` draws
per-history parameters from it unless ``--prior`` is given; ``politburo fit`` sets prior and
posterior beside history.
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
