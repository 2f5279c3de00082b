"""Who rules alone: a leader whose own and his clients' votes carry the Politburo and whose
followers carry the Central Committee (docs/model.md section 7.7; Daniels, S66; Gorlizki and
Khlevniuk, S100). Checked at the end of every month; rule, once won, is sticky."""

from __future__ import annotations

import numpy as np

from politburo.engine.mechanisms import clients
from politburo.engine.rows import rany, rargmax
from politburo.engine.state import Context, State


def consolidate(state: State, ctx: Context, t: int) -> None:
    """A leader rules alone when the majorities of both bodies that decide follow him without
    partners of independent standing: his own vote and his seated clients' loyal votes are a
    majority of the Politburo's seats, and his followers are a majority of the Central
    Committee, which elects the Politburo and the General Secretary (Daniels, S66). Until then
    he governs with partners who have bases of their own, as Stalin did with Rykov at Sovnarkom
    and Bukharin as chief ideologist into 1928 (Gorlizki and Khlevniuk, S100)."""
    P = ctx.model.P
    rows = np.arange(state.H)
    pb = clients.politburo_votes(state, ctx)
    seats = clients.seats_filled(state)
    cc = state.cc[:, :P] * ctx.const["client_loyalty"]
    alone = (pb > 0.5 * seats[:, None]) & (cc > 0.5) & state.in_politburo()
    rules = rany(alone)
    who = np.where(rules, rargmax(alone), -1)
    # Once a leader rules he keeps his rule while he stays in the Politburo and in the ruling
    # coalition; a dip in his majorities does not undo it.
    prev = state.cons_who
    keeps = (prev >= 0) & ~rules
    if keeps.any():
        p = np.maximum(prev, 0)
        inside = ((state.coalition >> p) & 1).astype(bool) & state.in_politburo()[rows, p]
        keeps &= inside
    who = np.where(rules, who, np.where(keeps, prev, -1))
    start = rules & (who != prev)
    state.cons_since = np.where(start, t, np.where(who >= 0, state.cons_since, -1))
    state.first_rule = np.where((state.first_rule < 0) & (who >= 0), t, state.first_rule)
    for h in np.flatnonzero(start):
        if state.log is not None:
            w = who[h]
            state.log[h].append({
                "kind": "consolidation", "step": t, "actors": [ctx.model.principals[w]],
                "body": ctx.model.bodies.leadership,
                "because": f"he and his clients held {pb[h, w]:.1f} of the "
                           f"{ctx.model.bodies.leadership}'s {seats[h]:.0f} votes and his "
                           f"followers {cc[h, w]:.0%} of the {ctx.model.bodies.committee}: he "
                           f"needed no partners with bases of their own",
            })
    state.cons_who = who
