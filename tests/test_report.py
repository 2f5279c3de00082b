"""Tests for ``politburo report`` and ``politburo plot``.

The browser test opens the report in headless Chromium (Debian's ``chromium``, driven by
Playwright) with the network blocked, checks that every chart drew and that the console stayed
clean, and saves a screenshot to ``test-artifacts/report.png`` for a person to look at. It
fails, rather than skips, when Chromium is missing: CI installs it (``apt-get install
chromium``; set ``CHROMIUM`` to use another binary).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from _browser import guarded_page
from typer.testing import CliRunner

from politburo.chronicle.story import rerun, write_chronicle
from politburo.cli import app
from politburo.engine.fingerprint import engine_hash
from politburo.experiment.run import run_scenario
from politburo.report import ensemble as rp
from politburo.report import plots
from politburo.scenario.loader import load_scenario

RUNS = 2000  # enough for stable charts, small enough to keep the suite fast
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
runner = CliRunner()


@pytest.fixture(scope="module")
def data() -> rp.ReportData:
    s = load_scenario("soviet-1922")
    result = run_scenario(s, runs=RUNS, seed=1, keep_power=True)
    k = rp.typical_history(result.histories)
    story = write_chronicle(s, result.model, rerun(result.model, 1, k))
    return rp.collect(s, result.model, result.histories, result.summary, story)


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    r = runner.invoke(app, ["report", "-o", str(out), "--runs", str(RUNS), "--seed", "1"])
    assert r.exit_code == 0, r.output
    return out



def test_report_renders_in_chromium_with_every_chart_drawn(page_file: Path) -> None:
    with guarded_page(lambda url: url.startswith("file:"), width=1200) as (page, errors, requests):
        page.goto(page_file.as_uri(), wait_until="load")
        charts = page.eval_on_selector_all("figure svg", """svgs => svgs.map(s => {
            const box = s.getBoundingClientRect();
            const drawn = [...s.querySelectorAll('path')].filter(p => {
                const b = p.getBBox();
                return (p.getAttribute('d') || '').length > 0 && (b.width > 0 || b.height > 0);
            });
            return {id: s.closest('figure').id, w: box.width, h: box.height,
                    paths: drawn.length, text: s.querySelectorAll('text').length};
        })""")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        title = page.title()
    assert errors == [], f"console errors: {errors}"
    assert requests == [], f"the report tried to fetch {requests}"
    assert [c["id"] for c in charts] == [f"chart-{k}" for k in rp.KINDS]
    for c in charts:
        assert c["w"] > 300 and c["h"] > 100, c
        assert c["paths"] >= 5, c
        assert c["text"] >= 3, c
    assert "politburo report" in title
    assert (ARTIFACTS / "report.png").stat().st_size > 50_000


def test_report_is_self_contained(page_file: Path) -> None:
    text = page_file.read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text, flags=re.I)
    assert "@import" not in text
    assert not re.search(r"""url\(\s*["']?(?!#)""", text), "only in-page url(#id) references"
    assert text.count("<svg") == len(rp.KINDS)
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), "element ids must be unique across the inline charts"
    refs = set(re.findall(r'(?:url\(#|href="#)([^)"]+)', text))
    assert refs and refs <= set(ids), "every in-page reference must resolve"
    assert "UNVERIFIED" in text and "559 to 65" in text
    assert text.count("Not computed for this report") == 2
    assert "A typical history" in text and "In December 1922" in text


def test_report_sections_hold_the_numbers(data: rp.ReportData) -> None:
    ps = [w[1] for w in data.winners]
    assert abs(sum(ps) - 1) < 1e-9
    assert all(lo - 1e-12 <= p <= hi + 1e-12 for _, p, lo, hi in data.winners)  # Wilson, rounding
    assert data.power_q is not None
    q10, q50, q90 = data.power_q
    assert q10.shape == (len(data.months), len(data.names))
    assert np.all(q10 <= q50 + 1e-12) and np.all(q50 <= q90 + 1e-12)
    assert [m.label for m in data.milestones][0] == "Trotsky loses an office"
    for m in data.milestones:
        assert 0 <= m.happened <= 1
        assert m.happened == 0 or np.all(np.diff(m.q) >= 0)
    assert data.historical_order == "Kamenev → Zinoviev → Trotsky"
    assert data.historical_order in [o for o, _ in data.orders]
    assert abs(sum(s for _, s in data.orders) + data.orders_other - 1) < 1e-9
    names = [t.name for t in data.tallies]
    assert names[0] == "12th Party Congress" and "14th Party Congress" in names
    fourteenth = data.tallies[names.index("14th Party Congress")]
    assert fourteenth.verified is False and abs(fourteenth.historical - 559 / 624) < 1e-12
    assert data.chronicle is not None
    # the page says what made it: the scenario's hash, the engine's and the platform's
    head = rp.render_html(data, "9.9")
    assert f"engine {engine_hash()}; scenario hash {data.scenario_hash}" in head
    assert f"NumPy {np.__version__}" in head and len(data.scenario_hash) == 16


def test_order_labels_put_ties_together() -> None:
    names = ["Stalin", "Trotsky", "Zinoviev", "Kamenev"]
    assert rp.order_label(np.array([-1, 40, 30, 30]), names, 3) == "Zinoviev & Kamenev → Trotsky"
    assert rp.order_label(np.array([-1, -1, -1, -1]), names, 3) == "no one removed"
    assert rp.order_label(np.array([5, 4, 3, 2]), names, 2) == "Kamenev → Zinoviev"
    falls = np.array([[-1, 40, 30, 30], [-1, 40, 30, 30], [1, -1, -1, -1]])
    rows, distinct, other = rp.elimination_orders(falls, names, top=1, keep="Stalin")
    assert rows == [("Zinoviev & Kamenev → Trotsky", 2 / 3), ("Stalin", 1 / 3)]
    assert distinct == 2 and other == pytest.approx(0)


def test_typical_history_is_the_first_with_the_modal_winner() -> None:
    from politburo.engine.histories import Histories

    h = Histories(seed=1, index=np.arange(10, 16), params=np.zeros((6, 1)),
                  winner=np.array([7, 0, 3, 0, 0, 7]), consolidation=np.zeros(6, int),
                  falls=np.zeros((6, 7, 7), int), tallies=np.zeros((6, 0)),
                  coalition=np.zeros((6, 97), np.uint8), power=None, log=None)
    assert rp.typical_history(h) == 11


def test_optional_sections_appear_when_given(data: rp.ReportData) -> None:
    from dataclasses import replace

    fit = {"source": "post.json", "columns": ["name", "posterior_mean"],
           "rows": [["patronage_rate", "0.07"]], "notes": ["method: smc"]}
    weights = {"source": "w.json", "target": "stalin", "names": ["lenin_lives", "no_prejudice"],
               "value": [-0.2, 0.05], "ci": [[-0.3, -0.1], [0.0, 0.1]]}
    text = rp.render_html(replace(data, fit=fit, weights=weights), "test")
    assert "Not computed for this report" not in text
    assert "patronage_rate" in text and "method: smc" in text
    assert 'id="chart-weights"' in text and "-20.0 points" in text
    assert text.count("<svg") == len(rp.KINDS) + 1


def test_report_reads_fit_and_weights_files(tmp_path: Path) -> None:
    weights = tmp_path / "explain.json"
    weights.write_text(json.dumps({"target": "stalin", "shapley": {
        "lenin_lives": {"value": -0.12, "ci": [-0.2, -0.05]},
        "trotsky_healthy": {"value": 0.01, "ci": [-0.01, 0.03]}}}))
    fit = tmp_path / "calibration.json"
    fit.write_text(json.dumps({"method": "smc", "ess": 512.3, "parameters": [
        {"name": "patronage_rate", "prior_mean": 0.07, "posterior_mean": 0.09}]}))
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["report", "-o", str(out), "--runs", "300", "--fit", str(fit),
                            "--weights", str(weights)])
    assert r.exit_code == 0, r.output
    text = out.read_text("utf-8")
    assert "calibration.json" in text and "patronage_rate" in text and "ess: 512.3" in text
    assert "lenin_lives" in text and 'id="chart-weights"' in text


@pytest.mark.parametrize("content,message", [("{not json", "not valid JSON"),
                                             ('{"shapley": {"a": {"value": "x"}}}', "number"),
                                             ("[1, 2]", "JSON object")])
def test_bad_weights_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "w.json"
    bad.write_text(content)
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["report", "-o", str(out), "--runs", "50", "--weights", str(bad)])
    assert r.exit_code == 2
    assert f"--weights {bad}" in r.stderr and message in r.stderr
    assert "Traceback" not in r.output and not out.exists()


def test_report_wants_an_html_name(tmp_path: Path) -> None:
    r = runner.invoke(app, ["report", "-o", str(tmp_path / "r.pdf"), "--runs", "10"])
    assert r.exit_code == 2 and ".html" in r.stderr


@pytest.mark.parametrize("kind", rp.KINDS)
def test_plot_writes_png_and_svg(tmp_path: Path, kind: str) -> None:
    for suffix, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml")):
        out = tmp_path / f"{kind}{suffix}"
        r = runner.invoke(app, ["plot", kind, "-o", str(out), "--runs", "300"])
        assert r.exit_code == 0, r.output
        assert out.read_bytes().startswith(magic)
        assert out.stat().st_size > 5000


def test_plot_refuses_other_formats_and_kinds(tmp_path: Path) -> None:
    r = runner.invoke(app, ["plot", "winners", "-o", str(tmp_path / "w.jpg"), "--runs", "10"])
    assert r.exit_code == 2 and ".png or .svg" in r.stderr
    r = runner.invoke(app, ["plot", "pie", "-o", str(tmp_path / "w.png")])
    assert r.exit_code == 2


def test_svg_is_deterministic_and_unique_per_chart(data: rp.ReportData) -> None:
    a = plots.to_svg(rp.figures(data, ("winners",))["winners"], salt="x")
    b = plots.to_svg(rp.figures(data, ("winners",))["winners"], salt="x")
    c = plots.to_svg(rp.figures(data, ("winners",))["winners"], salt="y")
    assert a == b and a.startswith("<svg")
    assert not set(re.findall(r'id="([^"]+)"', a)) & set(re.findall(r'id="([^"]+)"', c))


def test_palette_is_okabe_ito() -> None:
    assert set(plots.OKABE_ITO) <= {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2",
                                    "#D55E00", "#CC79A7", "#000000"}
    assert len(set(plots.OKABE_ITO)) == len(plots.OKABE_ITO) == 7


def test_core_modules_do_no_io() -> None:
    """plots.py and report.py take data and return data: no files, env, printing or pyplot."""
    import ast

    for mod in (plots, rp):
        tree = ast.parse(Path(mod.__file__).read_text("utf-8"))  # type: ignore[arg-type]
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        imports = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                   for a in n.names} | {n.module for n in ast.walk(tree)
                                        if isinstance(n, ast.ImportFrom) and n.module}
        assert not {"open", "print"} & names, mod.__name__
        assert not {"environ", "write_text", "write_bytes", "getenv"} & attrs, mod.__name__
        assert not {"matplotlib.pyplot", "pyplot", "os", "sys"} & imports, mod.__name__


def test_fit_section_shows_the_alignments_of_a_fit_report() -> None:
    from politburo.cli.report import fit_section

    fit = {"ensembles": ["prior", "posterior"],
           "milestones": [{"id": "trotsky_exiled", "historical": "1928-01",
                           "prior": {"median": "1928-06", "p10": "1926-05", "p90": None},
                           "posterior": {"median": "1927-11", "p10": "1926-05", "p90": None}}],
           "alignments": [{"name": "the troika against Trotsky", "start": "1923-04",
                           "end": "1925-01", "prior": {"months": 0.19},
                           "posterior": {"months": 0.18}}]}
    section = fit_section(fit, "fit.json")
    assert section["rows"][0][:2] == ["trotsky_exiled", "1928-01"]
    assert ("who ruled with whom: the troika against Trotsky, 1923-04 to 1925-01, matched in "
            "prior 19%, posterior 18% of the months") in section["notes"]
    # a fit report with the record's ranks and the model judged against itself
    fit["milestones"][0]["posterior"]["rank"] = 0.56
    fit["self_check"] = {"posterior": {
        "records": 1000, "reference": 9000, "main": 8, "record_main_pass": 2,
        "main_pass_counts": [48, 276, 326, 206, 114, 23, 5, 2, 0], "main_pass_mean": 2.161,
        "share_no_better": 0.65, "share_all_pass": 0.0, "record_months_off": 25.0,
        "months_off": [21.5, 25.1, 35.1], "share_farther": 0.502}}
    section = fit_section(fit, "fit.json")
    assert section["rows"][0][3].endswith("; record at 56%")
    assert "record at 56%" not in section["rows"][0][2]  # the prior column has no rank here
    said = [n for n in section["notes"] if n.startswith("posterior, the model judged")]
    assert len(said) == 1 and "pass 2.2 of 8 main checks" in said[0]
    assert "the real record 25.0, the model's own 25.1" in said[0] and "50% of them" in said[0]


def test_report_of_a_lever_world_names_it(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["report", "-o", str(out), "--runs", "60", "-l",
                            "lewins_alternative"])
    assert r.exit_code == 0, r.output
    assert "a counterfactual world (lewins_alternative)" in out.read_text()
    bad = runner.invoke(app, ["report", "-o", str(tmp_path / "b.html"), "--runs", "10", "-l",
                              "lenin_lived"])
    assert bad.exit_code == 2 and "--lever: unknown lever 'lenin_lived'" in bad.stderr
    assert "known bundles: lewins_alternative" in bad.stderr
