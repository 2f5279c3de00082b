"""Compiled twin of ``circular_flow.patronage``.

``circular_flow.py`` is the specification (Daniels' circular flow, its sources there); this
kernel repeats its arithmetic operation for operation, row sums left to right as ``rows.rsum``
adds them, so both give the same bits (tests/test_engine_nb.py).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.engine.state import RUNG, Context, State

_PARTY = RUNG["party"]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _patronage(sec: NDArray[np.float64], rung: NDArray[np.integer[Any]], org: NDArray[np.float64],
               act: NDArray[np.float64], network_rate: NDArray[np.float64],
               patronage_rate: NDArray[np.float64], holder: NDArray[np.integer[Any]],
               g: int) -> None:
    H, P = rung.shape
    gain = np.empty(P)
    moved = np.empty(P + 1)
    for h in range(H):
        for p in range(P):
            alive = 1.0 if rung[h, p] < _PARTY else 0.0
            gain[p] = network_rate[h] * org[h, p] * act[h, p] * alive
        sg = gain[0]
        for p in range(1, P):
            sg += gain[p]
        take = (sg if sg < 0.5 else 0.5) * sec[h, P]
        den = sg if sg > 1e-12 else 1e-12
        for p in range(P):
            sec[h, p] = sec[h, p] + take * (gain[p] / den)
        sec[h, P] = sec[h, P] - take
        if g < 0:
            continue
        who = holder[h, g]
        if who < 0:
            continue
        o = org[h, who]
        rate = patronage_rate[h] * (o * o) * act[h, who]
        for k in range(P + 1):
            moved[k] = sec[h, k] * rate
        moved[who] = 0.0
        for k in range(P + 1):
            sec[h, k] = sec[h, k] - moved[k]
        tot = moved[0]
        for k in range(1, P + 1):
            tot += moved[k]
        sec[h, who] = sec[h, who] + tot


def patronage(state: State, ctx: Context, t: int, act: NDArray[np.float64]) -> None:
    """``circular_flow.patronage``, compiled."""
    p = ctx.params
    _patronage(state.sec, state.rung, ctx.attr("organisation"), act, p["network_rate"],
               p["patronage_rate"], state.holder, ctx.model.gensec)
