"""Load a scenario file at the edge: YAML text in, a frozen ``Scenario`` out, or a clear error.

Errors name the file, the field path, what was expected and, where the YAML parser can tell,
the line. Nothing here prints; the CLI turns ``ScenarioError`` into a message and an exit code.

A file is read in three passes, cheapest first, so that a hostile one is refused before it costs
anything: its size in bytes, then its outline as composed by the YAML parser (nesting depth,
items per list, repeated keys, what its aliases expand to, the number of principals), then
pydantic's field checks and ``checks.problems`` (how the fields fit together). The document is
built from the composed outline, so the text is parsed once.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from politburo.scenario.checks import Problem, lever_problems, problems
from politburo.scenario.schema import PRINCIPALS, Scenario

BUILTIN = ("soviet-1922", "china-1976")
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


def _line_of_item(root: yaml.Node | None, message: str) -> tuple[tuple[Any, ...], int | None]:
    """The place a whole-scenario message is about, as a field path and a line: the message
    names the item as ``<kind> <id>: ...`` (``office general_secretary: ...``), found by its id
    in any list of the file, and quotes the offending value (``holder 'beria' ...``), found
    inside that item. Without an item, the top of the file."""
    top = root.start_mark.line + 1 if root is not None else None
    named = re.match(r"^(?:Value error, )?[a-z]+ ([a-z][a-z0-9_]*):(.*)$", message, re.S)
    if named is None or not isinstance(root, yaml.MappingNode):
        return (), top
    for key, seq in root.value:
        if not isinstance(seq, yaml.SequenceNode):
            continue
        for i, item in enumerate(seq.value):
            if isinstance(item, yaml.MappingNode) and any(
                    k.value == "id" and getattr(v, "value", None) == named.group(1)
                    for k, v in item.value):
                quoted = re.search(r"'([^']+)'", named.group(2))
                inner = _find_scalar(item, quoted.group(1)) if quoted else None
                if inner is not None:
                    path, node = inner
                    return (key.value, i, *path), node.start_mark.line + 1
                return (key.value, i), item.start_mark.line + 1
    return (), top


def _find_scalar(node: yaml.Node, value: str) -> tuple[tuple[Any, ...], yaml.Node] | None:
    """The first scalar under ``node`` whose text is ``value`` (not a key), with its path."""
    if isinstance(node, yaml.ScalarNode):
        return ((), node) if node.value == value else None
    children: list[tuple[Any, yaml.Node]] = []
    if isinstance(node, yaml.MappingNode):
        children = [(k.value, v) for k, v in node.value if k.value != "id"]
    elif isinstance(node, yaml.SequenceNode):
        children = list(enumerate(node.value))
    for key, child in children:
        found = _find_scalar(child, value)
        if found is not None:
            return (key, *found[0]), found[1]
    return None


def _format(path: str, err: ValidationError, root: yaml.Node | None) -> str:
    lines = [f"{path}: {err.error_count()} problem(s) in the scenario"]
    for e in err.errors(include_url=False):
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and "[" in x))
        if loc:
            where = _line_of(root, loc)
        else:  # a check across the whole scenario: the message names the item
            loc, where = _line_of_item(root, e["msg"])
        field = ".".join(str(x) for x in loc) or "(top level)"
        at = f" (line {where})" if where else ""
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] in ("bool_parsing", "bool_type"):  # a flag: say what it takes
            msg += " (expected true or false)"
        got = e.get("input")
        shown = "" if isinstance(got, (dict, list)) or got is None else f"; got {got!r}"
        lines.append(f"  - {field}{at}: {msg}{shown}")
    return "\n".join(lines)


MAX_BYTES = 1_000_000
"""The largest scenario file read (the built-in one is about 50 kB)."""
MAX_DEPTH = 20
"""The deepest nesting of mappings and lists (the built-in scenario nests 6 deep)."""
MAX_ITEMS = 500
"""The most items in one list or mapping (the built-in scenario's longest has 41)."""
MAX_EXPANDED = 2_000_000
"""The most characters of text a file may hold once its aliases (``*name``) are expanded, so
that a small file cannot stand for a huge document (the "billion laughs")."""


def _too_big(root: yaml.Node, path: str) -> str | None:
    """The first size limit the composed document breaks, checked before anything is built
    from it: nesting depth, items per list, repeated keys, expanded size, principals."""
    height: dict[int, int] = {}
    size: dict[int, int] = {}
    busy: set[int] = set()

    def visit(node: yaml.Node) -> str | None:
        key = id(node)
        if key in height:
            return None
        if key in busy:
            return f"line {node.start_mark.line + 1}: an alias refers to itself; expected a tree"
        busy.add(key)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            if len(node.value) > MAX_ITEMS:
                return (f"line {node.start_mark.line + 1}: a mapping of {len(node.value)} "
                        f"entries; expected at most {MAX_ITEMS}")
            seen: dict[str, int] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in seen:
                        return (f"line {k.start_mark.line + 1}: key {k.value!r} repeats the "
                                f"key of line {seen[k.value]}; expected each key once (YAML "
                                "would silently keep only the last)")
                    seen[k.value] = k.start_mark.line + 1
                children += [k, v]
        elif isinstance(node, yaml.SequenceNode):
            if len(node.value) > MAX_ITEMS:
                return (f"line {node.start_mark.line + 1}: a list of {len(node.value)} items; "
                        f"expected at most {MAX_ITEMS}")
            children = list(node.value)
        for child in children:
            problem = visit(child)
            if problem:
                return problem
        height[key] = 1 + max((height[id(c)] for c in children), default=0)
        size[key] = (len(node.value) if isinstance(node, yaml.ScalarNode) else 1) + sum(
            size[id(c)] for c in children)
        busy.discard(key)
        if height[key] > MAX_DEPTH:
            return (f"line {node.start_mark.line + 1}: nested {height[key]} deep; expected at "
                    f"most {MAX_DEPTH} levels")
        if size[key] > MAX_EXPANDED:
            return (f"line {node.start_mark.line + 1}: its aliases expand to over "
                    f"{MAX_EXPANDED:,} characters; expected a plain scenario")
        return None

    try:
        problem = visit(root)
    except RecursionError:
        problem = f"nested deeper than {MAX_DEPTH} levels"
    if problem:
        return f"{path}: {problem}"
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if k.value == "principals" and isinstance(v, yaml.SequenceNode) and not (
                    PRINCIPALS[0] <= len(v.value) <= PRINCIPALS[1]):
                return (f"{path} (line {k.start_mark.line + 1}): principals: expected "
                        f"{PRINCIPALS[0]} to {PRINCIPALS[1]} principals, got {len(v.value)}")
    return None


def _problems(path: str, found: list[Problem], root: yaml.Node | None) -> str:
    lines = [f"{path}: {len(found)} problem(s) in the scenario"]
    for p in found:
        where = _line_of(root, p.at if p.at is not None else p.loc)
        at = f" (line {where})" if where else ""
        field = ".".join(str(x) for x in p.loc) or "(top level)"
        if p.at is not None:  # a missing value: the line is of the item that needs it
            field += f", for {'.'.join(str(x) for x in p.at)}"
        lines.append(f"  - {field}{at}: {p.message}")
    return "\n".join(lines)


def parse_scenario(text: str, path: str = "<scenario>", *, levers: bool = False) -> Scenario:
    """Validate YAML text into a Scenario, or raise ScenarioError naming ``path``.

    Cheap checks come first (size, nesting, list lengths, repeated keys, aliases, the number
    of principals), then pydantic's checks of each field, then ``checks.problems``: how the
    fields fit together. With ``levers``, also every lever's world, each lever applied alone
    at its default (slower; ``politburo validate`` does it).
    """
    if len(text) > MAX_BYTES:
        raise ScenarioError(f"{path}: {len(text):,} characters; expected a scenario of at most "
                            f"{MAX_BYTES:,}")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{path}{at}: not valid YAML: {problem}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    if not isinstance(root, yaml.MappingNode):
        raise ScenarioError(f"{path}: expected a YAML mapping at the top level")
    big = _too_big(root, path)
    if big:
        raise ScenarioError(big)
    loader = yaml.SafeLoader("")
    try:
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{path}{at}: not valid YAML: {problem}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a YAML mapping at the top level")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format(path, exc, root)) from None
    found = problems(scenario)
    if levers and not found:
        found = lever_problems(scenario)
    if found:
        raise ScenarioError(_problems(path, found, root))
    return scenario


def builtin_text(name: str) -> str:
    return (resources.files("politburo") / "scenarios" / f"{name}.yaml").read_text("utf-8")


def load_scenario(name_or_path: str | Path | None = None, *, levers: bool = False) -> Scenario:
    """A built-in scenario by name, or a scenario file by path (``levers``: see
    ``parse_scenario``)."""
    target = str(name_or_path) if name_or_path is not None else DEFAULT
    if target in BUILTIN:
        return parse_scenario(builtin_text(target), f"<built-in {target}>", levers=levers)
    p = Path(target)
    try:
        if not p.exists():
            raise ScenarioError(
                f"{target}: no such scenario file, and not a built-in scenario "
                f"(built-in: {', '.join(BUILTIN)})"
            )
        if not p.is_file():
            raise ScenarioError(f"{target}: not a regular file; expected a YAML scenario file")
        if p.stat().st_size > MAX_BYTES:
            raise ScenarioError(f"{target}: {p.stat().st_size:,} bytes; expected a scenario "
                                f"of at most {MAX_BYTES:,}")
        with p.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(f"{target}: cannot read the file: {exc}") from None
    return parse_scenario(text, str(p), levers=levers)


def scenario_hash(s: Scenario) -> str:
    """A short content hash of the validated scenario, recorded in every result."""
    blob = json.dumps(s.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
