"""The public API is small, sorted and exactly what ``__all__`` says."""

from __future__ import annotations

import politburo


def test_all_is_sorted_and_exact() -> None:
    names = politburo.__all__
    assert names == sorted(names)
    public = {n for n in dir(politburo) if not n.startswith("_") and n not in (
        "annotations", "api", "engine", "experiment", "results", "scenario", "state", "rng",
        "priors", "runner", "mechanisms", "dates", "abc", "calibration", "io", "where",
        "attribution", "sensitivity", "chronicle", "report", "plots", "commands", "cli", "fit",
        "cluster", "engine_nb",
        "web")}
    assert public <= set(names) | {"__version__"}
    for n in names:
        assert hasattr(politburo, n), n


def test_the_docstring_example_runs() -> None:
    scenario = politburo.load_scenario()
    result = politburo.run_scenario(scenario, runs=300, seed=1)
    assert abs(sum(result.summary.winners.values()) - 1) < 1e-9
    wi = politburo.Experiment(scenario, levers={"lenin_lives": "1925-06"}, runs=300,
                              parameters="prior").whatif()
    frame = wi.to_frame()
    assert "stalin" in set(frame.index) | set(frame.get("actor", []))
