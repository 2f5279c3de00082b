"""Standing and legitimacy: events that move each leader's prestige with the party.

Sources, each a parameter with a prior in the scenario file: Lenin's funeral and the disputed
misdated telegram (Trotsky, *My Life*, S2; Patenaude, S3, S3b), the Testament and its handling
(S9, S12, S13), the cult of Lenin and the "oath" speech (S93), *Lessons of October* and the
literary discussion (S25, S26), a speech's reach, closed or printed (the closed speech of
February 1956 and its circulation: W. Taubman, *Khrushchev: The Man and His Era*, 2003, ch. 11),
illness (S2), late entry into the party and "the non-Bolshevism
of Trotsky" (S10, S86), and the antisemitic prejudice recorded against Jewish Bolsheviks (S97).
Every effect attaches to an attribute or an event of the scenario file, never to a name: swap two
principals' attributes and events and their fortunes swap.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from politburo.engine.state import Context, State, bits, pair, record


def effective(state: State, ctx: Context) -> NDArray[np.float64]:
    """Standing as the party sees it: late entrants lose with the old guard, prejudice targets
    with the recruits."""
    og = state.old_guard[:, None]
    out = state.standing * (1 - ctx.params["outsider_penalty"][:, None] * ctx.attr("outsider") * og)
    out = out * (1 - ctx.params["prejudice_penalty"][:, None] * ctx.attr("prejudice_target")
                 * (1 - og))
    return np.maximum(out, 0.0)


def drift(state: State, ctx: Context, t: int) -> None:
    """Small monthly shocks to prestige."""
    z = ctx.z_actors(t, "standing")
    state.standing += ctx.params["standing_noise"][:, None] * z
    np.clip(state.standing, 0.02, 3.0, out=state.standing)


def funeral(state: State, ctx: Context, t: int, present_forced: tuple[int, ...]) -> None:
    """The founder's funeral: those of the leadership present claim his mantle; the absent are
    resented. Leaders outside the leadership body take no part."""
    m, P = ctx.model, ctx.model.P
    died = f"{m.founder_called or 'the founder'} died"
    ill = np.zeros((state.H, P), dtype=bool)
    for e in ctx.model.events:
        if e.kind == "illness" and e.start <= t <= e.until and e.actor >= 0:
            ill[:, e.actor] = True
    u = ctx.u_actors(t, "funeral")
    absent = ill & (u < ctx.params["absence_given_ill"][:, None])
    for i in present_forced:
        absent[:, i] = False
    # The mantle is claimed, and the absence resented, among the leadership: a leader who has
    # lost his seat (Deng in September 1976) is not on the platform.
    leading = state.in_politburo()
    absent &= leading
    org = ctx.attr("organisation")
    present = ~absent & leading
    state.standing += present * ctx.params["disciple_bonus"][:, None] * org
    state.standing -= absent * ctx.params["funeral_absence_penalty"][:, None]
    for i in range(P):
        record(state, ctx, absent[:, i], {
            "kind": "funeral_absent", "step": t, "actors": [ctx.model.principals[i]],
            "body": m.funeral_place,
            "because": f"ill and away{f' from {m.capital}' if m.capital else ''} when {died}; "
                       "he did not return for the funeral, and his absence was resented",
        })
    record(state, ctx, np.ones(state.H, dtype=bool), {
        "kind": "funeral", "step": t,
        "actors": lambda h: [ctx.model.principals[i] for i in range(P) if present[h, i]],
        "body": m.funeral_place, "because": died,
    })


def testament(state: State, ctx: Context, t: int, target: int, exposure: float) -> None:
    """The Testament costs its target standing in proportion to how openly it is read."""
    if target < 0:
        return
    state.standing[:, target] -= ctx.params["testament_weight"] * exposure


def endorse(state: State, ctx: Context, t: int, endorsed: tuple[int, ...],
            exposure: float) -> None:
    """A founder's document naming a successor: each leader it names gains standing,
    ``endorsement_weight`` times how openly it was made known (the Testament's scale: 0 kept
    secret, 0.3 shown to the delegations or the leading bodies, 1 published). It is the
    Testament's mirror: a founder's written word moves the party's regard for whom it names, up
    as well as down (Mao's note for Hua of April 1976 was, once shown, the main proof of his
    choice of successor, C44, though its scope was disputed from the first, C45). It moves no
    vote and gives no office: whether the named man keeps the lead is the model's. The chronicle
    tells it from the scenario's event, as it tells the Testament."""
    for j in endorsed:
        if j >= 0:
            state.standing[:, j] += ctx.params["endorsement_weight"] * exposure


def charge(state: State, ctx: Context, t: int, author: int, targets: tuple[int, ...],
           exposure: float) -> None:
    """A founder's written charge against a leader, raised openly by another leader (only in a
    lever's world: Lenin's notes on the Georgian affair, which he asked Trotsky to defend at
    the 12th Congress, S22b). Each target loses standing as the Testament costs its target
    (``testament_weight`` times the exposure, on the Testament's scale), and the charge makes
    enemies of the bearer and its targets (``polemic_enmity``). The bearer pays no backlash:
    the charge is the founder's, not a quarrel over the bearer's own past (the backlash of the
    literary discussion came from Trotsky's pre-1917 record, S26). It moves no motion: whether
    anyone then acts against the targets is the model's."""
    if author < 0:
        return
    for j in targets:
        state.standing[:, j] -= ctx.params["testament_weight"] * exposure
        state.enmity[:, pair(author, j, ctx.model.P)] += ctx.params["polemic_enmity"]
    np.clip(state.enmity, 0.0, 1.0, out=state.enmity)


def spares_partners(state: State, ctx: Context, author: int,
                    targets: tuple[int, ...]) -> NDArray[np.bool_]:
    """(H,) histories in which an attack by ``author`` on ``targets`` goes ahead: none of the
    targets is his partner, that is, none sits with him in the ruling coalition or in the
    organised opposition bloc as the month opens.

    An open attack is one camp's answer to another. *Lessons of October* came from a leader
    whom the triumvirs had shut out of the ruling group (S25); the septet that ruled after May
    1924 was bound to act as one and kept its quarrels out of the press (S63b); and once Trotsky
    joined Zinoviev and Kamenev in the United Opposition the quarrel over 1917 was laid aside
    (S33). So a scenario's dated attack is a cause the author may act on, not an outcome: where
    the model has made a target his partner by that month, he does not publish it."""
    P = ctx.model.P
    partner = np.zeros(state.H, dtype=bool)
    for mask in (state.coalition, state.bloc):
        inside = bits(mask, P)
        for j in targets:
            partner |= inside[:, author] & inside[:, j]
    return ~partner


def _attack(state: State, ctx: Context, author: int, targets: tuple[int, ...],
            reach: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """An open attack on colleagues, as far as it reached (``reach``, 1 for print, 0 where it
    is not made): it costs its author ``polemic_backlash`` times the reach, each target half
    as much, and makes enemies of them by ``polemic_enmity`` times the reach. Returns the
    author's cost (H,)."""
    back = ctx.params["polemic_backlash"] * reach
    state.standing[:, author] -= back
    for j in targets:
        state.standing[:, j] -= back / 2
        state.enmity[:, pair(author, j, ctx.model.P)] += ctx.params["polemic_enmity"] * reach
    np.clip(state.enmity, 0.0, 1.0, out=state.enmity)
    return np.asarray(back)


def speech(state: State, ctx: Context, t: int, author: int, targets: tuple[int, ...],
           handling: str) -> None:
    """A speech moves standing as far as it reached: printed for the whole party (reach 1)
    or heard only by the body it was given to (``speech_closed_reach``, a fraction).

    Against ``targets`` it is a polemic scaled by its reach (``_attack``). Without targets it
    is a programme: its speaker gains ``speech_weight`` times the reach, and nothing else
    moves. The reach is what the closed speech of February 1956 shows: heard by one congress
    session, then read out at party meetings and known abroad, but not printed at home
    (Taubman 2003, ch. 11); a closed speech is weaker than a printed one, not nothing."""
    if author < 0:
        return
    reach = (ctx.params["speech_closed_reach"] if handling == "closed"
             else np.ones(state.H))
    made = np.ones(state.H, dtype=bool)
    if targets:  # an attack spares partners (``spares_partners``)
        made = spares_partners(state, ctx, author, targets)
        moved = _attack(state, ctx, author, targets, reach * made)
        why = "it cost its speaker {:.2f} standing and set the targets against him"
    else:
        moved = ctx.params["speech_weight"] * reach
        state.standing[:, author] += moved
        why = "it brought its speaker {:.3f} standing"
    m = ctx.model
    record(state, ctx, made, {
        "kind": "speech", "step": t, "handling": handling,
        "actors": [m.principals[author]],
        "targets": [m.principals[j] for j in targets],
        "body": m.bodies.press if handling == "published" else "",
        "because": lambda h: why.format(moved[h]),
    })


def polemic(state: State, ctx: Context, t: int, author: int, targets: tuple[int, ...]) -> None:
    """A polemic costs its author standing and makes enemies of its targets: a printed speech
    against them (``speech``, reach 1), told as a polemic in the press. Like any attack it is
    not made against a partner (``spares_partners``)."""
    if author < 0:
        return
    made = spares_partners(state, ctx, author, targets)
    back = _attack(state, ctx, author, targets, made.astype(np.float64))
    record(state, ctx, made, {
        "kind": "polemic", "step": t,
        "actors": [ctx.model.principals[author]],
        "targets": [ctx.model.principals[j] for j in targets],
        "body": "the press",
        "because": lambda h: f"the polemic cost its author {back[h]:.2f} standing and set "
                             f"the targets against him",
    })


def decay_enmity(state: State, ctx: Context) -> None:
    state.enmity *= (1 - ctx.params["enmity_decay"])[:, None]
