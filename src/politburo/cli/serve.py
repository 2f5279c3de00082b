"""``politburo serve``: the web app for a lesson, on uvicorn (the ``web`` extra).

A thin edge: check that the extra is installed (and say how to install it when it is not),
load the scenario once with the CLI's clear errors, and hand ``politburo.web.create_app`` to
uvicorn. The class opens the address the command prints.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Annotated

import typer

from politburo.cli.common import (
    ScenarioOpt,
    SchedulerOpt,
    err,
    executor_or_fail,
    fail,
    load_or_fail,
)
from politburo.scenario.loader import DEFAULT

NEEDS = ("fastapi", "uvicorn", "jinja2")


def missing_web_packages() -> list[str]:
    return [m for m in NEEDS if importlib.util.find_spec(m) is None]


def serve(
    host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0: the whole "
                                           "classroom network)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    scenario: ScenarioOpt = DEFAULT,
    workers: Annotated[int, typer.Option(min=1, help="simulation processes (default: all "
                                                     "cores)")] = max(1, os.cpu_count() or 1),
    queue: Annotated[int, typer.Option(min=1, help="jobs waiting or running before the "
                                                   "server answers 'busy' (429)")] = 32,
    scheduler: SchedulerOpt = None,
) -> None:
    """Serve the web app: odds, what-ifs, weights, histories and an essay check, for a class."""
    missing = missing_web_packages()
    if missing:
        # fail() escapes its message for Rich, so the brackets print as they are
        fail(f"politburo serve needs the web extra ({', '.join(missing)} missing): "
             "install it with  pip install 'politburo[web]'  (in a checkout: "
             ".venv/bin/pip install -e '.[web]', or ./dev run, which installs it)")
    s = load_or_fail(scenario)
    import uvicorn

    from politburo.web import create_app

    with executor_or_fail(scheduler) as executor:
        # On a cluster, as many jobs at once as it has workers would keep busy: its size is
        # the scheduler's, so --workers says how many (each job's chunks spread over all).
        shown = _lan_address() if host in ("0.0.0.0", "::") else host

        def ready() -> None:  # printed once the workers are warm and requests are answered
            err.print(f"politburo: open http://{shown}:{port}/ (Ctrl+C stops the server)"
                      + (f"; histories run on the cluster at {scheduler}" if scheduler else ""),
                      highlight=False)

        app = create_app(s, workers=workers, max_jobs=max(1, workers), queue_limit=queue,
                         executor=executor, on_ready=ready)
        err.print("politburo: starting the simulation workers...", highlight=False)
        uvicorn.run(app, host=host, port=port, log_level="warning")


def _lan_address() -> str:
    """This machine's address on the classroom network, for the projector (no packet is
    sent: connecting a UDP socket only picks the route); loopback when there is none."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
