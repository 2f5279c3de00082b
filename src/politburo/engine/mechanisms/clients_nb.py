"""Compiled twins of ``clients.drift``, ``clients.politburo_votes`` and ``clients.seats_filled``.

``clients.py`` is the specification (its docstring gives the model and its sources); these
kernels repeat its arithmetic in the same order (``np.bincount`` adds a patron's clients in
client order from zero, and so do they), so both give the same bits (tests/test_engine_nb.py).
A run that records a log uses ``clients.drift`` itself, which writes the switches down.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.engine.state import RUNG, Context, State

_PARTY = RUNG["party"]
_POLITBURO = RUNG["politburo"]


@numba.njit(cache=True, nogil=True, inline="always")
def votes_row(h: int, p: int, rung: NDArray[np.int64], seat: NDArray[np.bool_],
              patron: NDArray[np.int64], loyalty: NDArray[np.float64]) -> float:
    """``clients.politburo_votes`` of principal ``p`` in history ``h``."""
    acc = 0.0
    for c in range(seat.shape[1]):
        if patron[h, c] == p:
            acc += (1.0 if seat[h, c] else 0.0) * loyalty[h, c]
    return (1.0 if rung[h, p] < _POLITBURO else 0.0) + acc


@numba.njit(cache=True, nogil=True, inline="always")
def seats_row(h: int, rung: NDArray[np.int64], seat: NDArray[np.bool_]) -> float:
    """``clients.seats_filled`` of history ``h``: a count, exact in any order."""
    n = 0
    for p in range(rung.shape[1]):
        if rung[h, p] < _POLITBURO:
            n += 1
    for c in range(seat.shape[1]):
        if seat[h, c]:
            n += 1
    return float(n)


@numba.njit(cache=True, nogil=True)
def _drift(coalition: NDArray[np.int64], rung: NDArray[np.int64], cc: NDArray[np.float64],
           patron: NDArray[np.int64], loyalty: NDArray[np.float64],
           anchor: NDArray[np.float64], rate: NDArray[np.float64]) -> None:
    H, P = rung.shape
    C = patron.shape[1]
    for h in range(H):
        anyc = False
        new = -1
        best = -np.inf
        for p in range(P):
            c = ((coalition[h] >> p) & 1) == 1 and rung[h, p] < _PARTY
            anyc = anyc or c
            v = cc[h, p] if c else -np.inf
            if p == 0 or v > best:
                best = v
                new = p
        for c in range(C):
            pt = patron[h, c]
            pin = ((coalition[h] >> pt) & 1) == 1 and rung[h, pt] < _PARTY
            a = anchor[c]
            goal = a if pin else a * a
            lo = loyalty[h, c] + rate[h] * (goal - loyalty[h, c])
            loyalty[h, c] = lo
            if lo < 0.5 and anyc and new != pt:
                patron[h, c] = new
                loyalty[h, c] = 0.5


def drift(state: State, ctx: Context, t: int) -> None:
    """``clients.drift``, compiled."""
    if state.client_seat.shape[1] == 0:
        return
    _drift(state.coalition, state.rung, state.cc, state.client_patron, state.client_loyalty,
           ctx.model.client_loyalty, ctx.params["client_drift"])
