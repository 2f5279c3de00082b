"""Compiled twins of ``clients.drift``, ``clients.fill_seats``, ``clients.office_power``,
``clients.politburo_votes`` and ``clients.seats_filled``.

``clients.py`` is the specification (its docstring gives the model and its sources); these
kernels repeat its arithmetic in the same order (``np.bincount`` adds a patron's clients in
client order from zero, and so do they), so both give the same bits (tests/test_engine_nb.py).
``fill_seats`` fills one history's vacant seats one after the other, as the specification's
rounds do for all histories at once: each round the patron with the highest D'Hondt quotient
(the first of equals) seats his most loyal unseated client (the first of equals). A run that
records a log uses ``clients.drift`` and ``clients.fill_seats`` themselves, which write the
switches and promotions down.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.engine.mechanisms import clients
from politburo.engine.state import RUNG, Context, State
from politburo.scenario.compile import CLIENT

_PARTY = RUNG["party"]
_POLITBURO = RUNG["politburo"]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def votes_row(h: int, p: int, rung: NDArray[np.integer[Any]], seat: NDArray[np.bool_],
              patron: NDArray[np.integer[Any]], loyalty: NDArray[np.float64]) -> float:
    """``clients.politburo_votes`` of principal ``p`` in history ``h``."""
    acc = 0.0
    for c in range(seat.shape[1]):
        if patron[h, c] == p:
            acc += (1.0 if seat[h, c] else 0.0) * loyalty[h, c]
    return (1.0 if rung[h, p] < _POLITBURO else 0.0) + acc


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def clients_row(h: int, seat: NDArray[np.bool_], patron: NDArray[np.integer[Any]],
                loyalty: NDArray[np.float64], out: NDArray[np.float64]) -> None:
    """The seated clients' part of ``votes_row`` for every principal of history ``h`` at once,
    into ``out`` (P,): each patron's clients added in client order from zero, as ``votes_row``
    (and ``np.bincount``) adds them."""
    P = out.shape[0]
    for p in range(P):
        out[p] = 0.0
    for c in range(seat.shape[1]):
        q = patron[h, c]
        if 0 <= q < P:
            out[q] += (1.0 if seat[h, c] else 0.0) * loyalty[h, c]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def seats_row(h: int, rung: NDArray[np.integer[Any]], seat: NDArray[np.bool_]) -> float:
    """``clients.seats_filled`` of history ``h``: a count, exact in any order."""
    n = 0
    for p in range(rung.shape[1]):
        if rung[h, p] < _POLITBURO:
            n += 1
    for c in range(seat.shape[1]):
        if seat[h, c]:
            n += 1
    return float(n)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def office_power_row(h: int, holder: NDArray[np.integer[Any]], patron: NDArray[np.integer[Any]],
                     loyalty: NDArray[np.float64], weight: NDArray[np.float64],
                     w: NDArray[np.float64], held: NDArray[np.bool_],
                     out: NDArray[np.float64]) -> None:
    """``clients.office_power`` of history ``h`` into ``out`` (P,), with scratch ``w`` and
    ``held`` (C,); for weights that are finite and at least zero."""
    C = patron.shape[1]
    for c in range(C):
        w[c] = 0.0
        held[c] = False
    # each client's weights in office order, as ``rsum`` adds them (the offices he does not
    # hold add a zero, which changes no sum of the non-negative weights)
    for o in range(holder.shape[1]):
        c = CLIENT - holder[h, o]
        if 0 <= c < C:
            w[c] += weight[o]
            held[c] = True
    for p in range(out.shape[0]):
        out[p] = 0.0
    for c in range(C):  # the clients in client order, from zero
        if held[c]:
            out[patron[h, c]] += w[c] * loyalty[h, c]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _office_power(holder: NDArray[np.integer[Any]], patron: NDArray[np.integer[Any]],
                  loyalty: NDArray[np.float64], weight: NDArray[np.float64], P: int
                  ) -> NDArray[np.float64]:
    H = holder.shape[0]
    C = patron.shape[1]
    out = np.empty((H, P))
    w = np.empty(C)
    held = np.empty(C, dtype=np.bool_)
    for h in range(H):
        office_power_row(h, holder, patron, loyalty, weight, w, held, out[h])
    return out


def exact_weights(weight: NDArray[np.float64]) -> bool:
    """Whether the kernels may skip the zeros an office not held adds to a sum of ``weight``:
    exact for finite weights of at least zero."""
    return bool((np.isfinite(weight) & (weight >= 0)).all())


def office_power(state: State, ctx: Context) -> NDArray[np.float64]:
    """``clients.office_power``, compiled."""
    weight = ctx.model.office_weight
    if state.client_seat.shape[1] == 0 or not exact_weights(weight):
        return clients.office_power(state, ctx)
    return _office_power(state.holder, state.client_patron, state.client_loyalty,
                         np.ascontiguousarray(weight, dtype=np.float64), ctx.model.P)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _drift(coalition: NDArray[np.int64], rung: NDArray[np.integer[Any]], cc: NDArray[np.float64],
           patron: NDArray[np.integer[Any]], loyalty: NDArray[np.float64],
           anchor: NDArray[np.float64], rate: NDArray[np.float64],
           alive: NDArray[np.bool_]) -> None:
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
            if lo < 0.5 and anyc and new != pt and alive[h, c]:
                patron[h, c] = new
                loyalty[h, c] = 0.5


def drift(state: State, ctx: Context, t: int) -> None:
    """``clients.drift``, compiled."""
    if state.client_seat.shape[1] == 0:
        return
    _drift(state.coalition, state.rung, state.cc, state.client_patron, state.client_loyalty,
           ctx.model.client_loyalty, ctx.params["client_drift"], state.client_alive)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fill_seats(coalition: NDArray[np.int64], rung: NDArray[np.integer[Any]],
                pb_size: NDArray[np.int64], seat: NDArray[np.bool_],
                patron: NDArray[np.integer[Any]], loyalty: NDArray[np.float64],
                cc: NDArray[np.float64], alive: NDArray[np.bool_]) -> None:
    H, P = rung.shape
    C = seat.shape[1]
    coal = np.empty(P, dtype=np.bool_)
    held = np.empty(P)
    best = np.empty(P, dtype=np.int64)
    best_loyal = np.empty(P)
    for h in range(H):
        anyc = False
        for p in range(P):
            coal[p] = ((coalition[h] >> p) & 1) == 1 and rung[h, p] < _POLITBURO
            anyc = anyc or coal[p]
        if not anyc:
            continue
        while pb_size[h] - seats_row(h, rung, seat) > 0:
            for p in range(P):
                held[p] = 0.0
                best[p] = -1
                best_loyal[p] = -np.inf
            for c in range(C):  # each patron's seated clients, and his most loyal unseated one
                q = patron[h, c]
                held[q] += 1.0 if seat[h, c] else 0.0
                if not seat[h, c] and alive[h, c] and loyalty[h, c] > best_loyal[q]:
                    best[q] = c
                    best_loyal[q] = loyalty[h, c]
            who = 0
            top = 0.0
            for p in range(P):  # rows.rargmax: the first maximum
                v = cc[h, p] / (1 + held[p]) if coal[p] and best[p] >= 0 else -np.inf
                if p == 0 or v > top:
                    top = v
                    who = p
            if not np.isfinite(top):
                break
            seat[h, best[who]] = True


def fill_seats(state: State, ctx: Context, t: int, target: int) -> None:
    """``clients.fill_seats``, compiled."""
    if state.log is not None:
        clients.fill_seats(state, ctx, t, target)
        return
    if target > 0:
        state.pb_size[:] = target
    if state.client_seat.shape[1] == 0:
        return
    _fill_seats(state.coalition, state.rung, state.pb_size, state.client_seat,
                state.client_patron, state.client_loyalty, state.cc, state.client_alive)
