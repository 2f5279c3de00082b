"""Compiled twins of ``policy.line_and_drift`` and ``policy.dissent``: the same arithmetic, one
history at a time.

``policy.py`` is the specification (its docstring gives the model and its sources); this kernel
repeats each of its NumPy expressions operation for operation and in the same order (row sums
left to right as ``rows.rsum`` adds them, booleans multiplied in as 0.0 or 1.0), so both give
the same bits. The random draws stay in Python and are passed in. The interest of each
leader's bases (``policy.base_interest``, which the specification keeps in the office-holding
memo, ``State.by_holder``) is worked out row by row inside the kernel (``_interest_row``), so
no (H, P, 2) array of it is held through the run; ``base_interest`` is its twin over a whole
batch. tests/test_engine_nb.py holds each pair to equality.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.engine.mechanisms import policy
from politburo.engine.mechanisms.policy import DISSENT_FULL
from politburo.engine.state import RUNG, Context, State

_PARTY = RUNG["party"]
_NO_OFFICE = np.zeros(0, dtype=np.int64)
_NO_PULL = np.zeros((0, 2))


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def apart2(a0: float, a1: float, b0: float, b1: float, s0: float, s1: float) -> float:
    """``policy.apart`` for one pair: the salience-weighted distance."""
    dx = (a0 - b0) * s0
    dy = (a1 - b1) * s1
    dx = dx * dx
    dy = dy * dy
    return np.sqrt(dx + dy)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def clip1(x: float) -> float:
    """``np.clip(x, -1.0, 1.0)``."""
    if x < -1.0:
        return -1.0
    if x > 1.0:
        return 1.0
    return x


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _dissent(position: NDArray[np.float64], line: NDArray[np.float64],
             salience: NDArray[np.float64]) -> NDArray[np.float64]:
    H, P = position.shape[0], position.shape[1]
    out = np.empty((H, P))
    for h in range(H):
        for p in range(P):
            x = apart2(position[h, p, 0], position[h, p, 1], line[h, 0], line[h, 1],
                       salience[h, 0], salience[h, 1]) / DISSENT_FULL
            out[h, p] = 1.0 if x > 1.0 else x  # np.minimum(x, 1.0), NaN kept
    return out


def dissent(state: State) -> NDArray[np.float64]:
    """``policy.dissent``, compiled."""
    return _dissent(state.position, state.line, state.salience)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _line_and_drift(coalition: NDArray[np.int64], rung: NDArray[np.integer[Any]],
                    power: NDArray[np.float64], position: NDArray[np.float64],
                    ideal: NDArray[np.float64], line: NDArray[np.float64],
                    salience: NDArray[np.float64], threatened: NDArray[np.bool_],
                    bloc_mask: NDArray[np.int64], standing: NDArray[np.float64],
                    interest: NDArray[np.float64], has: NDArray[np.bool_],
                    opp: NDArray[np.float64], opposition: NDArray[np.bool_],
                    line_adjustment: NDArray[np.float64], policy_drift: NDArray[np.float64],
                    base_pull: NDArray[np.float64], policy_cost: NDArray[np.float64],
                    z0: NDArray[np.float64], z1: NDArray[np.float64],
                    line_out: NDArray[np.float64], holder: NDArray[np.integer[Any]],
                    based: NDArray[np.int64], pulled: NDArray[np.float64],
                    weight: NDArray[np.float64], tie: NDArray[np.float64],
                    tie_pull: NDArray[np.float64]) -> None:
    """``interest`` and ``has`` are the bases' interest (H, P, 2) when the caller worked it
    out, or empty (0, P, 2): then each row's is worked out here from the office holders, as
    ``_base_interest`` would (``holder``, ``based``, ``pulled``, ``weight``)."""
    H, P = power.shape
    w = np.empty(P)
    coal = np.empty(P)
    blocf = np.empty(P)
    num = np.empty((P, 2))
    den = np.empty((P, 2))
    ih = np.empty((P, 2))
    hh = np.empty((P, 2), dtype=np.bool_)
    strength = np.empty(P)
    mate = np.empty((P, 2))
    fused = interest.shape[0] == 0
    for h in range(H):
        if fused:
            _interest_row(h, holder, based, pulled, weight, num, den, ih, hh)
        else:
            for p in range(P):
                for a in range(2):
                    ih[p, a] = interest[h, p, a]
                    hh[p, a] = has[h, p, a]
        for p in range(P):
            c = ((coalition[h] >> p) & 1) == 1 and rung[h, p] < _PARTY
            coal[p] = 1.0 if c else 0.0
            w[p] = power[h, p] * coal[p]
        tot = w[0]
        for p in range(1, P):
            tot += w[p]
        if tot <= 0:
            for p in range(P):
                w[p] = power[h, p]
        tot = w[0]
        for p in range(1, P):
            tot += w[p]
        tot = tot if tot > 1e-12 else 1e-12
        for p in range(P):
            w[p] = w[p] / tot
        c0 = w[0] * position[h, 0, 0]
        c1 = w[0] * position[h, 0, 1]
        for p in range(1, P):
            c0 += w[p] * position[h, p, 0]
            c1 += w[p] * position[h, p, 1]
        adj = line_adjustment[h]
        l0 = clip1((1 - adj) * line[h, 0] + adj * c0)
        l1 = clip1((1 - adj) * line[h, 1] + adj * c1)
        line_out[h, 0] = l0
        line_out[h, 1] = l1
        # the organised outsiders' platform
        n = 0.0
        for p in range(P):
            inside = ((coalition[h] >> p) & 1) == 1
            b = ((bloc_mask[h] >> p) & 1) == 1 and not inside
            blocf[p] = 1.0 if b else 0.0
            n = blocf[0] if p == 0 else n + blocf[p]
        pl0 = blocf[0] * position[h, 0, 0]
        pl1 = blocf[0] * position[h, 0, 1]
        for p in range(1, P):
            pl0 += blocf[p] * position[h, p, 0]
            pl1 += blocf[p] * position[h, p, 1]
        nn = n if n > 1.0 else 1.0
        pl0 = pl0 / nn
        pl1 = pl1 / nn
        # each leader's tied partner outside the coalition, his tie and position before the
        # month's moves (policy.tie_drawn)
        for p in range(P):
            best = 0.0
            jb = 0
            for j in range(P):
                out_j = ((coalition[h] >> j) & 1) == 0 and rung[h, j] < _PARTY
                x = tie[j, p] if out_j else 0.0
                if x > best:
                    best = x
                    jb = j
            strength[p] = best
            mate[p, 0] = position[h, jb, 0]
            mate[p, 1] = position[h, jb, 1]
        bp = base_pull[h]
        s0 = salience[h, 0]
        s1 = salience[h, 1]
        for p in range(P):
            inside = ((coalition[h] >> p) & 1) == 1
            exposed = ((not inside) or threatened[h, p]) and opposition[p]
            o = opp[h, p]
            rate = policy_drift[h] * o
            for a in range(2):
                la = l0 if a == 0 else l1
                hs = hh[p, a]
                beta = bp * (1.0 if hs else 0.0)
                if exposed:
                    pull = ih[p, a] if hs else ideal[h, p, a]
                else:
                    pull = (1 - beta) * la + beta * ih[p, a]
                target = o * pull + (1 - o) * ideal[h, p, a]
                if strength[p] > 0:
                    k = tie_pull[h] * strength[p]
                    target = (1 - k) * target + k * mate[p, a]
                if blocf[p] == 1.0:
                    target = pl0 if a == 0 else pl1
                noise = 0.02 * (z0[h, p] if a == 0 else z1[h, p])
                x = position[h, p, a]
                x = x + (rate * (target - x) + noise)
                position[h, p, a] = clip1(x)
            d = apart2(position[h, p, 0], position[h, p, 1], l0, l1, s0, s1)
            alive = 1.0 if rung[h, p] < _PARTY else 0.0
            standing[h, p] = standing[h, p] - policy_cost[h] * d * alive


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _interest_row(h: int, holder: NDArray[np.integer[Any]], based: NDArray[np.int64],
                  pulled: NDArray[np.float64], weight: NDArray[np.float64],
                  num: NDArray[np.float64], den: NDArray[np.float64],
                  interest: NDArray[np.float64], has: NDArray[np.bool_]) -> None:
    """Row ``h`` of ``policy.base_interest`` into ``interest`` and ``has`` (P, 2), with
    ``num`` and ``den`` (P, 2) as scratch."""
    P = interest.shape[0]
    K = based.shape[0]
    for p in range(P):
        for a in range(2):
            num[p, a] = 0.0
            den[p, a] = 0.0
    # ``np.einsum`` adds the offices in order, from zero: each office to its holder's sums
    # (an office he does not hold adds 0.0 times a finite number, a zero, which changes no
    # sum that starts from 0.0)
    for k in range(K):
        p = holder[h, based[k]]
        if 0 <= p < P:
            for a in range(2):
                num[p, a] = num[p, a] + pulled[k, a]
                den[p, a] = den[p, a] + weight[k, a]
    for p in range(P):
        for a in range(2):
            d = den[p, a]
            interest[p, a] = num[p, a] / (d if d > 1e-12 or d != d else 1e-12)
            has[p, a] = d > 0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _base_interest(holder: NDArray[np.integer[Any]], based: NDArray[np.int64],
                   pulled: NDArray[np.float64], weight: NDArray[np.float64],
                   interest: NDArray[np.float64], has: NDArray[np.bool_]) -> None:
    H, P = interest.shape[0], interest.shape[1]
    num = np.empty((P, 2))
    den = np.empty((P, 2))
    ih = np.empty((P, 2))
    hh = np.empty((P, 2), dtype=np.bool_)
    for h in range(H):
        _interest_row(h, holder, based, pulled, weight, num, den, ih, hh)
        for p in range(P):
            for a in range(2):
                interest[h, p, a] = ih[p, a]
                has[h, p, a] = hh[p, a]


def _bases(ctx: Context) -> tuple[NDArray[np.int64], NDArray[np.float64],
                                  NDArray[np.float64]] | None:
    """The offices whose bases have an interest, their weighted pull and their weights (K, 2),
    for the kernels; None where a weight or pull is not finite (the kernels skip 0.0 * x,
    exact only for a finite x), and the NumPy ``policy.base_interest`` must be used."""
    m = ctx.model
    based = np.flatnonzero(m.has_interest.any(axis=1))
    w = m.office_weight[based, None] * m.has_interest[based]  # (K, 2)
    if not (np.isfinite(w).all() and np.isfinite(w * m.interest[based]).all()):
        return None
    return (based.astype(np.int64), np.ascontiguousarray(w * m.interest[based]),
            np.ascontiguousarray(w))


def base_interest(state: State, ctx: Context) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """``policy.base_interest``, compiled: each leader's sums over the offices he holds."""
    bases = _bases(ctx)
    if bases is None:
        return policy.base_interest(state, ctx)
    P = ctx.model.P
    interest = np.empty((state.H, P, 2))
    has = np.empty((state.H, P, 2), dtype=bool)
    _base_interest(np.ascontiguousarray(state.holder), *bases, interest, has)
    return interest, has


def line_and_drift(state: State, ctx: Context, t: int) -> None:
    """``policy.line_and_drift``, compiled."""
    axes = ctx.model.axes
    z0 = ctx.z_actors(t, f"policy:{axes[0]}")
    z1 = ctx.z_actors(t, f"policy:{axes[1]}")
    bases = _bases(ctx)
    if bases is None:  # the specification's memo, worked out in NumPy
        interest, has = state.by_holder("interest", lambda: policy.base_interest(state, ctx))
        bases = (_NO_OFFICE, _NO_PULL, _NO_PULL)
    else:  # each row's worked out in the kernel
        P = ctx.model.P
        interest, has = np.zeros((0, P, 2)), np.zeros((0, P, 2), dtype=bool)
    p = ctx.params
    line = np.empty_like(state.line)
    _line_and_drift(state.coalition, state.rung, state.power, state.position, state.ideal,
                    state.line, state.salience, state.threatened, state.bloc, state.standing,
                    interest, has, ctx.attr("opportunism"), ctx.model.opposition,
                    p["line_adjustment"], p["policy_drift"], p["base_pull"], p["policy_cost"],
                    z0, z1, line, np.ascontiguousarray(state.holder), *bases,
                    np.ascontiguousarray(ctx.model.tie, dtype=np.float64), p["tie_pull"])
    state.line = line
