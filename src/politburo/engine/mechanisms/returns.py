"""Return: a ruling coalition co-opts a fallen or outside leader back into the leadership.

The removal ladder only goes down, and readmission (``votes.administrative``) only brings an
expelled man back into the party. But rulers also bring men back: they co-opt those whose
cooperation they need or whose exclusion is a danger. Gandhi and Przeworski ("Cooperation,
cooptation, and rebellion under dictatorships", *Economics & Politics* 18, 2006) model the
dictator's choice: the more he needs the cooperation of outsiders and the stronger the outsiders'
threat, the more he concedes to them and the more spoils he shares; co-optation through the
party's institutions is how he does it. Svolik (*The Politics of Authoritarian Rule*, 2012,
ch. 6) makes the same point for the party itself: a regime party co-opts those it would
otherwise have to face.

The mechanism, at each meeting at which leadership seats change hands (a ``plenum``; it is read
only where the scenario gives ``return_rate``, and every scenario in which a principal starts
outside a body must): a leader who is in the party but outside the leadership, not in an
organised opposition and not under arrest, and whose last fall is at least ``ladder_gap``
months old, returns to the leadership and joins the ruling coalition with chance

    return_rate * standing * need

where ``standing`` is his effective standing against the best of the coalition's (at most 1:
his prestige is what co-opting him buys) and ``need`` the share of power the coalition does
not hold (what it lacks). A returned leader sits in the leadership and the committee again
(his followers in the committee are not restored: they went with his fall); the return is
recorded as a rise (``engine.histories.record_rises``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from politburo.engine.rows import rsum
from politburo.engine.state import RUNG, Context, State, bits, record


def apply(state: State, ctx: Context, t: int, eff: NDArray[np.float64],
          meeting: str) -> None:
    """Returns at this meeting (a plenum). ``eff`` is the effective standing (H, P)."""
    rate = ctx.params["return_rate"]
    if not (rate > 0).any():
        return
    P = ctx.model.P
    coal = bits(state.coalition, P)
    outside = ((state.rung >= RUNG["politburo"]) & (state.rung < RUNG["party"])
               & ~bits(state.bloc, P) & ~state.arrested
               & ((t - state.last_step) >= ctx.params["ladder_gap"][:, None]))
    candidates = outside & (state.coalition != 0)[:, None]
    if not candidates.any():
        return
    best = np.where(coal, eff, 0.0).max(axis=1, keepdims=True)
    standing = np.minimum(eff / np.maximum(best, 1e-12), 1.0)
    need = 1.0 - rsum(np.where(coal, state.power, 0.0))
    p = rate[:, None] * standing * np.clip(need, 0.0, 1.0)[:, None]
    u = ctx.u_actors(t, "return")
    back = candidates & (u < p)
    for i in range(P):
        rows = np.flatnonzero(back[:, i])
        if rows.size == 0:
            continue
        state.rung[rows, i] = 0
        state.last_step[rows, i] = t
        state.recant_used[rows, i] = False
        state.coalition[rows] |= np.int64(1) << i
        record(state, ctx, back[:, i], {
            "kind": "return", "step": t, "actors": [ctx.model.principals[i]],
            "body": meeting,
            "because": lambda h, s=standing[:, i], n=need: (
                f"the ruling coalition held {1 - n[h]:.0%} of power and co-opted him for his "
                f"standing ({s[h]:.0%} of its best)"),
        })
