"""Compiled twin of ``votes.motions``: the motions against outsiders at a meeting.

``votes.py`` is the specification (its docstring gives the model and its sources); these
kernels repeat its arithmetic in the same order, so both give the same bits
(tests/test_engine_nb.py). The kernels find who may be moved against and how keenly
(``votes.targets``) themselves, but for two things computed before them: each leader's dissent
(``policy_nb.dissent``, the twin of ``policy.dissent``) and NumPy's power ``threat_focus`` of
the threat he poses (``_threat`` computes the rest of ``votes.threat_keenness``; a compiled
power may round otherwise in the last bit). They take the draws of the streams ``motion:K``,
``recant:K`` and ``vote:K`` (``votes.draw_key``) where they are used, with
``rng.uniform_at`` and ``rng.normal_at``: a draw is a pure function of its coordinates, so
those taken have the bits of the specification's whole arrays there. What the kind of meeting
may do comes from the specification too: the steps it may take (``votes.steps_allowed``, the
file's ``rules.powers``), the offices it takes first (``votes.office_first``) and the share
that unseats a committee member (``votes.committee_majority``). The kernels know no meeting
kinds.

Principals are taken in id order, as the specification takes them: for each, ``_propose``
finds the motions brought and the logit of the unaligned members' vote; NumPy's own ``exp``
turns the logits into shares (a compiled ``exp`` may differ from NumPy's in the last bit);
``_decide`` takes the votes and carries out what passed, the purge of followers
(``circular_flow.purge_followers``) and the transfer of offices (``offices.transfer_offices``)
included, before the next principal's motions are brought. A run that records a log, or a
caller passing some other transfer than ``transfer_offices``, gets ``votes.motions`` itself.

``administrative`` is the twin of ``votes.administrative`` (capitulation, exile, deportation
and readmission, decided by the apparatus each month). Its kernel takes the draws of the
specification's four streams (``administrative:0`` to ``:3``, width one per principal) itself,
with ``rng.uniform_at``, and only for the leaders those steps can touch (the expelled and the
exiled whose last step is a month old); a draw is a pure function of its coordinates, so the
ones it takes have the bits the specification's whole arrays hold there. A run that records a
log gets ``votes.administrative`` itself.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.engine import rng
from politburo.engine.mechanisms import policy_nb, votes
from politburo.engine.mechanisms.offices import transfer_offices
from politburo.engine.state import LADDER, RUNG, Context, State, bits
from politburo.scenario.compile import LEADERSHIP, MeetingC

_CENSURE = RUNG["censure"]
_OFFICE = RUNG["office"]
_POLITBURO = RUNG["politburo"]
_CC = RUNG["central_committee"]
_PARTY = RUNG["party"]
_EXILE = RUNG["exile"]
_DEPORTATION = RUNG["deportation"]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _maximum(a: float, b: float) -> float:
    """``np.maximum`` of two numbers: NaN if either is."""
    if a != a or b != b:
        return a + b
    return a if a >= b else b


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _threat(coalition: NDArray[np.int64], bloc: NDArray[np.int64], rung: NDArray[np.integer[Any]],
            power: NDArray[np.float64]) -> NDArray[np.float64]:
    """``votes.threat_keenness`` up to the power ``threat_focus``, which NumPy takes (a
    compiled power may round otherwise in the last bit), for the leaders outside the ruling
    coalition and in the party (``_threat_of``)."""
    H, P = rung.shape
    chosen = np.empty((H, P), dtype=np.bool_)
    for h in range(H):
        for j in range(P):
            chosen[h, j] = ((coalition[h] >> j) & 1) == 0 and rung[h, j] < _PARTY
    return _threat_of(coalition, bloc, power, chosen)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _threat_of(coalition: NDArray[np.int64], bloc: NDArray[np.int64],
               power: NDArray[np.float64], chosen: NDArray[np.bool_]) -> NDArray[np.float64]:
    """``votes.threat_keenness`` up to the power ``threat_focus``: each leader in ``chosen``,
    his power (a bloc's members their bloc's, added left to right) relative to the strongest
    coalition member's, at most 1; 0 for the others."""
    H, P = power.shape
    out = np.empty((H, P))
    for h in range(H):
        together = 0.0
        ruler = 0.0
        nan = False
        for j in range(P):
            b = 1.0 if ((bloc[h] >> j) & 1) == 1 else 0.0
            together = power[h, j] * b if j == 0 else together + power[h, j] * b
            v = power[h, j] if ((coalition[h] >> j) & 1) == 1 else 0.0
            nan = nan or v != v
            if j == 0 or v > ruler:
                ruler = v
        if nan:
            ruler = np.nan
        den = ruler if ruler >= 1e-12 or ruler != ruler else 1e-12
        for j in range(P):
            threat = together if ((bloc[h] >> j) & 1) == 1 else power[h, j]
            x = (threat * (1.0 if chosen[h, j] else 0.0)) / den
            out[h, j] = x if x <= 1.0 or x != x else 1.0
    return out


def threat_keenness(state: State, ctx: Context, chosen: NDArray[np.bool_]
                    ) -> NDArray[np.float64]:
    """``votes.threat_keenness``, compiled but for NumPy's power ``threat_focus``."""
    rel = _threat_of(state.coalition, state.bloc, state.power, np.ascontiguousarray(chosen))
    return np.maximum(rel ** ctx.params["threat_focus"][:, None], bits(state.bloc, ctx.model.P))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _spared(h: int, target: int, coalition: NDArray[np.int64], rung: NDArray[np.integer[Any]],
            power: NDArray[np.float64], alpha: float) -> bool:
    """``votes.spared`` for history ``h``: the ruler (the coalition's first strongest member)
    spares ``target``'s seat where his seated partners would win without him and ``target``."""
    P = power.shape[1]
    best = power[h, 0] if (coalition[h] & 1) == 1 else -np.inf
    ruler = 0
    for j in range(1, P):
        x = power[h, j] if ((coalition[h] >> j) & 1) == 1 else -np.inf
        if x > best:  # rows.rargmax: the first maximum
            best = x
            ruler = j
    partners = 0.0
    rest = 0.0
    for j in range(P):
        seated = rung[h, j] < _POLITBURO
        w = 1.0 if (seated and ((coalition[h] >> j) & 1) == 1 and j != ruler) else 0.0
        v = 1.0 if (seated and j != target) else 0.0
        partners = power[h, j] * w if j == 0 else partners + power[h, j] * w
        rest = power[h, j] * v if j == 0 else rest + power[h, j] * v
    return partners > alpha * rest


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _propose(i: int, t: int, rung: NDArray[np.integer[Any]], last_step: NDArray[np.integer[Any]],
             holder: NDArray[np.integer[Any]], coalition: NDArray[np.int64],
             bloc: NDArray[np.int64], step_offices: NDArray[np.bool_], again: bool,
             first: NDArray[np.bool_], may: NDArray[np.bool_], gap: NDArray[np.float64],
             opposes: NDArray[np.float64], keen_power: NDArray[np.float64],
             arrested: NDArray[np.bool_], condemned: NDArray[np.bool_], faction_ban: float,
             power: NDArray[np.float64], alpha: NDArray[np.float64],
             motion_rate: NDArray[np.float64], restraint: NDArray[np.float64],
             index: NDArray[np.int64], move_stream: np.uint64, loyal: float,
             eff: NDArray[np.float64],
             body: NDArray[np.float64], sensitivity: NDArray[np.float64],
             ban_penalty: NDArray[np.float64], aloofness_cost: NDArray[np.float64],
             aloofness: NDArray[np.float64], act: NDArray[np.float64],
             step: NDArray[np.int64], rows: NDArray[np.int64], logit: NDArray[np.float64],
             partial: NDArray[np.float64]) -> int:
    """The motions against principal ``i``: the histories where one is brought in
    ``rows[:n]`` (n returned), with ``step[k]`` the rung it would take him to, ``logit[k]`` of
    the unaligned members' vote and ``partial[k]`` the body's expected share for the motion
    before theirs (``votes.next_rung``, the move of ``votes.motions`` and
    ``votes.yes_share``). How keenly the coalition moves is ``votes.targets``'s, from his
    dissent (``opposes``, ``policy.dissent``), the power he threatens (``keen_power``,
    ``votes.threat_keenness`` before the maximum with his bloc), his bloc or the charge of a
    condemned platform (``condemned``), his arrest and
    ``faction_ban`` (0.9 times the constant); the draw that decides whether a motion is
    brought (``motion:K``, ``move_stream``) is taken only where one may be."""
    H, P = rung.shape
    n_off = holder.shape[1]
    prob = np.empty(P)
    n = 0
    for h in range(H):
        # votes.targets: those outside the ruling coalition and in the party
        if ((coalition[h] >> i) & 1) == 1 or rung[h, i] >= _PARTY or coalition[h] == 0:
            continue
        r = rung[h, i]
        s = r + 1
        holds = False
        holds_first = False
        for o in range(n_off):
            if holder[h, o] == i:
                holds = holds or step_offices[o]
                holds_first = holds_first or first[o]
        if again and s == _POLITBURO and holds:
            s = _OFFICE
        if s == _OFFICE and not holds:
            s = _POLITBURO
        if holds_first and r < _PARTY:
            s = _OFFICE
        ready = (t - last_step[h, i]) >= gap[h] or r == 0
        if not (may[s] and ready):
            continue
        in_bloc = ((bloc[h] >> i) & 1) == 1
        b = 1.0 if in_bloc or condemned[h, i] else 0.0  # organised, or charged
        if s == _CENSURE:
            keen = 0.1 + 0.9 * _maximum(opposes[h, i], b)
        elif s == _OFFICE:
            keen = _maximum(keen_power[h, i], b)
        elif arrested[h, i]:
            keen = 1.0
        elif s == _POLITBURO and _spared(h, i, coalition, rung, power, alpha[h]):
            keen = 0.0
        else:
            keen = 0.1 + faction_ban * b
        rate = motion_rate[h] * (1 - restraint[h]) * keen
        if not rng.uniform_at(move_stream, index[h], i) < rate:
            continue
        # votes.yes_share for this history alone
        any_member = False
        for j in range(P):
            c = ((coalition[h] >> j) & 1) == 1
            p = loyal if c else 0.5
            if ((bloc[h] >> j) & 1) == 1 and in_bloc:
                p = 1 - loyal
            prob[j] = p
            any_member = any_member or (c and rung[h, j] < _PARTY)
        prob[i] = 1 - loyal
        count = 0.0
        total = 0.0
        for j in range(P):
            if any_member:
                m = ((coalition[h] >> j) & 1) == 1 and rung[h, j] < _PARTY
            else:  # without a coalition behind the motion, the other leaders in the party
                m = rung[h, j] < _PARTY and j != i
            w = 1.0 if m else 0.0
            count = w if j == 0 else count + w
            total = eff[h, j] * w if j == 0 else total + eff[h, j] * w
        count = max(count, 1.0)
        x = sensitivity[h] * (total / count - eff[h, i])
        x = x + ban_penalty[h] * (1.0 if in_bloc else 0.0)
        x = x + aloofness_cost[h] * aloofness[h, i]
        x = x + (1 - act[h, i])
        acc = body[h, 0] * prob[0]
        for j in range(1, P):
            acc += body[h, j] * prob[j]
        rows[n] = h
        step[n] = s
        logit[n] = x
        partial[n] = acc
        n += 1
    return n


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _decide(i: int, t: int, rows: NDArray[np.int64], step: NDArray[np.int64],
            partial: NDArray[np.float64], unaligned: NDArray[np.float64],
            body: NDArray[np.float64], index: NDArray[np.int64], recant_stream: np.uint64,
            defiance: NDArray[np.float64], recant_cost: NDArray[np.float64],
            vote_noise: NDArray[np.float64], vote_stream: np.uint64,
            recant_used: NDArray[np.bool_], standing: NDArray[np.float64],
            blind: NDArray[np.float64], rung: NDArray[np.integer[Any]],
            last_step: NDArray[np.integer[Any]], falls: NDArray[np.integer[Any]],
            sec: NDArray[np.float64], cc: NDArray[np.float64], holder: NDArray[np.integer[Any]],
            coalition: NDArray[np.int64], power: NDArray[np.float64],
            office_weight: NDArray[np.float64], gensec: int,
            take_ok: NDArray[np.bool_], take_one: bool, member_need: float) -> None:
    """The votes on the motions against principal ``i`` brought in ``rows``, and what
    follows: recanting, a failed purge's lesson, the fall, the purge of his followers and
    the transfer of his offices (``votes.motions``). The draws are taken where they are
    used: whether he recants (``recant:K``, ``recant_stream``) where he may, the vote's noise
    (``vote:K``, ``vote_stream``) where a vote is taken."""
    H, P = rung.shape
    n_off = holder.shape[1]
    n = rows.shape[0]
    purged = np.zeros(H, dtype=np.bool_)
    loses = np.zeros(n, dtype=np.bool_)
    any_purged = False
    for k in range(n):
        h = rows[k]
        s = step[k]
        expect = partial[k] + body[h, P] * unaligned[k]
        need = member_need if rung[h, i] < _CC and s >= _CC else 0.5  # votes.majority_needed
        # Recanting buys time once before expulsion (votes.motions)
        if (expect > need and s >= _CC and not recant_used[h, i]
                and rng.uniform_at(recant_stream, index[h], i) > defiance[h, i]):
            standing[h, i] *= 1 - recant_cost[h]
            recant_used[h, i] = True
            continue
        share = expect + vote_noise[h] * rng.normal_at(vote_stream, index[h], i)
        share = 0.0 if share < 0.0 else 1.0 if share > 1.0 else share
        if not share > need:
            blind[h] *= 0.5  # a failed purge shows rivals where power lies
            standing[h, i] += 0.05
            continue
        rung[h, i] = rung[h, i] if rung[h, i] >= s else s
        last_step[h, i] = t
        if falls[h, i, s - 1] < 0:
            falls[h, i, s - 1] = t
        if s >= _CC:
            purged[h] = True
            any_purged = True
        loses[k] = s >= _OFFICE
    if any_purged:
        _purge(i, purged, sec, holder, gensec)
        _purge(i, purged, cc, holder, gensec)
    mine = np.empty(n_off, dtype=np.bool_)
    coal = np.empty(P, dtype=np.bool_)
    held = np.empty(P)
    for k in range(n):
        if not loses[k]:
            continue
        h = rows[k]
        # votes.offices_taken
        top = -1
        best = -np.inf
        for o in range(n_off):
            mine[o] = holder[h, o] == i and take_ok[o]
            if mine[o] and (top < 0 or office_weight[o] > best):
                top = o
                best = office_weight[o]
        if take_one:
            for o in range(n_off):
                mine[o] = o == top
        if top < 0:
            continue
        _transfer_row(h, i, t, mine, holder, coalition, rung, power, office_weight, gensec,
                      falls, coal, held)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _purge(i: int, purged: NDArray[np.bool_], body: NDArray[np.float64],
           holder: NDArray[np.integer[Any]], gensec: int) -> None:
    """``circular_flow.purge_followers`` of principal ``i`` in the histories ``purged``: his
    followers' share of ``body`` goes to the General Secretary's camp, or to no one. Like its
    twin it touches every history; those not purged add their nothing (+0.0)."""
    H, P = holder.shape[0], body.shape[1] - 1
    for h in range(H):
        g = holder[h, gensec] if gensec >= 0 else -1
        moved = body[h, 0] * (1.0 if purged[h] and i == 0 else 0.0)
        for j in range(1, P):
            moved += body[h, j] * (1.0 if purged[h] and i == j else 0.0)
        for j in range(P):
            body[h, j] *= 0.0 if purged[h] and i == j else 1.0
        body[h, g if g >= 0 else P] += moved


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _transfer_row(h: int, loser: int, t: int, mine: NDArray[np.bool_],
                  holder: NDArray[np.integer[Any]], coalition: NDArray[np.int64],
                  rung: NDArray[np.integer[Any]], power: NDArray[np.float64],
                  office_weight: NDArray[np.float64], gensec: int, falls: NDArray[np.integer[Any]],
                  coal: NDArray[np.bool_], held: NDArray[np.float64]) -> None:
    """``offices.transfer_offices`` of the offices ``mine`` that ``loser`` holds in history
    ``h``: each goes to the member of the ruling coalition holding least, the General
    Secretaryship to its strongest; with no coalition, to the strongest in the Politburo."""
    P = rung.shape[1]
    n_off = holder.shape[1]
    any_coal = False
    for p in range(P):
        coal[p] = (((coalition[h] >> p) & 1) == 1 and rung[h, p] < _POLITBURO
                   and p != loser)
        any_coal = any_coal or coal[p]
        held[p] = 0.0
    for o in range(n_off):
        if holder[h, o] >= 0:
            held[holder[h, o]] += office_weight[o]
    for o in range(n_off):
        if not mine[o]:
            continue
        new = 0
        best = -np.inf
        for p in range(P):
            if any_coal:
                if not coal[p]:
                    v = -np.inf
                elif o == gensec:
                    v = power[h, p]
                else:
                    v = -held[p] + 1e-3 * power[h, p]
            else:
                v = power[h, p] if rung[h, p] < _POLITBURO and p != loser else -np.inf
            if p == 0 or v > best:
                new = p
                best = v
        if np.isfinite(best):
            holder[h, o] = new
            held[new] += office_weight[o]
        else:
            holder[h, o] = -1  # vacant
    if falls[h, loser, _OFFICE - 1] < 0:
        falls[h, loser, _OFFICE - 1] = t


def motions(
    state: State, ctx: Context, t: int, meeting: MeetingC, body: NDArray[np.float64],
    eff_standing: NDArray[np.float64], act: NDArray[np.float64],
    restraint: NDArray[np.float64] | float,
    transfer: object,
) -> None:
    """``votes.motions``, compiled."""
    if state.log is not None or transfer is not transfer_offices:
        votes.motions(state, ctx, t, meeting, body, eff_standing, act, restraint, transfer)
        return
    m, p, H = ctx.model, ctx.params, state.H
    key = votes.draw_key(meeting)
    streams = [rng.stream(ctx.seed, t, f"{purpose}:{key}")
               for purpose in ("motion", "recant", "vote")]
    index = np.ascontiguousarray(ctx.index, dtype=np.int64)
    # votes.targets: the keenness to take power from a rival, whose power NumPy takes
    keen_power = _threat(state.coalition, state.bloc, state.rung, state.power)
    keen_power **= p["threat_focus"][:, None]  # (in place: one (H, P) array, not two)
    opposes = policy_nb.dissent(state)
    faction_ban = 0.9 * ctx.const["faction_ban"]
    changeable = m.changeable(meeting.kind)
    again = changeable is not None or m.offices_lost == "one"
    may = votes.steps_allowed(m, meeting.kind, np.arange(len(LADDER) + 2))  # by next rung
    first = votes.office_first(m, meeting.kind)
    # the offices that count for the next step (votes.next_rung) and that a motion for loss
    # of office takes (votes.offices_taken)
    ok = changeable if again and changeable is not None else np.ones(len(m.offices), bool)
    loyal = 1.0 if meeting.kind == LEADERSHIP else float(ctx.const["client_loyalty"])
    hold_back = np.full(H, restraint, dtype=np.float64) if np.isscalar(restraint) else restraint
    step = np.empty(H, dtype=np.int64)
    rows = np.empty(H, dtype=np.int64)
    logit = np.empty(H)
    partial = np.empty(H)
    for i in range(m.P):
        n = _propose(i, t, state.rung, state.last_step, state.holder, state.coalition,
                     state.bloc, ok, again, first, may, p["ladder_gap"], opposes, keen_power,
                     state.arrested, state.condemned, faction_ban, state.power,
                     p["winning_threshold"],
                     p["motion_rate"], hold_back, index,
                     streams[0], loyal, eff_standing, body,
                     p["standing_sensitivity"], p["faction_ban_penalty"], p["aloofness_cost"],
                     ctx.attr("aloofness"), act, step, rows, logit, partial)
        if n == 0:
            continue
        _decide(i, t, rows[:n], step[:n], partial[:n], votes.sigmoid(logit[:n]), body, index,
                streams[1], ctx.attr("defiance"), p["recant_cost"], p["vote_noise"], streams[2],
                state.recant_used, state.standing, state.blind, state.rung, state.last_step,
                state.falls, state.sec, state.cc, state.holder, state.coalition, state.power,
                m.office_weight, m.gensec, ok, again and m.offices_lost == "one",
                float(votes.committee_majority(m, meeting)))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fall(h: int, i: int, r: int, t: int, rung: NDArray[np.integer[Any]],
          last_step: NDArray[np.integer[Any]], falls: NDArray[np.integer[Any]]) -> None:
    rung[h, i] = r
    last_step[h, i] = t
    if falls[h, i, r - 1] < 0:
        falls[h, i, r - 1] = t


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _administrative(t: int, index: NDArray[np.int64], streams: NDArray[np.uint64],
                    rung: NDArray[np.integer[Any]], last_step: NDArray[np.integer[Any]],
                    falls: NDArray[np.integer[Any]], recanted: NDArray[np.bool_],
                    recant_used: NDArray[np.bool_], arrested: NDArray[np.bool_],
                    condemned: NDArray[np.bool_], defiance: NDArray[np.float64],
                    capitulation_rate: NDArray[np.float64],
                    exile_rate: NDArray[np.float64], deport_rate: NDArray[np.float64],
                    readmission_rate: NDArray[np.float64]) -> None:
    """``votes.administrative`` for each history and principal; ``streams`` holds the keys of
    the draws ``administrative:0`` (exile), ``:1`` (deportation), ``:2`` (capitulation) and
    ``:3`` (readmission). Who is expelled or exiled is read before any step is taken, as the
    specification reads it; each leader takes at most one step."""
    H, P = rung.shape
    for h in range(H):
        for i in range(P):
            r = rung[h, i]
            if (r != _PARTY and r != _EXILE) or not (t - last_step[h, i]) >= 1:
                continue
            x = index[h]
            if r == _EXILE:
                if rng.uniform_at(streams[1], x, i) < deport_rate[h]:
                    _fall(h, i, _DEPORTATION, t, rung, last_step, falls)
            elif not recanted[h, i]:
                # the expelled may capitulate; the unrepentant may be sent into exile
                if (rng.uniform_at(streams[2], x, i)
                        < capitulation_rate[h] * (1 - defiance[h, i])):
                    recanted[h, i] = True
                elif rng.uniform_at(streams[0], x, i) < exile_rate[h]:
                    _fall(h, i, _EXILE, t, rung, last_step, falls)
            elif rng.uniform_at(streams[3], x, i) < readmission_rate[h]:
                rung[h, i] = _CC
                last_step[h, i] = t
                recanted[h, i] = False
                recant_used[h, i] = False
                arrested[h, i] = False
                condemned[h, i] = False


def administrative(state: State, ctx: Context, t: int) -> None:
    """``votes.administrative``, compiled."""
    if state.log is not None:
        votes.administrative(state, ctx, t)
        return
    p = ctx.params
    streams = np.array([rng.stream(ctx.seed, t, f"administrative:{k}") for k in range(4)],
                       dtype=np.uint64)
    index = np.ascontiguousarray(ctx.index, dtype=np.int64)
    _administrative(t, index, streams, state.rung, state.last_step, state.falls, state.recanted,
                    state.recant_used, state.arrested, state.condemned, ctx.attr("defiance"),
                    p["capitulation_rate"], p["exile_rate"], p["deport_rate"],
                    p["readmission_rate"])
