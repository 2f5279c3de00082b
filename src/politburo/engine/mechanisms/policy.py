"""Policy positions on two axes, the party line, institutional bases, crises and salience.

Axes after facts.md section 9: economy (NEP gradualism, -1, to forced industrialisation, +1) and
revolution (socialism in one country, -1, to permanent revolution, +1).

*Salience.* An axis that nobody contests yet counts for little when leaders measure how far
apart they stand: before the doctrine debate of late 1924 the question of socialism in one
country had not been put (Stalin's own first edition of *Foundations of Leninism* still held
that final victory needed revolution abroad, S109), so distances on the revolution axis are
scaled by ``salience_before`` until a dated ``salience`` event makes the axis contested. Who then
takes which side is the model's: nothing moves a leader when the axis becomes salient.

*Positions.* Each leader's line mixes three pulls (Cohen's and Carr's spatial reading of the
struggle, S85, S84; the bases' interests after ``bases.md``): his convictions (``State.ideal``,
the starting position, which never changes), the interests of the institutional bases he leads
(the offices he holds: a city organisation, the trade unions, the economic apparatus, the
Comintern, the army; each office's ``interest`` is coded with its source), and the party line.
His opportunism decides how far he leaves his convictions, and his standing with the ruling
coalition decides what for. Secure inside the coalition, an opportunist follows the line,
tempered by his bases (``base_pull`` of the way toward their interest): Stalin's reversal of
December 1924, S109, and his turn of 1928, S53. Outside the coalition, or inside it but
*threatened* by it (the coalition's core would still win without him: Acemoglu, Egorov and
Sonin's dispensable member, whom the next round may purge), he no longer follows the line but
his bases: he needs a constituency of his own. So Zinoviev, an opportunist, once threatened
speaks for Leningrad's workers against the concessions to the peasants (Rayfield, B28; Cliff,
S29), with no event that sets his position, while Trotsky, a man of conviction, stays near his
own ground wherever he stands. A leader with no base of policy (the General Secretary's
apparatus has none) who is exposed holds to his convictions. Members of an organised bloc
outside the coalition move toward the bloc's common platform (the United Opposition's, S33). A
leader whose ``opposition`` flag is off (a lever's world) never counts as exposed. A *tie*
(``ties`` in the file: Zinoviev and Kamenev, whom Lenin's Letter judges as a pair, S10, S11)
draws a leader's target toward his partner's position while the partner stands outside the
coalition, ``tie_pull`` times the tie's strength of the way (``tie_drawn``): in 1925 Kamenev,
a man of the NEP and of Moscow, took up Leningrad's line beside Zinoviev (Cliff, S29).

*The line.* The line has inertia: each month it moves the share ``line_adjustment`` of the way
toward the power-weighted position of the ruling coalition. A dated *crisis* (the scissors
crisis of 1923, B52; the grain shortfall of 1927-28, B56, B57) moves nothing by itself: it puts
a choice to the rulers. Each member of the ruling coalition prefers the response that would
leave the line nearest his own position, less ``wedge_weight`` times how far it would leave it
from the leaders outside the coalition (Riker's heresthetic, RIKER1986: an answer can be
chosen to strand one's rivals, since distance from the line costs them standing; Stalin's own
account of his turn to socialism in one country, STALIN1926); the coalition adopts the response
with the most power-weighted support, up to noise (``response_noise``), and the response, not
the shock, moves the line. Distance from the line costs standing each month.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from politburo.engine import rng
from politburo.engine.rows import rsum
from politburo.engine.state import RUNG, Context, State, bits


def apart(a: NDArray[np.float64], b: NDArray[np.float64], sal: NDArray[np.float64]
          ) -> NDArray[np.float64]:
    """Salience-weighted distance between positions ``a`` and ``b`` (last axis: the two policy
    axes); ``sal`` broadcasts against them without that axis, one weight per axis last."""
    dx = a[..., 0] - b[..., 0]
    dx *= sal[..., 0]
    dy = a[..., 1] - b[..., 1]
    dy *= sal[..., 1]
    dx *= dx
    dy *= dy
    dx += dy
    return np.sqrt(dx, out=dx)


def dissent(state: State) -> NDArray[np.float64]:
    """(H, P) how openly each leader quarrels with the party line: his salience-weighted
    distance from it, as a share of 0.6, at most 1 (0 on the line)."""
    far = apart(state.position, state.line[:, None, :], state.salience[:, None, :])
    return np.minimum(far / DISSENT_FULL, 1.0)


DISSENT_FULL = 0.6
"""The distance from the line at which a leader's dissent is open and whole (the code's own
number, §7.4)."""


def events(state: State, ctx: Context, t: int) -> None:
    """Salience events make an axis contested; crises put a choice to the rulers."""
    for e in ctx.model.events:
        if e.start != t:
            continue
        if e.kind == "salience" and e.axis >= 0:
            state.salience[:, e.axis] = 1.0
        elif e.kind == "crisis":
            respond(state, ctx, t, e.id, e.responses)


def respond(state: State, ctx: Context, t: int, crisis: str,
            responses: tuple[tuple[str, float, float], ...]) -> None:
    """The ruling coalition picks an answer to a crisis by its members' lines and weights."""
    shift = np.array([[r[1], r[2]] for r in responses])  # (R, 2)
    after = np.clip(state.line[:, None, :] + shift[None, :, :], -1.0, 1.0)  # (H, R, 2)
    choice = np.empty(state.H, dtype=np.int64)
    # A block of histories at a time: each row's numbers are its own whatever rows stand
    # beside it, and the (H, P, R) distances and their companions need not be held for the
    # whole batch at once (memory per history in flight, issue 16).
    for lo in range(0, state.H, RESPOND_ROWS):
        rows = slice(lo, lo + RESPOND_ROWS)
        choice[rows] = _respond_rows(state, ctx, t, crisis, responses, after[rows], rows)
    state.line = after[np.arange(state.H), choice]
    # (the answer's index: a crisis has a handful of answers, so a byte holds it)
    state.adopted[crisis] = choice.astype(np.min_scalar_type(len(responses) - 1))


RESPOND_ROWS = 512
"""Histories that ``respond`` works on at once."""


def _respond_rows(state: State, ctx: Context, t: int, crisis: str,
                  responses: tuple[tuple[str, float, float], ...], after: NDArray[np.float64],
                  rows: slice) -> NDArray[np.int64]:
    """``respond`` for the histories ``rows``, whose answers would leave the line at ``after``
    (rows, R, 2): the index of the answer each adopts (and, when recording, the log)."""
    P = ctx.model.P
    position, power = state.position[rows], state.power[rows]
    in_party = state.rung[rows] < RUNG["party"]  # (``State.in_party`` of these histories)
    inside = bits(state.coalition[rows], P) & in_party
    w = np.where(rsum(inside)[:, None] > 0, power * inside, power)
    dist = np.empty((position.shape[0], P, len(responses)))  # one answer at a time
    for r in range(len(responses)):
        dist[:, :, r] = apart(position, after[:, None, r, :], state.salience[rows, None, :])
    # Heresthetic (Riker): a member also values an answer by how far it leaves the line from
    # those outside the coalition, since distance from the line costs them standing.
    out = in_party & ~inside & (rsum(inside) > 0)[:, None]
    wo = power * out
    wo /= np.maximum(rsum(wo)[:, None], 1e-12)
    rivals = np.einsum("hp,hpr->hr", wo, dist)  # (H, R)
    score = dist  # dist - wedge_weight * rivals, in place
    score -= ctx.params["wedge_weight"][rows, None, None] * rivals[:, None, :]
    favourite = np.argmin(score, axis=2)  # each member's preferred answer
    support = np.stack([rsum(w * (favourite == r)) for r in range(len(responses))], axis=1)
    support /= np.maximum(rsum(support)[:, None], 1e-12)
    # Gumbel noise: how the coalition's deliberations go on the day.
    u = rng.uniforms(ctx.seed, ctx.index[rows], t, f"crisis:{crisis}", len(responses))
    gumbel = -np.log(-np.log(np.clip(u, 1e-12, 1 - 1e-12)))
    choice = np.argmax(support + ctx.params["response_noise"][rows, None] * gumbel, axis=1)
    if state.log is not None:
        names = ctx.model.principals
        for k, h in enumerate(range(state.H)[rows]):
            c = int(choice[k])
            backers = [names[i] for i in range(P) if inside[k, i] and favourite[k, i] == c]
            against = [names[i] for i in range(P) if inside[k, i] and favourite[k, i] != c]
            state.log[h].append({
                "kind": "crisis", "step": t, "crisis": crisis, "response": responses[c][0],
                "actors": backers, "targets": against, "body": ctx.model.bodies.leadership,
                "support": float(support[k, c]),
                "because": "the ruling coalition chose the answer that most of its weight "
                           "preferred, weighing how near it left the line to themselves against "
                           "how far from their rivals outside",
            })
    return choice


def base_interest(state: State, ctx: Context) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """(H, P, 2) the office-weighted interest of the bases each leader leads, and (H, P, 2)
    whether any of his bases has a stake on that axis."""
    m, P = ctx.model, ctx.model.P
    based = np.flatnonzero(m.has_interest.any(axis=1))
    held = (state.holder[:, based, None] == np.arange(P)[None, None, :]).astype(np.float64)
    w = m.office_weight[based, None] * m.has_interest[based]  # (K, 2)
    num = np.einsum("hkp,ka->hpa", held, w * m.interest[based])
    den = np.einsum("hkp,ka->hpa", held, w)
    return num / np.maximum(den, 1e-12), den > 0


def tie_drawn(state: State, ctx: Context, inside: NDArray[np.bool_],
              target: NDArray[np.float64]) -> NDArray[np.float64]:
    """(H, P, 2) each leader's target, drawn toward the position of a tied partner who stands
    outside the ruling coalition (his strongest such tie, the first on equal strength): the
    share ``tie_pull`` times the tie's strength of the way. A tie is a bond of two men who
    act together (Lenin's Letter judges Zinoviev and Kamenev as a pair, S10, S11); when one
    goes into opposition the other is torn between his place and his partner, and in 1925
    Kamenev took up the Leningrad line beside Zinoviev (Cliff, S29)."""
    outside = ~inside & state.in_party()
    w = outside[:, :, None] * ctx.model.tie[None, :, :]  # (H, partner, leader)
    j = np.argmax(w, axis=1)
    strength = np.take_along_axis(w, j[:, None, :], axis=1)[:, 0, :]
    mate = np.take_along_axis(state.position, j[:, :, None], axis=1)
    k = (ctx.params["tie_pull"][:, None] * strength)[:, :, None]
    return np.where(strength[:, :, None] > 0, (1 - k) * target + k * mate, target)


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
    noise = 0.02 * np.stack([ctx.z_actors(t, f"policy:{a}") for a in ctx.model.axes], axis=2)
    inside = bits(state.coalition, P)
    may_oppose = ctx.model.opposition[None, :]
    exposed = ((~inside | state.threatened) & may_oppose)[:, :, None]
    # What an opportunist follows: the line, tempered by his bases, while he is secure in the
    # coalition; his bases alone once he is exposed (his convictions where he leads none).
    interest, has = state.by_holder("interest", lambda: base_interest(state, ctx))
    beta = ctx.params["base_pull"][:, None, None] * has
    secure_pull = (1 - beta) * state.line[:, None, :] + beta * interest
    exposed_pull = np.where(has, interest, state.ideal)
    pull = np.where(exposed, exposed_pull, secure_pull)
    target = opp[:, :, None] * pull + (1 - opp[:, :, None]) * state.ideal
    if ctx.model.tie.any():
        target = tie_drawn(state, ctx, inside, target)
    # Members of an organised bloc outside the coalition move toward its common platform.
    bloc = bits(state.bloc, P) & ~inside
    n = rsum(bloc)
    platform = np.stack([rsum(bloc * state.position[:, :, 0]),
                         rsum(bloc * state.position[:, :, 1])], axis=1) / np.maximum(n, 1)[:, None]
    target = np.where(bloc[:, :, None], platform[:, None, :], target)
    state.position += rate[:, :, None] * (target - state.position) + noise
    np.clip(state.position, -1.0, 1.0, out=state.position)
    dist = apart(state.position, state.line[:, None, :], state.salience[:, None, :])
    state.standing -= ctx.params["policy_cost"][:, None] * dist * state.in_party()
