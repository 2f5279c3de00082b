"""Power: each principal's share, from his Central Committee following, his votes in the
Politburo (and, where the scenario has one, his seat in its inner body, ``mechanisms/inner``),
the offices he holds and his standing (docs/model.md section 7.1).

The institutional part (committee, Politburo, offices) follows Daniels' circular flow (S66): the
apparatus that names the provincial secretaries builds the following that elects the committee.
Prestige takes the uncertain share ``prestige_weight`` (S84: organisation, more than argument,
decided the contest), the rest is split in the scenario's fixed proportions.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from politburo.engine.mechanisms import clients, inner
from politburo.engine.mechanisms.offices import office_holdings
from politburo.engine.rows import rsum
from politburo.engine.state import Context, State


def power_parts(state: State, ctx: Context, eff: NDArray[np.float64],
                act: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Each principal's power from the CC, the Politburo, offices and standing (H, P)."""
    m, c, P = ctx.model, ctx.const, ctx.model.P
    alive = state.in_party()
    # Politburo votes: his own seat and his seated clients' loyalty, out of all seats filled
    # (a client's disloyal share of his vote is his own).
    pb = clients.politburo_votes(state, ctx) / np.maximum(
        clients.seats_filled(state)[:, None], 1e-12)
    if m.has_inner():  # the share inner_weight of the leadership's weight is its inner body's
        k = ctx.params["inner_weight"][:, None]
        pb = (1 - k) * pb + k * inner.shares(state)
    offices = state.by_holder("offices", lambda: office_holdings(
        state.holder, m.office_weight, P) / m.office_weight.sum())
    if m.client_offices():  # a client's office counts for his patron, as far as he is loyal
        offices = offices + clients.office_power(state, ctx) / m.office_weight.sum()
    st = eff * alive
    st = st / np.maximum(rsum(st)[:, None], 1e-12)
    # Prestige takes the share ``prestige_weight`` of power; the institutional rest is split
    # among the CC, the Politburo and offices in the scenario's fixed proportions.
    prestige = ctx.params["prestige_weight"][:, None]
    inst = c["power_weight_cc"] + c["power_weight_politburo"] + c["power_weight_offices"]
    scale = (1 - prestige) / inst
    apparatus = scale * (c["power_weight_cc"] * state.cc[:, :P]
                         + c["power_weight_offices"] * offices)
    visible = scale * c["power_weight_politburo"] * pb + prestige * st
    active = act * alive
    return {"apparatus": apparatus * active, "visible": visible * active}


def shares(parts: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
    raw = parts["apparatus"] + parts["visible"]
    return raw / np.maximum(rsum(raw)[:, None], 1e-12)
