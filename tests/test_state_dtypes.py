"""The state's narrow integer arrays (engine/state.py: rungs, office holders, patrons, falls,
rises, the last step down the ladder) hold every value a run can write, and give the same
histories as int64 arrays would, under both engines."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from politburo.engine import month
from politburo.engine.month import initial_state, simulate
from politburo.engine.state import LADDER, NEVER_STEPPED, RUNG_DTYPE, step_dtype, who_dtype
from politburo.scenario.compile import CLIENT, compile_scenario
from politburo.scenario.loader import load_scenario


def _holds(dtype: np.dtype[Any], *values: int) -> bool:
    info = np.iinfo(dtype)
    return all(info.min <= v <= info.max for v in values)


@pytest.mark.parametrize("steps", [1, 97, 127, 128, 129, 1000, 31767, 31768, 40000, 70000])
def test_step_dtype_holds_every_month_its_mark_and_the_gap(steps: int) -> None:
    last = steps - 1
    for never in (-1, NEVER_STEPPED):
        dt = step_dtype(steps, never)
        assert _holds(dt, last, never, last - never), (steps, never, dt)
        # and it is the narrowest that does: the next narrower type would not hold them all
        narrower = {np.dtype(np.int16): np.int8, np.dtype(np.int32): np.int16,
                    np.dtype(np.int64): np.int32}.get(dt)
        if narrower is not None:
            assert not _holds(np.dtype(narrower), last, never, last - never)
    assert step_dtype(127) == np.int8 and step_dtype(128) == np.int16  # gap 127, then 128
    assert _holds(RUNG_DTYPE, 0, len(LADDER))


@pytest.mark.parametrize("P,C", [(7, 20), (10, 19), (2, 0), (63, 124), (7, 125), (7, 40000)])
def test_who_dtype_holds_principals_vacancies_and_every_client(P: int, C: int) -> None:
    dt = who_dtype(P, C)
    # a principal's index, vacant (-1), the founder (-2), the last named client and the bound
    # below him that the clients' mechanism compares holders with
    assert _holds(dt, P - 1, -1, -2, CLIENT - (C - 1), CLIENT - C)


@pytest.mark.parametrize("name", ["soviet-1922", "china-1976"])
def test_the_state_is_narrow_and_holds_the_scenario(name: str) -> None:
    model = compile_scenario(load_scenario(name))
    s = initial_state(model, 4, record_log=False)
    assert s.rung.dtype == RUNG_DTYPE and s.rung.itemsize == 1
    assert s.falls.dtype == step_dtype(model.steps) and s.falls.itemsize < 8
    assert s.last_step.dtype == step_dtype(model.steps, NEVER_STEPPED)
    assert (s.last_step == NEVER_STEPPED).all()
    # the starting holders and patrons survive the narrowing unchanged
    assert (s.holder == model.holder0[None, :]).all()
    assert (s.client_patron == model.client_patron[None, :]).all()
    assert s.holder.itemsize < 8 and s.client_patron.itemsize < 8


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
@pytest.mark.parametrize("name", ["soviet-1922", "china-1976"])
def test_narrow_state_gives_the_histories_of_an_int64_one(
        name: str, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = compile_scenario(load_scenario(name))
    idx = np.arange(120)
    narrow = simulate(model, 3, idx, engine=engine)
    monkeypatch.setattr(month, "step_dtype", lambda *a, **k: np.dtype(np.int64))
    monkeypatch.setattr(month, "who_dtype", lambda *a, **k: np.dtype(np.int64))
    monkeypatch.setattr(month, "RUNG_DTYPE", np.dtype(np.int64))
    assert month.initial_state(model, 2, False).rung.dtype == np.int64
    wide = simulate(model, 3, idx, engine=engine)
    for f in dataclasses.fields(narrow):
        a, b = getattr(narrow, f.name), getattr(wide, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), f.name
    # the histories did move people down the ladder and into offices (not a vacuous match)
    assert (narrow.falls >= 0).any() and (narrow.rises >= 0).any()
