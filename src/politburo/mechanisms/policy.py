"""Policy positions on two axes, the party line, and the cost of standing apart from it.

Axes after facts.md section 9: economy (NEP gradualism, -1, to forced industrialisation, +1) and
revolution (socialism in one country, -1, to permanent revolution, +1). The line starts at the
NEP of 1921 (S52) and has inertia: each month it moves the share ``line_adjustment`` of the way
toward the power-weighted position of the ruling coalition, and exogenous shocks displace it in
the month they strike (the 1925 adoption of socialism in one country, S110; the aim of
industrialisation, S30; the 1927 war scare, S100; the 1927-28 grain crisis, S53b). A dated
platform walks the leaders who adopt it to the position it states over its months: facts.md
records one such turn, Zinoviev's and Kamenev's to the left through 1925 (S29, S30b, S80).
While they sit in the ruling coalition, leaders move toward a point between the line and their
own convictions (``State.ideal``: the starting position, or the platform a leader has adopted),
weighted by their opportunism, at a rate that also scales with it: an opportunist follows the
line (Stalin's reversal of December 1924, S109, and his turn of 1928, S53, set the prior of
``policy_drift``), a man of conviction stays near his own ground inside a coalition (Trotsky
held to planning and party democracy from the New Course on, S24; the Right held to NEP
gradualism and opposed the emergency measures of 1928, S52, S54). Outside the coalition they
move toward their bloc's common platform (the United Opposition's, S33) or hold their ground.
Distance from the line costs standing each month. This is the spatial reading of the struggle in
Cohen's and Carr's accounts (S85, S84): what befalls the Right after 1928 follows from where its
leaders stand when the line moves, not from a script.
"""

from __future__ import annotations

import numpy as np

from politburo._rows import rsum
from politburo.state import Context, State, bits


def shocks(state: State, ctx: Context, t: int) -> None:
    """Exogenous shocks displace the line in the month they strike; a platform walks the leaders
    who adopt it, month by month, to the position it states (the New Opposition's turn through
    1925, S29, S80)."""
    for e in ctx.model.events:
        if e.kind == "policy_shock" and e.start == t:
            state.line[:, 0] += e.economy
            state.line[:, 1] += e.revolution
        elif e.kind == "platform" and e.start <= t <= e.until:
            # An even walk over the event's months, arriving at the platform in its last month.
            who = [p for p in (e.actor, *e.targets) if p >= 0]
            step = 1.0 / (e.until - t + 1)
            target = np.array([e.economy, e.revolution])
            state.position[:, who] += step * (target - state.position[:, who])
            state.ideal[:, who] += step * (target - state.ideal[:, who])  # they adopt it
    np.clip(state.line, -1.0, 1.0, out=state.line)


def line_and_drift(state: State, ctx: Context, t: int) -> None:
    P = ctx.model.P
    coal = bits(state.coalition, P) & state.in_party()
    w = state.power * coal
    none = rsum(w) <= 0
    w[none] = state.power[none]
    w = w / np.maximum(rsum(w)[:, None], 1e-12)
    centre = np.stack([rsum(w * state.position[:, :, 0]),
                       rsum(w * state.position[:, :, 1])], axis=1)
    adj = ctx.params["line_adjustment"][:, None]
    state.line = np.clip((1 - adj) * state.line + adj * centre, -1.0, 1.0)
    opp = ctx.attr("opportunism")
    rate = ctx.params["policy_drift"][:, None] * opp
    noise = 0.02 * np.stack([ctx.z_actors(t, "policy:economy"),
                             ctx.z_actors(t, "policy:revolution")], axis=2)
    # Members of the ruling coalition move toward the line as far as their opportunism takes
    # them, and no farther from their convictions; those outside it move toward the platform
    # of their bloc (the United Opposition's common programme), or hold their ground.
    target = opp[:, :, None] * state.line[:, None, :] + (1 - opp[:, :, None]) * state.ideal
    inside = bits(state.coalition, P)
    bloc = bits(state.bloc, P) & ~inside
    n = rsum(bloc)
    platform = np.stack([rsum(bloc * state.position[:, :, 0]),
                         rsum(bloc * state.position[:, :, 1])], axis=1) / np.maximum(n, 1)[:, None]
    target = np.where(bloc[:, :, None], platform[:, None, :], target)
    hold = ~inside & ~bloc
    target = np.where(hold[:, :, None], state.position, target)
    state.position += rate[:, :, None] * (target - state.position) + noise
    np.clip(state.position, -1.0, 1.0, out=state.position)
    d = state.position - state.line[:, None, :]
    dist = np.sqrt(d[:, :, 0] ** 2 + d[:, :, 1] ** 2)
    state.standing -= ctx.params["policy_cost"][:, None] * dist * state.in_party()
