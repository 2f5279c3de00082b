"""The web app in a real browser against a real server, as a class would use it.

A uvicorn server runs in a subprocess on a free loopback port; Playwright drives Debian's
Chromium (as ``test_report.py`` does) through every page: the odds, a what-if with a lever
toggled (its progress bar, its result, a flipped history), the weights, a found history, an
essay's ranking and the fit. Every request must go to the server itself, and the console must
stay clean. Screenshots land in ``test-artifacts/web/`` for a person to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from _browser import guarded_page

SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "web"
SERVER = """
import uvicorn
from politburo.web import create_app
from politburo.web.questions import Limits
app = create_app(workers=1, limits=Limits(max_runs=1000, max_explain_runs=100, max_fit_runs=300))
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning")
"""
SLOW = 90_000  # ms: a page's job on a busy 2-core machine



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    log_file = log_path.open("w")
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(port=port)],
                            stdout=log_file, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/api/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not start: {log_path.read_text()}")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log_file.close()
        log = log_path.read_text()
        assert "Traceback" not in log, log


def test_a_lesson_in_the_browser(server: str) -> None:

    SHOTS.mkdir(parents=True, exist_ok=True)
    with guarded_page(lambda url: url.startswith(server + "/")) as (page, errors, outside):

        def shot(name: str) -> None:
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

        # Odds: who comes to rule, beside history.
        page.goto(server + "/?runs=400")
        page.wait_for_selector("table.odds", timeout=SLOW)
        rows = page.locator("table.odds tbody tr")
        assert rows.count() == 8  # seven leaders and "no one"
        assert "history: 1926-10" in page.inner_text("table.falls")
        shot("odds")

        # What if: toggle a lever, run it, watch the progress bar, see the result.
        page.goto(server + "/whatif")
        assert page.locator("fieldset.lever").count() >= 10
        page.check("input[name=lever][value=lenin_lives]")
        page.fill("input[name=runs]", "400")
        page.fill("input[name=seed]", "11")
        with page.expect_response(lambda r: "/whatif?" in r.url) as first:
            page.click("#run-whatif")
        assert "<progress" in first.value.text(), "a fresh job shows a progress bar"
        if page.locator(".job progress").count():
            shot("whatif-progress")  # unless the job finished before the page drew
        page.wait_for_selector("table.whatif", timeout=SLOW)
        flipped = page.inner_text("p.flipped")
        assert "a different leader comes to rule" in flipped
        shot("whatif")

        # A history that flipped, in the changed world: causes in words, numbers on demand.
        page.click("a.flip-link >> nth=0")
        page.wait_for_selector("article.story", timeout=SLOW)
        assert "Lenin stays able to act" in page.inner_text("p.changes")
        story = page.inner_text("article.story")
        assert "perceived powers" not in story.split("the numbers")[0]
        page.click("article.story details summary >> nth=0")
        assert page.locator("article.story details[open] dd").count() >= 1
        shot("chronicle-flipped")

        # Find a world where ...
        page.goto(server + "/chronicle")
        page.fill("input[name=where]", "winner != stalin")
        page.click("#run-chronicle")
        page.wait_for_selector("article.story", timeout=SLOW)
        assert "match" in page.inner_text("p.found")
        shot("chronicle-where")

        # Weights of two factors on Stalin's chance.
        page.goto(server + "/weights")
        page.check("input[name=lever][value=lenin_lives]")
        page.check("input[name=lever][value=trotsky_attends_funeral]")
        page.fill("input[name=runs]", "80")
        page.click("#run-weights")
        page.wait_for_selector("table.weights", timeout=SLOW)
        assert page.locator("table.weights tbody tr").count() == 2
        shot("weights")

        # An essay's ranking beside the model's.
        page.goto(server + "/essay")
        page.select_option("select[name=rank_lenin_lives]", "main")
        page.select_option("select[name=rank_trotsky_attends_funeral]", "main")
        page.fill("input[name=runs]", "80")
        page.click("#run-essay")
        page.wait_for_selector("table.compare", timeout=SLOW)
        verdicts = page.inner_text("table.compare")
        assert "agree" in verdicts and "trotsky" not in page.url.split("?")[0]
        shot("essay")

        # The fit: where the model is weak.
        page.goto(server + "/fit?runs=200")
        page.wait_for_selector("table.fit", timeout=SLOW)
        assert page.locator("table.fit >> nth=0").locator("tbody tr").count() >= 8
        shot("fit")

        # A student's phone: the what-if result (from the cache) still reads.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(server + "/whatif?lever=lenin_lives&value_lenin_lives=1925-06&runs=400"
                  "&seed=11")
        page.wait_for_selector("table.whatif", timeout=SLOW)
        shot("whatif-phone")
        page.set_viewport_size({"width": 1280, "height": 900})

        page.goto(server + "/sources")
        assert page.locator("ul.sources li").count() >= 10
        shot("sources")
        title = page.title()
    assert errors == [], f"console errors: {errors}"
    assert outside == [], f"the pages asked other origins for {outside}"
    assert "Sources" in title
    for name in ("odds", "whatif", "chronicle-flipped", "weights", "essay", "fit"):
        assert (SHOTS / f"{name}.png").stat().st_size > 20_000, name


def test_a_mistake_is_shown_as_a_page_not_a_traceback(server: str) -> None:
    same_origin = lambda url: url.startswith(server + "/")  # noqa: E731
    with guarded_page(same_origin, height=700) as (page, _errors, _outside):
        response = page.goto(server + "/whatif?lever=lenin_lives&value_lenin_lives=1940-01")
        assert response is not None and response.status == 400
        text = page.inner_text("main")
        page.screenshot(path=str(SHOTS / "error.png"), full_page=True)
    assert "expects a month between 1922-12 and 1930-12" in text
    assert "Traceback" not in text
