"""The engine switch: which functions compute the steps of a month that have a compiled twin.

``SPEC`` names the NumPy mechanisms, the model's executable specification; ``COMPILED``
(``engine/compiled.py``) replaces some of them with Numba kernels that give the same arrays bit
for bit (tests/test_engine_nb.py). ``simulate`` (``engine/month.py``) asks ``mechanisms`` for the
set of the engine a run names, or the default one (``set_default_engine``, which
``politburo --engine`` calls).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from politburo.engine.histories import record_rises
from politburo.engine.mechanisms import (
    arrest,
    circular_flow,
    clients,
    coalitions,
    policy,
    standing,
    votes,
)
from politburo.engine.mechanisms.consolidation import consolidate
from politburo.engine.mechanisms.power import power_parts, shares

ENGINES = ("numpy", "compiled")


@dataclass(frozen=True)
class Mechanisms:
    """The mechanisms a month calls, by name. ``SPEC`` holds the NumPy functions, which are the
    model's executable specification; ``politburo.engine.compiled.COMPILED`` replaces some of
    them with Numba kernels that give the same arrays bit for bit (tests/test_engine_nb.py)."""

    line_and_drift: Callable[..., None]
    patronage: Callable[..., None]
    standing_drift: Callable[..., None]
    decay_enmity: Callable[..., None]
    effective: Callable[..., NDArray[np.float64]]
    power_parts: Callable[..., dict[str, NDArray[np.float64]]]
    shares: Callable[..., NDArray[np.float64]]
    form: Callable[..., None]
    clients_drift: Callable[..., None]
    update_bloc: Callable[..., None]
    consolidate: Callable[..., None]
    record_rises: Callable[..., None]
    motions: Callable[..., None]
    administrative: Callable[..., None]
    fill_seats: Callable[..., None]
    threat_keenness: Callable[..., NDArray[np.float64]]
    arrest: Callable[..., None]


SPEC = Mechanisms(
    line_and_drift=policy.line_and_drift, patronage=circular_flow.patronage,
    standing_drift=standing.drift, decay_enmity=standing.decay_enmity,
    effective=standing.effective, power_parts=power_parts, shares=shares,
    form=coalitions.form, clients_drift=clients.drift, update_bloc=coalitions.update_bloc,
    consolidate=consolidate, record_rises=record_rises, motions=votes.motions,
    administrative=votes.administrative, fill_seats=clients.fill_seats,
    threat_keenness=votes.threat_keenness, arrest=arrest.apply,
)


def default_engine() -> str:
    """The engine a run uses when none is named (``set_default_engine``; at first
    ``DEFAULT_ENGINE``)."""
    return _default[0]


def set_default_engine(engine: str) -> None:
    """Make ``engine`` the one runs use when none is named, in this process and in the worker
    processes it forks afterwards (``politburo --engine``)."""
    if engine not in ENGINES:
        raise ValueError(f"engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    _default[0] = engine


def mechanisms(engine: str | None = None, record_log: bool = False) -> Mechanisms:
    """The mechanisms of ``engine`` (None: ``default_engine()``). A run that records a log gets
    the NumPy ones whatever the engine: only they write the log."""
    name = engine or default_engine()
    if name not in ENGINES:
        raise ValueError(f"engine: expected one of {', '.join(ENGINES)}, got {name!r}")
    if name == "numpy" or record_log:
        return SPEC
    from politburo.engine.compiled import COMPILED
    return COMPILED


DEFAULT_ENGINE = "compiled"  # bit-identical to "numpy" for the built-in scenarios


_default = [DEFAULT_ENGINE]
