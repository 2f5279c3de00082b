"""The engine: run a batch of histories month by month, vectorised over histories.

``simulate`` takes a compiled scenario, a seed and the indices of the histories to run, and
returns a ``Histories`` (``engine/histories.py``) of plain arrays. Every random draw comes from
``politburo.engine.rng`` keyed by
(seed, history index, step, purpose), so history *k* of seed *s* is the same in any batch, and a
counterfactual world sees the same draws as the factual one. Parameters are drawn per history from
the priors (or taken from a posterior, or passed in by the caller for calibration).

Order of a month: exogenous events (salience, crises answered by the rulers); policy line and
drift; the Secretariat's appointments; standing shocks; power; then each meeting of the month
(delegates and CC elections at congresses, co-options to the CC at plenums, the AES ruling
coalition, Politburo seats for named clients, the founder's Testament motion, motions against
outsiders, and at a meeting of the leadership body the appeals of those it removed; at the end,
the inner body of the leadership, where the scenario has one, loses who left the leadership and
is elected anew by a meeting that gives it a size);
administrative exile and readmission; clients' loyalty; opposition blocs; who rules alone. This
module holds the order and the state it starts from; what happens at each step is a mechanism's,
one module each in ``engine/mechanisms/`` (power, offices and their transfer, the Testament's
vote and who rules alone among them). Which functions compute the steps that have a compiled
twin is the engine switch's (``engine/switch.py``).
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

from politburo.engine import rng
from politburo.engine.histories import Histories, coalition_dtype
from politburo.engine.mechanisms import (
    appeal,
    circular_flow,
    clients,
    coalitions,
    inner,
    policy,
    returns,
    standing,
)
from politburo.engine.mechanisms.offices import transfer_offices
from politburo.engine.mechanisms.testament import testament_vote
from politburo.engine.rows import rsum
from politburo.engine.state import (
    LADDER,
    NEVER_STEPPED,
    RUNG,
    RUNG_DTYPE,
    Context,
    State,
    bits,
    record,
    step_dtype,
    who_dtype,
)
from politburo.engine.switch import SPEC, Mechanisms, mechanisms
from politburo.scenario.compile import LEADERSHIP, Compiled, MeetingC
from politburo.scenario.schema import RISE_STEPS


def prior_draws(model: Compiled, seed: int, index: NDArray[np.int64]) -> NDArray[np.float64]:
    """Per-history parameter values from the priors, before a world pins any: a pure function
    of (seed, index) and the priors, so worlds with the same priors share them (an
    experiment's worlds work them out once, ``experiment.worlds``)."""

    # One stream per parameter name, so adding a parameter leaves the others' draws alone.
    names = model.streams or model.priors.names
    u = np.empty((index.shape[0], len(names)))
    for j, name in enumerate(names):
        u[:, j] = rng.uniforms(seed, index, -1, f"parameter:{name}")[:, 0]
    return model.priors.ppf(u)


def pin_params(theta: NDArray[np.float64], model: Compiled) -> NDArray[np.float64]:
    """``theta`` with the world's pinned parameters (``model.fixed``) written in, in place."""
    for name, value in model.fixed.items():
        theta[:, model.priors.index(name)] = value
    return theta


def draw_params(model: Compiled, seed: int, index: NDArray[np.int64]) -> NDArray[np.float64]:
    """Per-history parameter values from the priors, with the world's pinned ones written in."""
    return pin_params(prior_draws(model, seed, index), model)


def draw_attributes(model: Compiled, seed: int, index: NDArray[np.int64],
                    noise: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Per-history principal attributes: the scenario's coding, blurred on the logit scale.

    The attributes code historians' qualitative judgements; how far to trust the coding is
    itself uncertain (``attribute_noise``). Values of exactly 0 or 1 are facts (a newcomer
    or not) and stay fixed. Draws are keyed by attribute name and principal id.
    """

    out = {}
    for name, v in model.attrs.items():
        if not ((v > 0) & (v < 1)).any():  # facts only: the scenario's values, shared
            out[name] = np.broadcast_to(v, (index.shape[0], model.P))
            continue
        z = rng.normals(seed, index, -1, f"attribute:{name}", model.P)
        inner = (v > 0) & (v < 1)
        logit = np.log(np.where(inner, v, 0.5) / (1 - np.where(inner, v, 0.5)))
        blurred = 1 / (1 + np.exp(-(logit[None, :] + noise[:, None] * z)))
        out[name] = np.where(inner[None, :], blurred, v[None, :])
    return out


def initial_state(model: Compiled, H: int, record_log: bool,
                  attrs: dict[str, NDArray[np.float64]] | None = None) -> State:
    P, c = model.P, model.constants
    step, who = step_dtype(model.steps), who_dtype(P, len(model.clients))
    gap = step_dtype(model.steps, NEVER_STEPPED)
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
        holder=np.tile(model.holder0.astype(who), (H, 1)),
        rung=np.tile(model.start_rungs().astype(RUNG_DTYPE), (H, 1)),
        last_step=np.full((H, P), NEVER_STEPPED, dtype=gap),
        falls=np.full((H, P, len(LADDER)), -1, dtype=step),
        recanted=np.zeros((H, P), dtype=bool), recant_used=np.zeros((H, P), dtype=bool),
        condemned=np.zeros((H, P), dtype=bool),
        coalition=np.zeros(H, dtype=np.int64), sole=np.full(H, -1, dtype=np.int64),
        core=np.zeros(H, dtype=np.int64),
        threatened=np.zeros((H, P), dtype=bool),
        players=np.zeros(H, dtype=np.int64),
        bloc=np.zeros(H, dtype=np.int64),
        # one enmity per pair (``State.enmity``): ``compile_scenario`` writes each rivalry
        # both ways and the schema refuses one with oneself, so the upper triangle is all of it
        enmity=np.tile(model.enmity0[np.triu_indices(P, 1)], (H, 1)),
        client_patron=np.tile(model.client_patron.astype(who), (H, 1)),
        client_loyalty=np.tile(model.client_loyalty, (H, 1)),
        client_seat=np.zeros((H, len(model.clients)), dtype=bool),
        client_alive=np.ones((H, len(model.clients)), dtype=bool),
        pb_size=np.full(H, int(c["politburo_size_start"]), dtype=np.int64),
        cc_size=np.full(H, c["cc_size_start"]),
        blind=np.zeros(H),
        old_guard=np.ones(H), members=np.full(H, c["membership_start"]),
        power=np.full((H, P), 1.0 / P),
        cons_who=np.full(H, -1, dtype=np.int64), cons_since=np.full(H, -1, dtype=np.int64),
        first_rule=np.full(H, -1, dtype=np.int64),
        arrested=np.zeros((H, P), dtype=bool),
        log=[[] for _ in range(H)] if record_log else None,
        inner=(np.tile(model.inner0, (H, 1)) if model.has_inner()
               else np.zeros((H, P), dtype=bool)),
    )


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
    # the holders as the meeting opens, where a client may take an office it moves
    opened = state.holder.copy() if ctx.model.clients_may_take().any() else None
    eff = mx.effective(state, ctx)
    if mt.kind >= 2:
        body = circular_flow.delegates(state, ctx, eff)
        if mt.kind == 3:
            circular_flow.elect_cc(state, ctx, body, mt.cc_size)
        # The tally is taken after the coalition forms (below) to use the current lineup.
    elif mt.kind == LEADERSHIP:
        # The leadership body's own meeting: its seated members vote, with their clients; or,
        # where the scenario has an inner body, that body meets in its place.
        body = clients.leadership_body(state, ctx)
        if ctx.model.has_inner():
            body = inner.electorate(state, ctx, body)
    else:
        if mt.co_opted:  # a plenum co-opts members to the committee before it votes
            circular_flow.co_opt(state, ctx, circular_flow.delegates(state, ctx, eff),
                                 mt.co_opted, t=t, body=mt.name)
        # A plenum's votes are the committee's; so are a state session's, which approves the
        # appointments the party's committee proposes.
        body = state.cc
    parts = mx.power_parts(state, ctx, eff, act)
    state.power = mx.shares(parts)
    mx.form(state, ctx, t, parts, replay=mt.kind == 3)
    del parts  # nothing below reads them: (H, P) arrays the meeting need not hold
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
        mx.fill_seats(state, ctx, t, mt.politburo_size)
    if testament_motion is not None and (mt.kind >= 1 or resignation and mt.kind == 0):
        target, shift = testament_motion
        testament_vote(state, ctx, t, mt, body, eff, act, target, shift, resignation, office)
    # An active founder holds back motions against his colleagues.
    restraint = ctx.params["founder_restraint"] if founder_alive else 0.0
    appealable = mt.kind == LEADERSHIP and ctx.model.appeal != "none"
    before = appeal.snapshot(state) if appealable else None
    mx.motions(state, ctx, t, mt, body, eff, act, restraint, transfer_offices)
    if mt.kind >= 2:  # an assembly that backs the leadership condemns organised platforms
        coalitions.condemn(state, ctx, t, mt.name, tallies[-1])
    if before is not None:  # the committee may overturn what its leadership body did
        appeal.apply(state, ctx, t, mt, before, act, transfer_offices)
    if mt.kind <= 1 and ctx.model.client_offices():  # a client's office falls with his patron
        clients.offices_fall(state, ctx, t, mt.kind, transfer_offices)
    if opened is not None:  # an office the coalition took may go on to a client
        clients.offices_to_clients(state, ctx, t, mt.kind, opened, mt.name)
    if ctx.model.has_inner():  # who left the leadership leaves its inner body; a meeting
        inner.leave(state, ctx, t, mt.name)  # that elects the inner body fills it anew
        inner.elect(state, ctx, t, mt.inner_size, mt.name)


def _glibc_trim() -> Any:
    """glibc's ``malloc_trim``, or None where the C library has none (not Linux, or musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _glibc_trim()


def _release_freed() -> None:
    """Hand the memory freed so far back to the system (memory per history in flight, issue
    16). glibc keeps freed blocks in the middle of its heap resident, and from the first large
    array freed it stops giving large arrays pages of their own: a batch's state, freed before
    ``Histories`` widens its records, would otherwise stay in the resident set while the
    widened copies take new pages. Nothing it frees is read again, so no history changes."""
    if _TRIM is not None:
        _TRIM(0)


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
    none = np.zeros(H)
    none.flags.writeable = False
    params_h.update({n: none for n in model.absent})
    # Whether the colleagues hold back while the founder lives is one judgement of the whole
    # history, shared by all of them (they hoped he would recover, S9), not a fresh coin at
    # each meeting: with chance founder_restraint it holds, and nobody then moves against a
    # colleague, or organises while he acts; where it fails, nothing holds them back.
    u_held = rng.uniforms(seed, index, -1, "founder:restraint", 1)[:, 0]
    params_h["founder_restraint"] = (u_held < params_h["founder_restraint"]).astype(np.float64)
    attrs = draw_attributes(model, seed, index, params_h["attribute_noise"])
    ctx = Context(model=model, seed=seed, index=index, params=params_h,
                  const=model.constants, attrs=attrs)
    state = initial_state(model, H, record_log, attrs)
    # The drawn standing is the state's starting prestige; nothing reads it again, so it need
    # not be held through the run (memory per history in flight, issue 16).
    attrs.pop("standing", None)
    # The coding of each leader's starting position is a judgement too: blur it per history.
    for k, axis in enumerate(model.axes):
        state.position[:, :, k] = np.clip(
            state.position[:, :, k] + params_h["position_noise"][:, None]
            * rng.normals(seed, index, -1, f"position:{axis}", P), -1.0, 1.0)
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
    rises = np.full((H, P, len(RISE_STEPS) + len(model.offices)), -1,
                    dtype=step_dtype(model.steps))
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
    # A named client's death, at the start of its month (``clients.die``).
    dying = [e for e in model.events if e.kind == "death" and e.client >= 0]
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
        for e in dying:
            if e.start != t:
                continue
            if t == 0 and (death is None or death.start != 0) and not state.coalition.any():
                _first_game(state, ctx, t, act, mx)  # his offices go to a coalition, as above
            clients.die(state, ctx, t, e.client, transfer_offices, e.id)
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
            mx.arrest(state, ctx, t, death.start if death is not None else 0,
                      mx.threat_keenness(state, ctx, chosen),
                      ctx.params["founder_restraint"] if t < founder_alive else 0.0,
                      transfer_offices)
            inner.leave(state, ctx, t)
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
        mx.administrative(state, ctx, t)
        mx.clients_drift(state, ctx, t)
        mx.update_bloc(state, ctx, t)
        # (the effective standing is not kept into the next month's meetings)
        state.power = mx.shares(mx.power_parts(state, ctx, mx.effective(state, ctx), act))
        mx.consolidate(state, ctx, t)
        coalition_out[:, t] = state.coalition
        mx.record_rises(rises, model, t, state.holder, state.rung, state.falls,
                        model.start_rungs())
        if power_out is not None:
            power_out[:, t] = state.power
    winner = np.where(state.cons_who >= 0, state.cons_who, P)
    falls, log, since, first_rule = state.falls, state.log, state.cons_since, state.first_rule
    # The state goes before the narrow records of falls and rises are widened to the int64 of
    # ``Histories``, so that the two never stand in memory side by side.
    del state, ctx, attrs, params_h
    _release_freed()
    return Histories(
        seed=seed, index=index, params=theta, winner=winner, consolidation=since,
        falls=falls.astype(np.int64),
        tallies=np.stack(tallies, axis=1) if tallies else np.zeros((H, 0)),
        coalition=coalition_out, power=power_out, log=log, first_rule=first_rule,
        rises=rises.astype(np.int64),
    )
