"""Votes and the removal ladder, under the 1921 ban on factions.

The ruling coalition moves against those outside it one step at a time: censure, loss of office,
removal from the Politburo, from the Central Committee, expulsion from the party; internal exile
and deportation follow by administrative decision (the OGPU's, S48), not by vote. Each motion is
decided by the loyalties of the body's members (CC for a plenum, delegates for a conference or
congress): members follow their patrons; the unaligned follow the standing gap, the aloofness of
the accused, and, if he leads an organised platform, the ban on factions (10th Congress resolution
"On Party Unity", S67, S68; used to justify the expulsions of November 1927, S68b). A leader
threatened with removal from the CC or expulsion who sees the vote going against him may recant,
once before he is expelled (the statement of 16 October 1926, which answered the CC's ultimatum,
S36): the motion lapses, at a price in standing, but the faction lives on (the Opposition's
platform of 1927, S33, and its demonstrations of November 1927, S42). Those outside the coalition
are purged as in Acemoglu, Egorov and Sonin (2008); whether a purge succeeds is up to the body.

The steps are of three kinds. *Censure* answers open dissent: it follows how far the outsider
stands from the party line, or whether he leads an organised platform (the condemnations of the
1923 opposition by the 13th Conference, S22, S23). Loss of *office* takes power from a rival, as
keenly as his power threatens the ruler: his power (an organised bloc's counted together)
against that of the strongest member of the ruling coalition (M. Svolik, *The Politics of
Authoritarian Rule*, 2012: a ruler's purges follow the threat his rivals pose to him). Loss of
the *Politburo seat*, of the CC seat and of membership punish *factionalism*: under the ban they
were the penalties for organised factional work (point 7 of "On Party Unity", S67), and every
one of them in 1926-27 followed a charge of it (Zinoviev's removal from the Politburo for an
illegal factional organisation, S36, S37; the CC removals and expulsions after the Opposition's
platform and demonstrations, S41, S44, S68b). An outsider who leads no organised bloc, and
stands charged with no platform an assembly condemned (``coalitions.condemn``), draws a tenth
of the rate for them, however far he stands from the line. Which steps a
meeting may take is the file's (``rules.powers``, read by ``steps_allowed``); by default the body
that elects a seat takes it away. Offices and Politburo seats are the CC plenum's to give and
take (the plenum of 1 January 1926 elected the Politburo and demoted Kamenev, S38, S39): a
congress may censure, leave a man out of the CC it elects, or expel, and a conference may
censure or expel. The leadership body, meeting on its own (a meeting of kind ``leadership``,
where a file has one), votes with its own members and their clients
(``clients.leadership_body``), not the CC's loyalties, and by default may censure and take only
the offices the file gives it: it acts for the committee between plenums, which elects it (the
CCP's statutes; the Presidium's vote against Khrushchev of June 1957, Taubman 2006).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from politburo.engine.mechanisms import policy
from politburo.engine.mechanisms.circular_flow import purge_followers
from politburo.engine.rows import rany, rargmax, rsum
from politburo.engine.state import RUNG, Context, State, bits, listed, record
from politburo.scenario.compile import LEADERSHIP, Compiled, MeetingC

_NAMES = {1: "censure", 2: "office", 3: "politburo", 4: "central_committee", 5: "party"}
_KIND = {0: "session", 1: "plenum", 2: "conference", 3: "congress", LEADERSHIP: "leadership"}


def sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def yes_share(
    state: State, ctx: Context, body: NDArray[np.float64], target: int,
    eff_standing: NDArray[np.float64], shift: NDArray[np.float64] | float = 0.0,
    act: NDArray[np.float64] | None = None, rows: NDArray[np.int64] | None = None,
    loyal: float | None = None,
) -> NDArray[np.float64]:
    """Expected share voting for a motion against ``target`` (before noise).

    With ``rows``, only those histories are computed (and returned, in that order). ``loyal``
    is the chance that a leader's share of the body votes with him: the constant
    ``client_loyalty`` for a committee's followers, 1 for the leadership body, whose shares
    (``clients.leadership_body``) already weigh each client by his own loyalty and count a
    member's own seat in full.
    """
    P = ctx.model.P
    r = np.arange(state.H) if rows is None else rows
    if loyal is None:
        loyal = ctx.const["client_loyalty"]
    coal = bits(state.coalition[r], P)
    bloc = bits(state.bloc[r], P)
    in_bloc = bloc[:, target]
    prob = np.full((r.size, P + 1), 0.5)
    prob[:, :P] = np.where(coal, loyal, 0.5)
    prob[:, :P] = np.where(bloc & in_bloc[:, None], 1 - loyal, prob[:, :P])
    prob[:, target] = 1 - loyal
    members = coal & (state.rung[r] < RUNG["party"])
    # Without a ruling coalition behind the motion (Lenin's own), the yardstick is the
    # average of the other leaders in the party.
    alone = ~rany(members)
    if alone.any():
        others = (state.rung[r] < RUNG["party"]) & (np.arange(P) != target)[None, :]
        members = np.where(alone[:, None], others, members)
    n = np.maximum(rsum(members), 1)
    eff = eff_standing[r]
    coal_st = rsum(eff * members) / n
    gap = coal_st - eff[:, target]
    logit = ctx.params["standing_sensitivity"][r] * gap
    logit = logit + ctx.params["faction_ban_penalty"][r] * in_bloc
    logit = logit + ctx.params["aloofness_cost"][r] * ctx.attr("aloofness")[r, target]
    if act is not None:
        logit = logit + (1 - act[r, target])  # an absent leader cannot defend himself
    if not np.isscalar(shift):
        shift = np.asarray(shift)[r]
    prob[:, P] = sigmoid(logit + shift)
    return rsum(body[r] * prob)


def threat_keenness(state: State, ctx: Context, chosen: NDArray[np.bool_]
                    ) -> NDArray[np.float64]:
    """(H, P) how keenly the ruling coalition moves to take power from each leader in
    ``chosen``: his power relative to the strongest member of the ruling coalition (at most
    1), raised to ``threat_focus``; a bloc's members count its power together and draw the
    full rate (Svolik 2012)."""
    P = ctx.model.P
    coal = bits(state.coalition, P)
    bloc = bits(state.bloc, P)
    threat = np.where(bloc, rsum(state.power * bloc)[:, None], state.power) * chosen
    ruler = np.where(coal, state.power, 0.0).max(axis=1, keepdims=True)
    rel = np.minimum(threat / np.maximum(ruler, 1e-12), 1.0)
    return np.maximum(rel ** ctx.params["threat_focus"][:, None], bloc)


def spared(state: State, ctx: Context, target: int) -> NDArray[np.bool_]:
    """(H,) whether the ruler spares ``target``'s seat in the leadership body: where, with
    ``target`` gone from the game, the ruler's partners in the ruling coalition would win it
    without him (their real power above ``winning_threshold`` of the seated leaders' but
    ``target``'s, the test of the coalition game, §7.3).

    AES (2008): a member backs a purge only if the coalition that follows it keeps him; a
    rival's fall that would leave the ruler's partners strong enough to rule without him is one
    he will not back. While the troika needed Stalin against Trotsky, Stalin and Bukharin
    stood aside when Zinoviev proposed in January 1925 to take the Politburo seat from Trotsky
    with the War Commissariat, which alone was taken (Rayfield, B28), and Stalin opposed his
    allies' calls to expel him (Conquest 1990, ch. 1); once the Leningrad leaders were outside too
    and the Right could not rule without Stalin, the Politburo removed Zinoviev (July 1926)
    and Trotsky (October 1926). The ruler is the coalition's strongest member by real power
    (as for the threat of ``threat_keenness``): he judges by what he commands, not by what the
    others perceive. Only the seat in the leadership body is spared: the game is played among
    its members, and an office, the committee or the party does not change who plays it."""
    P = ctx.model.P
    coal = bits(state.coalition, P)
    seated = state.in_politburo()
    ruler = rargmax(np.where(coal, state.power, -np.inf))
    partners = coal & seated
    partners[np.arange(state.H), ruler] = False
    rest = seated.copy()
    rest[:, target] = False
    return rsum(state.power * partners) > ctx.params["winning_threshold"] * rsum(state.power * rest)


def _log_spared(state: State, ctx: Context, t: int, meeting: MeetingC, target: int,
                held: NDArray[np.bool_]) -> None:
    """Record, where ``held``, the motion against ``target``'s seat that the ruler's partners
    would have brought and the ruler would not back (``spared``)."""
    P = ctx.model.P
    coal = bits(state.coalition, P)
    ruler = rargmax(np.where(coal, state.power, -np.inf))
    names = ctx.model.principals

    def partners(h: int) -> list[str]:
        return [names[j] for j in range(P) if coal[h, j] and j != ruler[h]
                and state.rung[h, j] < RUNG["politburo"]]

    record(state, ctx, held, {
        "kind": "spared", "step": t, "actors": [names[target]], "body": meeting.name,
        "ruler": lambda h: names[int(ruler[h])], "partners": partners,
        "because": lambda h: (f"with {names[target]} gone, {listed(partners(h))} could have won "
                              f"the {ctx.model.bodies.leadership} without "
                              f"{names[int(ruler[h])]}"),
    })


def next_rung(state: State, target: int, offices: NDArray[np.bool_] | None = None,
              again: bool = False) -> NDArray[np.int64]:
    """The next step for ``target``; the office step is skipped by those holding no office
    (of ``offices``, where only those can change). With ``again``, a leader who has lost an
    office but still holds one of ``offices`` faces the office step again before his seat
    (the rule ``offices_lost: one``, or offices split between party and state)."""
    r = state.rung[:, target] + 1
    mine = state.holder == target
    if offices is not None:
        mine = mine & offices[None, :]
    holds = rany(mine)
    if again:
        r = np.where((r == RUNG["politburo"]) & holds, RUNG["office"], r)
    return np.where((r == RUNG["office"]) & ~holds, RUNG["politburo"], r)


def offices_taken(state: State, ctx: Context, target: int, offices: NDArray[np.bool_] | None
                  ) -> NDArray[np.bool_] | None:
    """(H, O) the offices a passed motion for loss of office takes from ``target``, or None
    for all he holds: those the meeting can change (``offices``), and under the rule
    ``offices_lost: one`` only the weightiest of them."""
    m = ctx.model
    if offices is None and m.offices_lost != "one":
        return None
    ok = np.ones(len(m.offices), dtype=bool) if offices is None else offices
    mine = (state.holder == target) & ok[None, :]
    if m.offices_lost != "one":
        return mine
    w = np.where(mine, m.office_weight[None, :], -np.inf)
    top = np.argmax(w, axis=1)
    out = np.zeros_like(mine)
    out[np.arange(state.H), top] = rany(mine)
    return out


def steps_allowed(model: Compiled, kind: int, step: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether a meeting of ``kind`` may take each of ``step`` (next rungs, any shape): a step
    of the vote's ladder (censure to expulsion) that the file's ``rules.powers`` gives that
    kind of meeting. By default the body that elects a seat takes it away: offices and
    leadership seats are the plenum's, a congress censures, leaves out of the committee or
    expels, a conference censures or expels, a session moves only the state's offices, and
    the leadership body censures and moves only the offices flagged for it."""
    ok = model.may_take(kind)
    return (step <= RUNG["party"]) & ok[np.minimum(step, RUNG["party"])]


def office_first(model: Compiled, kind: int) -> NDArray[np.bool_]:
    """(O,) the offices whose holder a meeting of ``kind`` moves against for his office
    before anything else, whatever his place in the party: a session of the state's organs
    changes only the state's offices, and a man out of the leadership may still hold one."""
    changeable = model.changeable(kind)
    if kind != 0 or changeable is None:
        return np.zeros(len(model.offices), dtype=bool)
    return changeable


def draw_key(meeting: MeetingC) -> str:
    """The key of a meeting's draws: its kind and, after the first, its place among the
    month's meetings of that kind, so two plenums in one month draw apart."""
    return f"{meeting.kind}" if meeting.order == 0 else f"{meeting.kind}:{meeting.order}"


def targets(state: State, ctx: Context) -> tuple[NDArray[np.bool_], NDArray[np.float64],
                                                 NDArray[np.float64], NDArray[np.float64]]:
    """(H, P) each: who the ruling coalition may move against, and how keenly, for a
    censure (``dissent``), for an office (``power``, ``threat_keenness``) and for the seats
    and membership (``faction``).

    AES: everyone outside the ruling coalition is a target. How keenly the coalition moves
    against him depends on the step (module docstring). Censure follows open dissent: an
    organised platform, or distance from the party line; a quiet outsider on the line draws
    a tenth of the rate, one 0.6 or more away all of it. The Politburo seat, the CC seat and
    membership follow factionalism: a member of an organised bloc draws all of the rate, any
    other outsider a tenth. A leader charged with a platform an assembly condemned
    (``State.condemned``, ``coalitions.condemn``) counts as organised for all three kinds."""
    P = ctx.model.P
    coal = bits(state.coalition, P)
    chosen = ~coal & state.in_party() & (state.rung < RUNG["party"])
    # a leader whose platform an assembly condemned stands charged as if still organised
    # (``coalitions.condemn``)
    bloc = bits(state.bloc, P) | state.condemned
    opposes = policy.dissent(state)
    dissent = 0.1 + 0.9 * np.maximum(opposes, bloc.astype(np.float64))
    # Without the ban (the constant ``faction_ban`` at 0, the lever no_faction_ban) organising
    # is no offence, and everyone draws the tenth for these steps.
    faction = 0.1 + 0.9 * ctx.const["faction_ban"] * bloc.astype(np.float64)
    # A leader under arrest stands charged (mechanisms/arrest): the party's steps against him
    # draw the full rate, with or without a ban on factions.
    if state.arrested.any():
        faction = np.where(state.arrested, 1.0, faction)
    power = np.maximum(threat_keenness(state, ctx, chosen), state.condemned * chosen)
    return chosen, dissent, power, faction


def motions(
    state: State, ctx: Context, t: int, meeting: MeetingC, body: NDArray[np.float64],
    eff_standing: NDArray[np.float64], act: NDArray[np.float64],
    restraint: NDArray[np.float64] | float,
    transfer: object,
) -> None:
    """The coalition brings motions against outsiders; bodies decide; the accused may recant.

    Principals are taken in id order, and a motion passed against one changes what the
    votes on the next see (his offices, his followers, his rung)."""
    P = ctx.model.P
    gap = ctx.params["ladder_gap"]
    key = draw_key(meeting)
    u_move = ctx.u_actors(t, f"motion:{key}")
    chosen, dissent, power, faction = targets(state, ctx)
    u_recant = ctx.u_actors(t, f"recant:{key}")
    z_vote = ctx.z_actors(t, f"vote:{key}")
    changeable = ctx.model.changeable(meeting.kind)
    again = changeable is not None or ctx.model.offices_lost == "one"
    first = office_first(ctx.model, meeting.kind)
    for i in range(P):
        step = next_rung(state, i, changeable, again) if again else next_rung(state, i)
        if first.any():
            holds_first = rany((state.holder == i) & first[None, :])
            step = np.where(holds_first & (state.rung[:, i] < RUNG["party"]),
                            RUNG["office"], step)
        allowed = steps_allowed(ctx.model, meeting.kind, step)
        ready = (t - state.last_step[:, i]) >= gap
        ready |= state.rung[:, i] == 0
        keen = np.where(step == RUNG["censure"], dissent[:, i],
                        np.where(step == RUNG["office"], power[:, i], faction[:, i]))
        # the ruler spares a rival whose fall would free his partners to rule without him
        seat = (step == RUNG["politburo"]) & ~state.arrested[:, i]
        spare = seat & spared(state, ctx, i) if seat.any() else seat
        if state.log is not None and spare.any():  # the motion his partners would have brought
            _log_spared(state, ctx, t, meeting, i, spare & chosen[:, i] & allowed & ready
                        & (state.coalition != 0) & (u_move[:, i] < ctx.params["motion_rate"]
                                                    * (1 - restraint) * keen))
        keen = np.where(spare, 0.0, keen)
        rate = ctx.params["motion_rate"] * (1 - restraint) * keen
        move = (chosen[:, i] & allowed & ready
                & (state.coalition != 0) & (u_move[:, i] < rate))
        if not move.any():
            continue
        expect = np.zeros(state.H)
        rows = np.flatnonzero(move)
        expect[rows] = yes_share(state, ctx, body, i, eff_standing, act=act, rows=rows,
                                 loyal=1.0 if meeting.kind == LEADERSHIP else None)
        need = majority_needed(state, ctx, meeting, i, step)
        would_lose = expect > need
        # Recanting buys time once before expulsion, against removal from the CC or expulsion
        # only: the next motion goes to the vote. He stays in his bloc: renouncing factional
        # work did not end it (S36, S33).
        recant = move & would_lose & (u_recant[:, i] > ctx.attr("defiance")[:, i]) & (
            step >= RUNG["central_committee"]) & ~state.recant_used[:, i]
        if recant.any():
            state.standing[recant, i] *= 1 - ctx.params["recant_cost"][recant]
            state.recant_used[recant, i] = True
            record(state, ctx, recant, {
                "kind": "recant", "step": t, "actors": [ctx.model.principals[i]],
                "body": meeting.name,
                "because": lambda h, e=expect: f"facing a vote he expected to lose "
                                               f"({e[h]:.0%} against him), he renounced "
                                               f"factional work",
            })
        vote = move & ~recant
        share = np.clip(expect + ctx.params["vote_noise"] * z_vote[:, i], 0.0, 1.0)
        passed = vote & (share > need)
        failed = vote & ~passed
        if failed.any():
            state.blind[failed] *= 0.5  # a failed purge shows rivals where power lies
            state.standing[failed, i] += 0.05
        for h in np.flatnonzero(vote):
            if state.log is not None:
                state.log[h].append({
                    "kind": "vote", "step": t, "actors": [ctx.model.principals[i]],
                    "body": meeting.name, "motion": _NAMES[int(step[h])],
                    "yes": float(share[h]), "passed": bool(passed[h]),
                    "votes": int(round(share[h] * meeting.delegates)) if meeting.delegates
                    else None,
                    "of": meeting.delegates or None,
                    **({"needed": float(need[h])} if need[h] != 0.5 else {}),
                    "because": _because(state, ctx, int(h), i, body, eff_standing),
                    **({"electorate": f"{_meets(state, ctx, int(h))}'s votes"}
                       if meeting.kind == LEADERSHIP else {}),
                })
        if passed.any():
            rows = np.flatnonzero(passed)
            new = step[rows]
            # The rung never rises by a motion (a session may take an office from a man
            # already out of the leadership).
            state.rung[rows, i] = np.maximum(state.rung[rows, i], new)
            state.last_step[rows, i] = t
            for r, n in zip(rows, new, strict=True):
                if state.falls[r, i, n - 1] < 0:
                    state.falls[r, i, n - 1] = t
            out_of_cc = np.zeros((state.H, P), dtype=bool)
            out_of_cc[:, i] = passed & (step >= RUNG["central_committee"])
            if out_of_cc.any():
                purge_followers(state, ctx, out_of_cc)
            lose_office = passed & (step >= RUNG["office"])
            if lose_office.any():
                taken = offices_taken(state, ctx, i, changeable) if again else None
                if taken is None:
                    transfer(state, ctx, t, lose_office, i)  # type: ignore[operator]
                else:
                    transfer(state, ctx, t, lose_office, i, offices=taken)  # type: ignore[operator]


def committee_majority(model: Compiled, meeting: MeetingC) -> float:
    """The share of the votes that unseats a member of the committee or expels him at
    ``meeting`` (``majority_needed``): the file's ``committee_majority`` between congresses,
    a simple majority at a congress, which elects the committee."""
    return 0.5 if meeting.kind == 3 else model.committee_majority


def majority_needed(state: State, ctx: Context, meeting: MeetingC, target: int,
                    step: NDArray[np.int64]) -> NDArray[np.float64]:
    """(H,) the share of the votes a motion against ``target`` needs: a simple majority,
    except that between congresses a member of the committee is removed from it or expelled
    only by the file's ``committee_majority`` (point 7 of the 10th Congress's resolution "On
    Party Unity", S67: two thirds of a plenum joined by the candidates and the control
    commission). A congress elects the committee, so it leaves a man out by a majority."""
    need = np.full(state.H, 0.5)
    share = committee_majority(ctx.model, meeting)
    if share == 0.5:
        return need
    member = state.rung[:, target] < RUNG["central_committee"]
    need[member & (step >= RUNG["central_committee"])] = share
    return need


def _meets(state: State, ctx: Context, h: int) -> str:
    """The body that meets at a meeting of kind ``leadership`` in history ``h``: the inner body
    where the scenario has one with members (``mechanisms/inner``), else the leadership body."""
    m = ctx.model
    return m.inner_name() if m.has_inner() and state.inner[h].any() else m.bodies.leadership


def _because(state: State, ctx: Context, h: int, target: int, body: NDArray[np.float64],
             eff: NDArray[np.float64]) -> str:
    P = ctx.model.P
    parts = []
    for j in np.argsort(-body[h, :P])[:3]:
        if body[h, j] > 0.02:
            parts.append(f"{ctx.model.principals[j]}'s followers {body[h, j]:.0%}")
    parts.append(f"unaligned {body[h, P]:.0%}")
    why = "; ".join(parts)
    coal = [ctx.model.principals[j] for j in range(P) if (state.coalition[h] >> j) & 1]
    extra = " He led an organised platform, which the party's rules banned." if (
        state.bloc[h] >> target) & 1 and ctx.const["faction_ban"] else (
        " He stood charged with a platform an assembly had condemned."
        if state.condemned[h, target] else "")
    return (f"the ruling coalition ({', '.join(coal)}) moved against him; the body's "
            f"loyalties: {why}; his standing {eff[h, target]:.2f}.{extra}")


def administrative(state: State, ctx: Context, t: int) -> None:
    """Exile, deportation and readmission: decided by the apparatus month by month."""
    P = ctx.model.P
    u = np.stack([ctx.u_actors(t, f"administrative:{k}") for k in range(4)], axis=1)
    expelled = state.rung == RUNG["party"]
    due = (t - state.last_step) >= 1
    # An expelled leader may capitulate (Zinoviev and Kamenev, S16): the less defiant, the
    # likelier; those who do are not sent into exile and may be readmitted.
    cap = expelled & ~state.recanted & due & (
        u[:, 2] < ctx.params["capitulation_rate"][:, None]
        * (1 - ctx.attr("defiance")))
    state.recanted |= cap
    for i in range(P):
        record(state, ctx, cap[:, i], {
            "kind": "recant", "step": t, "actors": [ctx.model.principals[i]],
            "body": ctx.model.bodies.press,
            "because": "expelled, he renounced his views and asked to be taken back"})
    exile = expelled & ~state.recanted & due & (u[:, 0] < ctx.params["exile_rate"][:, None])
    readmit = expelled & state.recanted & due & ~cap & (
        u[:, 3] < ctx.params["readmission_rate"][:, None])
    exiled = state.rung == RUNG["exile"]
    deport = exiled & due & (u[:, 1] < ctx.params["deport_rate"][:, None])
    for mask, rung, kind, why in (
        (exile, RUNG["exile"], "exile", "expelled and unrepentant, he was sent into internal "
                                        "exile by administrative decision"),
        (deport, RUNG["deportation"], "deportation", "from exile he kept up his opposition; "
                                                     "he was deported abroad"),
    ):
        rows, cols = np.nonzero(mask)
        state.rung[rows, cols] = rung
        state.last_step[rows, cols] = t
        first = state.falls[rows, cols, rung - 1] < 0
        state.falls[rows[first], cols[first], rung - 1] = t
        for i in range(P):
            record(state, ctx, mask[:, i], {"kind": kind, "step": t,
                                            "actors": [ctx.model.principals[i]],
                                            "body": ctx.model.bodies.police, "because": why})
    rows, cols = np.nonzero(readmit)
    state.rung[rows, cols] = RUNG["central_committee"]
    state.last_step[rows, cols] = t
    state.recanted[rows, cols] = False
    state.recant_used[rows, cols] = False
    state.arrested[rows, cols] = False  # the charge ends with readmission
    state.condemned[rows, cols] = False  # and so does the condemnation's: he recanted
    for i in range(P):
        record(state, ctx, readmit[:, i], {
            "kind": "readmitted", "step": t, "actors": [ctx.model.principals[i]],
            "body": ctx.model.bodies.control,
            "because": "he had recanted; the party took him back as a rank-and-file member"})
