"""``explain`` over every lever of the scenario, and the report's chart of the weights.

The scenario has more levers than ``attribution`` enumerates exactly, so weighing all of them
samples antithetic permutations. Efficiency must still hold exactly for the sampled values
(every permutation runs from no lever to all of them), and the report's factor-weight chart
must show each lever the scenario lists. Lever names are read from the scenario, never
written here. Small runs keep it quick: the checks are identities, not estimates.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from politburo.cli import app
from politburo.cli.report import weights_section
from politburo.experiment.attribution import MAX_EXACT_LEVERS
from politburo.experiment.run import run_scenario
from politburo.experiment.worlds import Experiment
from politburo.report import ensemble as rp
from politburo.scenario.loader import load_scenario

runner = CliRunner()


@pytest.fixture(scope="module")
def explained() -> dict:
    s = load_scenario("soviet-1922")
    r = Experiment(s, runs=12, seed=3, parameters="prior").explain(
        None, n_permutations=4, n_boot=40)
    return {"scenario": s, "result": r, "json": json.loads(json.dumps(r.to_dict()))}


def test_every_lever_is_weighed_by_sampling_and_the_weights_sum_to_the_total(
        explained: dict) -> None:
    s, r = explained["scenario"], explained["result"]
    names = [lv.id for lv in s.levers]
    assert len(names) > MAX_EXACT_LEVERS
    assert list(r.shapley.names) == names
    assert r.method == "sampled" and r.alone is None
    assert abs(float(np.sum(r.shapley.value)) - r.shapley.total_effect) <= 1e-9
    assert math.isclose(r.shapley.total_effect, r.all_levers - r.baseline, abs_tol=1e-12)
    ci = r.shapley.ci
    assert np.all(ci[:, 0] <= r.shapley.value + 1e-12)
    assert np.all(r.shapley.value <= ci[:, 1] + 1e-12)
    d = explained["json"]
    assert abs(sum(v["value"] for v in d["shapley"].values()) - d["total_effect"]) <= 1e-9


def test_report_chart_and_table_show_every_lever(explained: dict) -> None:
    s = explained["scenario"]
    names = {lv.id for lv in s.levers}
    section = weights_section(explained["json"], "explain.json")
    assert set(section["names"]) == names and section["ci"] is not None
    result = run_scenario(s, runs=30, seed=1, keep_power=True)
    data = replace(rp.collect(s, result.model, result.histories, result.summary),
                   weights=section)
    fig = rp.figures(data, ("weights",))["weights"]
    ax = fig.axes[0]
    at = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert set(at) == names
    bars = {round(p.get_y() + p.get_height() / 2, 9): p.get_width() for p in ax.patches}
    for name, v in explained["json"]["shapley"].items():  # each label sits by its own bar
        assert bars[round(at[name], 9)] == pytest.approx(100 * v["value"], abs=1e-12)
    page = rp.render_html(data, "test")
    for name in names:
        assert f"<td>{name}</td>" in page


def test_explain_refuses_odd_permutations_over_every_lever() -> None:
    res = runner.invoke(app, ["explain", "--permutations", "5", "-n", "5", "--prior"])
    assert res.exit_code == 2
    assert "--permutations must be even" in " ".join(res.output.split())
