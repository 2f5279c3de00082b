"""The engine: run a batch of histories month by month, vectorised over histories.

``simulate`` takes a compiled scenario, a seed and the indices of the histories to run, and
returns a ``Histories`` of plain arrays. Every random draw comes from ``politburo.rng`` keyed by
(seed, history index, step, purpose), so history *k* of seed *s* is the same in any batch, and a
counterfactual world sees the same draws as the factual one. Parameters are drawn per history from
the priors (or taken from a posterior, or passed in by the caller for calibration).

Order of a month: exogenous events (salience, crises answered by the rulers); policy line and
drift; the Secretariat's appointments; standing shocks; power; then each meeting of the month
(delegates and CC elections at congresses, the AES ruling coalition, Politburo seats for named
clients, the founder's Testament motion, motions against outsiders, and at a meeting of the
leadership body the appeals of those it removed); administrative exile and
readmission; clients' loyalty; opposition blocs; who rules alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from politburo.engine import rng
from politburo.engine.mechanisms import (
    appeal,
    arrest,
    circular_flow,
    clients,
    coalitions,
    policy,
    returns,
    standing,
    votes,
)
from politburo.engine.rows import rany, rargmax, rsum
from politburo.engine.state import LADDER, RUNG, Context, State, bits, record
from politburo.scenario.compile import CLIENT, FOUNDER, LEADERSHIP, VACANT, Compiled, MeetingC
from politburo.scenario.schema import RISE_STEPS


@dataclass(frozen=True)
class Histories:
    """What a batch of histories produced. Steps count months from the scenario's start."""

    seed: int
    index: NDArray[np.int64]  # (H,)
    params: NDArray[np.float64]  # (H, D) parameter values used
    winner: NDArray[np.int64]  # (H,) principal index, P for no one
    consolidation: NDArray[np.int64]  # (H,) step since which the winner ruled, -1 none
    falls: NDArray[np.int64]  # (H, P, len(LADDER)) first step of each rung, -1 never
    tallies: NDArray[np.float64]  # (H, n_assemblies) share backing the leadership
    coalition: NDArray[np.integer[Any]]  # (H, T) ruling coalition at each month's end, bitmask
    power: NDArray[np.float32] | None  # (H, T, P) monthly power shares, when kept
    log: list[list[dict[str, Any]]] | None  # per-history events, when recorded
    first_rule: NDArray[np.int64] | None = None  # (H,) first step anyone ruled alone, -1 never
    rises: NDArray[np.int64] | None = None  # (H, P, len(RISE_STEPS) + O), see ``record_rises``

    @property
    def H(self) -> int:
        return int(self.index.shape[0])


def coalition_dtype(P: int) -> np.dtype[Any]:
    """The narrowest unsigned integer that holds a bitmask over ``P`` principals."""
    return np.min_scalar_type((1 << P) - 1)


def draw_params(model: Compiled, seed: int, index: NDArray[np.int64]) -> NDArray[np.float64]:
    """Per-history parameter values from the priors: a pure function of (seed, index)."""

    # One stream per parameter name, so adding a parameter leaves the others' draws alone.
    u = np.concatenate([rng.uniforms(seed, index, -1, f"parameter:{name}")
                        for name in (model.streams or model.priors.names)], axis=1)
    theta = model.priors.ppf(u)
    for name, value in model.fixed.items():
        theta[:, model.priors.index(name)] = value
    return theta


def draw_attributes(model: Compiled, seed: int, index: NDArray[np.int64],
                    noise: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Per-history principal attributes: the scenario's coding, blurred on the logit scale.

    The attributes code historians' qualitative judgements; how far to trust the coding is
    itself uncertain (``attribute_noise``). Values of exactly 0 or 1 are facts (a newcomer
    or not) and stay fixed. Draws are keyed by attribute name and principal id.
    """

    out = {}
    for name, v in model.attrs.items():
        z = rng.normals(seed, index, -1, f"attribute:{name}", model.P)
        inner = (v > 0) & (v < 1)
        logit = np.log(np.where(inner, v, 0.5) / (1 - np.where(inner, v, 0.5)))
        blurred = 1 / (1 + np.exp(-(logit[None, :] + noise[:, None] * z)))
        out[name] = np.where(inner[None, :], blurred, v[None, :])
    return out


def initial_state(model: Compiled, H: int, record_log: bool,
                  attrs: dict[str, NDArray[np.float64]] | None = None) -> State:
    P, c = model.P, model.constants
    if attrs is None:
        attrs = {k: np.broadcast_to(v, (H, P)) for k, v in model.attrs.items()}
    org, st0 = attrs["organisation"], attrs["standing"]
    lean = org / org.sum(axis=1, keepdims=True)  # followings built before the start
    sec = np.empty((H, P + 1))
    sec[:, :P] = (1 - c["secretaries_unaligned"]) * lean
    sec[:, P] = c["secretaries_unaligned"]
    cc = np.empty((H, P + 1))
    cc[:, :P] = (1 - c["cc_unaligned"]) * lean
    cc[:, P] = c["cc_unaligned"]
    # A leader who starts outside the committee has no following in it, nor among the
    # secretaries: as if he had been removed from it (``purge_followers``) before the start.
    out = model.start_rungs() >= RUNG["central_committee"]
    if out.any():
        for body in (sec, cc):
            body[:, P] += body[:, :P][:, out].sum(axis=1)
            body[:, :P][:, out] = 0.0
    return State(
        sec=sec, cc=cc,
        standing=np.array(st0, dtype=np.float64),
        position=np.tile(model.position0, (H, 1, 1)).astype(np.float64),
        ideal=np.tile(model.position0, (H, 1, 1)).astype(np.float64),
        line=np.tile([c[f"line_{a}_start"] for a in model.axes], (H, 1)),
        salience=np.ones((H, 2)),
        holder=np.tile(model.holder0, (H, 1)),
        rung=np.tile(model.start_rungs(), (H, 1)),
        last_step=np.full((H, P), -1000, dtype=np.int64),
        falls=np.full((H, P, len(LADDER)), -1, dtype=np.int64),
        recanted=np.zeros((H, P), dtype=bool), recant_used=np.zeros((H, P), dtype=bool),
        coalition=np.zeros(H, dtype=np.int64), sole=np.full(H, -1, dtype=np.int64),
        core=np.zeros(H, dtype=np.int64),
        threatened=np.zeros((H, P), dtype=bool),
        players=np.zeros(H, dtype=np.int64),
        bloc=np.zeros(H, dtype=np.int64),
        enmity=np.tile(model.enmity0, (H, 1, 1)),
        client_patron=np.tile(model.client_patron, (H, 1)),
        client_loyalty=np.tile(model.client_loyalty, (H, 1)),
        client_seat=np.zeros((H, len(model.clients)), dtype=bool),
        pb_size=np.full(H, int(c["politburo_size_start"]), dtype=np.int64),
        cc_size=np.full(H, c["cc_size_start"]),
        blind=np.zeros(H),
        old_guard=np.ones(H), members=np.full(H, c["membership_start"]),
        power=np.full((H, P), 1.0 / P),
        cons_who=np.full(H, -1, dtype=np.int64), cons_since=np.full(H, -1, dtype=np.int64),
        first_rule=np.full(H, -1, dtype=np.int64),
        arrested=np.zeros((H, P), dtype=bool),
        log=[[] for _ in range(H)] if record_log else None,
    )


def office_holdings(holder: NDArray[np.int64], weight: NDArray[np.float64], P: int
                    ) -> NDArray[np.float64]:
    """(H, P) total weight of the offices each principal holds."""
    onehot = holder[:, :, None] == np.arange(P)[None, None, :]
    return np.einsum("hop,o->hp", onehot, weight)


def power_parts(state: State, ctx: Context, eff: NDArray[np.float64],
                act: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Each principal's power from the CC, the Politburo, offices and standing (H, P)."""
    m, c, P = ctx.model, ctx.const, ctx.model.P
    alive = state.in_party()
    # Politburo votes: his own seat and his seated clients' loyalty, out of all seats filled
    # (a client's disloyal share of his vote is his own).
    pb = clients.politburo_votes(state, ctx) / np.maximum(
        clients.seats_filled(state)[:, None], 1e-12)
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
    coal = bits(state.coalition[rows], P) & state.in_politburo()[rows]
    if loser >= 0:
        coal[:, loser] = False
    power = state.power[rows]
    held = np.zeros((rows.size, P))
    for o in range(len(m.offices)):
        ok = holder[:, o] >= 0
        held[np.flatnonzero(ok), holder[ok, o]] += m.office_weight[o]
    others = state.in_politburo()[rows] & (np.arange(P) != loser)[None, :]
    for o in range(len(m.offices)):
        lose = mine[:, o]
        if not lose.any():
            continue
        if o == m.gensec:  # the CC elects the strongest of the coalition
            score = np.where(coal, power, -np.inf)
        else:
            score = np.where(coal, -held + 1e-3 * power, -np.inf)
        score = np.where(rany(coal)[:, None], score, np.where(others, power, -np.inf))
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


def _tally(state: State, ctx: Context, deleg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Share of an assembly backing the leadership: all but the followers of outsiders."""
    P = ctx.model.P
    coal = bits(state.coalition, P)
    opposed = (~coal & state.in_party() & (state.coalition != 0)[:, None])
    return 1.0 - ctx.const["client_loyalty"] * rsum(deleg[:, :P] * opposed)


def _meeting(state: State, ctx: Context, t: int, mt: MeetingC, act: NDArray[np.float64],
             founder_alive: bool, testament_motion: tuple[int, float] | None,
             tallies: list[NDArray[np.float64]], resignation: bool = False,
             mx: Mechanisms | None = None, office: int = -1) -> None:
    mx = mx or SPEC
    eff = mx.effective(state, ctx)
    if mt.kind >= 2:
        body = circular_flow.delegates(state, ctx, eff)
        if mt.kind == 3:
            circular_flow.elect_cc(state, ctx, body, mt.cc_size)
        # The tally is taken after the coalition forms (below) to use the current lineup.
    elif mt.kind == LEADERSHIP:
        # The leadership body's own meeting: its seated members vote, with their clients.
        body = clients.leadership_body(state, ctx)
    else:
        # A plenum's votes are the committee's; so are a state session's, which approves the
        # appointments the party's committee proposes.
        body = state.cc
    parts = mx.power_parts(state, ctx, eff, act)
    state.power = mx.shares(parts)
    mx.form(state, ctx, t, parts, replay=mt.kind == 3)
    if mt.kind == 1:  # the committee that elects the leadership may co-opt a man back into it
        returns.apply(state, ctx, t, eff, mt.name)
    if mt.kind >= 2:
        tallies.append(_tally(state, ctx, body))
        record(state, ctx, np.ones(state.H, dtype=bool), {
            "kind": "assembly", "step": t, "body": mt.name, "actors": [],
            "yes": lambda h, s=tallies[-1]: float(s[h]), "of": mt.delegates,
            "because": "delegates chosen through the provincial secretaries",
        })
    if mt.kind >= 1:  # leadership seats are the party's to fill, not a state session's
        clients.fill_seats(state, ctx, t, mt.politburo_size)
    if testament_motion is not None and (mt.kind >= 1 or resignation and mt.kind == 0):
        target, shift = testament_motion
        _testament_vote(state, ctx, t, mt, body, eff, act, target, shift, resignation, office)
    # An active founder holds back motions against his colleagues.
    restraint = ctx.params["founder_restraint"] if founder_alive else 0.0
    appealable = mt.kind == LEADERSHIP and ctx.model.appeal != "none"
    before = appeal.snapshot(state) if appealable else None
    votes.motions(state, ctx, t, mt, body, eff, act, restraint, transfer_offices)
    if before is not None:  # the committee may overturn what its leadership body did
        appeal.apply(state, ctx, t, mt, before, act, transfer_offices)
    if mt.kind <= 1 and ctx.model.client_offices():  # a client's office falls with his patron
        clients.offices_fall(state, ctx, t, mt.kind, transfer_offices)


def _testament_vote(state: State, ctx: Context, t: int, mt: MeetingC,
                    body: NDArray[np.float64], eff: NDArray[np.float64],
                    act: NDArray[np.float64], target: int, shift: float,
                    resignation: bool = False, office: int = -1) -> None:
    """The founder's proposal: remove the Testament's target from the patronage office.

    A ``resignation`` event puts the same question by the holder's own offer, for the office it
    names (``office``; -1, the patronage office): the meeting votes on accepting it, with the
    support the event's ``size`` gives, and its own draw; whether it passes, and who takes the
    office, is the vote's and the coalition's.
    """
    g = office if resignation and office >= 0 else ctx.model.gensec
    if g < 0:
        return
    holds = state.holder[:, g] == target
    if not holds.any():
        return
    support = ctx.params["testament_removal_support"] * shift
    saved = state.coalition.copy()
    # The founder's motion, not the ruling coalition's: backed by his own allies (the leaders in
    # a ruling coalition with him, when he plays and is in one) except its target.
    allies = np.zeros_like(saved)
    if state.founder_on and state.founder_in is not None and not resignation:
        allies = np.where(state.founder_in, saved & ~(np.int64(1) << target), 0)
    state.coalition = allies
    expect = votes.yes_share(state, ctx, body, target, eff, shift=support, act=act)
    state.coalition = saved
    z = ctx.z(t, "resignation_vote" if resignation else "testament_vote")[:, 0]
    share = np.clip(expect + ctx.params["vote_noise"] * z, 0, 1)
    passed = holds & (share > 0.5)
    for h in np.flatnonzero(holds):
        if state.log is not None:
            state.log[h].append({
                "kind": "vote", "step": t, "actors": [ctx.model.principals[target]],
                "body": mt.name, "motion": ctx.model.offices[g], "yes": float(share[h]),
                "passed": bool(passed[h]), "votes": None, "of": None,
                "because": (f"he had offered to resign the post of "
                            f"{ctx.model.office_names[g].split(' (')[0]} and the committee put "
                            "the offer to a vote") if resignation else
                           (f"the Testament proposed removing him from the post of "
                            f"{ctx.model.office_names[g].split(' (')[0]} (not from the party)"),
            })
    if passed.any():
        transfer_offices(state, ctx, t, passed, target, only=g)


def _takes_offer(model: Compiled, mt: MeetingC, e: Any) -> bool:
    """Whether the meeting ``mt`` can vote on the resignation ``e``: a party meeting (plenum,
    conference, congress) or a state session that can change the office offered up."""
    if mt.kind < 0:  # the leadership body's own meeting fills no posts by offer
        return False
    office = e.office if e.office >= 0 else model.gensec
    changeable = model.changeable(mt.kind)
    if changeable is None:  # no state offices: every office is the party meetings'
        return mt.kind >= 1
    return bool(office >= 0 and changeable[office])


def _first_game(state: State, ctx: Context, t: int, act: NDArray[np.float64],
                mx: Mechanisms | None = None) -> None:
    """Power and the first coalition game, before any meeting."""
    mx = mx or SPEC
    eff = mx.effective(state, ctx)
    parts = mx.power_parts(state, ctx, eff, act)
    state.power = mx.shares(parts)
    mx.form(state, ctx, t, parts)


def _shares(parts: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
    raw = parts["apparatus"] + parts["visible"]
    return raw / np.maximum(rsum(raw)[:, None], 1e-12)


def simulate(
    model: Compiled,
    seed: int,
    index: NDArray[np.int64],
    params: NDArray[np.float64] | None = None,
    *,
    keep_power: bool = False,
    record_log: bool = False,
    engine: str | None = None,
) -> Histories:
    """Run the histories ``index`` of ``seed`` through the scenario ``model``.

    ``engine`` picks how the month is computed (``ENGINES``; None: ``default_engine()``): the
    NumPy mechanisms, which are the specification, or Numba kernels for some of them with the
    NumPy ones for the rest (``politburo.engine.compiled``). Both give the same histories bit for
    bit; a run that records a log always uses the NumPy mechanisms."""
    mx = mechanisms(engine, record_log)
    index = np.asarray(index, dtype=np.int64)
    H, P, T = index.shape[0], model.P, model.steps
    theta = draw_params(model, seed, index) if params is None else np.asarray(params, float)
    params_h = {n: theta[:, j] for j, n in enumerate(model.priors.names)}
    # A feature's parameters that the scenario leaves out are read by nothing it contains.
    params_h.update({n: np.zeros(H) for n in model.absent})
    attrs = draw_attributes(model, seed, index, params_h["attribute_noise"])
    ctx = Context(model=model, seed=seed, index=index, params=params_h,
                  const=model.constants, attrs=attrs)
    state = initial_state(model, H, record_log, attrs)
    # The coding of each leader's starting position is a judgement too: blur it per history.
    for k, axis in enumerate(model.axes):
        z = rng.normals(seed, index, -1, f"position:{axis}", P)
        state.position[:, :, k] = np.clip(
            state.position[:, :, k] + params_h["position_noise"][:, None] * z, -1.0, 1.0)
    state.ideal = state.position.copy()
    if model.founder_position is not None:  # the founder's line, blurred like the others'
        state.founder_pos = np.stack([np.clip(
            model.founder_position[k] + params_h["position_noise"]
            * rng.normals(seed, index, -1, f"founder_position:{axis}", 1)[:, 0], -1.0, 1.0)
            for k, axis in enumerate(model.axes)], axis=1)
    state.blind = ctx.params["apparatus_blindness"].copy()
    # An axis that a dated event will make contested counts for little until then.
    for e in model.events:
        if e.kind == "salience" and e.axis >= 0 and e.start > 0:
            state.salience[:, e.axis] = params_h["salience_before"]
    power_out = np.zeros((H, T, P), dtype=np.float32) if keep_power else None
    coalition_out = np.zeros((H, T), dtype=coalition_dtype(P))
    tallies: list[NDArray[np.float64]] = []
    rises = np.full((H, P, len(RISE_STEPS) + len(model.offices)), -1, dtype=np.int64)
    death = next((e for e in model.events if e.kind == "founder_death"), None)
    # The founder acts until he is incapacitated; without that event, until he dies; a scenario
    # with neither has no founder at all, so nobody restrains the motions or moves the Testament.
    founder_until = model.founder_until()
    # His colleagues hold back from moving against one another while he lives, incapacitated
    # or not: nobody knew he would not recover (the Letter was held back in hope of it, S9).
    founder_alive = death.start if death is not None else founder_until
    # The Testament's motion is the first letter that would remove someone (one that only
    # names a successor proposes no removal).
    testament = next((e for e in model.events if e.kind == "testament" and e.targets), None)
    # An offer to resign an office goes to the first meeting of its month that can change that
    # office: a party meeting for the patronage office or a party office, a session of the
    # state's organs for a state office (``Compiled.changeable``).
    resigning = {e.start: e for e in model.events if e.kind == "resignation" and e.actor >= 0}
    arrests = bool(model.security_offices().any())
    meetings_at: dict[int, list[MeetingC]] = {}
    for mt in model.meetings:
        meetings_at.setdefault(mt.month, []).append(mt)
    for t in range(T):
        founder_active = t < founder_until
        state.founder_on = founder_active
        act = circular_flow.activity(state, ctx, t)
        if death is not None and death.start == t:
            if t == 0:
                # A founder who dies in the first month leaves his offices to a coalition that
                # must exist first: play the first game now, not after the transfer (which
                # would otherwise fall back on the first principal by id).
                _first_game(state, ctx, t, act, mx)
            standing.funeral(state, ctx, t, death.present)
            transfer_offices(state, ctx, t, np.ones(H, dtype=bool), -1)
        for e in model.events:
            if e.start != t:
                continue
            if e.kind == "polemic":
                standing.polemic(state, ctx, t, e.actor, e.targets)
            elif e.kind == "speech":
                standing.speech(state, ctx, t, e.actor, e.targets, e.handling)
            elif (e.kind == "testament" and (e.targets or e.endorses)
                  and not founder_active):
                # (a founder still acting when his letter falls due puts it to each congress
                # himself, as a motion; it is read out only once he no longer can)
                exposure = {"suppressed": 0.0, "delegations": 0.3, "published": 1.0}.get(
                    e.handling, 0.3)
                if e.targets:
                    standing.testament(state, ctx, t, e.targets[0], exposure)
                if e.endorses:
                    standing.endorse(state, ctx, t, e.endorses, exposure)
            elif e.kind == "charge":
                standing.charge(state, ctx, t, e.actor, e.targets, e.size)
        circular_flow.enrolment(state, ctx, t)
        policy.events(state, ctx, t)
        if t > 0:
            mx.line_and_drift(state, ctx, t)
        mx.patronage(state, ctx, t, act)
        mx.standing_drift(state, ctx, t)
        mx.decay_enmity(state, ctx)
        state.blind *= 1 - ctx.params["perception_learning"]
        if t == 0:
            _first_game(state, ctx, t, act, mx)
        if arrests:  # a coalition that commands the security forces may arrest a rival
            chosen = (~bits(state.coalition, P) & state.in_party()
                      & (state.rung < RUNG["party"]))
            arrest.apply(state, ctx, t, death.start if death is not None else 0,
                         votes.threat_keenness(state, ctx, chosen),
                         ctx.params["founder_restraint"] if t < founder_alive else 0.0,
                         transfer_offices)
        for mt in meetings_at.get(t, []):
            motion = None
            if testament is not None and testament.targets:
                if founder_active and mt.kind == 3:
                    motion = (testament.targets[0], 2.0)
                elif (testament.handling == "published" and mt.month == testament.start
                      and mt.kind >= 2):
                    motion = (testament.targets[0], 1.0)
            offer = False
            offered = -1
            if motion is None and t in resigning and _takes_offer(model, mt, resigning[t]):
                e = resigning.pop(t)
                motion, offer, offered = (e.actor, e.size), True, e.office
            _meeting(state, ctx, t, mt, act, t < founder_alive, motion, tallies, offer, mx,
                     offered)
        votes.administrative(state, ctx, t)
        mx.clients_drift(state, ctx, t)
        mx.update_bloc(state, ctx, t)
        eff = mx.effective(state, ctx)
        state.power = mx.shares(mx.power_parts(state, ctx, eff, act))
        mx.consolidate(state, ctx, t)
        coalition_out[:, t] = state.coalition
        mx.record_rises(rises, model, t, state.holder, state.rung, state.falls,
                        model.start_rungs())
        if power_out is not None:
            power_out[:, t] = state.power
    winner = np.where(state.cons_who >= 0, state.cons_who, P)

    return Histories(
        seed=seed, index=index, params=theta, winner=winner, consolidation=state.cons_since,
        falls=state.falls,
        tallies=np.stack(tallies, axis=1) if tallies else np.zeros((H, 0)),
        coalition=coalition_out, power=power_out, log=state.log, first_rule=state.first_rule,
        rises=rises,
    )


def record_rises(out: NDArray[np.int64], model: Compiled, t: int, holder: NDArray[np.int64],
                 rung: NDArray[np.int64], falls: NDArray[np.int64],
                 rung0: NDArray[np.int64] | None = None) -> None:
    """Mark the first step of each rise in ``out`` (H, P, len(RISE_STEPS) + O), -1 never.

    Column 0: he holds an office he did not hold at the start; columns 1-3: he is back in the
    leadership body, the committee, the party after a fall from it or after starting outside
    it (``rung0``, each principal's starting rung); then one column per
    office: he holds that office, not having held it at the start. The mechanisms decide who
    rises; this only reads the office holders and the ladder at the end of a month."""
    P = model.P
    holds = holder[:, :, None] == np.arange(P)[None, None, :]  # (H, O, P)
    new = np.transpose(holds & (model.holder0[None, :, None] != np.arange(P)), (0, 2, 1))
    first = out[:, :, len(RISE_STEPS):]
    first[(first < 0) & new] = t
    out[:, :, 0] = np.where((out[:, :, 0] < 0) & new.any(axis=2), t, out[:, :, 0])
    for k, step in enumerate(RISE_STEPS[1:], start=1):
        r = RUNG[step]
        was_out = falls[:, :, r - 1] >= 0
        if rung0 is not None and (rung0 >= r).any():
            was_out = was_out | (rung0 >= r)[None, :]
        back = (rung < r) & was_out
        out[:, :, k] = np.where((out[:, :, k] < 0) & back, t, out[:, :, k])


def _consolidate(state: State, ctx: Context, t: int) -> None:
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


ENGINES = ("numpy", "compiled")


@dataclass(frozen=True)
class Mechanisms:
    """The mechanisms a month calls, by name. ``SPEC`` holds the NumPy functions, which are the
    model's executable specification; ``politburo.engine.compiled.COMPILED`` replaces some of
    them with Numba kernels that give the same arrays bit for bit (tests/test_engine_nb.py)."""

    line_and_drift: Callable[..., None]
    patronage: Callable[..., None]
    standing_drift: Callable[..., None]
    decay_enmity: Callable[..., None]
    effective: Callable[..., NDArray[np.float64]]
    power_parts: Callable[..., dict[str, NDArray[np.float64]]]
    shares: Callable[..., NDArray[np.float64]]
    form: Callable[..., None]
    clients_drift: Callable[..., None]
    update_bloc: Callable[..., None]
    consolidate: Callable[..., None]
    record_rises: Callable[..., None]


SPEC = Mechanisms(
    line_and_drift=policy.line_and_drift, patronage=circular_flow.patronage,
    standing_drift=standing.drift, decay_enmity=standing.decay_enmity,
    effective=standing.effective, power_parts=power_parts, shares=_shares,
    form=coalitions.form, clients_drift=clients.drift, update_bloc=coalitions.update_bloc,
    consolidate=_consolidate, record_rises=record_rises,
)


def default_engine() -> str:
    """The engine a run uses when none is named (``set_default_engine``; at first
    ``DEFAULT_ENGINE``)."""
    return _default[0]


def set_default_engine(engine: str) -> None:
    """Make ``engine`` the one runs use when none is named, in this process and in the worker
    processes it forks afterwards (``politburo --engine``)."""
    if engine not in ENGINES:
        raise ValueError(f"engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    _default[0] = engine


def mechanisms(engine: str | None = None, record_log: bool = False) -> Mechanisms:
    """The mechanisms of ``engine`` (None: ``default_engine()``). A run that records a log gets
    the NumPy ones whatever the engine: only they write the log."""
    name = engine or default_engine()
    if name not in ENGINES:
        raise ValueError(f"engine: expected one of {', '.join(ENGINES)}, got {name!r}")
    if name == "numpy" or record_log:
        return SPEC
    from politburo.engine.compiled import COMPILED
    return COMPILED


DEFAULT_ENGINE = "compiled"  # bit-identical to "numpy" for the built-in scenarios
_default = [DEFAULT_ENGINE]
