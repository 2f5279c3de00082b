"""Helpers shared by the tests (not a test module)."""

from __future__ import annotations

from typing import Any

import numpy as np

from politburo.engine import initial_state
from politburo.scenario.compile import Compiled
from politburo.scenario.schema import Scenario
from politburo.state import Context, State


def mech_ctx(model: Compiled, H: int = 4, **params: float) -> Context:
    """A context for mechanism tests: every parameter at its prior median, some pinned."""
    theta = model.priors.ppf(np.full((H, model.priors.dim), 0.5))
    p = {n: theta[:, j].copy() for j, n in enumerate(model.priors.names)}
    for k, v in params.items():
        p[k] = np.full(H, v)
    return Context(model=model, seed=3, index=np.arange(H, dtype=np.int64), params=p,
                   const=model.constants)


def mech_state(model: Compiled, H: int = 4, record_log: bool = False) -> State:
    return initial_state(model, H, record_log=record_log)


def with_levers(s: Scenario, *levers: dict[str, Any]) -> Scenario:
    """The scenario with extra (synthetic) levers appended."""
    data = s.model_dump()
    data["levers"] = [*data["levers"], *({"title": "t", "description": "d", **lv}
                                         for lv in levers)]
    return Scenario.model_validate(data)
