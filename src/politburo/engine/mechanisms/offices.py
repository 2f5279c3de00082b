"""Offices: the weight each principal holds, and where a fallen leader's offices go
(docs/model.md section 7.7).

The members of the ruling coalition share out the loser's posts as spoils (Acemoglu, Egorov and
Sonin 2008, *Review of Economic Studies* 75(4)): each post goes to the member who holds least so
far, except the General Secretaryship, which the Central Committee elects (Daniels' circular
flow, S66) and gives to the coalition's strongest. The mechanisms that remove a man (motions,
arrests) receive ``transfer_offices`` from the month as an argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from politburo.engine.rows import rany, rargmax
from politburo.engine.state import RUNG, Context, State, bits
from politburo.scenario.compile import CLIENT, FOUNDER, VACANT


def office_holdings(holder: NDArray[np.integer[Any]], weight: NDArray[np.float64], P: int
                    ) -> NDArray[np.float64]:
    """(H, P) total weight of the offices each principal holds."""
    onehot = holder[:, :, None] == np.arange(P)[None, None, :]
    return np.einsum("hop,o->hp", onehot, weight)


def transfer_offices(state: State, ctx: Context, t: int, where: NDArray[np.bool_],
                     loser: int, only: int | None = None,
                     offices: NDArray[np.bool_] | None = None,
                     holder_code: int | None = None) -> None:
    """Offices of a fallen leader go to the coalition member holding least (AES spoils).

    ``only`` restricts the transfer to one office (the Testament's motion concerns the
    patronage office alone); ``offices`` (H, O) to the offices marked in each history (a
    session's state offices, or one office under ``offices_lost: one``). ``loser`` -1 is the
    founder. ``holder_code`` (with ``loser`` -1) takes the offices held under that code instead:
    a named client's, whose patron has fallen (``clients.offices_fall``). With no eligible
    successor the office falls vacant.
    """
    m, P = ctx.model, ctx.model.P
    rows = np.flatnonzero(where)
    if rows.size == 0:
        return
    code = holder_code if holder_code is not None else (loser if loser >= 0 else FOUNDER)
    was = (m.clients[CLIENT - code] if code <= CLIENT
           else m.principals[loser] if loser >= 0 else m.founder)
    holder = state.holder[rows]
    mine = holder == code
    if only is not None:
        mine[:, [o for o in range(len(m.offices)) if o != only]] = False
    if offices is not None:
        mine &= offices[rows]
    had_office = rany(mine)
    if not had_office.any():
        return
    seated = state.rung[rows] < RUNG["politburo"]  # (``in_politburo`` of these histories)
    coal = bits(state.coalition[rows], P) & seated
    if loser >= 0:
        coal[:, loser] = False
    # (every history, as when the founder dies: the state's own array, not a copy)
    power = state.power if rows.size == state.H else state.power[rows]
    held = np.zeros((rows.size, P))
    for o in range(len(m.offices)):
        ok = holder[:, o] >= 0
        held[np.flatnonzero(ok), holder[ok, o]] += m.office_weight[o]
    others = seated & (np.arange(P) != loser)[None, :]
    # Where the coalition has no member seated, the seated others by power. The scores are
    # worked in one (H, P) array (memory per history in flight, issue 16): ``1e-3 * power -
    # held`` is ``-held + 1e-3 * power`` exactly, and the masks put -inf where np.where would.
    nobody = ~rany(coal)
    for o in range(len(m.offices)):
        lose = mine[:, o]
        if not lose.any():
            continue
        if o == m.gensec:  # the CC elects the strongest of the coalition
            score = power.copy()
        else:
            score = np.multiply(1e-3, power)
            score -= held
        score[~coal] = -np.inf
        score[nobody] = np.where(others[nobody], power[nobody], -np.inf)
        new = rargmax(score)
        new = np.where(np.isfinite(score[np.arange(rows.size), new]), new, VACANT)
        holder[lose, o] = new[lose]
        filled = lose & (new >= 0)
        held[np.flatnonzero(filled), new[filled]] += m.office_weight[o]
        if state.log is not None:
            for k in np.flatnonzero(lose):
                state.log[rows[k]].append({
                    "kind": "office", "step": t, "office": m.office_names[o],
                    "actors": [m.principals[new[k]]] if new[k] >= 0 else [],
                    "from": was,
                    "body": m.bodies.committee,
                    "because": "the post fell vacant and went to a member of the ruling "
                               "coalition",
                })
    state.holder[rows] = holder
    if loser >= 0:
        first = rows[had_office & (state.falls[rows, loser, RUNG["office"] - 1] < 0)]
        state.falls[first, loser, RUNG["office"] - 1] = t
