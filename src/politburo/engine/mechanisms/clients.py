"""Clients: named followers who sit, vote and rise in the Politburo.

Sources: the Politburo's composition changes and each new member's patron, December 1922 to
June 1928 (bases.md section 2, from the 1990 handbook *Politbjuro, Orgbjuro, Sekretariat*, B1,
and the office lists); Gorlizki and Khlevniuk's warning that the men promoted in 1926-27 were
probable, not certain, votes for the General Secretary: Kalinin, Voroshilov, Rudzutak and
Ordzhonikidze all crossed him in the summer of 1927 (S100). And Daniels' circular flow (S66): the
CC, which the congress elects, elects the Politburo.

Seats. When the Politburo has a vacant full seat (a member removed, or the body enlarged by a
congress), the CC fills it from the scenario's named clients. Each member of the ruling coalition
who sits in the Politburo puts forward his most loyal unseated client, and the seat goes by
D'Hondt on the patrons' followings in the CC (a patron's quotient is his CC share over one plus
the seats his clients already hold): the larger the following, the more of its men it seats.
Nothing says who is promoted when: that follows from who rules with whom and who follows whom.

Votes. A seated client votes with his patron with chance ``loyalty``; the rest of his vote is
his own (it goes to no leader). So his patron's Politburo weight is himself plus the loyalty of
his seated clients. At a meeting of the leadership body itself (a meeting of kind ``leadership``)
these are the votes that decide a motion (``leadership_body``), not the CC's loyalties: the
Politburo took its decisions by its members' votes between plenums, and its members voted as
the General Secretary's men or not (Gorlizki and Khlevniuk, S100); in June 1957 seven of the
Presidium's eleven full members outvoted Khrushchev there (Taubman 2006).

Loyalty. A client's loyalty follows his patron's patronage and his own career: each month it
moves the share ``client_drift`` of the way toward his own coded loyalty ``l`` while his patron
sits in the ruling coalition, and toward ``l`` squared while the patron stands outside it (a man
out of power can promote no one, and the less a client's tie is conviction, the more it is
career: a follower of loyalty 0.9 settles at 0.81 and stays, as Rakovsky and Preobrazhensky
stayed with Trotsky into 1928, S45; one of 0.65 sinks to 0.42 and goes, as Kalinin went over to
Stalin's side in 1927, S100). A client whose loyalty falls below one half changes patron: he
attaches himself to the ruling coalition's member with the largest following in the CC, with
the loyalty of a newcomer, one half. A client whose patron has been expelled is bound by the
same rule, not sooner: Rakovsky spoke for the Opposition at the 15th Congress and was expelled
with it, a month after Trotsky (S45).

Offices. A client may hold an office from the start (the scenario's ``holder``). It counts for
his current patron's power as his vote does, as far as his loyalty goes (``office_power``), and
it is his patron's to lose: when the patron is out of the leadership body at a meeting that can
change the office, the office goes to the ruling coalition by the rule for a fallen leader's
offices (``offices_fall``). A client's post is held under his patron's protection, as his
seat is: Hu Yaobang ran the Organisation Department from December 1977 as Deng's man (China fact
base C105, C37l). Losing it only with the patron is the simplest rule and an assumption: the
same fact base has Hua's four men give up their posts in February 1980 while Hua still sat in
the leadership (C19, C20), which this rule cannot give, since no motion is ever moved against a
client himself.

Offices gained. An office the file flags ``client_office`` may go to a client later
(``offices_to_clients``): when it changes hands at a meeting that may change it and goes to a
member of the ruling coalition, the coalition's strongest member places it with his most loyal
named client who holds no office. Posts below the leadership were filled from lists the
leadership kept, with its own men (the nomenklatura: T. H. Rigby, "Staffing USSR Incorporated:
the Origins of the Nomenklatura System", *Soviet Studies* 40(4), 1988; Daniels' circular flow,
S66); the ruler shares out the posts that keep his coalition together and fills them with men
who owe him their careers (M. Svolik, *The Politics of Authoritarian Rule*, 2012, ch. 3 and 4).
China's premiership went in 1980 to Zhao Ziyang, Deng's protégé (China fact base C1, C78, C148).
Who takes an office follows from power and loyalty alone: no rule names anyone. Other offices
stay with principals.

Death. A client may die inside the window (a scenario's ``death`` event: a dated fact, like the
founder's death, not an outcome): from that month he sits, votes and counts for nobody (``die``).
His seat falls vacant and the next meeting that fills seats fills it by the rule above; his
offices go at once to the ruling coalition by the rule for a fallen leader's offices, as the
founder's do at his death, and a ``client_office`` on to another client; he is never seated,
placed, switched or asked to sign again (``State.client_alive``). The Soviet Politburo lost two
of its candidate members so: Frunze, War Commissar, at the end of October 1925, whose
commissariat went to Voroshilov within days, and Dzerzhinsky, head of the OGPU and the VSNKh,
in July 1926 (bases.md section 2.1, from B1; S28, B15, B45).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from politburo.engine.rows import rany, rargmax, rsum
from politburo.engine.state import RUNG, Context, State, bits
from politburo.scenario.compile import CLIENT


def politburo_votes(state: State, ctx: Context) -> NDArray[np.float64]:
    """(H, P) each principal's expected Politburo votes: his own seat and his seated clients'
    loyalty."""
    votes = state.in_politburo().astype(np.float64)
    if state.client_seat.shape[1] == 0 or not state.client_seat.any():
        return votes
    P = ctx.model.P
    H = state.H
    slot = np.arange(H)[:, None] * P + state.client_patron
    votes += np.bincount(slot.ravel(), (state.client_seat * state.client_loyalty).ravel(),
                         minlength=H * P).reshape(H, P)
    return votes


def office_power(state: State, ctx: Context) -> NDArray[np.float64]:
    """(H, P) the office weight each principal commands through his clients' offices: each
    client's offices times his loyalty, credited to his current patron. A client's weights are
    added in office order (``rsum``, not a matrix product, whose order of addition is the BLAS
    library's), and the clients in client order from zero."""
    P, H = ctx.model.P, state.H
    out = np.zeros((H, P))
    rows = np.arange(H)
    for c in range(state.client_seat.shape[1]):
        held = state.holder == CLIENT - c
        if held.any():
            w = rsum(held * ctx.model.office_weight)
            out[rows, state.client_patron[:, c]] += w * state.client_loyalty[:, c]
    return out


def offices_fall(state: State, ctx: Context, t: int, kind: int, transfer: object) -> None:
    """A client's office goes with his patron's fall: at a meeting that can change it, if his
    patron sits outside the leadership body, it passes to the ruling coalition (``transfer``,
    ``mechanisms.offices.transfer_offices``)."""
    m = ctx.model
    changeable = m.changeable(kind)
    if changeable is None:
        if kind == 0:
            return  # no office of the state: a session changes nothing
        changeable = np.ones(len(m.offices), dtype=bool)
    out = state.rung >= RUNG["politburo"]
    rows = np.arange(state.H)
    C = state.client_seat.shape[1]
    # Whose offices fall, found in one pass over the offices clients hold; a transfer moves one
    # client's offices to principals or leaves them vacant, so it changes no other client's.
    h, o = np.nonzero((state.holder <= CLIENT) & (state.holder > CLIENT - C) & changeable)
    c_held = CLIENT - state.holder[h, o]
    down = out[h, state.client_patron[h, c_held]] & (state.coalition[h] != 0)
    for c in np.unique(c_held[down]):  # in client order
        code = CLIENT - int(c)
        held = (state.holder == code) & changeable[None, :]
        fall = rany(held) & out[rows, state.client_patron[:, c]] & (state.coalition != 0)
        if fall.any():
            transfer(state, ctx, t, fall, -1, offices=held, holder_code=code)  # type: ignore[operator]


def offices_to_clients(state: State, ctx: Context, t: int, kind: int | None,
                       before: NDArray[np.integer[Any]], body: str = "") -> None:
    """Each office flagged ``client_office`` that a meeting of ``kind`` may change and that
    changed hands there (``before``: the holders when the meeting opened) to a member of the
    ruling coalition goes on to a client: the coalition member with the most power gives it to
    his most loyal named client who holds no office (ties: the file's first). A patron with no
    such client keeps the office where the coalition put it. Offices are taken in list order.
    ``kind`` None: any office that changed hands (outside a meeting, at a client's death)."""
    m = ctx.model
    flagged = m.clients_may_take()
    changeable = m.changeable(kind) if kind is not None else None
    if changeable is not None:
        flagged = flagged & changeable
    elif kind == 0:
        return  # no office of the state: a session changes nothing
    if not flagged.any():
        return
    P, C = m.P, len(m.clients)
    # only the histories where a flagged office went to a principal (placing one office with
    # a client changes no other office's column, so this is known before the first)
    moved = (state.holder != before) & (state.holder >= 0) & flagged
    cand = np.flatnonzero(rany(moved))
    if cand.size == 0:
        return
    coal = bits(state.coalition[cand], P) & state.in_politburo()[cand]
    strongest = rargmax(np.where(coal, state.power[cand], -np.inf))
    ruled = rany(coal)
    for o in np.flatnonzero(flagged):
        got = state.holder[cand, o]
        took = moved[cand, o] & ruled
        took &= coal[np.arange(cand.size), np.maximum(got, 0)]
        k = np.flatnonzero(took)
        if k.size == 0:
            continue
        rows, patron = cand[k], strongest[k]
        # the clients who hold no office: each office a client holds marks its holder
        held = state.holder[rows]
        k, j = np.nonzero((held <= CLIENT) & (held > CLIENT - C))
        free = np.ones((rows.size, C), dtype=bool)
        free[k, CLIENT - held[k, j]] = False
        free &= state.client_alive[rows]  # and a dead client holds nothing again
        mine = (state.client_patron[rows] == patron[:, None]) & free
        loyal = np.where(mine, state.client_loyalty[rows], -np.inf)
        pick = rargmax(loyal)
        ok = np.isfinite(loyal[np.arange(rows.size), pick])
        rows, pick, patron = rows[ok], pick[ok], patron[ok]
        if state.log is not None:
            for h, c, w in zip(rows, pick, patron, strict=True):
                state.log[h].append({
                    "kind": "client_office", "step": t, "office": m.office_names[o],
                    "actors": [m.principals[w]], "client": m.clients[c],
                    "from": m.principals[state.holder[h, o]], "body": body,
                    "because": "the post went to the ruling coalition, and its strongest member "
                               "placed his most loyal client without an office in it",
                })
        state.holder[rows, o] = CLIENT - pick


def seats_filled(state: State) -> NDArray[np.float64]:
    """(H,) full Politburo seats held, principals and clients together."""
    # a count of booleans is exact in any order; and a scenario may name no clients
    return rsum(state.in_politburo()) + state.client_seat.sum(axis=1)


def leadership_body(state: State, ctx: Context) -> NDArray[np.float64]:
    """(H, P + 1) the leadership body as a voting body, in the form of a committee's loyalties:
    column ``j`` is the share of its filled seats that vote with principal ``j`` (his own seat
    and his seated clients' loyalty, as ``politburo_votes`` counts them), the last column the
    rest (the clients' disloyal share, each his own vote). At a meeting of the leadership body
    this replaces the committee's loyalties: the committee's members have no vote there."""
    P = ctx.model.P
    out = np.zeros((state.H, P + 1))
    out[:, :P] = politburo_votes(state, ctx) / np.maximum(seats_filled(state)[:, None], 1e-12)
    out[:, P] = np.maximum(1.0 - rsum(out[:, :P]), 0.0)
    return out


def fill_seats(state: State, ctx: Context, t: int, target: int) -> None:
    """Vacant Politburo seats go to named clients of coalition members, by D'Hondt on the
    patrons' CC followings; ``target`` > 0 sets the body's new size first."""
    P = ctx.model.P
    if target > 0:
        state.pb_size[:] = target
    C = state.client_seat.shape[1]
    coal_all = bits(state.coalition, P) & state.in_politburo()
    # only the histories with a vacant seat and a coalition to fill it
    live = np.flatnonzero((state.pb_size - seats_filled(state) > 0) & rany(coal_all))
    while live.size and C:
        seat = state.client_seat[live]
        patron = state.client_patron[live]
        loyal = state.client_loyalty[live]
        alive = state.client_alive[live]
        n = live.size
        held = np.zeros((n, P))
        best = np.full((n, P), -1, dtype=np.int64)
        best_loyal = np.full((n, P), -np.inf)
        r = np.arange(n)
        for c in range(C):  # each patron's seated clients, and his most loyal unseated one
            held[r, patron[:, c]] += seat[:, c]
            free = ~seat[:, c] & alive[:, c] & (loyal[:, c] > best_loyal[r, patron[:, c]])
            best[r[free], patron[free, c]] = c
            best_loyal[r[free], patron[free, c]] = loyal[free, c]
        quot = np.where(coal_all[live] & (best >= 0), state.cc[live, :P] / (1 + held), -np.inf)
        who = rargmax(quot)
        ok = np.isfinite(quot[r, who])
        rows, who = live[ok], who[ok]
        pick = best[r[ok], who]
        state.client_seat[rows, pick] = True
        if state.log is not None:
            for h, w, c in zip(rows, who, pick, strict=True):
                state.log[h].append({
                    "kind": "promotion", "step": t, "actors": [ctx.model.principals[w]],
                    "client": ctx.model.clients[c], "body": ctx.model.bodies.committee,
                    "because": f"a vacant {ctx.model.bodies.leadership} seat went to a client of "
                               "the coalition member with the largest following in the CC",
                })
        live = rows[state.pb_size[rows] - seats_filled(state)[rows] > 0]


def drift(state: State, ctx: Context, t: int) -> None:
    """Loyalty follows the patron's fortunes; a client whose loyalty fails changes patron."""
    P = ctx.model.P
    C = state.client_seat.shape[1]
    if C == 0:
        return
    rows = np.arange(state.H)
    coal = bits(state.coalition, P) & state.in_party()
    rate = ctx.params["client_drift"]
    anchor = np.broadcast_to(ctx.model.client_loyalty, (state.H, C))
    patron_in = coal[rows[:, None], state.client_patron]
    goal = np.where(patron_in, anchor, anchor * anchor)
    state.client_loyalty += rate[:, None] * (goal - state.client_loyalty)
    leave = (state.client_loyalty < 0.5) & rany(coal)[:, None] & state.client_alive
    if not leave.any():
        return
    new = rargmax(np.where(coal, state.cc[:, :P], -np.inf))
    for c in range(C):
        go = np.flatnonzero(leave[:, c] & (new != state.client_patron[:, c]))
        if go.size == 0:
            continue
        if state.log is not None:
            for h in go:
                state.log[h].append({
                    "kind": "client_switch", "step": t, "actors": [ctx.model.principals[new[h]]],
                    "client": ctx.model.clients[c],
                    "from": ctx.model.principals[state.client_patron[h, c]],
                    "body": "the party",
                    "because": "his patron stood outside the ruling coalition and could no "
                               "longer advance him",
                })
        state.client_patron[go, c] = new[go]
        state.client_loyalty[go, c] = 0.5


def die(state: State, ctx: Context, t: int, c: int, transfer: object, event: str = "") -> None:
    """Client ``c`` dies this month (the scenario's ``death`` event ``event``): he leaves his
    seat, which stays vacant until a meeting fills seats (``fill_seats``); his offices go at
    once to the ruling coalition (``transfer``, ``mechanisms.offices.transfer_offices``) and a
    flagged one on to a living client (``offices_to_clients``); and no rule seats, places,
    switches or counts him again."""
    m = ctx.model
    code = CLIENT - c
    held = state.holder == code
    before = state.holder.copy()
    if state.log is not None:
        for h in range(state.H):
            state.log[h].append({
                "kind": "death", "step": t, "actors": [], "client": m.clients[c],
                "patron": m.principals[state.client_patron[h, c]],
                "seat": bool(state.client_seat[h, c]),
                "offices": [m.office_names[o] for o in np.flatnonzero(held[h])],
                "event": event, "body": "",
                "because": "his death is a dated fact of the scenario, not an outcome",
            })
    state.client_seat[:, c] = False
    state.client_alive[:, c] = False
    had = rany(held)
    if had.any():
        transfer(state, ctx, t, had, -1, holder_code=code)  # type: ignore[operator]
        offices_to_clients(state, ctx, t, None, before)
