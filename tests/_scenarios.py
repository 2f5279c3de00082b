"""Helpers shared by the lever tests (not a test module)."""

from __future__ import annotations

from typing import Any

from politburo.scenario.schema import Scenario


def with_levers(s: Scenario, *levers: dict[str, Any]) -> Scenario:
    """The scenario with extra (synthetic) levers appended."""
    data = s.model_dump()
    data["levers"] = [*data["levers"], *({"title": "t", "description": "d", **lv}
                                         for lv in levers)]
    return Scenario.model_validate(data)
