"""Helpers shared by the tests (not a test module)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from politburo.engine.month import initial_state
from politburo.engine.state import Context, State
from politburo.scenario.compile import Compiled
from politburo.scenario.loader import builtin_text
from politburo.scenario.schema import Scenario


def edited_builtin(tmp_path: Path, edit: Callable[[dict[str, Any]], None],
                   name: str = "edited.yaml") -> Path:
    """The built-in Soviet file, loaded as plain data, changed by ``edit`` and written to
    ``tmp_path / name``."""
    data = yaml.safe_load(builtin_text("soviet-1922"))
    edit(data)
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def assert_refused(path: Path, *words: str) -> str:
    """Loading ``path`` fails with a ScenarioError whose message names the file and contains
    every one of ``words`` (the field and what was expected); returns the message."""
    import pytest

    from politburo.scenario.loader import ScenarioError, load_scenario

    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert path.name in text, text
    for w in words:
        assert w in text, (w, text)
    return text


def mech_ctx(model: Compiled, H: int = 4, **params: float) -> Context:
    """A context for mechanism tests: every parameter at its prior median, some pinned."""
    theta = model.priors.ppf(np.full((H, model.priors.dim), 0.5))
    p = {n: theta[:, j].copy() for j, n in enumerate(model.priors.names)}
    for k, v in params.items():
        p[k] = np.full(H, v)
    return Context(model=model, seed=3, index=np.arange(H, dtype=np.int64), params=p,
                   const=model.constants)


def mech_state(model: Compiled, H: int = 4, record_log: bool = False) -> State:
    return initial_state(model, H, record_log=record_log)


def with_levers(s: Scenario, *levers: dict[str, Any]) -> Scenario:
    """The scenario with extra (synthetic) levers appended."""
    data = s.model_dump()
    data["levers"] = [*data["levers"], *({"title": "t", "description": "d", **lv}
                                         for lv in levers)]
    return Scenario.model_validate(data)


SOVIET_WORDS = ("Lenin", "Politburo", "Soviet", "Bolshevik", "Moscow", "Red Square", "OGPU",
                "NEP", "Comintern", "Sovnarkom", "General Secretary", "Kremlin")
"""Words of the built-in scenario that no code may print for another scenario (with the names
of its people, which :func:`soviet_words` adds, and its years)."""

_YEARS = re.compile(r"(?<![\d.])(18[5-9]\d|19[0-3]\d)(?!\d)")


def soviet_words(s: Scenario) -> list[str]:
    """Every word of the built-in scenario's names of people and ids, and ``SOVIET_WORDS``."""
    people = [*s.principals, *s.clients, *([s.founder] if s.founder else [])]
    words = {w for p in people for w in (*p.name.split(), p.id)}
    return sorted(words | set(SOVIET_WORDS), key=len, reverse=True)


def _words_re(words: list[str]) -> str:
    """Any of ``words``, whole (an id may follow with '_': stalin_wins); 'Politburo' only with
    its capital, since lower-case 'politburo' is the program's name and the format's step id."""
    return (r"(?<![A-Za-z])((?i:" + "|".join(map(re.escape, (w for w in words
                                                               if w != "Politburo")))
            + r")|Politburo)(?![A-Za-z])")


def soviet_pattern(s: Scenario) -> re.Pattern[str]:
    """A match of any Soviet word or name, or of a year of 1850-1939."""
    return re.compile(_words_re(soviet_words(s)) + "|" + _YEARS.pattern)


def renamed(s: Scenario) -> dict[str, Any]:
    """The built-in scenario as another party's: every person, id, body, place and Soviet word
    renamed (names written surname first, with ``short``), every year moved on a century, the
    levers and the bibliography's titles kept but reworded. The mechanism's data are unchanged,
    so the histories are the Soviet ones under other names: the test is of the words only."""
    words = soviet_words(s)
    people = [*s.principals, *s.clients, *([s.founder] if s.founder else [])]
    new: dict[str, str] = {}
    for k, p in enumerate(people):
        surname = f"Q{chr(97 + k // 26)}{chr(97 + k % 26)}"
        new[p.id] = surname
        for w in p.name.split():
            new.setdefault(w.lower(), surname)
    for k, w in enumerate(words):
        new.setdefault(w.lower(), f"Zo{chr(97 + k // 26)}{chr(97 + k % 26)}")
    pattern = re.compile(_words_re(words))

    def word(m: re.Match[str]) -> str:
        out = new[m.group(1).lower()]
        return out.lower() if m.group(1).islower() else out

    def text(v: str) -> str:
        v = _YEARS.sub(lambda m: str(int(m.group(1)) + 100), v)
        return pattern.sub(word, v)

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return text(v)
        if isinstance(v, dict):
            return {text(k): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        return v

    data: dict[str, Any] = walk(s.model_dump(mode="json"))
    data["id"] = "other-1976"
    for person in [*data["principals"], *data["clients"], data["founder"]]:
        person["name"] = f"{person['name'].split()[-1]} Given"  # surname first
        person["short"] = person["name"].split()[0]
    return data
