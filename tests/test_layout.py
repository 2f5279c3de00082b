"""The package's folders form layers, and imports only run down them (docs/layout.md).

Every import in the package counts: at module level, inside functions, under ``TYPE_CHECKING``,
absolute or relative. Each imported module maps to its layer: the folder under ``politburo/`` it
lives in, ``base`` for a module at the top (``dates``, ``io``, ``_version``), ``api`` for the
package's ``__init__`` (the public API, which imports from every layer and is imported by none).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "politburo"

# Bottom first: a layer may import the layers before it, never one after it.
ORDER = ("base", "scenario", "engine", "runner", "calibration", "experiment", "chronicle",
         "report", "web", "cli", "api")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (SRC / rel).with_suffix(".py").is_file() or (SRC / rel / "__init__.py").is_file()


def imported(name: str, is_package: bool, tree: ast.AST) -> Iterable[str]:
    """The politburo modules that the module ``name`` (with syntax ``tree``) imports."""
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "politburo")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "politburo":
                continue
            for a in node.names:  # ``from politburo.x import y``: y may be a module itself
                yield f"{mod}.{a.name}" if is_module(f"{mod}.{a.name}") else mod


def layer(name: str) -> str:
    parts = name.split(".")
    if parts == ["politburo"]:
        return "api"
    if len(parts) == 2 and (SRC / "politburo" / f"{parts[1]}.py").is_file():
        return "base"
    return parts[1]


def edges(sources: dict[str, tuple[bool, str]]) -> set[tuple[str, str]]:
    """(importer, imported) module pairs; ``sources`` maps a module to (is package, source)."""
    return {(m, dep) for m, (pkg, text) in sources.items()
            for dep in imported(m, pkg, ast.parse(text))}


def problems(pairs: set[tuple[str, str]]) -> list[str]:
    out = []
    folders: set[tuple[str, str]] = set()
    for src, dst in sorted(pairs):
        a, b = layer(src), layer(dst)
        for x in (a, b):
            if x not in ORDER:
                out.append(f"{x} (from {src if x == a else dst}) is in no layer of ORDER")
        if a == b or a not in ORDER or b not in ORDER:
            continue
        folders.add((a, b))
        if ORDER.index(b) > ORDER.index(a):
            out.append(f"{src} imports {dst}: {a} may not import {b}, a layer above it")
    for a, b in sorted(folders):
        if (b, a) in folders and a < b:
            out.append(f"{a} and {b} import each other")
    return out


def package_sources() -> dict[str, tuple[bool, str]]:
    return {module_name(f): (f.name == "__init__.py", f.read_text("utf-8"))
            for f in sorted(PKG.rglob("*.py"))}


def test_imports_run_down_the_layers_only() -> None:
    sources = package_sources()
    assert len(sources) > 50  # the walk found the package
    found = edges(sources)
    assert ("politburo.engine.month", "politburo.engine.mechanisms.policy") in found
    assert problems(found) == []


def test_every_folder_is_a_declared_layer() -> None:
    folders = {p.name for p in PKG.iterdir() if (p / "__init__.py").is_file()}
    assert folders <= set(ORDER), sorted(folders - set(ORDER))


def test_mechanisms_never_import_the_month_that_calls_them() -> None:
    found = edges(package_sources())
    up = sorted((a, b) for a, b in found
                if a.startswith("politburo.engine.mechanisms") and b == "politburo.engine.month")
    assert up == []


def test_the_check_catches_an_upward_import_and_a_cycle() -> None:
    """The checker itself: an import from a lower layer into a higher one, in a function body
    or as a relative import, is reported, and so are two folders importing each other."""
    sources = package_sources()
    pkg, text = sources["politburo.engine.state"]
    sources["politburo.engine.state"] = (pkg, text + (
        "\n\ndef _late() -> None:\n    from politburo.report import plots  # noqa: F401\n"))
    pkg, text = sources["politburo.scenario.labels"]
    sources["politburo.scenario.labels"] = (pkg, text + "\nfrom ..runner import summary\n")
    found = problems(edges(sources))
    assert any(p.startswith("politburo.engine.state imports politburo.report.plots")
               for p in found), found
    assert any(p.startswith("politburo.scenario.labels imports politburo.runner.summary")
               for p in found), found
    assert "runner and scenario import each other" in found
