"""Tests for ``politburo report --lever``: the lever's world beside the baseline.

The side-by-side report must show the numbers ``politburo whatif`` gives for the same seed and
histories (the two commands share ``Experiment.whatif``), draw both worlds in every chart with
both names in the legend, and leave the report without a lever as it was. The browser test
opens the page in Debian's Chromium, as ``test_report.py`` does.
"""

from __future__ import annotations

import ast
import json
import re
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from _browser import guarded_page
from typer.testing import CliRunner

from politburo.cli import app
from politburo.cli.report import _paired
from politburo.experiment.run import run_scenario
from politburo.report import ensemble as rp
from politburo.report import side as report_side
from politburo.scenario.levers import apply_levers, bundle, bundle_levers
from politburo.scenario.loader import load_scenario

RUNS, SEED = 150, 3  # small: the checks are of equality, not of precision
LEVER = "stalin_resignation_accepted"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
runner = CliRunner()


@pytest.fixture(scope="module")
def side() -> rp.ReportData:
    data = _paired("soviet-1922", RUNS, SEED, True, [LEVER], {})
    return data


@pytest.fixture(scope="module")
def whatif() -> dict:
    res = runner.invoke(app, ["whatif", LEVER, "-n", str(RUNS), "--seed", str(SEED), "--prior",
                              "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("side") / "side.html"
    res = runner.invoke(app, ["report", "-o", str(out), "-n", str(RUNS), "--seed", str(SEED),
                              "--prior", "-l", LEVER])
    assert res.exit_code == 0, res.output
    return out


def test_side_numbers_are_whatifs(side: rp.ReportData, whatif: dict) -> None:
    s = load_scenario("soviet-1922")
    ids = [p.id for p in s.principals] + ["none"]
    assert side.side is not None and side.runs == whatif["runs"] and side.seed == SEED
    assert len(side.side.rows) == len(ids)
    for (_, p0, p1, dx, lo, hi), a in zip(side.side.rows, ids, strict=True):
        assert p0 == whatif["baseline"]["winners"][a]
        assert p1 == whatif["intervened"]["winners"][a]
        assert dx == whatif["difference"][a]["delta"]
        assert [lo, hi] == whatif["difference"][a]["ci"]
    assert side.side.flipped == whatif["flipped"]
    assert sum(r[1] for r in side.side.rows) == pytest.approx(1, abs=1e-12)
    assert sum(r[2] for r in side.side.rows) == pytest.approx(1, abs=1e-12)


def test_each_world_is_the_ensemble_of_that_world(side: rp.ReportData) -> None:
    """The baseline is the plain report's ensemble and the lever's world the ensemble the
    report showed alone before: pairing changes no history."""
    s = load_scenario("soviet-1922")
    plain = run_scenario(s, runs=RUNS, seed=SEED, keep_power=True)
    world, fixed = apply_levers(s, [LEVER])
    alone = run_scenario(world, runs=RUNS, seed=SEED, keep_power=True, fixed=fixed)
    for data, result, sc in ((side, plain, s), (side.side.world, alone, world)):
        ref = rp.collect(sc, result.model, result.histories, result.summary)
        assert data.winners == ref.winners
        assert ref.power_q is not None and data.power_q is not None
        np.testing.assert_array_equal(data.power_q, ref.power_q)
        for m, n in zip(data.milestones, ref.milestones, strict=True):
            assert m.label == n.label and m.happened == n.happened
            np.testing.assert_array_equal(m.q, n.q)


def test_page_tables_show_whatifs_figures(page: Path, whatif: dict) -> None:
    text = unescape(page.read_text("utf-8"))
    s = load_scenario("soviet-1922")
    ids = [p.id for p in s.principals] + ["none"]
    names = [p.called for p in s.principals] + ["no one (collective leadership)"]
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"n\">([^<]+)</td><td class=\"n\">"
                      r"([^<]+)</td><td class=\"n\">([^<]+)</td><td class=\"n\">([^<]+)</td>"
                      r"</tr>", text)
    assert [r[0] for r in rows] == names
    for row, a in zip(rows, ids, strict=True):
        d = whatif["difference"][a]
        assert row[1:] == (f"{100 * whatif['baseline']['winners'][a]:.1f}%",
                           f"{100 * whatif['intervened']['winners'][a]:.1f}%",
                           f"{100 * d['delta']:+.1f}",
                           f"{100 * d['ci'][0]:+.1f} to {100 * d['ci'][1]:+.1f}")
    assert f"The winner changes in <strong>{100 * whatif['flipped']:.1f}%</strong>" in text
    assert f"a counterfactual world ({LEVER})" in text


def test_every_chart_draws_both_worlds(side: rp.ReportData) -> None:
    figs = rp.figures(side)
    assert set(figs) == set(rp.KINDS)
    for kind, fig in figs.items():
        boxes = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
        legends = [t.get_text() for box in boxes for t in box.get_texts()]
        assert any(t.startswith("baseline") for t in legends), kind
        assert any(t.startswith(LEVER) for t in legends), kind
    bars = [p.get_width() for p in figs["winners"].axes[0].patches]
    expect = [100 * r[1] for r in side.side.rows] + [100 * r[2] for r in side.side.rows]
    np.testing.assert_allclose(bars, expect, rtol=0, atol=1e-9)
    orders = [p.get_width() for p in figs["orders"].axes[0].patches]
    np.testing.assert_allclose(orders, [100 * o[1] for o in side.side.orders]
                               + [100 * o[2] for o in side.side.orders], rtol=0, atol=1e-9)


def test_order_shares_count_both_worlds() -> None:
    names = ["A", "B", "C"]
    base = np.array([[0, 1, -1], [0, 1, -1], [2, 1, 0]])
    world = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
    rows = report_side.order_shares(base, world, names, keep="C → B → A")
    assert rows[0] == ("B → A", 0.0, 1.0)
    assert rows[1] == ("A → B", 2 / 3, 0.0)
    assert rows[-1] == ("C → B → A", 1 / 3, 0.0)


def test_bundle_members_are_listed(tmp_path: Path) -> None:
    s = load_scenario("soviet-1922")
    b = s.bundles[0]
    out = tmp_path / "b.html"
    res = runner.invoke(app, ["report", "-o", str(out), "-n", "40", "--prior", "-l", b.id])
    assert res.exit_code == 0, res.output
    text = unescape(out.read_text("utf-8"))
    bundle_one = bundle(s, b.id)
    assert bundle_one is not None
    for name, value in bundle_levers(s, bundle_one).items():
        assert f"<code>{name if value is None else f'{name}={value}'}</code>" in text
    assert f"The bundle <code>{b.id}</code> stands for" in text


def test_report_without_a_lever_has_no_side(tmp_path: Path) -> None:
    out = tmp_path / "plain.html"
    res = runner.invoke(app, ["report", "-o", str(out), "-n", "40", "--prior"])
    assert res.exit_code == 0, res.output
    text = out.read_text("utf-8")
    assert "beside the baseline" not in text and "paired simulated" not in text


def test_side_module_does_no_io() -> None:
    tree = ast.parse(Path(report_side.__file__).read_text("utf-8"))  # type: ignore[arg-type]
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    imports = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
               for a in n.names}
    assert not {"open", "print"} & names
    assert not {"environ", "write_text", "write_bytes", "getenv"} & attrs
    assert not {"pyplot", "os", "sys"} & imports


def test_side_report_renders_in_chromium(page: Path) -> None:
    with guarded_page(lambda url: url.startswith("file:"), width=1200) as (tab, errors, asked):
        tab.goto(page.as_uri(), wait_until="load")
        charts = tab.eval_on_selector_all("figure svg", """svgs => svgs.map(s => {
            const box = s.getBoundingClientRect();
            return {id: s.closest('figure').id, w: box.width, h: box.height,
                    text: [...s.querySelectorAll('text')].map(t => t.textContent).join(' ')};
        })""")
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "report-side.png"), full_page=True)
    assert errors == [] and asked == []
    assert [c["id"] for c in charts] == [f"chart-{k}" for k in rp.KINDS]
    for c in charts:
        assert c["w"] > 300 and c["h"] > 100, c
        assert "baseline" in c["text"] and LEVER in c["text"], c["id"]


def test_missing_fit_names_where_the_parameters_came_from(side: rp.ReportData) -> None:
    from dataclasses import replace

    assert "are drawn from their priors." in rp.render_html(side, "test")
    posterior = rp.render_html(replace(side, parameters="posterior"), "test")
    assert "are drawn from the scenario&#x27;s shipped posterior." in posterior
