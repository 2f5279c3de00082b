"""Coalitions and purges without commitment (Acemoglu, Egorov and Sonin 2008).

Sources: D. Acemoglu, G. Egorov and K. Sonin, "Coalition Formation in Non-Democracies",
*Review of Economic Studies* 75(4), 2008, 987-1009. Power-holders cannot commit not to purge
each other, so a coalition is *self-enforcing* only if none of its winning sub-coalitions is
itself self-enforcing; the *ruling coalition* of a group is the self-enforcing coalition that is
winning in the group (its power exceeds ``alpha`` times the group's) with the least power, since
each member prefers the coalition in which his share is largest. The strongest individual is
often left out, and once rivals are purged the game is played again among the survivors: the
"switching between left and right" of the essay.

Coalitions must also be able to agree on a line: following R. Axelrod, *Conflict of Interest*
(1970), only coalitions whose members' policy positions lie within ``coalition_span`` of each
other (distances stretched by aloofness, Carr's point about Trotsky, S87) can form. When none of
them can win, the strongest of them rules: no coalition that can agree can beat it, so it
governs as a minority until one that can agree wins (the Politburo majority that backed the
troika against Trotsky from Lenin's incapacitation, S42, S4c). AES decides only the winning
core: the Politburo members within the span of each of its members who are not organised
against it join it (the "septet" of 1924, S63b; Stalin with the Right in 1926-27, S52, S82,
S100).

politburo plays the game among the principals who still sit in the Politburo, on the power they
are *perceived* to have: rivals discount the apparatus power of a low-profile leader (the
``apparatus_blindness`` parameter, which fades as they learn). An organised opposition bloc plays
as one player. The kernel is compiled with Numba because the recursion visits 3^n pairs of
nested coalitions per history; ``ruling_coalition_reference`` is the plain-Python definition the
kernel is tested against.
"""

from __future__ import annotations

from itertools import combinations

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.engine import rng
from politburo.engine.mechanisms.policy import apart, dissent
from politburo.engine.rows import rany, rargmax, rmax, rsum


@numba.njit(cache=True, nogil=True)
def ruling_one(power: NDArray[np.float64], players: int, alpha: float,
               dist: NDArray[np.float64], span: float, idx: NDArray[np.int64],
               near: NDArray[np.int64], gamma: NDArray[np.float64],
               flags: NDArray[np.uint8]) -> int:
    """The ruling coalition of one game (``ruling_coalition``), in one pass over the
    coalitions, in scratch arrays the caller keeps (``idx``, ``near``: at least as long as
    ``power``; ``gamma``, ``flags``: at least ``1 << len(power)``). Coalitions are taken in the
    order of their codes, which puts every proper subset before its supersets; who can agree
    with whom is a bitmask per player; the winner and the strongest that can agree are picked
    in the same pass, with the power of the whole group added up as the pass adds it. Both
    engines play the game with this kernel; ``ruling_coalition_reference`` is the definition it
    is tested against."""
    n = 0
    for i in range(power.shape[0]):
        if (players >> i) & 1:
            idx[n] = i
            n += 1
    if n == 0:
        return 0
    for j in range(n):
        c = 0
        for k in range(n):
            if not dist[idx[j], idx[k]] > span:
                c |= 1 << k
        near[j] = c
    everyone = 0.0  # gamma of the whole group: (0 + power of the last) + ... + of the first
    for j in range(n - 1, -1, -1):
        everyone = everyone + power[idx[j]]
    wins = alpha * everyone
    size = 1 << n
    gamma[0] = 0.0
    flags[0] = 0  # bit 1: its members can agree (feasible); bit 2: self-enforcing as well
    best = -1
    best_gamma = np.inf
    strongest = -1
    strongest_gamma = -1.0
    for s in range(1, size):
        low = s & (-s)
        j = 0
        while (low >> j) != 1:
            j += 1
        rest = s ^ low
        g = gamma[rest] + power[idx[j]]
        gamma[s] = g
        if rest != 0 and ((flags[rest] & 1) == 0 or (rest & ~near[j]) != 0):
            flags[s] = 0
            continue
        if g > strongest_gamma:
            strongest = s
            strongest_gamma = g
        ok = True
        t = (s - 1) & s
        while t > 0:
            if flags[t] == 3 and gamma[t] > alpha * g:
                ok = False
                break
            t = (t - 1) & s
        if not ok:
            flags[s] = 1
            continue
        flags[s] = 3
        if g > wins and g < best_gamma:
            best = s
            best_gamma = g
    if best < 0:
        # No coalition that can agree wins: the strongest that can agree rules.
        best = strongest
    out = 0
    for j in range(n):
        if (best >> j) & 1:
            out |= 1 << idx[j]
    return out



@numba.njit(cache=True, nogil=True)
def _ruling_batch(
    power: NDArray[np.float64], players: NDArray[np.int64], alpha: NDArray[np.float64],
    dist: NDArray[np.float64], span: NDArray[np.float64],
) -> NDArray[np.int64]:
    out = np.zeros(power.shape[0], dtype=np.int64)
    m = power.shape[1]
    idx, near = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    gamma, flags = np.empty(1 << m), np.empty(1 << m, dtype=np.uint8)
    for h in range(power.shape[0]):
        out[h] = ruling_one(power[h], players[h], alpha[h], dist[h], span[h], idx, near,
                            gamma, flags)
    return out


def ruling_coalition(
    power: NDArray[np.float64], players: NDArray[np.int64], alpha: NDArray[np.float64],
    distance: NDArray[np.float64] | None = None, span: NDArray[np.float64] | None = None,
) -> NDArray[np.int64]:
    """The AES ruling coalition of each history, as a bitmask over columns of ``power``.

    ``power`` (H, n) perceived powers; ``players`` (H,) bitmask of who plays; ``alpha`` (H,)
    the winning threshold (>= 1/2). With ``distance`` (H, n, n) and ``span`` (H,), only
    coalitions whose members are all within ``span`` of each other can form (Axelrod's
    connected coalitions); if none of those can win, the one of them with the most power rules.
    Without them (or with an infinite span) this is the plain AES game. Ties are broken toward
    the lower coalition code.
    """
    H, n = power.shape
    if distance is None:
        distance = np.zeros((H, n, n))
    if span is None:
        span = np.full(H, np.inf)
    return _ruling_batch(
        np.ascontiguousarray(power, dtype=np.float64),
        np.ascontiguousarray(players, dtype=np.int64),
        np.ascontiguousarray(alpha, dtype=np.float64),
        np.ascontiguousarray(distance, dtype=np.float64),
        np.ascontiguousarray(span, dtype=np.float64),
    )


def ruling_coalition_reference(power: list[float], alpha: float,
                               distance: list[list[float]] | None = None,
                               span: float = float("inf")) -> frozenset[int]:
    """The definition, spelt out: slow, exact, for tests. With ``distance`` and ``span``, only
    coalitions whose members are pairwise within ``span`` can form; if none of them wins, the
    one of them with the most power rules."""
    n = len(power)
    everyone = frozenset(range(n))

    def gamma(c: frozenset[int]) -> float:
        return sum(power[i] for i in c)

    def agree(c: frozenset[int]) -> bool:
        return distance is None or all(distance[i][j] <= span for i in c for j in c if i < j)

    se: dict[frozenset[int], bool] = {}
    for k in range(1, n + 1):
        for c in map(frozenset, combinations(range(n), k)):
            se[c] = agree(c) and not any(
                se[t] and gamma(t) > alpha * gamma(c)
                for j in range(1, k)
                for t in map(frozenset, combinations(sorted(c), j))
            )
    winners = [c for c, ok in se.items() if ok and gamma(c) > alpha * gamma(everyone)]
    def code(c: frozenset[int]) -> int:
        return sum(1 << i for i in c)

    # exact ties go to the lower coalition code, as in ``ruling_coalition``
    if winners:
        return min(winners, key=lambda c: (gamma(c), code(c)))
    return max((c for c in se if agree(c)), key=lambda c: (gamma(c), -code(c)))


def perceived_power(state: State, ctx: Context, parts: dict[str, NDArray[np.float64]]
                    ) -> NDArray[np.float64]:
    """Power as rivals see it, distorted by public profile.

    Rivals judge by what they see: the prestige of a high-profile leader looms larger than it
    is, and the apparatus power of a low-profile one is discounted. Both distortions scale with
    ``blind`` (the ``apparatus_blindness`` draw, fading by ``perception_learning``); at zero,
    perceived power is real power.
    """
    profile = ctx.attr("public_profile")
    blind = state.blind[:, None]
    return (parts["visible"] * (1 + blind * profile)
            + parts["apparatus"] * (1 - blind * (1 - profile)))


def policy_gap(state: State, ctx: Context, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """(len(rows), P, P) policy distances between principals, each axis weighted by its
    salience (``policy.apart``), stretched by aloofness: an aloof leader is a costlier partner,
    so his distances count for more. The stretch is a factor of at most ``1 + aloofness_cost``
    (Carr on Trotsky, S87): it shrinks the set of partners he can agree with to those nearer
    him, and rules out none who stand close enough."""
    pos = state.position[rows]
    sal = state.salience[rows][:, None, None, :]
    gap = apart(pos[:, :, None, :], pos[:, None, :, :], sal)
    aloof = ctx.attr("aloofness")[rows]
    gap *= 1 + ctx.params["aloofness_cost"][rows, None, None] * (
        aloof[:, :, None] + aloof[:, None, :]) / 2
    return gap


def grudge(gap: NDArray[np.float64], enmity: NDArray[np.float64]) -> NDArray[np.float64]:
    """Policy distances ``gap`` (H, P, P) between leaders stretched by their enmity: two
    leaders can rule together only if their lines lie within ``(1 - E_ij)`` of the span, so a
    grudge of one half halves the distance they may stand apart and a full one rules the pair
    out.

    Enemies do not govern together any more than they organise together (the bloc's enmity
    draw, §7.3): Zinoviev and Kamenev, who led the campaign against Trotsky after *Lessons of
    October*, joined him only in 1926, once they had themselves been defeated (S25, S26, S33).
    The grudge fades at ``enmity_decay`` like any other.
    """
    return gap / np.maximum(1.0 - enmity, 1e-12)


def rival_outside(perc: NDArray[np.float64], players: NDArray[np.bool_],
                  inside: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """(H,) whether the strongest player by perceived power ``perc`` (an organised bloc as
    one, the founder not counted) stands outside the ruling coalition ``inside``: a
    front-runner against whom the coalition formed.

    Balancing against the strongest (S. M. Walt, *The Origins of Alliances*, 1987): those who fear
    a rival unite against him, and while he stands none of them can be spared. From Lenin's
    incapacitation the Politburo majority backed Stalin, Zinoviev and Kamenev to block Trotsky,
    then publicly the number-two man (S42, S4c); in 1924 the triumvirate widened into the
    "septet", the Politburo less Trotsky (S63b); it broke in 1925, once Trotsky had lost the War
    Commissariat (S29, S30b). The rule names nobody: the front-runner is whoever is perceived
    strongest, and his being outside is the model's.
    """
    best_out = np.max(np.where(players & ~inside, perc, 0.0), axis=1)
    best_in = np.max(np.where(players & inside, perc, 0.0), axis=1)
    return best_out > best_in


def with_like_minded(state: State, ctx: Context, core: NDArray[np.int64],
                     gap: NDArray[np.float64], founder: bool = False) -> NDArray[np.int64]:
    """The coalition ``core`` (a bitmask per history) with every Politburo member who shares
    its line: within ``coalition_span`` of each of its members by ``gap`` (``policy_gap`` of
    every history), and not in an organised opposition. With ``founder``, ``gap`` has the
    founder's column last (bit ``P``), and he joins like anyone else who shares the line.

    The winning core decides who rules; the like-minded join it because nothing divides them
    from it (Axelrod's coalitions of those who can agree on a line). So the troika governed as
    the Politburo less Trotsky, the secret "septet" of 1924 (S63b), and Stalin, who needed no
    partners after 1925, governed with Bukharin, Rykov and Tomsky against the Left (S52, S82,
    S100) until the line moved away from them.
    """
    P = ctx.model.P
    n = P + 1 if founder else P
    out = core.copy()
    rows = np.flatnonzero(core != 0)
    if rows.size == 0:
        return out
    inside = bits(core[rows], n)
    worst = np.max(np.where(inside[:, :, None], gap[rows], 0.0), axis=1)
    near = worst <= ctx.params["coalition_span"][rows, None]
    free = np.ones((rows.size, n), dtype=bool)
    free[:, :P] = state.in_politburo()[rows] & ~bits(state.bloc[rows], P)
    out[rows] |= to_mask(near & free)
    return out


def founder_player(state: State, ctx: Context, perc: NDArray[np.float64],
                   gap: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Perceived powers (H, P+1) and distances (H, P+1, P+1) with the founder as player ``P``.

    While he acts, the founder plays the coalition game like any leader, from where his last
    writings place him (``founder.position``, blurred like every position): M. Lewin, *Lenin's
    Last Struggle* (1968), reads his last months as an alliance sought for a cause (with Trotsky
    on the foreign-trade monopoly in December 1922 and on the Georgian affair in March 1923,
    LENINCW45), not as a judge above the factions. His power is the share ``founder_weight`` of
    the leadership's power as his colleagues perceive it; whom he allies with is the game's.
    Distances to him are stretched by the other man's aloofness only (he has no coded
    aloofness of his own)."""
    H, P = perc.shape
    w = ctx.params["founder_weight"]
    out = np.empty((H, P + 1))
    out[:, :P] = perc
    out[:, P] = w / np.maximum(1 - w, 1e-12) * rsum(perc)
    pos = state.founder_pos
    assert pos is not None
    g = np.zeros((H, P + 1, P + 1))
    g[:, :P, :P] = gap
    sal = state.salience[:, None, :]
    d = apart(pos[:, None, :], state.position, sal)
    d = d * (1 + ctx.params["aloofness_cost"][:, None] * ctx.attr("aloofness") / 2)
    g[:, P, :P] = d
    g[:, :P, P] = d
    return out, g


def form(state: State, ctx: Context, t: int, parts: dict[str, NDArray[np.float64]],
         replay: bool = False) -> None:
    """Play the AES game among Politburo members; an opposition bloc plays as one; the
    like-minded join the winning core (``with_like_minded``).

    ``replay`` forces a new game (at a congress, where the party's balance is redrawn);
    otherwise the sitting core stands while the players are the same, it still wins, it is
    still self-enforcing under today's powers (no subset of it would win within it and stand
    on its own: AES's definition, applied as powers move), and its members can still agree on
    a line (no two farther apart than ``coalition_span``: the troika broke when Zinoviev and
    Kamenev moved left in 1925, S29, S30b). The like-minded are found again at every meeting,
    so a partner who has drifted away from the core leaves the coalition.
    """
    P = ctx.model.P
    perc = perceived_power(state, ctx, parts) * state.in_politburo()
    players = to_mask(state.in_politburo() & (perc > 0))
    bloc = bits(state.bloc, P) & state.in_politburo()
    has_bloc = rsum(bloc) >= 2
    if has_bloc.any():
        lead = rargmax(bloc)
        merged = perc.copy()
        total = rsum(perc * bloc)
        merged[bloc] = 0.0
        rows = np.flatnonzero(has_bloc)
        merged[rows, lead[rows]] = total[rows]
        perc = np.where(has_bloc[:, None], merged, perc)
        others = to_mask(bloc) & ~(np.int64(1) << lead)
        players = np.where(has_bloc, players & ~others, players)
    alpha = ctx.params["winning_threshold"]
    # for the game and for the like-minded; enemies are further apart than their lines
    gap = grudge(policy_gap(state, ctx, np.arange(state.H)), square(state.enmity, P))
    # While the founder acts and has a line of his own, he is one more player (``P``).
    plays = state.founder_on and state.founder_pos is not None
    n, F = (P + 1, np.int64(1) << P) if plays else (P, np.int64(0))
    was_in = state.founder_in if state.founder_in is not None else np.zeros(state.H, bool)
    if plays:
        perc, gap = founder_player(state, ctx, perc, gap)
        players = players | F
    # AES: the game is played again only when the set of players changes (a purge, a new bloc)
    # or the sitting coalition no longer wins; otherwise the ruling coalition stands.
    sitting = (state.coalition | np.where(was_in, F, 0)) & players
    total = rsum(perc * bits(players, n))
    held = rsum(perc * bits(sitting, n))
    stands = (((state.coalition != 0) | was_in) & (players == state.players)
              & (held > alpha * total))
    # Nor does a core that can no longer agree on a line (Axelrod): when two of its members
    # have moved farther apart than the span, the game is played again.
    core = bits(state.core & players, n)
    widest = np.max(np.where(core[:, :, None] & core[:, None, :], gap, 0.0), axis=(1, 2))
    stands &= widest <= ctx.params["coalition_span"]
    if replay:
        stands[:] = False
    # Nor does a core that is no longer self-enforcing: powers move between meetings (the
    # Secretariat's appointments, falls), and once some of its members could win within it
    # without the rest, AES's definition fails and they can purge their partners (the troika
    # of 1923-25 once the General Secretary had outgrown it).
    keep = np.flatnonzero(stands & (rsum(core) > 1))
    if keep.size:
        mine = state.core[keep] & players[keep]
        inner = ruling_coalition(perc[keep], mine, alpha[keep], gap[keep],
                                 ctx.params["coalition_span"][keep])
        stands[keep[inner != mine]] = False
    coal = state.core.copy()
    redo = np.flatnonzero(~stands)
    if redo.size:
        coal[redo] = ruling_coalition(perc[redo], players[redo], alpha[redo], gap[redo],
                                      ctx.params["coalition_span"][redo])
    state.players = players
    # Rivals may misjudge a leader, but he knows his own strength: one whose real power exceeds
    # alpha times that of all the players needs no partners to win.
    real = (parts["apparatus"] + parts["visible"]) * state.in_politburo()
    top = rargmax(real)
    everyone = rsum(real)
    if plays:  # the founder's share of all power is founder_weight
        everyone = everyone / np.maximum(1 - ctx.params["founder_weight"], 1e-12)
    alone = real[np.arange(state.H), top] > alpha * everyone
    # So does one whose followers alone are a majority of the Central Committee, the body that
    # elects the Politburo and the General Secretary (Daniels): he wins every vote.
    cc = state.cc[:, :P] * ctx.const["client_loyalty"] * state.in_politburo()
    boss = rargmax(cc)
    majority = cc[np.arange(state.H), boss] > 0.5
    top = np.where(majority & ~alone, boss, top)
    alone |= majority
    state.sole = np.where(alone, top, -1)
    state.core = np.where(alone, np.int64(1) << top, coal)
    core_power = rsum(perc * bits(state.core & players, n))
    minority = core_power <= alpha * total  # for the log
    coal = with_like_minded(state, ctx, state.core, gap, founder=plays)
    if has_bloc.any():
        lead_in = (coal >> lead) & 1
        coal = np.where(has_bloc & (lead_in == 1), coal | to_mask(bloc), coal)
    # A member is threatened when the core would still win without him (AES: the next round
    # may purge him): every member outside the core, and a core member who is not pivotal.
    in_core = bits(state.core, n)
    spare = (core_power[:, None] - perc * in_core) > alpha[:, None] * total[:, None]
    state.threatened = bits(coal, P) & (~in_core[:, :P]
                                        | (spare[:, :P] & (rsum(in_core) > 1)[:, None]))
    # But nobody is dispensable while a rival stronger than any of them stands outside: the
    # coalition needs every hand against him (``rival_outside``).
    state.threatened &= ~rival_outside(perc[:, :P], bits(players, n)[:, :P],
                                       bits(coal, n)[:, :P])[:, None]
    founder_in = (coal & F) != 0
    coal = coal & ~F
    changed = (coal != state.coalition) | (founder_in != was_in)
    if state.log is not None:
        ids = (*ctx.model.principals, ctx.model.founder)
        for h in np.flatnonzero(changed):
            members = [ids[i] for i in range(P) if (coal[h] >> i) & 1]
            if founder_in[h]:
                members.insert(0, ctx.model.founder)
            if state.sole[h] >= 0:
                because = (f"{ctx.model.principals[state.sole[h]]} needed no partners to win "
                           f"and kept those who share his line")
            else:
                a = alpha[h]
                rule = (f"no coalition that can agree on a line holds more than {a:.2f} of it, "
                        f"so the strongest that can agree rules" if minority[h] else
                        f"the smallest self-enforcing coalition with more than {a:.2f} of it "
                        f"rules")
                def player(i: int, h: int = int(h)) -> str:
                    # an organised bloc plays as one, under its first member (bits ascending)
                    if i < P and has_bloc[h] and i == lead[h]:
                        rest = [ids[j] for j in range(P) if bloc[h, j] and j != i]
                        return f"{ids[i]}'s bloc with {' and '.join(rest)} {perc[h, i]:.2f}"
                    return f"{ids[i]} {perc[h, i]:.2f}"
                because = "perceived powers " + ", ".join(
                    player(i) for i in range(n)
                    if (players[h] >> i) & 1) + f"; {rule}, joined by those who share its line"
            state.log[h].append({
                "kind": "coalition", "step": t, "actors": members,
                "body": ctx.model.bodies.leadership,
                "because": because,
                # he left because he stopped acting, not because an alliance broke
                "founder_out": bool(was_in[h] and not plays),
            })
    state.coalition = coal
    state.founder_in = founder_in


def update_bloc(state: State, ctx: Context, t: int) -> None:
    """Outsiders who share a line and are not enemies may organise a bloc (an offence under the
    faction ban).

    Each month an outsider moves to organise at the rate ``opposition_formation``, lowered by
    his aloofness, and times how far he dissents from the party line (``policy.dissent``: 0 on
    the line, 1 at 0.6 from it or farther): every opposition of the period stood on a platform
    against the line, the 46's on planning and the party regime (S20), the New Opposition's on
    the kulak and the tempo (S29), the United Opposition's on both (S33), and a leader content
    with the line has nothing to organise for. He brings in the outsiders who share his line:
    those within ``coalition_span`` of him, by the stretched distance of ``policy_gap`` (the New
    Opposition of 1925 and the United Opposition of 1926 gathered leaders of one platform, S29,
    S33). Each
    newcomer then joins unless his worst enmity toward those he would sit with (the bloc's
    members and the other newcomers) stops him: enmity ``e`` stops him with chance ``e``. An
    enemy elsewhere among the outsiders does not: Zinoviev's quarrel with Trotsky need not keep
    him apart from Kamenev. Who stands outside, and on what line, is the model's: no event
    organises anyone. A leader whose ``opposition`` flag is off (a lever's world) neither moves
    to organise nor joins.

    An ``alliance`` event (only in a lever's world) is an offer: its actor proposes a common
    front to its targets in its month, and each target outside the bloc accepts unless his
    enmity toward the actor stops him (the same draw as above); those who accept leave the
    ruling coalition and organise with him.

    A ``platform`` event (only in a lever's world) is its actor's readiness to lead an
    opposition openly: in each month from its ``month`` to its ``until`` he organises with the
    chance an outsider has (``opposition_formation``) with no discount for aloofness, inside the
    ruling coalition or not, and alone if need be, his clients following him as always (the
    Declaration of the 46 of October 1923 was signed by Trotsky's followers, not by another
    leader, S20). If the draw succeeds he leaves the ruling coalition; what the party then does
    to an organised opponent is the model's. A platform with ``targets`` seeks those allies: when
    its actor organises, each target still in the party and in no other bloc joins him unless
    his enmity toward the actor stops him (the alliance's draw). A platform with ``against``
    (a crisis answer) is ready only in histories where the ruling coalition adopted that answer:
    a fight against a policy the rulers never chose is not fought.

    While the founder acts, the chance of moving to organise is cut by ``founder_restraint``, as
    the motions are (§7.4; in a run it is the history's restraint, 1 where the colleagues hold
    back and 0 where they do not, drawn once per history by ``month.simulate``): the ban on
    factions was his (the 10th Congress, 1921, S67), and
    nobody organised against the leadership while he could still act; the first platform, the
    46's, came in October 1923, seven months after his third stroke (S20).

    A new bloc needs two members, but a member stays organised when his partners are gone
    (expelled, or taken into the coalition): the faction is his, not the pair's. He leaves it
    by joining the ruling coalition or leaving the party. The second member need not be
    another leader: a mover whom no leader joins organises with his own followers when one of
    his named clients signs with him, each with the chance of his loyalty to him
    (``followers_sign``). The first platform of the period, the Declaration of the 46 of
    October 1923, was signed by Trotsky's followers (Pyatakov, Preobrazhensky and others), not
    by another member of the Politburo (S20, S21).
    """
    P = ctx.model.P
    coal = bits(state.coalition, P)
    may = ctx.model.opposition[None, :]
    outsider = ~coal & state.in_party() & may
    bloc = bits(state.bloc, P) & outsider
    aloof = ctx.attr("aloofness")
    u = ctx.u_actors(t, "bloc")
    u_enmity = ctx.u_actors(t, "bloc:enmity")
    join = np.zeros_like(outsider)
    # a bloc needs two: two outsiders, or one whose standing partner may follow him out
    rows = np.flatnonzero(rsum(outsider) >= (1 if ctx.model.tie.any() else 2))
    if rows.size:
        out_r = outsider[rows]
        p = (ctx.params["opposition_formation"][rows, None]
             * (1 - ctx.params["aloofness_cost"][rows, None] * aloof[rows])
             * dissent(state)[rows])
        if state.founder_on:  # an active founder holds back organising as he holds back motions
            p = p * (1 - ctx.params["founder_restraint"][rows, None])
        moving = out_r & (u[rows] < p)
        recruits = np.zeros_like(out_r)
        m = np.flatnonzero(rany(moving))  # distances only where someone moves
        if m.size:
            span = ctx.params["coalition_span"][rows[m], None, None]
            near = policy_gap(state, ctx, rows[m]) <= span
            # each mover is within the span of himself, so he is among his own recruits
            recruits[m] = np.any(moving[m, :, None] & near, axis=1)
        recruits &= out_r & ~bloc[rows]
        # A standing partner inside the coalition whom it can spare may follow a mover out
        # (tie_pull times the tie's strength): Kamenev beside Zinoviev in 1925, as in October
        # 1917 (S10, S11).
        partner = np.zeros_like(out_r)
        if m.size and ctx.model.tie.any():
            # only a partner the coalition can spare (threatened, AES's dispensable member)
            # follows: one it needs, and a ruler, stay where their power lies
            mates = (state.threatened[rows[m]] & state.in_party()[rows[m]] & may
                     & ~bits(state.bloc[rows[m]], P))
            pull = np.max(moving[m, :, None] * ctx.model.tie[None, :, :], axis=1)  # (M, P)
            chance = ctx.params["tie_pull"][rows[m], None] * pull
            partner[m] = mates & (ctx.u_actors(t, "bloc:tie")[rows[m]] < chance)
        recruits |= partner
        group = recruits | bloc[rows]
        # enmity is never negative and nobody is his own enemy, so masking by multiplication
        # keeps the maximum over the others in the group
        worst = rmax(square(state.enmity[rows], P) * group[:, None, :])
        join[rows] = recruits & (u_enmity[rows] >= worst)
        if m.size:
            # one platform, one line: a newcomer joins only if he lies within the span of every
            # other newcomer and every standing member (the ruling coalition's test, §7.3)
            r = rows[m]
            far = policy_gap(state, ctx, r) > ctx.params["coalition_span"][r, None, None]
            grouped = join[r] | bloc[r]
            join[r] &= ~np.any(far & grouped[:, None, :], axis=2)
        left = np.zeros_like(join)
        left[rows] = join[rows] & partner
    solo = np.zeros_like(join)
    allies = np.zeros_like(join)
    caller = np.full(state.H, -1, dtype=np.int64)  # whose platform the allies answered
    for e in ctx.model.events:
        if e.kind == "platform" and e.start <= t <= e.until and e.actor >= 0:
            draw = ctx.u_actors(t, "bloc:platform")[:, e.actor]
            ready = np.ones(state.H, dtype=bool)
            if e.against[1] >= 0:  # only against an answer the rulers adopted
                chosen = state.adopted.get(e.against[0])
                ready = (chosen == e.against[1]) if chosen is not None else ~ready
            solo[:, e.actor] = (ready & state.in_party()[:, e.actor] & may[0, e.actor]
                                & ~bits(state.bloc, P)[:, e.actor]
                                & (draw < ctx.params["opposition_formation"]))
            if e.targets:  # the allies he seeks: each comes unless enmity toward him stops him
                sought = np.zeros(P, dtype=bool)
                sought[list(e.targets)] = True
                came = (sought[None, :] & state.in_party() & may & ~bits(state.bloc, P)
                        & (u_enmity >= toward(state.enmity, e.actor, P))
                        & solo[:, e.actor][:, None])
                allies |= came
                caller[rany(came)] = e.actor
                solo |= allies
            state.coalition &= ~to_mask(solo)
            state.core &= ~to_mask(solo)
            bloc &= ~solo
        if e.kind == "alliance" and e.start == t and e.actor >= 0 and e.targets:
            offer = np.zeros(P, dtype=bool)
            offer[list(e.targets)] = True
            able = state.in_party() & may
            ok = able[:, e.actor]
            accept = (able & offer[None, :] & ~bits(state.bloc, P)
                      & (u_enmity >= toward(state.enmity, e.actor, P)) & ok[:, None])
            front = accept.copy()
            front[:, e.actor] = rany(accept)
            join |= front
            state.coalition &= ~to_mask(front)
            state.core &= ~to_mask(front)
            bloc &= ~front
    # A new bloc needs two; an organised leader stays organised when his partners are gone.
    mover = np.zeros_like(outsider)
    if rows.size:
        mover[rows] = moving
    lone = np.where((rsum(join) + rsum(bloc) == 1) & rany(join & mover), rargmax(join), -1)
    join &= ((rsum(join) + rsum(bloc)) >= 2)[:, None]
    # ... or one, and a follower of his own who signs with him
    signed, signers = followers_sign(state, ctx, t, lone)
    join[signed, lone[signed]] = True
    join |= solo  # an open platform needs no partner
    gone = np.zeros(state.H, dtype=np.int64)
    if rows.size:
        gone = to_mask(left & join)  # partners who followed a mover leave the coalition
        state.coalition &= ~gone
        state.core &= ~gone
    mask = to_mask(bloc | join)
    if state.log is not None:
        names = ctx.model.principals
        # logged when someone organises, not when a member leaves (the rest stay organised)
        for h in np.flatnonzero((mask & ~state.bloc) != 0):
            members = [names[i] for i in range(P) if (mask[h] >> i) & 1]
            because = "left outside the ruling coalition, they organised a common platform"
            if signed[h] and len(members) == 1:
                backers = [ctx.model.client_names[c] for c in np.flatnonzero(signers[h])]
                because = (f"outside the ruling coalition, he organised a platform, and "
                           f"followers signed it: {signatories(backers)}")
            if solo[h].any():
                because = "ready to lead an opposition openly, they organised a platform"
                if allies[h].any():
                    joined = " and ".join(names[i] for i in range(P) if allies[h, i])
                    because += f", {joined} answering {names[caller[h]]}'s call"
            followed = [i for i in range(P) if (gone[h] >> i) & 1]
            full = ctx.model.names
            for i in followed:
                partners = [full[j] for j in range(P)
                            if (mask[h] >> j) & 1 and ctx.model.tie[i, j] > 0]
                because += (f", {full[i]} leaving the coalition to stand with his partner "
                            f"{' and '.join(partners)}")
            state.log[h].append({
                "kind": "bloc", "step": t, "actors": members, "body": "the party",
                "because": because,
            })
    state.bloc = mask


def condemn(state: State, ctx: Context, t: int, body: str, share: NDArray[np.float64]) -> None:
    """An assembly that backs the leadership condemns the organised platforms, and under the ban
    on factions their members disband.

    At a congress or a conference whose delegates back the leadership (``share``, the assembly's
    tally, above one half), every organised bloc still standing after the meeting's motions is
    condemned, and where the file's ban on factions is in force (the constant ``faction_ban``)
    its members stop their organised work: the bloc is dissolved. They stay outsiders with their
    lines, and may organise again at the rate any outsider does (``update_bloc``). The ban of
    1921 ordered every group formed on a platform of its own dissolved at once (S67), and each
    opposition of the period fell quiet after an assembly condemned it: the 13th Conference
    condemned the opposition of 1923 and the 13th Congress confirmed it (S22, S23, S17, S18),
    after which Trotsky kept largely silent through 1925 (S29); the 14th Congress rejected the
    New Opposition and appealed over its delegation to Leningrad's members (S32, S33c), and the
    United Opposition was organised anew with Trotsky in the spring of 1926 (S33). Those an
    assembly has just expelled are outsiders no longer, and leave the bloc anyway; so do those
    the meeting has just taken into the ruling coalition, and a bloc left with no outsider is not
    condemned. Without the ban (China's file, the lever ``no_faction_ban``) a condemnation
    dissolves nothing.

    The members of a condemned bloc stand charged (``State.condemned``): the ladder moves
    against them as keenly as against an organised platform, for censure, office and seats
    (``votes.targets``), until the party readmits them. The condemnation was the verdict on
    which the sanctions of the next plenums rested: the plenum after the 14th Congress
    demoted Kamenev and took Leningrad from Zinoviev's men (S38, S39, S32, S33c), and the 15th
    Congress's condemnation was followed by the expulsion of the Opposition's cadres at once
    (S45). The record has the other case too: after the 13th Conference condemned the
    opposition of 1923, Trotsky kept the War Commissariat a year and his Politburo seat almost
    three (S27, S28); the ruler's restraint (``votes.spared``) is what holds the seat back.
    """
    if not ctx.const["faction_ban"]:
        return
    P = ctx.model.P
    # a member the meeting has just taken into the ruling coalition is no longer in opposition
    # (he leaves the bloc at the month's end, ``update_bloc``)
    opposed = state.bloc & ~state.coalition & to_mask(state.in_party())
    hit = (share > 0.5) & (opposed != 0)
    if not hit.any():
        return
    if state.log is not None:
        names = ctx.model.principals
        for h in np.flatnonzero(hit):
            members = [names[i] for i in range(P) if (opposed[h] >> i) & 1]
            state.log[h].append({
                "kind": "disband", "step": t, "actors": members, "body": body,
                "yes": float(share[h]),
                "because": "the ban on factions ordered every group with a platform of its "
                           "own dissolved",
            })
    state.condemned |= bits(np.where(hit, opposed, 0), P)
    state.bloc = np.where(hit, 0, state.bloc)


def signatories(names: list[str]) -> str:
    """The followers who signed a platform, for the log: all of them up to four, or the first
    three and how many more ('a, b, c and 2 others'); never 'and 1 others'."""
    if len(names) <= 4:
        return listed(names)
    return f"{', '.join(names[:3])} and {len(names) - 3} others"


def followers_sign(state: State, ctx: Context, t: int, lone: NDArray[np.int64]
                   ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Whether a lone mover's followers sign his platform (``update_bloc``).

    ``lone`` (H,) is the mover whom no other leader joined this month, -1 where there is none.
    Each of his living named clients signs with the chance of his loyalty to him (one draw per
    client, keyed ``bloc:clients``, drawn only in the histories that need it), and one signature
    is enough. Returns (H,) whether he organises and (H, C) who signed.
    """
    C = state.client_patron.shape[1]
    signers = np.zeros((state.H, C), dtype=bool)
    rows = np.flatnonzero(lone >= 0)
    if rows.size == 0 or C == 0:
        return np.zeros(state.H, dtype=bool), signers
    u = rng.uniforms(ctx.seed, ctx.index[rows], t, "bloc:clients", C)
    signers[rows] = ((state.client_patron[rows] == lone[rows, None])
                     & (u < state.client_loyalty[rows]) & state.client_alive[rows])
    return rany(signers), signers


from politburo.engine.state import (  # noqa: E402
    Context,
    State,
    bits,
    listed,
    square,
    to_mask,
    toward,
)
