"""The circular flow of power (R. V. Daniels).

Source: R. V. Daniels, "The Secretariat and the Local Organizations in the Russian Communist
Party, 1921-1923", *American Slavic and East European Review* 16(1), 1957, and *The Conscience
of the Revolution* (1960); summarised in facts.md section 7 [S66]. The General Secretary
reassigns provincial secretaries; the secretaries choose the delegates of the next conference or
congress; the congress elects the Central Committee; the CC elects the Politburo and the General
Secretary. Between congresses a plenum may co-opt members to the committee (``co_opt``), chosen
as a congress's would be. Fiefdoms (Leningrad, Moscow) send their own delegates while their boss
holds the organisation. Mass recruitment (the Lenin Enrolment, S74, S75) dilutes the old guard
with members whose loyalty follows the apparatus.

Every function takes the state, the context and the step, and changes the state in place.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from politburo.engine.rows import rany, rsum
from politburo.engine.state import Context, State


def activity(state: State, ctx: Context, t: int) -> NDArray[np.float64]:
    """How much of his power each principal can bring to bear (1, or less while ill)."""
    ill = [e for e in ctx.model.events
           if e.kind == "illness" and e.start <= t <= e.until and e.actor >= 0]
    if not ill:  # all at full strength: one read-only 1.0 seen by every history and leader,
        # not an (H, P) array held through the month (memory per history in flight, issue 16)
        return np.broadcast_to(1.0, (state.H, ctx.model.P))
    act = np.ones((state.H, ctx.model.P))
    for e in ill:
        act[:, e.actor] = ctx.params["illness_activity"]
    return act


def patronage(state: State, ctx: Context, t: int, act: NDArray[np.float64]) -> None:
    """The Secretariat replaces provincial secretaries with its own men, month by month.

    The monthly share replaced is ``patronage_rate`` times the square of the holder's
    ``organisation``: the post reaches as far as its holder's sustained attention to
    appointments ("Comrade File Cabinet", S64, S65). The square is an assumption: it makes a
    General Secretary who neglects the work (0.4) about a sixth as effective as one who lives
    for it (0.95), and one coded 0.5 a quarter as effective.
    """
    P = ctx.model.P
    org = ctx.attr("organisation")
    alive = state.in_party()
    # Every leader also wins some unaligned secretaries by his own work.
    gain = ctx.params["network_rate"][:, None] * org * act * alive
    take = np.minimum(rsum(gain), 0.5) * state.sec[:, P]
    share = gain / np.maximum(rsum(gain)[:, None], 1e-12)
    state.sec[:, :P] += take[:, None] * share
    state.sec[:, P] -= take
    g = ctx.model.gensec
    if g < 0:
        return
    holder = state.holder[:, g]
    ok = holder >= 0
    if not ok.any():
        return
    h_idx = np.flatnonzero(ok)
    who = holder[ok]
    rate = ctx.params["patronage_rate"][ok] * org[h_idx, who] ** 2 * act[h_idx, who]
    moved = state.sec[h_idx] * rate[:, None]
    moved[np.arange(h_idx.size), who] = 0.0
    state.sec[h_idx] -= moved
    state.sec[h_idx, who] += rsum(moved)


def enrolment(state: State, ctx: Context, t: int) -> None:
    """Mass recruitment: new members dilute the old guard."""
    for e in ctx.model.events:
        if e.kind == "enrolment" and e.start <= t <= e.until:
            months = e.until - e.start + 1
            new = e.size / months
            old = state.members * state.old_guard
            state.members = state.members + new
            state.old_guard = old / state.members


def opinion(state: State, ctx: Context, eff_standing: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rank-and-file loyalties (H, P+1): half follow prestige, half follow no one."""
    P = ctx.model.P
    out = np.empty((state.H, P + 1))
    # 0.5 * st / total, worked in the columns it fills: no (H, P) temporaries
    st = np.multiply(eff_standing, state.in_party(), out=out[:, :P])
    total = np.maximum(rsum(st)[:, None], 1e-12)
    st *= 0.5
    st /= total
    out[:, P] = 0.5
    return out


def delegates(
    state: State, ctx: Context, eff_standing: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Loyalties of a congress or conference (H, P+1), by Daniels' circular flow."""
    P = ctx.model.P
    op = opinion(state, ctx, eff_standing)
    loyal = ctx.params["enrolment_apparatus_loyalty"][:, None]
    recruits = 1.0 - state.old_guard[:, None]
    w = ctx.params["delegate_apparatus_weight"][:, None]
    # out = w * sec + (1 - w) * rank_and_file, where rank_and_file
    # = (1 - recruits) * op + recruits * (loyal * sec + (1 - loyal) * op); worked in place,
    # with fewer (H, P+1) arrays at once, and the same numbers (a product or a sum of two
    # floats is the same either way round)
    out = loyal * state.sec
    out += (1 - loyal) * op
    out *= recruits
    op *= 1 - recruits
    out += op  # rank_and_file
    out *= 1 - w
    out += np.multiply(w, state.sec, out=op)
    del op  # (before the fiefdoms' (H, P+1) array: fewer such arrays at once)
    fief_total = np.zeros(state.H)
    fief = np.zeros((state.H, P + 1))
    for o, share in enumerate(ctx.model.fiefdom):
        if share <= 0:
            continue
        holder = state.holder[:, o]
        mine = holder >= 0
        fief[np.flatnonzero(mine), holder[mine]] += share
        fief_total += share * mine
    # (1 - fief_total) * out + fief, in place: the same products and sums
    out *= (1 - fief_total)[:, None]
    out += fief
    return out


def elect_cc(state: State, ctx: Context, deleg: NDArray[np.float64], new_size: int) -> None:
    """A congress elects the CC: most members are re-elected, the enlargement goes to delegates."""
    if new_size <= 0:
        return
    keep = ctx.params["cc_retention"] * np.minimum(state.cc_size / new_size, 1.0)
    cc = keep[:, None] * state.cc  # a new array: others may hold the old one
    cc += (1 - keep)[:, None] * deleg
    state.cc = cc
    state.cc_size = np.full(state.H, float(new_size))


def co_opt(state: State, ctx: Context, deleg: NDArray[np.float64], added: int, *,
           t: int = 0, body: str = "") -> None:
    """A plenum co-opts ``added`` full members to the committee between congresses.

    Nobody leaves; the newcomers join the committee's loyalties with the weight of their number
    (``added / (cc_size + added)``) and follow ``deleg``, the loyalties a congress's newly
    elected would follow (``delegates``): the leadership proposes them from the cadres the
    apparatus has placed, as it proposes the congress's list (Daniels: co-option is one more
    turn of the circular flow, by which those the committee elects choose who sits in it;
    P. Roeder, *Red Sunset*, 1993, and S. Shirk, *The Political Logic of Economic Reform in
    China*, 1993, on "reciprocal accountability" between a leadership and the committee that
    selects it). No leader gains by rule: whoever the secretaries, the rank and file and the
    fiefdoms follow gains as the delegates' loyalties say.

    A run that records a log writes the co-option down at the meeting ``body`` of step ``t``,
    with whom the newcomers follow (``deleg``'s shares): the record changes nothing.
    """
    if added <= 0:
        return
    share = added / (state.cc_size + added)
    cc = (1 - share)[:, None] * state.cc  # a new array: others may hold the old one
    cc += share[:, None] * deleg
    state.cc = cc
    state.cc_size = state.cc_size + added
    if state.log is not None:
        _log_co_option(state, ctx, t, deleg, added, body)


FOLLOWED = 0.1
"""A leader whom at least this share of the newcomers follows is named as an actor of the
co-option's record (the record lists every share; this only says whom it is about)."""


def _log_co_option(state: State, ctx: Context, t: int, deleg: NDArray[np.float64], added: int,
                   body: str) -> None:
    """The co-option as a log entry: how many joined, the committee's new size, and the share of
    the newcomers that follows each leader (largest first) and no leader."""
    assert state.log is not None
    P, names = ctx.model.P, ctx.model.principals
    for h in range(state.H):
        order = sorted(range(P), key=lambda j: (-deleg[h, j], j))
        follow = [[names[j], round(float(deleg[h, j]), 4)] for j in order
                  if deleg[h, j] >= 0.005]
        state.log[h].append({
            "kind": "co_option", "step": t, "body": body,
            "actors": [names[j] for j in order if deleg[h, j] >= FOLLOWED],
            "added": int(added), "size": int(round(float(state.cc_size[h]))),
            "follow": follow, "unaligned": round(float(deleg[h, P]), 4),
            "because": "the leadership proposed them from the cadres the apparatus had "
                       "placed, so they followed the loyalties a congress's newly elected "
                       "would",
        })


def purge_followers(state: State, ctx: Context, who: NDArray[np.bool_]) -> None:
    """Followers of a leader removed from the CC lose their posts; the Secretariat fills them
    (Daniels): their share goes to the General Secretary's camp, or to no one if the post is
    vacant."""
    P = who.shape[1]
    g = ctx.model.gensec
    removed = np.flatnonzero(rany(who))
    for body in (state.sec, state.cc):
        # A history where nobody is removed moves a zero, which changes no share that is finite
        # and not -0.0: only the others are worked, unless some share of the body is not so.
        rows = (removed if np.isfinite(body).all() and not np.signbit(body).any()
                else np.arange(state.H))
        holder = state.holder[rows, g] if g >= 0 else np.full(rows.size, -1)
        part, w = body[rows], who[rows]
        moved = rsum(part[:, :P] * w)
        part[:, :P] *= ~w
        ok = holder >= 0
        k = np.flatnonzero(ok)
        part[k, holder[ok]] += moved[ok]
        part[~ok, P] += moved[~ok]
        body[rows] = part
