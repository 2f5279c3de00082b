"""Meetings of the leadership body, and the appeal of a removal to the committee.

Each test checks a rule against what its module says (mechanisms/clients.leadership_body,
votes.motions at a meeting of kind ``leadership``, mechanisms/appeal.py) on small worlds built
from the China scenario's arrays; none asserts who wins or when.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from _scenarios import edited_builtin, mech_ctx

from politburo.engine import month as engine
from politburo.engine.mechanisms import appeal, clients, inner, votes
from politburo.engine.mechanisms.offices import transfer_offices
from politburo.engine.month import initial_state, simulate
from politburo.engine.state import RUNG, Context, State
from politburo.engine.switch import SPEC
from politburo.scenario.compile import LEADERSHIP, Compiled, MeetingC, compile_scenario
from politburo.scenario.loader import ScenarioError, builtin_text, load_scenario, parse_scenario

APPEAL_PRIORS = {
    "appeal_rate": {"family": "beta", "a": 2.0, "b": 2.0, "assumption": "test"},
    "appeal_backlash": {"family": "beta", "a": 2.0, "b": 5.0, "assumption": "test"},
}


@pytest.fixture(scope="module")
def model() -> Compiled:
    """The China arrays, with the weightiest office that is not the state's given to the
    leadership body (whatever the file flags)."""
    m = compile_scenario(load_scenario("china-1976"))
    party = np.flatnonzero(~m.state_office)
    flags = np.zeros(len(m.offices), dtype=bool)
    flags[party[np.argmax(m.office_weight[party])]] = True
    return dataclasses.replace(m, leadership_office=flags)


def _ctx(model: Compiled, H: int, defiance: float = 1.0, **params: float) -> Context:
    """Parameters at the prior median, the features' absent ones 0, some pinned; every
    leader's defiance set to ``defiance``."""
    ctx = mech_ctx(model, H, **params)
    ctx.params.update({n: np.zeros(H) for n in model.absent if n not in ctx.params})
    for n, v in params.items():
        ctx.params[n] = np.full(H, v)
    attrs = {k: np.broadcast_to(v, (H, model.P)).copy() for k, v in model.attrs.items()}
    attrs["defiance"][:] = defiance
    return dataclasses.replace(ctx, attrs=attrs)


def _world(model: Compiled, H: int, ruler: str, target: str, office: str
           ) -> tuple[State, int, int, int]:
    """Two leaders in the leadership body, the rest expelled: ``ruler`` the ruling coalition,
    ``target`` outside it, censured already, holding ``office``; equal power; no clients."""
    s = initial_state(model, H, record_log=True)
    r, i, o = model.index(ruler), model.index(target), model.offices.index(office)
    s.holder[:] = -1
    s.holder[:, o] = i
    s.rung[:] = RUNG["party"]
    s.rung[:, [i, r]] = [RUNG["censure"], 0]
    s.coalition[:] = 1 << r
    s.core[:] = 1 << r
    s.power[:] = 0.0
    s.power[:, [i, r]] = 0.5
    s.standing[:] = 0.5
    s.last_step[:] = -100
    s.client_seat[:] = False
    return s, r, i, o


def _follow(s: State, model: Compiled, who: int, share: float = 0.9) -> None:
    """The committee: ``share`` follows ``who``, the rest unaligned."""
    s.cc[:] = 0.0
    s.cc[:, who] = share
    s.cc[:, model.P] = 1 - share


def _seat_clients(s: State, model: Compiled, patron: int, n: int) -> None:
    """Seat ``n`` fully loyal clients of ``patron`` in the leadership body."""
    assert len(model.clients) >= n
    s.client_patron[:, :n] = patron
    s.client_loyalty[:, :n] = 1.0
    s.client_seat[:, :n] = True


def _motions(s: State, ctx: Context, kind: int, body: np.ndarray) -> None:
    votes.motions(s, ctx, 5, MeetingC(5, kind, "meeting", 0, 0, 0), body,
                  np.full((s.H, ctx.model.P), 0.5), np.ones((s.H, ctx.model.P)), 0.0,
                  transfer_offices)


def _flagged(model: Compiled) -> str:
    return model.offices[int(np.flatnonzero(model.leadership_office)[0])]


def test_the_leadership_body_counts_seats_and_loyal_clients(model: Compiled) -> None:
    s, r, i, _ = _world(model, 3, "ye", "hua", _flagged(model))
    ctx = _ctx(model, 3)
    _seat_clients(s, model, i, 2)
    s.client_loyalty[:, 1] = 0.5  # half of this client's vote is his own
    body = clients.leadership_body(s, ctx)
    # four seats: ruler 1, target 1 + 1 + 0.5, and the half vote that is no one's
    assert np.allclose(body[:, r], 1 / 4) and np.allclose(body[:, i], 2.5 / 4)
    assert np.allclose(body[:, model.P], 0.5 / 4) and np.allclose(body.sum(axis=1), 1)


def test_at_a_leadership_meeting_its_members_vote_and_the_committee_does_not(
        model: Compiled) -> None:
    """The same motion against a leader whose clients hold the leadership body, before a
    committee that follows the ruler: it passes at a plenum and fails at the leadership
    body's meeting; with the bodies' loyalties swapped, the other way round."""
    H = 40
    ctx = _ctx(model, H, motion_rate=1.0, vote_noise=0.0, threat_focus=1.0)
    for members_with, cc_with, passes in (("target", "ruler", False),
                                          ("ruler", "target", True)):
        s, r, i, o = _world(model, H, "ye", "hua", _flagged(model))
        _seat_clients(s, model, i if members_with == "target" else r, 3)
        _follow(s, model, r if cc_with == "ruler" else i)
        plenum = dataclasses.replace(s, holder=s.holder.copy(), rung=s.rung.copy(),
                                     falls=s.falls.copy(), last_step=s.last_step.copy(),
                                     standing=s.standing.copy(), blind=s.blind.copy())
        _motions(s, ctx, LEADERSHIP, clients.leadership_body(s, ctx))
        assert ((s.holder[:, o] != i) == passes).all()
        _motions(plenum, ctx, 1, plenum.cc)
        assert ((plenum.holder[:, o] != i) == (not passes)).all()


def test_a_leadership_meeting_moves_only_flagged_offices_and_no_seats(model: Compiled) -> None:
    H = 20
    ctx = _ctx(model, H, motion_rate=1.0, vote_noise=0.0, threat_focus=1.0)
    unflagged = next(o for k, o in enumerate(model.offices)
                     if not model.leadership_office[k] and not model.state_office[k])
    s, r, i, o = _world(model, H, "ye", "hua", unflagged)
    _seat_clients(s, model, r, 3)
    _motions(s, ctx, LEADERSHIP, clients.leadership_body(s, ctx))
    # His office is not the leadership body's to take, nor is his seat: nothing moves.
    assert (s.holder[:, o] == i).all() and (s.rung[:, i] == RUNG["censure"]).all()
    # A file that flags no office gives the leadership body none.
    bare = dataclasses.replace(model, leadership_office=np.zeros(0, dtype=bool))
    assert not bare.changeable(LEADERSHIP).any()
    # and the flags change nothing at the committee's own meetings
    for kind in (0, 1, 2, 3):
        a, b = bare.changeable(kind), model.changeable(kind)
        assert (a is None and b is None) or np.array_equal(a, b)


def test_the_engine_hands_each_meeting_its_own_body(model: Compiled) -> None:
    seen: list[tuple[int, np.ndarray, State]] = []

    def spy(state: State, ctx: Context, t: int, mt: MeetingC, body: np.ndarray,
            *args: Any) -> None:
        seen.append((mt.kind, body.copy(), state))

    mx = dataclasses.replace(SPEC, motions=spy)  # the month's motions, whichever engine's
    H = 4
    # the China arrays without their inner body (the leadership body meets), and with it (the
    # inner body meets in its place: mechanisms/inner.py, tests/test_inner.py)
    for m in (dataclasses.replace(model, inner0=np.zeros(0, dtype=bool)), model):
        seen.clear()
        ctx = _ctx(m, H)
        for kind in (LEADERSHIP, 1):
            s = initial_state(m, H, record_log=False)
            engine._meeting(s, ctx, 0, MeetingC(0, kind, "m", 0, 0, 0), np.ones((H, m.P)),
                            False, None, [], mx=mx)
        (k1, b1, s1), (k2, b2, s2) = seen
        want = clients.leadership_body(s1, ctx)
        if m.has_inner():
            want = inner.electorate(s1, ctx, want)
            assert not np.allclose(want, clients.leadership_body(s1, ctx))
        assert k1 == LEADERSHIP and np.allclose(b1, want)
        assert k2 == 1 and np.allclose(b2, s2.cc)


def _removed(model: Compiled, H: int, cc_with: str
             ) -> tuple[State, Context, appeal.Before, int, int, int]:
    """Hua removed from a flagged office by a leadership body his rival's clients hold; the
    committee follows ``cc_with``; the appeal is switched on, and he always appeals."""
    m = dataclasses.replace(model, appeal="at_once")
    ctx = _ctx(m, H, motion_rate=1.0, vote_noise=0.0, threat_focus=1.0, appeal_rate=1.0,
               appeal_backlash=0.5)
    s, r, i, o = _world(m, H, "ye", "hua", _flagged(m))
    _seat_clients(s, m, r, 3)
    _follow(s, m, i if cc_with == "target" else r)
    before = appeal.snapshot(s)
    _motions(s, ctx, LEADERSHIP, clients.leadership_body(s, ctx))
    assert (s.holder[:, o] == r).all() and (s.falls[:, i, RUNG["office"] - 1] == 5).all()
    return s, ctx, before, r, i, o


def test_a_committee_that_follows_the_removed_leader_overturns_the_removal(
        model: Compiled) -> None:
    H = 20
    s, ctx, before, r, i, o = _removed(model, H, "target")
    standing = s.standing[:, r].copy()
    handed: list[int] = []  # the offices of a mover who loses his seat are passed on here

    def transfer(state: State, ctx: Context, t: int, where: np.ndarray, loser: int,
                 **kw: Any) -> None:
        handed.append(loser)

    appeal.apply(s, ctx, 5, MeetingC(5, LEADERSHIP, "m", 0, 0, 0), before,
                 np.ones((H, model.P)), transfer)
    assert (s.holder[:, o] == i).all() and handed == [r]
    assert (s.rung[:, i] == RUNG["censure"]).all()
    assert (s.falls[:, i] == before.falls[:, i]).all()
    # The mover is exposed: standing cut, ruling coalition the appellant's, his seat voted on
    # by a committee that follows the appellant.
    assert np.allclose(s.standing[:, r], 0.5 * standing)
    assert (s.coalition == 1 << i).all()
    assert (s.rung[:, r] == RUNG["politburo"]).all()
    assert (s.falls[:, r, RUNG["politburo"] - 1] == 5).all()
    kinds = [e["kind"] for e in s.log[0]]
    assert "appeal" in kinds and not next(e for e in s.log[0] if e["kind"] == "appeal")["upheld"]


def test_a_committee_that_follows_the_movers_upholds_the_removal(model: Compiled) -> None:
    H = 20
    s, ctx, before, r, i, o = _removed(model, H, "ruler")
    standing = s.standing.copy()
    appeal.apply(s, ctx, 5, MeetingC(5, LEADERSHIP, "m", 0, 0, 0), before,
                 np.ones((H, model.P)), transfer_offices)
    assert (s.holder[:, o] == r).all() and (s.rung[:, i] == RUNG["office"]).all()
    assert (s.coalition == 1 << r).all() and np.array_equal(s.standing, standing)
    assert next(e for e in s.log[0] if e["kind"] == "appeal")["upheld"]


def test_a_compliant_leader_or_one_under_arrest_does_not_appeal(model: Compiled) -> None:
    H = 20
    s, ctx, before, r, i, o = _removed(model, H, "target")
    ctx.attrs["defiance"][:] = 0.0  # appeal chance appeal_rate x defiance
    appeal.apply(s, ctx, 5, MeetingC(5, LEADERSHIP, "m", 0, 0, 0), before,
                 np.ones((H, model.P)), transfer_offices)
    assert (s.holder[:, o] == r).all()
    s, ctx, before, r, i, o = _removed(model, H, "target")
    s.arrested[:, i] = True
    appeal.apply(s, ctx, 5, MeetingC(5, LEADERSHIP, "m", 0, 0, 0), before,
                 np.ones((H, model.P)), transfer_offices)
    assert (s.holder[:, o] == r).all()


def _china(edit: Any, tmp_path: Path) -> Path:
    data = yaml.safe_load(builtin_text("china-1976"))
    edit(data)
    p = tmp_path / "china.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return p


def test_the_engine_hears_appeals_only_where_the_file_allows(model: Compiled,
                                                             tmp_path: Path) -> None:
    def meetings(d: dict[str, Any]) -> None:
        # Leadership meetings in both worlds (the file codes none: it knows only those that
        # decided personnel), so that the two differ by the rule alone.
        for month in (f"{y}-{m:02d}" for y in range(1976, 1981) for m in (1, 4, 7, 10)
                      if f"{y}-{m:02d}" >= "1976-10"):
            d["calendar"].append({"month": month, "kind": "leadership",
                                  "name": f"Politburo meeting {month}", "source": "C1"})
        d["calendar"].sort(key=lambda m: m["month"])

    def on(d: dict[str, Any]) -> None:
        meetings(d)
        d["rules"]["appeal"] = "at_once"
        d["parameters"].update(APPEAL_PRIORS)

    without = dataclasses.replace(compile_scenario(load_scenario(_china(meetings, tmp_path))),
                                  leadership_office=model.leadership_office)
    with_appeal = dataclasses.replace(compile_scenario(load_scenario(_china(on, tmp_path))),
                                      leadership_office=model.leadership_office)
    assert with_appeal.appeal == "at_once" and "appeal_rate" not in with_appeal.absent
    # appeals are rare (a removal by the leadership body, then a committee that overturns it):
    # 5 in 300 histories at seed 1 under the priors of December 2026, so 600 are run
    idx = np.arange(600)
    logs = {name: simulate(m, 1, idx, record_log=True).log
            for name, m in (("none", without), ("at_once", with_appeal))}
    count = {k: sum(e["kind"] == "appeal" for log in v or [] for e in log)
             for k, v in logs.items()}
    assert count["none"] == 0 and count["at_once"] > 0


def test_files_without_the_features_give_the_same_histories(tmp_path: Path) -> None:
    """The Soviet file with the new fields written at their defaults, and with the appeal rule
    on (it has no leadership meetings to appeal from), runs exactly as the file as shipped."""
    def defaults(d: dict[str, Any]) -> None:
        for o in d["offices"]:
            o["leadership"] = False
        d["rules"]["appeal"] = "none"

    def appeal_on(d: dict[str, Any]) -> None:
        d["rules"]["appeal"] = "at_once"
        d["parameters"].update(APPEAL_PRIORS)

    base = compile_scenario(load_scenario("soviet-1922"))
    assert not base.changeable(LEADERSHIP).any() and base.appeal == "none"
    assert {"appeal_rate", "appeal_backlash"} <= set(base.absent)
    idx = np.arange(48)
    ref = simulate(base, 1, idx)
    for edit, name in ((defaults, "a.yaml"), (appeal_on, "b.yaml")):
        other = simulate(compile_scenario(load_scenario(edited_builtin(tmp_path, edit, name))),
                         1, idx)
        for field in ("winner", "falls", "coalition", "first_rule", "tallies"):
            assert np.array_equal(getattr(ref, field), getattr(other, field)), field


@pytest.mark.parametrize(("edit", "words"), [
    (lambda d: d["calendar"][0].update(kind="politburo"),
     ("calendar.0.kind", "leadership", "plenum")),
    (lambda d: d["calendar"][0].update(kind="leadership", politburo_size={"value": 9,
                                                                          "assumption": "x"}),
     ("calendar.0", "leadership", "politburo_size")),
    (lambda d: d["offices"][0].update(state=True, leadership=True),
     ("offices.0", "'state' and 'leadership'")),
    (lambda d: d["rules"].update(appeal="at_once"),
     ("appeal_rate", "rules.appeal")),
    (lambda d: d["rules"].update(appeal="later"),
     ("rules.appeal", "'none'", "'at_once'")),
])
def test_bad_input_names_the_file_the_field_and_what_was_expected(
        tmp_path: Path, edit: Any, words: tuple[str, ...]) -> None:
    p = edited_builtin(tmp_path, edit)
    msg = str(pytest.raises(ScenarioError, load_scenario, p).value)
    assert str(p) in msg
    for w in words:
        assert w in msg, (w, msg)


def test_parse_accepts_a_leadership_meeting() -> None:
    text = builtin_text("soviet-1922").replace(
        "kind: plenum", "kind: leadership", 1)
    s = parse_scenario(text, "<edited>")
    assert "leadership" in [m.kind for m in s.calendar]
