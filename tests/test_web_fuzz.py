"""The JSON API under fuzzing: Schemathesis generates requests from the OpenAPI schema.

For every operation, valid and invalid requests (a bounded number of examples, so the test stays
quick) must never get a 5xx, must get only the status codes and bodies the schema documents, and
invalid ones must be refused with a 4xx. The app runs in-process with one worker process and
tiny caps, so a generated request starts little work.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from politburo.web import create_app
from politburo.web.questions import Limits

app = create_app(workers=1, warm=False, queue_limit=8,
                 limits=Limits(max_runs=40, max_explain_runs=8, max_fit_runs=40))


async def without_lifespan(scope: Any, receive: Any, send: Any) -> None:
    """The app, minus its lifespan: Schemathesis starts and stops the app around each call,
    which would restart the worker processes every time; the fixture below stops them once."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    await app(scope, receive, send)


schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]


@pytest.fixture(scope="module", autouse=True)
def _stop_workers() -> Iterator[None]:
    yield
    app.state.jobs.shutdown()
    app.state.engine.shutdown()


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_answers_every_generated_request_as_its_schema_says(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


def test_the_schema_documents_every_api_route() -> None:
    paths = set(app.openapi()["paths"])
    assert paths == {"/api/scenario", "/api/odds", "/api/whatif", "/api/explain", "/api/fit",
                     "/api/chronicle", "/api/essay", "/api/jobs/{job_id}", "/api/health"}
