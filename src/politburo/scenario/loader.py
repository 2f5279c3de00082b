"""Load a scenario file at the edge: YAML text in, a frozen ``Scenario`` out, or a clear error.

Errors name the file, the field path, what was expected and, where the YAML parser can tell,
the line. Nothing here prints; the CLI turns ``ScenarioError`` into a message and an exit code.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from politburo.scenario.schema import Scenario

BUILTIN = ("soviet-1922",)
DEFAULT = "soviet-1922"


class ScenarioError(ValueError):
    """A scenario that cannot be used, with a message fit to show a user."""


def _line_of(node: yaml.Node | None, path: tuple[Any, ...]) -> int | None:
    """Follow a pydantic error location through the composed YAML tree to a line number."""
    line = None
    for key in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == str(key):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            node = node.value[key] if key < len(node.value) else None
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _format(path: str, err: ValidationError, root: yaml.Node | None) -> str:
    lines = [f"{path}: {err.error_count()} problem(s) in the scenario"]
    for e in err.errors(include_url=False):
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and "[" in x))
        field = ".".join(str(x) for x in loc) or "(top level)"
        where = _line_of(root, loc)
        at = f" (line {where})" if where else ""
        msg = e["msg"].removeprefix("Value error, ")
        got = e.get("input")
        shown = "" if isinstance(got, (dict, list)) or got is None else f"; got {got!r}"
        lines.append(f"  - {field}{at}: {msg}{shown}")
    return "\n".join(lines)


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Validate YAML text into a Scenario, or raise ScenarioError naming ``path``."""
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{path}{at}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a YAML mapping at the top level")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format(path, exc, root)) from None


def builtin_text(name: str) -> str:
    return (resources.files("politburo") / "scenarios" / f"{name}.yaml").read_text("utf-8")


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """A built-in scenario by name, or a scenario file by path."""
    target = str(name_or_path) if name_or_path is not None else DEFAULT
    if target in BUILTIN:
        return parse_scenario(builtin_text(target), f"<built-in {target}>")
    p = Path(target)
    if not p.exists():
        raise ScenarioError(
            f"{target}: no such scenario file, and not a built-in scenario "
            f"(built-in: {', '.join(BUILTIN)})"
        )
    try:
        text = p.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{target}: cannot read the file: {exc}") from None
    return parse_scenario(text, str(p))


def scenario_hash(s: Scenario) -> str:
    """A short content hash of the validated scenario, recorded in every result."""
    blob = json.dumps(s.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
