"""`politburo run`: the table, the JSON object and the Parquet file."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from politburo.cli import app
from politburo.engine.fingerprint import engine_hash

IDS = ["stalin", "trotsky", "zinoviev", "kamenev", "bukharin", "rykov", "tomsky", "none"]


def test_run_json_has_the_documented_keys() -> None:
    res = CliRunner().invoke(app, ["run", "--runs", "1500", "--seed", "3", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["scenario"] == "soviet-1922" and d["seed"] == 3 and d["runs"] == 1500
    assert sorted(d["winners"]) == sorted(IDS)
    assert abs(sum(d["winners"].values()) - 1.0) < 1e-9
    for a, (lo, hi) in d["winner_ci"].items():
        assert 0 <= lo <= d["winners"][a] <= hi <= 1
    for a in IDS[:-1]:
        for step in ("politburo", "central_committee", "party", "exile"):
            e = d["falls"][a][step]
            assert set(e) >= {"median", "p10", "p90", "share"}
            if e["median"] is not None:
                assert e["p10"] <= e["median"] <= e["p90"]
    assert d["histories_per_second"] > 0
    assert len(d["scenario_hash"]) == 16 and d["version"]
    # where the histories were computed: bits can differ in the last place across platforms
    assert d["platform"]["engine_hash"] == engine_hash()
    assert {"cpu", "numpy", "scipy", "numba", "python"} <= set(d["platform"])


def test_run_is_reproducible_and_seeded() -> None:
    r = CliRunner()
    a = json.loads(r.invoke(app, ["run", "-n", "800", "--seed", "5", "--json"]).stdout)
    b = json.loads(r.invoke(app, ["run", "-n", "800", "--seed", "5", "--json",
                                  "--batch-size", "97"]).stdout)
    c = json.loads(r.invoke(app, ["run", "-n", "800", "--seed", "6", "--json"]).stdout)
    assert a["winners"] == b["winners"] and a["falls"] == b["falls"]
    assert a["falls"] != c["falls"]


def test_run_writes_one_row_per_history(tmp_path: Path) -> None:
    out = tmp_path / "h.parquet"
    res = CliRunner().invoke(app, ["run", "-n", "500", "--seed", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    t = pq.read_table(out)
    assert t.num_rows == 500
    cols = set(t.column_names)
    assert {"seed", "history", "winner", "consolidation", "trotsky_party",
            "bukharin_politburo"} <= cols
    assert t.column("history").to_pylist() == list(range(500))
    meta = json.loads(t.schema.metadata[b"politburo"])
    assert meta["seed"] == 2 and meta["scenario_hash"] and meta["version"]
    assert meta["platform"]["engine_hash"] == engine_hash()
    assert not list(tmp_path.glob(".*tmp"))


def test_run_table_shows_odds_and_history() -> None:
    res = CliRunner().invoke(app, ["run", "-n", "600"])
    assert res.exit_code == 0
    assert "stalin" in res.output and "95% interval" in res.output
    assert "history: 1927-11" in res.output  # Trotsky's expulsion beside the simulated months


def test_bad_scenario_gives_a_message_not_a_traceback(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["run", "--scenario", str(tmp_path / "missing.yaml")])
    assert res.exit_code == 2
    assert "missing.yaml" in res.output and "Traceback" not in res.output


def test_rare_odds_do_not_read_as_zero() -> None:
    from politburo.cli.common import pct

    assert pct(0.0003) == "0.03%" and pct(0.0) == "0.0%" and pct(0.948) == "94.8%"
    assert pct(0.01) == "1.0%" and pct(0.0099) == "0.99%"
