"""Re-write the parameter table of docs/model.md (§7.8) from the built-in scenario's priors.

Each row gives the prior's family and settings, its mean and 90% central interval (SciPy), the
source it cites or "assumption", where the engine reads it, and what it does. The "used in"
and "what it does" columns are kept from the table as it stands, since they are written by
hand (a new parameter gets "?" and the file's description until they are).
tests/test_params_table.py checks that the table agrees with the file.

    .venv/bin/python tools/params_table.py            # re-write docs/model.md in place
    .venv/bin/python tools/params_table.py --check    # exit 1 if the table is stale
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from politburo import load_scenario
from politburo.scenario.priors import frozen
from politburo.scenario.schema import Prior

DOC = Path(__file__).resolve().parent.parent / "docs" / "model.md"
HEADER = "| # | parameter | prior | mean [5%, 95%] | cited | used in | what it does |"
SETTINGS = {"normal": ("mean", "sd"), "lognormal": ("median", "sigma"), "beta": ("a", "b"),
            "uniform": ("low", "high"), "truncnormal": ("mean", "sd")}


def _g(x: float) -> str:
    return f"{x:g}"


def family(prior: Prior) -> str:
    """The prior as the table writes it, e.g. beta(1.5, 6) or lognormal(median 2, sigma 0.5)."""
    fam = str(prior.family)
    names = SETTINGS[fam]
    values = [float(getattr(prior, n)) for n in names]
    if fam == "beta":
        inner = ", ".join(_g(v) for v in values)
    else:
        inner = ", ".join(f"{n} {_g(v)}" for n, v in zip(names, values, strict=True))
    if fam == "truncnormal":
        inner += f", [{_g(float(prior.low or 0))}, {_g(float(prior.high or 0))}]"
    return f"{fam}({inner})"


def rows(kept: dict[str, tuple[str, str]]) -> list[str]:
    """The table's rows for the built-in scenario's parameters, in file order."""
    scenario = load_scenario("soviet-1922")
    out = []
    for k, (name, p) in enumerate(scenario.parameters.items()):
        fam = str(p.family)
        d = frozen(fam, {n: float(getattr(p, n)) for n in (*SETTINGS[fam], "low", "high")
                         if getattr(p, n, None) is not None})
        lo, hi = d.ppf([0.05, 0.95])
        cited = p.source or "assumption"
        used, does = kept.get(name, ("?", str(p.description)))
        out.append(f"| {k} | `{name}` | {family(p)} | {d.mean():.3g} [{lo:.3g}, {hi:.3g}] | "
                   f"{cited} | {used} | {does} |")
    return out


def table_span(text: str) -> tuple[int, int]:
    """Line indices of the first and last row of the table in ``text``."""
    lines = text.splitlines()
    start = lines.index(HEADER) + 2
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return start, end


def hand_written(text: str) -> dict[str, tuple[str, str]]:
    """The "used in" and "what it does" columns of the table as it stands, by parameter."""
    lines = text.splitlines()
    start, end = table_span(text)
    found = {}
    for line in lines[start:end]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        m = re.fullmatch(r"`(\w+)`", cells[1])
        if m:
            found[m.group(1)] = (cells[5], " | ".join(cells[6:]))
    return found


def rebuilt(text: str) -> str:
    lines = text.splitlines()
    start, end = table_span(text)
    return "\n".join([*lines[:start], *rows(hand_written(text)), *lines[end:]]) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    args = ap.parse_args()
    text = DOC.read_text(encoding="utf-8")
    new = rebuilt(text)
    if args.check:
        if new != text:
            print("docs/model.md: the parameter table disagrees with soviet-1922.yaml; run "
                  "tools/params_table.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
