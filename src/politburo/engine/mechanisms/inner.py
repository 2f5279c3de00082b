"""The inner body of the leadership: a Standing Committee of the Politburo (docs/model.md §7.13).

Read only where the scenario declares one (``bodies.inner``); without it nothing here runs and
no history changes.

Sources: the statutes of the CCP (the constitution adopted by the 11th Congress in August
1977, China fact base C162) have the committee's plenary session elect the Politburo, its
Standing Committee and the chairman and vice-chairmen, and the Politburo and its Standing
Committee act for the committee between its sessions. The Library of Congress's *China: A
Country Study* (R. L. Worden, A. M. Savada and R. E. Dolan, eds., 1987, "Central Committee and
Political Bureau", C163) describes the committee as too large and too seldom in session to
govern, so that it works through the Politburo and the still smaller Standing Committee, the
inner core of power, whose members held the chief posts of party and state. The China fact
base dates the Standing Committee's own meetings in the crisis of September and October 1976
(calendar.md, C37d, C5, C109) and its election at the plenums of July 1977, August 1977,
December 1978 and February 1980 (bases.md 2.2; C105, C14, C8, C19).

Election (``elect``). A meeting that gives the inner body a size (``inner_size``; only a kind
that elects the leadership body may, validate sees to it) fills it anew from the leadership
body's principals: the members of the ruling coalition first, by power, then the others, by
power, up to the size (ties: the lower index, as ``rows.rargmax`` breaks them). The coalition
fills the posts it controls with its own, as it takes the offices of the fallen (AES 2008;
Svolik 2012 on power-sharing among the ruling coalition); the rest go by strength. No rule
names anyone, and the members at the start are only the file's starting state.

Leaving (``leave``). A principal who leaves the leadership body (removed, arrested) leaves the
inner body with it; he can return only by a later election.

Effects. At a meeting of kind ``leadership`` the inner body meets in the leadership body's
place: its members vote, one vote each (``electorate``), where it has members. And an inner
seat carries visible power: the share ``inner_weight`` of the leadership body's weight in
power goes with the inner body's seats, each member's share of them (``shares``; used in
``power.power_parts``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from politburo.engine.rows import rsum
from politburo.engine.state import Context, State, bits


def shares(state: State) -> NDArray[np.float64]:
    """(H, P) each principal's share of the inner body's seats: 1/n for each of its n members,
    0 for everyone else (and everywhere in a history whose inner body is empty)."""
    seated = state.inner.astype(np.float64)
    return seated / np.maximum(rsum(seated)[:, None], 1.0)


def electorate(state: State, ctx: Context, fallback: NDArray[np.float64]
               ) -> NDArray[np.float64]:
    """(H, P + 1) the inner body as a voting body, in the form of a committee's loyalties:
    column ``j`` is 1/n for each of its n members (each votes with himself), the last column
    0. A history whose inner body has no member keeps ``fallback`` (the leadership body's
    votes): someone must meet."""
    P = ctx.model.P
    out = np.zeros((state.H, P + 1))
    out[:, :P] = shares(state)
    empty = ~state.inner.any(axis=1)
    out[empty] = fallback[empty]
    return out


def _log(state: State, ctx: Context, t: int, kind: str, who: NDArray[np.bool_], body: str,
         because: str, elected: bool) -> None:
    """One entry per history: everyone who entered (``inner_in``) or left (``inner_out``) the
    inner body at once; ``elected`` says whether by an election or with his leadership seat."""
    if state.log is None:
        return
    m = ctx.model
    for h in np.flatnonzero(who.any(axis=1)):
        state.log[h].append({
            "kind": kind, "step": t, "body": body, "inner": m.inner_name(),
            "actors": [m.principals[j] for j in np.flatnonzero(who[h])],
            "elected": elected, "because": because,
        })


def leave(state: State, ctx: Context, t: int, body: str = "") -> None:
    """Members who no longer sit in the leadership body leave the inner body."""
    if not ctx.model.has_inner():
        return
    gone = state.inner & ~state.in_politburo()
    if not gone.any():
        return
    state.inner &= ~gone
    _log(state, ctx, t, "inner_out", gone, body,
         f"a member who leaves the {ctx.model.bodies.leadership} leaves its "
         f"{ctx.model.inner_name()}", False)


def elect(state: State, ctx: Context, t: int, size: int, body: str = "") -> None:
    """The meeting elects the inner body anew: ``size`` seats for the leadership body's
    principals, the ruling coalition's members first, each group by power."""
    m = ctx.model
    if not m.has_inner() or size <= 0:
        return
    P = m.P
    seated = state.in_politburo()
    coal = bits(state.coalition, P) & seated
    # power lies in [0, 1], so the coalition's members (2 + power) come before the others
    score = np.where(seated, state.power + 2.0 * coal, -np.inf)
    order = np.argsort(-score, axis=1, kind="stable")[:, :min(size, P)]
    new = np.zeros_like(state.inner)
    rows = np.arange(state.H)[:, None]
    new[rows, order] = np.isfinite(score[rows, order])
    came, went = new & ~state.inner, state.inner & ~new
    how = (f"the meeting elected the {m.inner_name()} anew from the {m.bodies.leadership}'s "
           f"members, the ruling coalition's first and then the others, each by power, to "
           f"fill {size} seats")
    _log(state, ctx, t, "inner_out", went, body, f"{how}, and others took them", True)
    _log(state, ctx, t, "inner_in", came, body, how, True)
    state.inner = new
