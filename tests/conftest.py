"""Shared fixtures: the built-in scenario, compiled once per session."""

from __future__ import annotations

import pytest

from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.loader import load_scenario
from politburo.scenario.schema import Scenario


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return load_scenario()


@pytest.fixture(scope="session")
def model(scenario: Scenario) -> Compiled:
    return compile_scenario(scenario)
