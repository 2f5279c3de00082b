"""Compiled twins of ``coalitions.policy_gap``, ``coalitions.update_bloc`` and ``coalitions.form``.

``coalitions.py`` is the specification (its docstring gives the model and its sources); these
kernels repeat its arithmetic in the same order, so both give the same bits
(tests/test_engine_nb.py). ``update_bloc`` is compiled for the months the scenario's own
mechanisms decide; a world with ``platform`` or ``alliance`` events (a lever's), and a run that
records a log, use ``coalitions.update_bloc`` itself. The kernel finds the lone mover whom no
leader joined; whether his followers sign is ``coalitions.followers_sign``, shared by both.
``form`` plays the AES game with ``coalitions.ruling_one``, the kernel the NumPy engine uses.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.engine import rng
from politburo.engine.mechanisms import coalitions
from politburo.engine.mechanisms.policy import DISSENT_FULL
from politburo.engine.mechanisms.policy_nb import apart2
from politburo.engine.state import RUNG, Context, State, pair

_pair = numba.njit(cache=True, nogil=True, inline="always")(pair)

_PARTY = RUNG["party"]
_POLITBURO = RUNG["politburo"]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
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


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _grudged(g: float, e: float) -> float:
    """One distance ``g`` stretched by the enmity ``e`` (``coalitions.grudge``); a share of 1.0
    left by no enmity divides nothing."""
    if e == 0:
        return g
    left = 1.0 - e
    return g / (left if left > 1e-12 else 1e-12)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def grudge_row(h: int, position: NDArray[np.float64], salience: NDArray[np.float64],
               aloof: NDArray[np.float64], cost: float, enmity: NDArray[np.float64],
               out: NDArray[np.float64]) -> None:
    """``coalitions.grudge`` of ``gap_row`` for history ``h`` into ``out[:P, :P]``. A pair's
    distance is worked out once for both orders: ``apart2`` and the aloofness stretch give the
    same bits either way round (a - b is exactly -(b - a), and the sum of two aloofnesses does
    not depend on their order), and so does its enmity, which is symmetric (``State.enmity``
    holds the pairs i < j in this loop's order); nobody is his own enemy, and a share of 1.0
    left by no enmity divides nothing."""
    P = position.shape[1]
    s0 = salience[h, 0]
    s1 = salience[h, 1]
    q = 0  # the column of the pair (i, j) in ``enmity``: ``state.pair``
    for i in range(P):
        for j in range(i, P):
            g = apart2(position[h, i, 0], position[h, i, 1], position[h, j, 0],
                       position[h, j, 1], s0, s1)
            g = g * (1 + cost * (aloof[h, i] + aloof[h, j]) / 2)
            if j == i:
                out[i, i] = g
            else:
                out[i, j] = out[j, i] = _grudged(g, enmity[h, q])
                q += 1


@numba.njit(cache=True, nogil=True, error_model="numpy")
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


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _update_bloc(coalition: NDArray[np.int64], core: NDArray[np.int64],
                 bloc_mask: NDArray[np.int64], rung: NDArray[np.integer[Any]],
                 threatened: NDArray[np.bool_], enmity: NDArray[np.float64],
                 position: NDArray[np.float64], salience: NDArray[np.float64],
                 aloof: NDArray[np.float64], may: NDArray[np.bool_], tie: NDArray[np.float64],
                 index: NDArray[np.int64], u: np.uint64, u_enmity: np.uint64,
                 u_tie: np.uint64, formation: NDArray[np.float64],
                 aloofness_cost: NDArray[np.float64], founder_restraint: NDArray[np.float64],
                 founder_on: bool, span: NDArray[np.float64], tie_pull: NDArray[np.float64],
                 line: NDArray[np.float64], lone: NDArray[np.int64]) -> None:
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
        lone[h] = -1
        for p in range(P):
            moving[p] = False
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
                recruits[p] = False
                if not outsider[p]:
                    continue  # (moving stays False, and his draw is not needed)
                pr = formation[h] * (1 - aloofness_cost[h] * aloof[h, p])
                # times his dissent from the line (policy.dissent)
                far = apart2(position[h, p, 0], position[h, p, 1], line[h, 0], line[h, 1],
                             salience[h, 0], salience[h, 1]) / DISSENT_FULL
                pr = pr * (far if far < 1.0 else 1.0)
                if founder_on:
                    pr = pr * (1 - founder_restraint[h])
                moving[p] = rng.uniform_at(u, index[h], p) < pr
                any_moving = any_moving or moving[p]
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
                    if not mate:
                        continue  # (partner stays False)
                    pull = 0.0
                    for j in range(P):
                        x = (1.0 if moving[j] else 0.0) * tie[j, i]
                        if j == 0 or not pull > x:  # np.maximum(pull, x)
                            pull = x
                    partner[i] = rng.uniform_at(u_tie, index[h], i) < tie_pull[h] * pull
            for p in range(P):
                recruits[p] = recruits[p] or partner[p]
            for i in range(P):
                if not recruits[i]:
                    continue  # (join stays False)
                worst = 0.0
                for j in range(P):
                    e = 0.0 if j == i else enmity[h, _pair(i, j, P)]
                    x = e * (1.0 if (recruits[j] or bloc[j]) else 0.0)
                    if j == 0 or not worst > x:  # np.maximum(worst, x)
                        worst = x
                join[i] = rng.uniform_at(u_enmity, index[h], i) >= worst
            if any_moving:  # one platform, one line: within the span of every other member
                for i in range(P):
                    fits = True
                    for j in range(P):
                        if (join[j] or bloc[j]) and gap[i, j] > span[h]:
                            fits = False
                    recruits[i] = join[i] and fits
                for i in range(P):
                    join[i] = recruits[i]
        n = 0
        for p in range(P):
            n += int(join[p]) + int(bloc[p])
        gone = 0
        mask = 0
        for p in range(P):
            if n == 1 and join[p] and moving[p]:
                lone[h] = p  # whether his followers sign is decided outside the kernel
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
    lone = np.empty(state.H, dtype=np.int64)
    # the draws of the streams ``bloc``, ``bloc:enmity`` and ``bloc:tie``, taken in the kernel
    # where they are used (``rng.uniform_at`` gives the bits of ``ctx.u_actors``)
    _update_bloc(state.coalition, state.core, state.bloc, state.rung, state.threatened,
                 state.enmity, state.position, state.salience, ctx.attr("aloofness"),
                 m.opposition, m.tie, np.ascontiguousarray(ctx.index, dtype=np.int64),
                 rng.stream(ctx.seed, t, "bloc"), rng.stream(ctx.seed, t, "bloc:enmity"),
                 rng.stream(ctx.seed, t, "bloc:tie"),
                 p["opposition_formation"], p["aloofness_cost"], p["founder_restraint"],
                 bool(state.founder_on), p["coalition_span"], p["tie_pull"], state.line, lone)
    signed, _ = coalitions.followers_sign(state, ctx, t, lone)
    rows = np.flatnonzero(signed)
    state.bloc[rows] |= np.int64(1) << lone[rows]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _form(apparatus: NDArray[np.float64], visible: NDArray[np.float64],
          blind: NDArray[np.float64], profile: NDArray[np.float64], rung: NDArray[np.integer[Any]],
          bloc_mask: NDArray[np.int64], coalition: NDArray[np.int64],
          core_mask: NDArray[np.int64], players_prev: NDArray[np.int64],
          was_in: NDArray[np.bool_], cc: NDArray[np.float64], client_loyalty: float,
          position: NDArray[np.float64], salience: NDArray[np.float64],
          aloof: NDArray[np.float64], aloofness_cost: NDArray[np.float64],
          alpha: NDArray[np.float64], span: NDArray[np.float64],
          plays: bool, founder_pos: NDArray[np.float64], founder_weight: NDArray[np.float64],
          replay: bool, sole: NDArray[np.int64], threatened: NDArray[np.bool_],
          founder_in: NDArray[np.bool_], enmity: NDArray[np.float64]) -> None:
    H, P = rung.shape
    n = P + 1 if plays else P
    F = (1 << P) if plays else 0
    idx = np.empty(n, dtype=np.int64)  # scratch for ``coalitions.ruling_one``
    near = np.empty(n, dtype=np.int64)
    gamma = np.empty(1 << n)
    flags = np.empty(1 << n, dtype=np.uint8)
    perc = np.empty(n)
    gap = np.zeros((n, n))
    real = np.empty(P)
    inpb = np.empty(P, dtype=np.bool_)
    for h in range(H):
        b = blind[h]
        players = 0
        nb = 0
        lead = -1
        for p in range(P):
            inpb[p] = rung[h, p] < _POLITBURO
            x = (visible[h, p] * (1 + b * profile[h, p])
                 + apparatus[h, p] * (1 - b * (1 - profile[h, p])))
            perc[p] = x * (1.0 if inpb[p] else 0.0)
            if inpb[p] and perc[p] > 0:
                players |= 1 << p
            if ((bloc_mask[h] >> p) & 1) == 1 and inpb[p]:
                nb += 1
                if lead < 0:
                    lead = p
        has_bloc = nb >= 2
        blocm = 0
        if has_bloc:
            tot = 0.0
            first = True
            for p in range(P):
                inb = ((bloc_mask[h] >> p) & 1) == 1 and inpb[p]
                x = perc[p] * (1.0 if inb else 0.0)
                tot = x if first else tot + x
                first = False
                if inb:
                    blocm |= 1 << p
            for p in range(P):
                if (blocm >> p) & 1:
                    perc[p] = 0.0
            perc[lead] = tot
            players = players & ~(blocm & ~(1 << lead))
        grudge_row(h, position, salience, aloof, aloofness_cost[h], enmity, gap)
        if plays:
            w = founder_weight[h]
            sp = perc[0]
            for p in range(1, P):
                sp += perc[p]
            den = 1 - w
            den = den if den > 1e-12 else 1e-12
            perc[P] = w / den * sp
            s0 = salience[h, 0]
            s1 = salience[h, 1]
            for p in range(P):
                d = apart2(founder_pos[h, 0], founder_pos[h, 1], position[h, p, 0],
                           position[h, p, 1], s0, s1)
                d = d * (1 + aloofness_cost[h] * aloof[h, p] / 2)
                gap[P, p] = d
                gap[p, P] = d
            gap[P, P] = 0.0
            players |= F
        wi = was_in[h]
        sitting = (coalition[h] | (F if wi else 0)) & players
        total = 0.0
        held = 0.0
        for p in range(n):
            x = perc[p] * (1.0 if (players >> p) & 1 else 0.0)
            y = perc[p] * (1.0 if (sitting >> p) & 1 else 0.0)
            total = x if p == 0 else total + x
            held = y if p == 0 else held + y
        a = alpha[h]
        stands = (coalition[h] != 0 or wi) and players == players_prev[h] and held > a * total
        mine = core_mask[h] & players
        widest = 0.0
        n_core = 0
        for i in range(n):
            if (mine >> i) & 1:
                n_core += 1
                for j in range(n):
                    if (mine >> j) & 1 and gap[i, j] > widest:
                        widest = gap[i, j]
        stands = stands and widest <= span[h]
        if replay:
            stands = False
        if stands and n_core > 1:
            inner = coalitions.ruling_one(perc, mine, a, gap, span[h], idx, near, gamma, flags)
            if inner != mine:
                stands = False
        coal = core_mask[h]
        if not stands:
            coal = coalitions.ruling_one(perc, players, a, gap, span[h], idx, near, gamma, flags)
        players_prev[h] = players
        # a leader who needs no partners
        for p in range(P):
            real[p] = (apparatus[h, p] + visible[h, p]) * (1.0 if inpb[p] else 0.0)
        top = 0
        everyone = real[0]
        for p in range(1, P):
            everyone += real[p]
            if real[p] > real[top]:
                top = p
        if plays:
            den = 1 - founder_weight[h]
            everyone = everyone / (den if den > 1e-12 else 1e-12)
        alone = real[top] > a * everyone
        boss = 0
        best = cc[h, 0] * client_loyalty * (1.0 if inpb[0] else 0.0)
        for p in range(1, P):
            x = cc[h, p] * client_loyalty * (1.0 if inpb[p] else 0.0)
            if x > best:
                best = x
                boss = p
        majority = best > 0.5
        if majority and not alone:
            top = boss
        alone = alone or majority
        sole[h] = top if alone else -1
        core = (1 << top) if alone else coal
        core_mask[h] = core
        inner_core = core & players
        core_power = 0.0
        for p in range(n):
            x = perc[p] * (1.0 if (inner_core >> p) & 1 else 0.0)
            core_power = x if p == 0 else core_power + x
        # the like-minded join the core (``with_like_minded``)
        out = core
        if core != 0:
            for j in range(n):
                worst = 0.0
                for i in range(n):
                    x = gap[i, j] if (core >> i) & 1 else 0.0
                    if i == 0 or x > worst:
                        worst = x
                free = True
                if j < P:
                    free = inpb[j] and not ((bloc_mask[h] >> j) & 1) == 1
                if worst <= span[h] and free:
                    out |= 1 << j
        if has_bloc and (out >> lead) & 1:
            out |= blocm
        n_in = 0
        for p in range(n):
            if (core >> p) & 1:
                n_in += 1
        # ``coalitions.rival_outside``: nobody is dispensable while a rival stronger than any
        # of them stands outside
        best_out = 0.0
        best_in = 0.0
        for p in range(P):
            if (players >> p) & 1:
                if (out >> p) & 1:
                    if perc[p] > best_in:
                        best_in = perc[p]
                elif perc[p] > best_out:
                    best_out = perc[p]
        rival = best_out > best_in
        for p in range(P):
            ic = ((core >> p) & 1) == 1
            spare = (core_power - perc[p] * (1.0 if ic else 0.0)) > a * total
            threatened[h, p] = (((out >> p) & 1) == 1 and ((not ic) or (spare and n_in > 1))
                                and not rival)
        founder_in[h] = (out & F) != 0
        coalition[h] = out & ~F


def form(state: State, ctx: Context, t: int, parts: dict[str, NDArray[np.float64]],
         replay: bool = False) -> None:
    """``coalitions.form``, compiled."""
    P = ctx.model.P
    plays = bool(state.founder_on and state.founder_pos is not None)
    was_in = (state.founder_in.copy() if state.founder_in is not None
              else np.zeros(state.H, dtype=bool))
    p = ctx.params
    sole = np.empty(state.H, dtype=np.int64)
    threatened = np.empty((state.H, P), dtype=bool)
    founder_in = np.empty(state.H, dtype=bool)
    coalition = state.coalition.copy()
    core = state.core.copy()
    players = state.players.copy()
    fpos = state.founder_pos if state.founder_pos is not None else np.zeros((state.H, 2))
    _form(parts["apparatus"], parts["visible"], state.blind, ctx.attr("public_profile"),
          state.rung, state.bloc, coalition, core, players, was_in, state.cc,
          float(ctx.const["client_loyalty"]), state.position, state.salience,
          ctx.attr("aloofness"), p["aloofness_cost"], p["winning_threshold"],
          p["coalition_span"], plays, fpos, p["founder_weight"], bool(replay), sole,
          threatened, founder_in, state.enmity)
    state.coalition, state.core, state.players = coalition, core, players
    state.sole, state.threatened, state.founder_in = sole, threatened, founder_in
