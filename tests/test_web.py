"""The web app's pieces: the cache key, the job pool's bound, the 4xx answers, the student
prose, the essay comparison, and that its answers are the Python API's own.

The app runs in-process (Starlette's TestClient) with one worker process and small caps, so the
tests stay quick; the browser test (``test_web_browser.py``) drives a real server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from politburo.experiment.worlds import Experiment
from politburo.scenario.loader import load_scenario
from politburo.web import create_app
from politburo.web import essay as essay_mod
from politburo.web.jobs import Busy, Jobs, UserError, cache_key
from politburo.web.narrative import Names, retell, tell
from politburo.web.questions import Limits

LIMITS = Limits(max_runs=500, max_explain_runs=100, max_fit_runs=300)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(workers=1, limits=LIMITS, warm=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def finished(client: TestClient, job: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job {job['id']} did not finish"
        time.sleep(0.1)
        r = client.get(f"/api/jobs/{job['id']}")
        assert r.status_code == 200, r.text
        job = r.json()
    return job


# -- the cache key and the pool -----------------------------------------------------------------


def test_cache_key_ignores_order_and_tells_every_field_apart() -> None:
    base = dict(kind="whatif", scenario="abc", levers={"a": None, "b": "1925-06"}, runs=4000,
                seed=1, mode="ex-ante")
    same = dict(mode="ex-ante", seed=1, runs=4000, levers={"b": "1925-06", "a": None},
                scenario="abc", kind="whatif")
    assert cache_key(**base) == cache_key(**same)
    changes = {"kind": "explain", "scenario": "abd", "levers": {"a": None}, "runs": 4001,
               "seed": 2, "mode": "counterfactual"}
    keys = {cache_key(**{**base, k: v}) for k, v in changes.items()}
    assert len(keys) == len(changes) and cache_key(**base) not in keys


def test_jobs_refuse_work_beyond_the_queue_limit_and_share_identical_requests() -> None:
    jobs = Jobs(max_jobs=1, queue_limit=2)
    gate = threading.Event()

    def slow(progress: Any) -> str:
        progress(1, 2)
        gate.wait(10)
        return "answer"

    try:
        a = jobs.submit("a", "test", slow)
        again = jobs.submit("a", "test", slow)
        assert again is a  # joins the job under way instead of starting another
        jobs.submit("b", "test", slow)
        with pytest.raises(Busy) as exc:
            jobs.submit("c", "test", slow)
        assert exc.value.retry_after >= 2
        assert jobs.active() == 2
        gate.set()
        assert jobs.wait(a, timeout=10).status == "done" and a.result == "answer"
        hit = jobs.submit("a", "test", slow)
        assert hit.cached and hit.status == "done" and hit.result == "answer"
        jobs.wait(jobs.submit("c", "test", lambda p: "c"), timeout=10)
        assert jobs.stats()["hits"] == 2
    finally:
        gate.set()
        jobs.shutdown()


def test_jobs_report_user_errors_in_words_and_hide_unexpected_ones() -> None:
    jobs = Jobs(max_jobs=1, queue_limit=4)

    def bad(progress: Any) -> None:
        raise UserError("lever 'x' is unknown")

    def broken(progress: Any) -> None:
        raise KeyError("internal detail")

    try:
        a = jobs.wait(jobs.submit("a", "t", bad), timeout=10)
        b = jobs.wait(jobs.submit("b", "t", broken), timeout=10)
    finally:
        jobs.shutdown()
    assert a.status == "failed" and a.error == "lever 'x' is unknown"
    assert b.status == "failed" and "internal detail" not in (b.error or "")
    assert jobs.cached("a") is None  # failures are not cached


# -- bad input gets a 4xx with a message --------------------------------------------------------


@pytest.mark.parametrize(("path", "body", "status", "words"), [
    ("/api/whatif", {"levers": {"no_such_lever": None}}, 400, "unknown lever"),
    ("/api/whatif", {"levers": {"lenin_lives": "1935-01"}, "runs": 100}, 400, "between"),
    ("/api/whatif", {"levers": {"lenin_lives": "soon"}, "runs": 100}, 400, "YYYY-MM"),
    ("/api/whatif", {"levers": {}, "runs": 100}, 400, "at least one lever"),
    ("/api/whatif", {"levers": {"lenin_lives": None}, "runs": 10**6}, 422, "less than or equal"),
    ("/api/whatif", {"levers": {"lenin_lives": None}, "mode": "sideways"}, 422, "mode"),
    ("/api/explain", {"levers": ["lenin_lives"], "target": "napoleon", "runs": 50}, 400,
     "unknown leader"),
    ("/api/explain", {"levers": ["a", "b", "c", "d", "e", "f"], "runs": 50}, 422, "at most"),
    ("/api/chronicle", {"where": "winner = = trotsky"}, 400, "condition"),
    ("/api/chronicle", {"where": "__import__('os').system('true')"}, 400, "not allowed"),
    ("/api/chronicle", {"where": "winner == trotsky", "history": 3}, 400, "not both"),
    ("/api/chronicle", {"where": "(" * 400}, 400, "nests deeper"),
    ("/api/chronicle", {"where": "x" * 600}, 422, "at most 500"),
    ("/api/essay", {"ranks": {}}, 400, "rank at least one"),
    ("/api/essay", {"ranks": {"lenin_lives": "crucial"}}, 422, "main"),
    ("/api/odds", {"runs": 0}, 422, "greater than or equal"),
    ("/api/odds", {"runs": 100, "colour": "red"}, 422, "colour"),
])
def test_bad_requests_get_a_4xx_with_a_clear_message(client: TestClient, path: str,
                                                      body: dict[str, Any], status: int,
                                                      words: str) -> None:
    r = client.post(path, json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


@pytest.mark.parametrize(("url", "words"), [
    ("/whatif?lever=no_such_lever", "unknown lever"),
    ("/whatif?lever=lenin_lives&value_lenin_lives=1899-01", "between"),
    ("/whatif?lever=lenin_lives&runs=many", "runs"),
    ("/whatif?lever=lenin_lives&runs=100000", "less than or equal"),
    ("/chronicle?where=winner+%3D%3D+lenin", "unknown actor"),
    ("/essay?rank_lenin_lives=everything", "must be main"),
    ("/weights?lever=lenin_lives&target=<script>", "unknown leader"),
])
def test_bad_pages_get_a_400_page_without_a_traceback(client: TestClient, url: str,
                                                       words: str) -> None:
    r = client.get(url)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert words in r.text and "Traceback" not in r.text
    assert "<script>" not in r.text.split("</header>", 1)[1]  # escaped, never echoed raw


def test_unknown_pages_and_jobs_are_404(client: TestClient) -> None:
    assert client.get("/nowhere").status_code == 404
    r = client.get("/api/jobs/deadbeef")
    assert r.status_code == 404 and "no job" in r.json()["detail"]


def test_an_unexpected_error_is_a_plain_500_page() -> None:
    app = create_app(workers=1, limits=LIMITS, warm=False)

    @app.get("/boom")
    def boom() -> None:
        raise ZeroDivisionError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert "Something went wrong" in r.text
    assert "secret internals" not in r.text and "Traceback" not in r.text


def test_every_response_forbids_other_origins(client: TestClient) -> None:
    for url in ("/sources", "/api/scenario", "/static/style.css", "/nowhere"):
        r = client.get(url)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "http" not in csp, url
    page = client.get("/sources").text
    assert "//cdn" not in page and 'src="http' not in page and "<style" not in page


# -- the answers are the API's own ----------------------------------------------------------------


def test_whatif_answers_as_experiment_does_and_then_from_the_cache(client: TestClient) -> None:
    body = {"levers": {"lenin_lives": "1925-06"}, "runs": 300, "seed": 5}
    job = finished(client, client.post("/api/whatif", json=body).json())
    assert job["status"] == "done", job
    got = job["result"]
    want = Experiment(load_scenario(), levers={"lenin_lives": "1925-06"}, runs=300,
                      seed=5).whatif().to_dict()
    for k in ("baseline", "intervened", "difference", "flipped", "shifts", "levers", "runs"):
        assert got[k] == json.loads(json.dumps(want[k])), k  # the same numbers, bit for bit
    assert got["flipped_count"] == round(want["flipped"] * 300)
    flips = got["flips"]
    assert flips and all(f["baseline"] != f["intervened"] for f in flips)
    again = client.post("/api/whatif", json={**body, "runs": 300}).json()
    assert again["cached"] and again["status"] == "done"
    assert again["result"]["difference"] == got["difference"]


def test_weights_are_experiment_explains_shapley_values(client: TestClient) -> None:
    levers = ["lenin_lives", "trotsky_attends_funeral"]
    job = finished(client, client.post("/api/explain", json={
        "levers": levers, "target": "stalin", "runs": 60, "seed": 2}).json())
    assert job["status"] == "done", job
    want = Experiment(load_scenario(), runs=60, seed=2).explain(levers, "stalin",
                                                               n_boot=400).to_dict()
    assert job["result"]["shapley"] == want["shapley"]
    assert job["result"]["total_effect"] == pytest.approx(want["total_effect"])


def test_a_history_found_by_condition_matches_it(client: TestClient) -> None:
    job = finished(client, client.post("/api/chronicle", json={
        "where": "winner != stalin", "search": 200, "seed": 1}).json())
    assert job["status"] == "done", job
    found, story = job["result"]["found"], job["result"]["chronicle"]
    assert found["matches"] >= 1 and story["history"] == found["history"]
    assert story["winner"] != "stalin"
    assert story["power"] and story["events"]
    told = [ev for month in retell(story, load_scenario()) for ev in month["events"]]
    assert len(told) == len(story["events"]) and all(ev.text for ev in told)
    assert not any("perceived powers" in ev.text for ev in told)  # numbers stay behind a click
    assert all(ev.numbers.get("engine's words") for ev in told)


def test_odds_and_fit_pages_show_history_beside_the_model(client: TestClient) -> None:
    for url, marker in (("/?runs=200", "table class=\"odds\""),
                        ("/fit?runs=100", "table class=\"fit\"")):
        first = client.get(url)
        assert first.status_code == 200
        if 'data-job="' in first.text:  # else answered at once (a world already simulated)
            job = first.text.split('data-job="', 1)[1].split('"', 1)[0]
            finished(client, client.get(f"/api/jobs/{job}").json())
        page = client.get(url).text
        assert marker in page and "class=\"job\"" not in page
    odds = client.get("/?runs=200").text
    assert "history: 1926-10" in odds  # Trotsky left the Politburo in October 1926
    fit = client.get("/fit?runs=100").text
    # each event in words a class can read, with the milestone's note; the id stays a tooltip
    assert ("Lev Kamenev was removed from the Politburo (demoted from full to candidate "
            "member)") in fit
    assert 'title="kamenev_demoted"' in fit and ">kamenev demoted<" not in fit
    # what a check count can reach: the model's own histories judged by the same rules
    assert 'id="self-check"' in fit and "taken in turn as if it were the real one" in fit
    assert ">sooner in</abbr>" in fit  # which way the model leans, event by event


def test_serve_names_the_extra_when_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from politburo.cli import app, serve

    monkeypatch.setattr(serve, "missing_web_packages", lambda: ["fastapi", "uvicorn"])
    r = CliRunner().invoke(app, ["serve"])
    assert r.exit_code == 2
    assert "politburo[web]" in r.output and "fastapi" in r.output


# -- the student's words --------------------------------------------------------------------------


def test_events_are_told_in_plain_words_and_unknown_kinds_fall_back() -> None:
    n = Names.of(load_scenario())
    coalition = {"kind": "coalition", "actors": ["stalin", "kamenev", "zinoviev"],
                 "date": "1922-12", "details": {},
                 "text": "because perceived powers Bukharin 0.15, Kamenev 0.15"}
    power = {"stalin": 0.2, "kamenev": 0.15, "zinoviev": 0.2, "trotsky": 0.3, "rykov": 0.15}
    text = tell(coalition, n, [], power)
    assert "perceived" not in text and "0.15" not in text
    assert "needed each other" in text and "feared Trotsky" in text
    dropped = tell({**coalition, "actors": ["stalin", "kamenev"]}, n,
                   ["stalin", "kamenev", "zinoviev"], power)
    assert "Zinoviev was dropped" in dropped
    vote = {"kind": "vote", "actors": ["trotsky"], "body": "CC plenum",
            "details": {"motion": "politburo", "passed": True, "yes": 0.71}}
    assert tell(vote, n, ["stalin", "bukharin"], {}) == (
        "At the CC plenum, Trotsky was removed from the Politburo: 71% voted for it. The ruling "
        "group (Stalin and Bukharin) wanted him weakened.")
    new = {"kind": "purge_trial", "actors": ["bukharin"], "text": "A new kind of event."}
    assert tell(new, n, [], {}) == "A new kind of event."
    assert tell({"kind": "vote"}, n, [], {})  # missing fields: still a sentence, no exception


def test_crises_clients_and_rule_are_told_from_their_fields() -> None:
    """The fidelity revision's events: a crisis names the answer and who backed it, a client's
    promotion and desertion name him, and ruling alone says what it rests on."""
    n = Names.of(load_scenario())
    crisis = {"kind": "crisis", "actors": ["stalin"], "details": {
        "crisis": "grain_crisis", "response": "raise_prices", "targets": ["trotsky"],
        "answer": "raise procurement prices and supply goods to the village"}}
    text = tell(crisis, n, [], {})
    assert text.startswith("Faced with the grain crisis, the rulers decided to raise "
                           "procurement prices")
    assert "Stalin wanted it; Trotsky would have chosen otherwise." in text
    promoted = tell({"kind": "promotion", "actors": ["stalin"],
                     "details": {"client": "molotov"}}, n, [], {})
    assert promoted.startswith("A free seat in the Politburo went to Molotov, a follower of "
                               "Stalin")
    switched = tell({"kind": "client_switch", "actors": ["stalin"],
                     "details": {"client": "kalinin", "from": "zinoviev"}}, n, [], {})
    assert switched.startswith("Kalinin deserted Zinoviev for Stalin")
    ruled = tell({"kind": "consolidation", "actors": ["stalin"], "details": {}}, n, [], {})
    assert "most of the votes in the Politburo and in the Central Committee" in ruled


def test_retell_groups_by_month_and_keeps_the_numbers_one_click_away() -> None:
    story = {"events": [
        {"date": "1922-12", "kind": "coalition", "actors": ["stalin", "zinoviev"],
         "text": "engine words", "causes": ["perceived powers ..."], "details": {}},
        {"date": "1923-02", "kind": "office", "actors": ["rykov"],
         "details": {"office": "Commissar of War", "from": "trotsky"}, "text": "t"},
    ], "power": {"1922-12": {"stalin": 0.3, "zinoviev": 0.25, "trotsky": 0.45}}}
    months = retell(story, load_scenario())
    assert [m["date"] for m in months] == ["1922-12", "1923-02"]
    first = months[0]["events"][0]
    assert first.numbers["engine's words"] == "engine words"
    assert first.numbers["power shares this month"].startswith("Trotsky 45%")
    assert "Trotsky lost his post (Commissar of War)" in months[1]["events"][0].text


# -- the essay check ----------------------------------------------------------------------------


def test_essay_ranks_are_set_beside_the_models_tiers() -> None:
    explain = {"target": "stalin", "shapley": {
        "a": {"value": -0.40, "ci": [-0.5, -0.3]},
        "b": {"value": 0.10, "ci": [0.05, 0.15]},
        "c": {"value": 0.01, "ci": [-0.02, 0.04]}}}
    rows = essay_mod.compare({"a": "main", "b": "main", "c": "main"}, explain,
                             {"a": "A", "b": "B", "c": "C"})
    by = {r["lever"]: r for r in rows}
    assert (by["a"]["model"], by["a"]["verdict"]) == ("main", "agree")
    assert (by["b"]["model"], by["b"]["verdict"]) == ("contributing", "close")
    assert (by["c"]["model"], by["c"]["verdict"]) == ("minor", "disagree")
    assert "cannot tell" in by["c"]["why"] and "falls by 40.0%" in by["a"]["why"]
    assert [r["lever"] for r in rows] == ["c", "b", "a"]  # disagreements first


def test_a_dead_worker_does_not_break_the_app() -> None:
    app = create_app(workers=1, limits=LIMITS, warm=False)
    with TestClient(app) as c:
        assert finished(c, c.post("/api/odds", json={"runs": 20, "seed": 3}).json())[
            "status"] == "done"
        for p in list(app.state.engine.pool()._processes.values()):
            p.kill()  # as the out-of-memory killer would
            p.join(5)
        job = finished(c, c.post("/api/odds", json={"runs": 20, "seed": 4}).json())
    assert job["status"] == "done", job


# -- another scenario ---------------------------------------------------------------------------


def _page(client: TestClient, url: str) -> str:
    """A page once its job is done (the page polls; here the API is polled instead)."""
    first = client.get(url)
    assert first.status_code == 200, (url, first.text[-500:])
    if 'data-job="' not in first.text:
        return first.text
    job = first.text.split('data-job="', 1)[1].split('"', 1)[0]
    assert finished(client, client.get(f"/api/jobs/{job}").json())["status"] == "done"
    return client.get(url).text


def test_a_scenario_with_other_names_is_served_in_its_own_words(tmp_path: Any) -> None:
    """Serve the built-in file with every person, body, place and year renamed, through
    ``create_app(path)`` as ``politburo serve --scenario FILE`` does: no page, no API answer
    and no history told speaks of Lenin, the Politburo or the 1920s, and the names the pages
    do use are the file's (short names in running text, the question, the start month)."""
    import re

    import yaml
    from _scenarios import renamed, soviet_pattern

    soviet = load_scenario()
    data = renamed(soviet)
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    pattern = soviet_pattern(soviet)
    lever = data["levers"][0]["id"]
    rival = data["principals"][1]
    urls = ["/?runs=150", f"/whatif?runs=100&lever={lever}", "/whatif",
            f"/weights?runs=40&lever={lever}", "/weights", f"/essay?runs=40&rank_{lever}=main",
            "/fit?runs=60", "/sources", "/chronicle?search=200", "/openapi.json",
            "/api/scenario", "/no-such-page"]
    urls += [f"/chronicle?history={k}" for k in range(1, 6)]
    app = create_app(str(path), workers=1, limits=LIMITS, warm=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        pages = {url: (_page(c, url) if url != "/no-such-page" else c.get(url).text)
                 for url in urls}
        story = finished(c, c.post("/api/chronicle", json={"history": 2}).json())
    pages["/api/chronicle"] = json.dumps(story)
    for url, text in pages.items():
        found = sorted({m.group(0) for m in pattern.finditer(text)})
        assert not found, (url, found)
    odds = pages["/?runs=150"]
    assert data["question"]["essay"] in odds and "Qaa Given" in odds
    assert f"removed from the {data['bodies']['leadership']}" in odds
    assert "December 2022, anything can happen" in pages["/whatif"]
    assert f"winner == {rival['id']}" in pages["/chronicle?search=200"]
    assert f"{rival['short']} comes to rule" in pages["/chronicle?search=200"]
    told = " ".join(re.sub(r"<[^>]+>", " ", pages[f"/chronicle?history={k}"])
                    for k in range(1, 6))
    assert re.search(r"\bQa[a-g]\b", told)  # running text calls them by their short names
    assert "Given" not in re.sub(r"Q[a-z]{2} Given", "", told)  # never by the last word


def test_the_address_is_announced_only_once_the_app_takes_requests() -> None:
    """``serve`` prints the address from ``on_ready``, which the app calls when it starts (after
    warming its workers), not before: a class clicking the link at once is not refused."""
    calls: list[str] = []
    app = create_app(workers=1, limits=LIMITS, warm=False, on_ready=lambda: calls.append("ready"))
    assert calls == []  # building the app announces nothing
    with TestClient(app) as c:
        assert calls == ["ready"]
        assert c.get("/api/health").status_code == 200
    assert calls == ["ready"]


def test_a_small_share_does_not_read_as_nought() -> None:
    """One history in 4,000 shows as 0.03%, not 0.0%; nought stays nought, and shares that
    round to something keep the precision asked for."""
    from politburo.web.app import _pct

    assert _pct(1 / 4000, 1) == "0.03%"
    assert _pct(0.0, 1) == "0.0%"
    assert _pct(0.785, 1) == "78.5%"
    assert _pct(0.004) == "0.4%"
    assert _pct(0.25) == "25%"
    assert _pct(2e-5, 1) == "0.002%"
    assert _pct(1e-9, 1) == "0.0%"  # a float bound near nought
    assert _pct(None) == "–"
