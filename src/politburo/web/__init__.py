"""politburo's web app for a lesson: ``politburo serve`` (the ``web`` extra).

An edge, like the command line: it calls the Python API (``Experiment``, ``summarise``,
``fit_report``, ``chronicle``, ``where``) and nothing in the core imports it.
``create_app(scenario)`` returns the FastAPI app; ``politburo.web.jobs`` bounds and caches the
work, ``politburo.web.compute`` runs it in a fixed pool of worker processes,
``politburo.web.narrative`` tells a history in a student's words.
"""

from __future__ import annotations

from politburo.web.app import create_app

__all__ = ["create_app"]
