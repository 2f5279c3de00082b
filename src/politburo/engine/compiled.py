"""The compiled engine: Numba kernels for the month's mechanisms, one history at a time.

``month.simulate(..., engine="compiled")`` runs the month with ``COMPILED``: the mechanisms
listed there are replaced by kernels (here and in ``mechanisms/*_nb.py``), the others are the
NumPy functions themselves. The NumPy mechanisms are the model's executable specification:
each kernel repeats its twin's arithmetic operation for operation (row sums left to right as
``rows.rsum`` adds them, booleans multiplied in as 0.0 or 1.0, the same maxima and clips), and
tests/test_engine_nb.py holds every kernel, and whole runs, to bit-for-bit equality. The random
draws stay in ``politburo.engine.rng`` (already compiled), called in the same coordinates, so every
history of every seed is the same under either engine. A run that records a log uses the
NumPy mechanisms throughout. Every kernel divides as NumPy does (``error_model="numpy"``: a
division by zero gives an infinity or NaN, as in the specification, where Numba's default would
check each division and raise), which also lets the compiler vectorise loops that divide.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.engine.mechanisms import (
    arrest_nb,
    circular_flow_nb,
    clients,
    clients_nb,
    coalitions_nb,
    inner,
    offices,
    policy_nb,
    standing_nb,
    votes_nb,
)
from politburo.engine.mechanisms.clients_nb import clients_row, office_power_row, seats_row
from politburo.engine.state import RUNG, Context, State
from politburo.engine.switch import SPEC, Mechanisms
from politburo.scenario.compile import Compiled
from politburo.scenario.schema import RISE_STEPS

_PARTY = RUNG["party"]
_POLITBURO = RUNG["politburo"]
_RISE_RUNGS = np.array([RUNG[s] for s in RISE_STEPS[1:]], dtype=np.int64)
_NONE1 = np.zeros(0)  # the inner body's arrays where the scenario has none (never read)
_NONE2 = np.zeros((0, 0))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _power_parts(rung: NDArray[np.integer[Any]], seat: NDArray[np.bool_],
                 patron: NDArray[np.integer[Any]],
                 loyalty: NDArray[np.float64], cc: NDArray[np.float64],
                 offices: NDArray[np.float64], eff: NDArray[np.float64],
                 act: NDArray[np.float64], prestige_weight: NDArray[np.float64],
                 w_cc: float, w_pb: float, w_off: float, has_inner: bool,
                 inner_share: NDArray[np.float64], inner_weight: NDArray[np.float64],
                 client_offices: bool, holder: NDArray[np.integer[Any]],
                 weight: NDArray[np.float64], total: float, own_offices: bool
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    H, P = rung.shape
    C = seat.shape[1]
    apparatus = np.empty((H, P))
    visible = np.empty((H, P))
    st = np.empty(P)
    clients = np.empty(P)
    mine = np.zeros(P)  # the weight of each principal's clients' offices
    held = np.zeros(P)  # the weight of his own offices, where ``own_offices``
    cw = np.empty(C)
    cheld = np.empty(C, dtype=np.bool_)
    inst = w_cc + w_pb + w_off
    for h in range(H):
        if own_offices:  # ``office_holdings`` of this row, added in office order from zero
            for p in range(P):
                held[p] = 0.0
            for o in range(holder.shape[1]):
                q = holder[h, o]
                if 0 <= q < P:
                    held[q] += weight[o]
        if client_offices:  # offices + clients.office_power / total, as power_parts adds them
            office_power_row(h, holder, patron, loyalty, weight, cw, cheld, mine)
        seats = seats_row(h, rung, seat)
        seats = seats if seats > 1e-12 else 1e-12
        clients_row(h, seat, patron, loyalty, clients)  # votes_row for every principal
        for p in range(P):
            st[p] = eff[h, p] * (1.0 if rung[h, p] < _PARTY else 0.0)
        tot = st[0]
        for p in range(1, P):
            tot += st[p]
        tot = tot if tot > 1e-12 else 1e-12
        prestige = prestige_weight[h]
        scale = (1 - prestige) / inst
        for p in range(P):
            alive = 1.0 if rung[h, p] < _PARTY else 0.0
            pb = ((1.0 if rung[h, p] < _POLITBURO else 0.0) + clients[p]) / seats
            if has_inner:  # the inner body's share of the leadership's weight (inner.shares)
                pb = (1 - inner_weight[h]) * pb + inner_weight[h] * inner_share[h, p]
            own = held[p] / total if own_offices else offices[h, p]
            off = own + mine[p] / total if client_offices else own
            a = scale * (w_cc * cc[h, p] + w_off * off)
            v = scale * w_pb * pb + prestige * (st[p] / tot)
            active = act[h, p] * alive
            apparatus[h, p] = a * active
            visible[h, p] = v * active
    return apparatus, visible


@numba.njit(cache=True, nogil=True, error_model="numpy")
def office_holdings(holder: NDArray[np.integer[Any]], weight: NDArray[np.float64], P: int
                    ) -> NDArray[np.float64]:
    """``offices.office_holdings``, compiled: each principal's offices added in office order
    from zero, as ``np.einsum`` adds them (an office he does not hold adds a zero, which
    changes no sum of weights >= 0; ``power_parts`` passes only such weights)."""
    H, n_off = holder.shape
    out = np.zeros((H, P))
    for h in range(H):
        for o in range(n_off):
            p = holder[h, o]
            if 0 <= p < P:
                out[h, p] += weight[o]
    return out


def power_parts(state: State, ctx: Context, eff: NDArray[np.float64],
                act: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """``power.power_parts``, compiled."""
    m, c, P = ctx.model, ctx.const, ctx.model.P
    has_inner = m.has_inner()
    w = m.office_weight
    exact = clients_nb.exact_weights(w)
    fused = m.client_offices() and exact and state.client_seat.shape[1] > 0
    # Where the kernel can add each row's offices itself (the weights are exact, and a client's
    # office either counts in the kernel too or not at all), no (H, P) array of holdings is
    # made or remembered across the month (memory per history in flight, issue 16); the sums
    # and the division by the total weight are those of ``office_holdings``.
    own = exact and (fused or not m.client_offices())
    if own:
        held = _NONE2
    else:
        holdings = office_holdings if exact else offices.office_holdings
        held = state.by_holder("offices", lambda: holdings(state.holder, w, P) / w.sum())
        if m.client_offices() and not fused:  # a client's office counts for his patron
            held = held + clients.office_power(state, ctx) / w.sum()
    app, vis = _power_parts(state.rung, state.client_seat, state.client_patron,
                            state.client_loyalty, state.cc, held, eff, act,
                            ctx.params["prestige_weight"], float(c["power_weight_cc"]),
                            float(c["power_weight_politburo"]),
                            float(c["power_weight_offices"]), has_inner,
                            inner.shares(state) if has_inner else _NONE2,
                            ctx.params["inner_weight"] if has_inner else _NONE1,
                            fused, state.holder,
                            np.ascontiguousarray(w, dtype=np.float64), float(w.sum()), own)
    return {"apparatus": app, "visible": vis}


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _shares(apparatus: NDArray[np.float64], visible: NDArray[np.float64]
            ) -> NDArray[np.float64]:
    H, P = apparatus.shape
    out = np.empty((H, P))
    for h in range(H):
        for p in range(P):
            out[h, p] = apparatus[h, p] + visible[h, p]
        tot = out[h, 0]
        for p in range(1, P):
            tot += out[h, p]
        tot = tot if tot > 1e-12 else 1e-12
        for p in range(P):
            out[h, p] = out[h, p] / tot
    return out


def shares(parts: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
    """``power.shares``, compiled."""
    return _shares(parts["apparatus"], parts["visible"])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _consolidate(rung: NDArray[np.integer[Any]], seat: NDArray[np.bool_],
                 patron: NDArray[np.integer[Any]],
                 loyalty: NDArray[np.float64], cc: NDArray[np.float64],
                 coalition: NDArray[np.int64], cons_who: NDArray[np.int64],
                 cons_since: NDArray[np.int64], first_rule: NDArray[np.int64],
                 client_loyalty: float, t: int) -> None:
    H, P = rung.shape
    clients = np.empty(P)
    for h in range(H):
        seats = seats_row(h, rung, seat)
        clients_row(h, seat, patron, loyalty, clients)  # votes_row for every principal
        who = -1
        for p in range(P):
            pb = (1.0 if rung[h, p] < _POLITBURO else 0.0) + clients[p]
            if (pb > 0.5 * seats and cc[h, p] * client_loyalty > 0.5
                    and rung[h, p] < _POLITBURO):
                who = p
                break
        prev = cons_who[h]
        if who < 0 and prev >= 0:
            if ((coalition[h] >> prev) & 1) == 1 and rung[h, prev] < _POLITBURO:
                who = prev
            start = False
        else:
            start = who >= 0 and who != prev
        if start:
            cons_since[h] = t
        elif who < 0:
            cons_since[h] = -1
        if first_rule[h] < 0 and who >= 0:
            first_rule[h] = t
        cons_who[h] = who


def consolidate(state: State, ctx: Context, t: int) -> None:
    """``consolidation.consolidate``, compiled."""
    _consolidate(state.rung, state.client_seat, state.client_patron, state.client_loyalty,
                 state.cc, state.coalition, state.cons_who, state.cons_since, state.first_rule,
                 float(ctx.const["client_loyalty"]), t)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _record_rises(out: NDArray[np.integer[Any]], t: int, holder: NDArray[np.integer[Any]],
                  rung: NDArray[np.integer[Any]], falls: NDArray[np.integer[Any]],
                  holder0: NDArray[np.int64], rung0: NDArray[np.int64],
                  rise_rungs: NDArray[np.int64]) -> None:
    H, P = rung.shape
    n_off = holder.shape[1]
    K = rise_rungs.shape[0] + 1
    for h in range(H):
        # each office once, to its holder (the specification asks of each principal whether
        # he holds it): the marks are independent of one another, so their order is free
        for o in range(n_off):
            p = holder[h, o]
            if 0 <= p < P and holder0[o] != p:
                if out[h, p, K + o] < 0:
                    out[h, p, K + o] = t
                if out[h, p, 0] < 0:
                    out[h, p, 0] = t
        for p in range(P):
            for k in range(1, K):
                if out[h, p, k] < 0:  # a rise already marked stays as it was
                    r = rise_rungs[k - 1]
                    if rung[h, p] < r and (falls[h, p, r - 1] >= 0 or rung0[p] >= r):
                        out[h, p, k] = t


def record_rises(out: NDArray[np.integer[Any]], model: Compiled, t: int,
                 holder: NDArray[np.integer[Any]],
                 rung: NDArray[np.integer[Any]], falls: NDArray[np.integer[Any]],
                 rung0: NDArray[np.int64] | None = None) -> None:
    """``histories.record_rises``, compiled."""
    r0 = np.zeros(model.P, dtype=np.int64) if rung0 is None else rung0.astype(np.int64)
    _record_rises(out, t, holder, rung, falls, model.holder0.astype(np.int64), r0, _RISE_RUNGS)


COMPILED: Mechanisms = replace(
    SPEC,
    line_and_drift=policy_nb.line_and_drift,
    patronage=circular_flow_nb.patronage,
    standing_drift=standing_nb.drift,
    decay_enmity=standing_nb.decay_enmity,
    effective=standing_nb.effective,
    power_parts=power_parts,
    shares=shares,
    clients_drift=clients_nb.drift,
    update_bloc=coalitions_nb.update_bloc,
    form=coalitions_nb.form,
    consolidate=consolidate,
    record_rises=record_rises,
    motions=votes_nb.motions,
    administrative=votes_nb.administrative,
    fill_seats=clients_nb.fill_seats,
    threat_keenness=votes_nb.threat_keenness,
    arrest=arrest_nb.apply,
)
"""The compiled engine's mechanisms: kernels where they exist, the NumPy ones elsewhere."""
