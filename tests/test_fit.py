"""Tests of politburo.calibration.fit and ``politburo fit``: the milestone table, its JSON, and that
calibration leaves contingency in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_calibration import tiny  # noqa: F401  (a module-scoped fixture)
from typer.testing import CliRunner

from politburo.calibration import (
    CalibrationSpec,
    calibrate,
    draw_posterior_params,
    load_default_posterior,
)
from politburo.calibration.abc_smc import write_posterior
from politburo.calibration.fit import (
    WITHIN,
    fit_report,
    month_stats,
    rank,
    self_check,
    tally_stats,
)
from politburo.calibration.targets import Targets, build_targets, milestone_months
from politburo.cli import app
from politburo.engine.month import simulate
from politburo.experiment.run import run_scenario
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.schema import Scenario

STATS = {"median", "p10", "p90", "share", "median_if_happened", "inside", "abs_error_months",
         "within", "pass", "rank"}


@pytest.fixture(scope="module")
def posterior_file(tiny: tuple[Scenario, Path], tmp_path_factory: pytest.TempPathFactory  # noqa: F811
                   ) -> Path:
    result = calibrate(tiny[0], CalibrationSpec(method="rejection", runs=1000, seed=2,
                                                quantile=0.1, batch_size=500))
    path = tmp_path_factory.mktemp("fit") / "tiny.posterior.parquet"
    write_posterior(path, result.posterior)
    return path


def test_month_stats_count_never_as_after_the_horizon() -> None:
    start = 1922 * 12 + 11
    e = month_stats(np.array([-1, -1, 10, 11, 12]), 11, start)
    assert e["share"] == pytest.approx(0.6)
    assert (e["p10"], e["median"], e["p90"]) == ("1923-10", "1923-12", None)
    assert e["median_if_happened"] == "1923-11"
    assert e["inside"] and e["abs_error_months"] == 1 and e["within"] and e["pass"]
    never = month_stats(np.full(4, -1), 11, start)
    assert never["median"] is None and never["share"] == 0 and not never["pass"]
    assert not never["inside"]  # all histories after the horizon: history lies below p10
    far = month_stats(np.array([30, 31, 32]), 11, start)
    assert not far["inside"] and far["abs_error_months"] == 20 and not far["within"]
    assert WITHIN == 4


def test_rank_is_the_share_of_histories_earlier_ties_counting_half() -> None:
    sim = np.array([1.0, 2.0, 3.0, 3.0, np.inf])
    assert rank(sim, 3.0) == pytest.approx(0.4 + 0.5 * 0.4)
    assert rank(sim, 0.0) == 0.0 and rank(sim, 99.0) == pytest.approx(0.8)
    assert month_stats(np.array([5, 6, 7, -1]), 6, 0)["rank"] == pytest.approx(0.25 + 0.125)


def _with_record(targets: Targets, months: list[int]) -> Targets:
    """``targets`` with the record's months replaced (a record drawn from the model)."""
    from dataclasses import replace
    ms = tuple(replace(m, t=int(t)) for m, t in zip(targets.milestones, months, strict=True))
    return replace(targets, milestones=ms)


def test_self_check_finds_a_record_drawn_from_the_model_typical_and_a_far_one_unusual(
        tiny: tuple[Scenario, Path]) -> None:  # noqa: F811
    """The predictive p-value of months off is spread evenly for records that are histories
    of the model itself (here 40 histories of another seed, a step that never came set twelve
    months past the horizon, as months off counts it): their mean p lies within 0.15 of 0.5
    (four standard errors of 40 uniform draws) and under a fifth fall below 0.05. A record
    with every step in the first month, far earlier than the model has any, gets p < 0.05 and
    passes no check. A record at the reference's medians passes every check."""
    s = tiny[0]
    model = compile_scenario(s)
    targets = build_targets(s, model)
    ms = targets.milestones
    assert len(ms) >= 2
    h = simulate(model, 5, np.arange(1000, dtype=np.int64))
    others = milestone_months(simulate(model, 6, np.arange(40, dtype=np.int64)).falls, ms)
    never = targets.last_step + 12
    ps = []
    for row in others:
        c = self_check(h, _with_record(targets, [t if t >= 0 else never for t in row]), ms, ())
        assert c is not None and c["records"] == 200 and c["reference"] == 800
        ps.append(c["share_farther"])
    p = np.array(ps)
    assert abs(p.mean() - 0.5) < 0.15 and (p < 0.05).mean() < 0.2
    first = self_check(h, _with_record(targets, [0] * len(ms)), ms, ())
    assert first is not None and first["share_farther"] < 0.05 and first["record_main_pass"] == 0
    ref = milestone_months(h.falls, ms)[200:].astype(float)
    ref[ref < 0] = np.inf
    med = np.percentile(ref, 50, axis=0, method="nearest")
    keep = tuple(m for m, v in zip(ms, med, strict=True) if np.isfinite(v))
    assert keep
    at = _with_record(targets, [int(v) if np.isfinite(v) else 0 for v in med])
    mid = self_check(h, at, tuple(m for m in at.milestones if m.id in {k.id for k in keep}), ())
    assert mid is not None and mid["record_main_pass"] == mid["main"] == len(keep)
    assert mid["share_no_better"] == 1.0
    assert self_check(simulate(model, 5, np.arange(99, dtype=np.int64)),
                      targets, ms, ()) is None


def test_tally_stats() -> None:
    share = np.linspace(0.7, 1.0, 101)
    known = tally_stats(share, 0.9)
    assert known["inside"] and known["leadership_won"] == 1.0
    assert known["large_majority"] == pytest.approx(0.67, abs=0.01)
    assert not tally_stats(np.full(5, 0.6), None)["inside"]


def check_structure(d: dict[str, Any], ensembles: tuple[str, ...]) -> None:
    assert tuple(d["ensembles"]) == ensembles
    assert {"scenario", "seed", "runs", "until", "milestones", "tallies", "winners", "totals",
            "within_months", "posterior_meta", "months_off", "self_check"} <= set(d)
    assert set(d["months_off"]) == set(ensembles)
    assert set(d["self_check"]) <= set(ensembles)
    for c in d["self_check"].values():
        assert sum(c["main_pass_counts"]) == c["records"]
        assert 0 <= c["record_main_pass"] <= c["main"]
        assert 0.0 <= c["share_farther"] <= 1.0
    for e in ensembles:
        assert "all" in d["months_off"][e]
    assert d["milestones"]
    for m in d["milestones"]:
        assert {"id", "actor", "step", "historical", "weight", "main", "held_out"} <= set(m)
        for e in ensembles:
            assert set(m[e]) == STATS
            assert 0.0 <= m[e]["share"] <= 1.0
    for t in d["tallies"]:
        assert {"assembly", "month", "historical", "verified", "main"} <= set(t)
        for e in ensembles:
            assert {"median", "p10", "p90", "leadership_won", "large_majority", "inside"} <= set(
                t[e])
    for e in ensembles:
        assert sum(w["p"] for w in d["winners"][e].values()) == pytest.approx(1.0)
        assert d["totals"][e]["milestones"] == len(d["milestones"])


def test_fit_report_structure(tiny: tuple[Scenario, Path], posterior_file: Path  # noqa: F811
                              ) -> None:
    from politburo.calibration import load_posterior

    post = load_posterior(posterior_file, tiny[0])
    report = fit_report(tiny[0], runs=300, seed=4, posterior=post)
    d = json.loads(json.dumps(report.to_dict()))  # plain JSON all the way down
    check_structure(d, ("prior", "posterior"))
    assert d["posterior_meta"]["scenario"] == "tiny"
    # The prior ensemble is the prior run of the same histories: a paired comparison.
    again = fit_report(tiny[0], runs=300, seed=4, posterior=None).to_dict()
    assert [m["prior"] for m in again["milestones"]] == [m["prior"] for m in d["milestones"]]


def test_fit_command_json(tiny: tuple[Scenario, Path], posterior_file: Path) -> None:  # noqa: F811
    runner = CliRunner()
    res = runner.invoke(app, ["fit", "-s", str(tiny[1]), "--posterior", str(posterior_file),
                              "--runs", "200", "--json"])
    assert res.exit_code == 0, res.output
    check_structure(json.loads(res.output), ("prior", "posterior"))
    table = runner.invoke(app, ["fit", "-s", str(tiny[1]), "--posterior", str(posterior_file),
                                "--runs", "200"])
    assert table.exit_code == 0, table.output
    assert "Fit to history" in table.output and "Who comes to rule" in table.output
    only_prior = runner.invoke(app, ["fit", "-s", str(tiny[1]), "--runs", "100", "--json"])
    assert only_prior.exit_code == 0
    check_structure(json.loads(only_prior.output), ("prior",))


def test_held_out_milestones_are_marked(tiny: tuple[Scenario, Path]) -> None:  # noqa: F811
    s = tiny[0]
    first = min(m.month for m in s.milestones)
    result = calibrate(s, CalibrationSpec(method="rejection", runs=500, seed=1, quantile=0.2,
                                          until=first, batch_size=500))
    kept = [m.month for m in s.milestones if m.month <= first]
    assert kept and [m.month for m in result.targets.milestones] == kept
    d = fit_report(s, runs=100, seed=1, posterior=result.posterior).to_dict()
    assert d["until"] == first
    assert [m["held_out"] for m in d["milestones"]] == [m.month > first for m in s.milestones]
    assert d["totals"]["posterior"]["held_out"] == len(s.milestones) - len(kept)
    # the model judged against itself on the held-out milestones alone, as on all of them
    held = d["self_check"]["posterior"]["held_out"]
    assert set(held) == {"record_months_off", "months_off", "share_farther"}
    lo, med, hi = held["months_off"]
    assert 0.0 <= lo <= med <= hi and 0.0 <= held["share_farther"] <= 1.0
    assert "held_out" not in fit_report(s, runs=100, seed=1, posterior=None
                                        ).to_dict()["self_check"]["prior"]
    # the continuous form of the split's judgement: months off on the held-out milestones
    assert set(d["months_off"]["posterior"]) == {"all", "held_out"}
    assert set(d["months_off"]["prior"]) == {"all", "held_out"}
    mean, lo, hi = d["months_off"]["posterior"]["held_out"]
    assert 0.0 <= lo <= mean <= hi


def test_posterior_keeps_contingency(scenario: Scenario, model: Compiled) -> None:
    """Fresh randomness still moves outcomes: the same posterior parameter rows, run with other
    monthly draws (another seed), often crown another winner; the ensemble is no certainty."""
    post = load_default_posterior(scenario)
    assert post is not None
    idx = np.arange(2000, dtype=np.int64)
    theta = draw_posterior_params(model, post, 1, idx)
    one, two = simulate(model, 1, idx, theta), simulate(model, 2, idx, theta)
    assert (one.winner != two.winner).mean() > 0.01
    res = run_scenario(scenario, runs=2000, seed=1, posterior=post)
    assert res.parameters == "posterior" and res.to_dict()["parameters"] == "posterior"
    assert max(res.summary.winners.values()) < 0.999


def test_alignment_match_counts_the_months_of_its_window(model: Compiled) -> None:
    from politburo.calibration.targets import alignment_match
    from politburo.dates import parse_month
    from politburo.scenario.loader import load_scenario

    troika = load_scenario("soviet-1922").fit.alignments[0]
    a = parse_month(troika.start) - model.start
    b = parse_month(troika.end) - model.start
    bit = {x: 1 << model.index(x) for x in model.principals}
    allies = bit["stalin"] | bit["zinoviev"] | bit["kamenev"]
    coal = np.zeros((4, model.steps), dtype=np.int64)
    coal[0, :] = allies | bit["bukharin"]  # the allies and a bystander: a match
    half = (b - a + 1) // 2
    coal[1, a:a + half] = allies  # matching in the first half of the window only
    coal[1, a + half:] = allies | bit["trotsky"]
    coal[2, :] = bit["stalin"] | bit["zinoviev"]  # one ally short
    coal[3, a:b + 1] = allies | bit["trotsky"]  # an opponent inside
    coal[3, :a] = allies  # outside the window nothing counts
    got = alignment_match(coal, model, troika)
    assert got is not None
    assert got.tolist() == pytest.approx([1.0, half / (b - a + 1), 0.0, 0.0])


def test_fit_reports_alignments_from_the_recorded_coalitions(scenario: Scenario,
                                                            model: Compiled) -> None:
    from politburo.calibration.targets import alignment_match

    d = fit_report(scenario, runs=300, seed=6, posterior=None).to_dict()
    declared = scenario.fit.alignments
    assert len(declared) == 2
    assert [r["name"] for r in d["alignments"]] == [a.name for a in declared]
    h = simulate(model, 6, np.arange(300))
    for row, a in zip(d["alignments"], declared, strict=True):
        match = alignment_match(h.coalition, model, a)
        assert match is not None
        assert row["prior"]["months"] == pytest.approx(match.mean())
        assert row["prior"]["mostly"] == pytest.approx((match >= 0.5).mean())
        assert 0.0 <= row["prior"]["never"] <= 1.0
    # The record is the coalition the engine used: in the month a leader consolidates his rule,
    # he sits in the ruling coalition (with whatever like-minded partners he keeps).
    won = np.flatnonzero(h.consolidation >= 0)
    assert won.size > 100
    at = h.coalition[won, h.consolidation[won]].astype(np.int64)
    assert ((at >> h.winner[won]) & 1 == 1).all()


def test_months_off_averages_the_distance_in_months_and_counts_never_past_the_horizon(
        tiny: tuple[Scenario, Path]) -> None:  # noqa: F811
    """Two fall milestones, two histories: one history a month late on the first and on time
    on the second, the other never reaching the first (horizon + 12 months after the record's
    month) and three months early on the second. Weights as in the scenario."""
    from dataclasses import replace

    from politburo.calibration.fit import months_off
    from politburo.calibration.targets import build_targets
    from politburo.scenario.compile import compile_scenario

    s = tiny[0]
    model = compile_scenario(s)
    targets = build_targets(s, model)
    falls_ms = [m for m in targets.milestones if m.direction == "fall"][:2]
    assert len(falls_ms) == 2 and (falls_ms[0].p, falls_ms[0].rung) != (falls_ms[1].p,
                                                                         falls_ms[1].rung)
    targets = replace(targets, milestones=tuple(falls_ms))
    a, b = falls_ms
    h = simulate(model, 1, np.arange(2, dtype=np.int64), engine="numpy")
    falls = np.full_like(h.falls, -1)
    falls[0, a.p, a.rung], falls[0, b.p, b.rung] = a.t + 1, b.t
    falls[1, b.p, b.rung] = b.t - 3
    h = replace(h, falls=falls, rises=None)
    wa, wb = a.weight, b.weight
    first = (1 * wa + 0 * wb) / (wa + wb)
    second = ((targets.last_step - a.t + 12) * wa + 3 * wb) / (wa + wb)
    mean, lo, hi = months_off(h, targets, np.array([True, True]))
    assert mean == pytest.approx((first + second) / 2)
    assert lo < mean < hi
    only_b = months_off(h, targets, np.array([False, True]))
    assert only_b is not None and only_b[0] == pytest.approx(1.5)
    assert months_off(h, targets, np.array([False, False])) is None
