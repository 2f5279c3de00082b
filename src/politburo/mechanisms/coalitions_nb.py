"""Compiled twins of ``coalitions.policy_gap`` and of ``coalitions.update_bloc``.

``coalitions.py`` is the specification (its docstring gives the model and its sources); these
kernels repeat its arithmetic in the same order, so both give the same bits
(tests/test_engine_nb.py). ``update_bloc`` is compiled for the months the scenario's own
mechanisms decide; a world with ``platform`` or ``alliance`` events (a lever's), and a run that
records a log, use ``coalitions.update_bloc`` itself.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.mechanisms import coalitions
from politburo.mechanisms.policy_nb import apart2
from politburo.state import RUNG, Context, State

_PARTY = RUNG["party"]


@numba.njit(cache=True, nogil=True, inline="always")
def gap_row(h: int, position: NDArray[np.float64], salience: NDArray[np.float64],
            aloof: NDArray[np.float64], cost: float, out: NDArray[np.float64]) -> None:
    """``coalitions.policy_gap`` of history ``h`` into ``out`` (P, P)."""
    P = out.shape[0]
    s0 = salience[h, 0]
    s1 = salience[h, 1]
    for i in range(P):
        for j in range(P):
            g = apart2(position[h, i, 0], position[h, i, 1], position[h, j, 0],
                       position[h, j, 1], s0, s1)
            out[i, j] = g * (1 + cost * (aloof[h, i] + aloof[h, j]) / 2)


@numba.njit(cache=True, nogil=True)
def _policy_gap(rows: NDArray[np.int64], position: NDArray[np.float64],
                salience: NDArray[np.float64], aloof: NDArray[np.float64],
                cost: NDArray[np.float64]) -> NDArray[np.float64]:
    P = position.shape[1]
    out = np.empty((rows.shape[0], P, P))
    for k in range(rows.shape[0]):
        h = rows[k]
        gap_row(h, position, salience, aloof, cost[h], out[k])
    return out


def policy_gap(state: State, ctx: Context, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """``coalitions.policy_gap``, compiled."""
    return _policy_gap(np.ascontiguousarray(rows, dtype=np.int64), state.position,
                       state.salience, ctx.attr("aloofness"), ctx.params["aloofness_cost"])


@numba.njit(cache=True, nogil=True)
def _update_bloc(coalition: NDArray[np.int64], core: NDArray[np.int64],
                 bloc_mask: NDArray[np.int64], rung: NDArray[np.int64],
                 threatened: NDArray[np.bool_], enmity: NDArray[np.float64],
                 position: NDArray[np.float64], salience: NDArray[np.float64],
                 aloof: NDArray[np.float64], may: NDArray[np.bool_], tie: NDArray[np.float64],
                 u: NDArray[np.float64], u_enmity: NDArray[np.float64],
                 u_tie: NDArray[np.float64], formation: NDArray[np.float64],
                 aloofness_cost: NDArray[np.float64], founder_restraint: NDArray[np.float64],
                 founder_on: bool, span: NDArray[np.float64], tie_pull: NDArray[np.float64]
                 ) -> None:
    H, P = rung.shape
    ties = False
    for i in range(P):
        for j in range(P):
            if tie[i, j] != 0:
                ties = True
    need = 1 if ties else 2
    outsider = np.empty(P, dtype=np.bool_)
    bloc = np.empty(P, dtype=np.bool_)
    moving = np.empty(P, dtype=np.bool_)
    recruits = np.empty(P, dtype=np.bool_)
    partner = np.empty(P, dtype=np.bool_)
    join = np.empty(P, dtype=np.bool_)
    gap = np.empty((P, P))
    for h in range(H):
        n_out = 0
        for p in range(P):
            inside = ((coalition[h] >> p) & 1) == 1
            outsider[p] = (not inside) and rung[h, p] < _PARTY and may[p]
            bloc[p] = ((bloc_mask[h] >> p) & 1) == 1 and outsider[p]
            join[p] = False
            partner[p] = False
            if outsider[p]:
                n_out += 1
        if n_out >= need:
            any_moving = False
            for p in range(P):
                pr = formation[h] * (1 - aloofness_cost[h] * aloof[h, p])
                if founder_on:
                    pr = pr * (1 - founder_restraint[h])
                moving[p] = outsider[p] and u[h, p] < pr
                any_moving = any_moving or moving[p]
                recruits[p] = False
            if any_moving:
                gap_row(h, position, salience, aloof, aloofness_cost[h], gap)
                for i in range(P):
                    r = False
                    for j in range(P):
                        if moving[j] and gap[j, i] <= span[h]:
                            r = True
                    recruits[i] = r
            for p in range(P):
                recruits[p] = recruits[p] and outsider[p] and not bloc[p]
            if any_moving and ties:
                for i in range(P):
                    mate = (threatened[h, i] and rung[h, i] < _PARTY and may[i]
                            and not ((bloc_mask[h] >> i) & 1) == 1)
                    pull = 0.0
                    for j in range(P):
                        x = (1.0 if moving[j] else 0.0) * tie[j, i]
                        if j == 0 or not pull > x:  # np.maximum(pull, x)
                            pull = x
                    partner[i] = mate and u_tie[h, i] < tie_pull[h] * pull
            for p in range(P):
                recruits[p] = recruits[p] or partner[p]
            for i in range(P):
                worst = 0.0
                for j in range(P):
                    x = enmity[h, i, j] * (1.0 if (recruits[j] or bloc[j]) else 0.0)
                    if j == 0 or not worst > x:  # np.maximum(worst, x)
                        worst = x
                join[i] = recruits[i] and u_enmity[h, i] >= worst
        n = 0
        for p in range(P):
            n += int(join[p]) + int(bloc[p])
        gone = 0
        mask = 0
        for p in range(P):
            if n < 2:
                join[p] = False
            if join[p] and partner[p]:
                gone |= 1 << p
            if bloc[p] or join[p]:
                mask |= 1 << p
        coalition[h] &= ~gone
        core[h] &= ~gone
        bloc_mask[h] = mask


def update_bloc(state: State, ctx: Context, t: int) -> None:
    """``coalitions.update_bloc``, compiled (without ``platform`` and ``alliance`` events)."""
    m = ctx.model
    if any(e.kind in ("platform", "alliance") for e in m.events):
        coalitions.update_bloc(state, ctx, t)
        return
    p = ctx.params
    u_tie = ctx.u_actors(t, "bloc:tie") if m.tie.any() else np.zeros((state.H, m.P))
    _update_bloc(state.coalition, state.core, state.bloc, state.rung, state.threatened,
                 state.enmity, state.position, state.salience, ctx.attr("aloofness"),
                 m.opposition, m.tie, ctx.u_actors(t, "bloc"), ctx.u_actors(t, "bloc:enmity"),
                 u_tie, p["opposition_formation"], p["aloofness_cost"], p["founder_restraint"],
                 bool(state.founder_on), p["coalition_span"], p["tie_pull"])
