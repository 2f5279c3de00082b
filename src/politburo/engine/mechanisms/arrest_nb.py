"""Compiled twin of ``arrest.apply``: what an arrest does, one history at a time.

``arrest.py`` is the specification (its docstring gives the mechanism and its sources). Who is
arrested is its own ``arrested`` (NumPy: the window's ``exp`` and the draws stay as they are);
the kernel carries it out as ``apply`` does, principal by principal in id order: the first step
of each rung he falls through, his rung, last step and arrest, then the purge of his followers
(``votes_nb._purge``, the twin of ``circular_flow.purge_followers``) and the transfer of his
offices (``votes_nb._transfer_row``, the twin of ``offices.transfer_offices``), before the next
principal's. A run that records a log, or a caller passing some other transfer than
``transfer_offices``, gets ``arrest.apply`` itself. tests/test_engine_nb.py holds the two equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.engine.mechanisms import arrest
from politburo.engine.mechanisms.offices import transfer_offices
from politburo.engine.mechanisms.votes_nb import _purge, _transfer_row
from politburo.engine.state import RUNG, Context, State

_OFFICE = RUNG["office"]
_POLITBURO = RUNG["politburo"]
_CC = RUNG["central_committee"]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _carry_out(t: int, hit: NDArray[np.bool_], rung: NDArray[np.integer[Any]],
               last_step: NDArray[np.integer[Any]], falls: NDArray[np.integer[Any]],
               arrested: NDArray[np.bool_], sec: NDArray[np.float64], cc: NDArray[np.float64],
               holder: NDArray[np.integer[Any]], coalition: NDArray[np.int64],
               power: NDArray[np.float64], office_weight: NDArray[np.float64],
               gensec: int) -> None:
    H, P = rung.shape
    n_off = holder.shape[1]
    purged = np.empty(H, dtype=np.bool_)
    mine = np.empty(n_off, dtype=np.bool_)
    coal = np.empty(P, dtype=np.bool_)
    held = np.empty(P)
    for i in range(P):
        n = 0
        for h in range(H):
            purged[h] = hit[h, i]
            n += 1 if purged[h] else 0
        if n == 0:
            continue
        for h in range(H):
            if not purged[h]:
                continue
            held_office = False
            for o in range(n_off):
                held_office = held_office or holder[h, o] == i
            for r in (_OFFICE, _POLITBURO, _CC):
                if rung[h, i] < r and (r != _OFFICE or held_office) and falls[h, i, r - 1] < 0:
                    falls[h, i, r - 1] = t
            rung[h, i] = _CC
            last_step[h, i] = t
            arrested[h, i] = True
        _purge(i, purged, sec, holder, gensec)
        _purge(i, purged, cc, holder, gensec)
        for h in range(H):
            if not purged[h]:
                continue
            any_office = False
            for o in range(n_off):
                mine[o] = holder[h, o] == i
                any_office = any_office or mine[o]
            if any_office:
                _transfer_row(h, i, t, mine, holder, coalition, rung, power, office_weight,
                              gensec, falls, coal, held)


def apply(state: State, ctx: Context, t: int, succession: int,
          keenness: NDArray[np.float64], restraint: NDArray[np.float64] | float,
          transfer: Callable[..., None]) -> None:
    """``arrest.apply``, compiled."""
    if state.log is not None or transfer is not transfer_offices:
        arrest.apply(state, ctx, t, succession, keenness, restraint, transfer)
        return
    hit = arrest.arrested(state, ctx, t, succession, keenness, restraint)
    if hit is None:
        return
    m = ctx.model
    _carry_out(t, np.ascontiguousarray(hit), state.rung, state.last_step, state.falls,
               state.arrested, state.sec, state.cc, state.holder, state.coalition, state.power,
               np.ascontiguousarray(m.office_weight, dtype=np.float64), m.gensec)
