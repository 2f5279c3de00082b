"""Print the paired what-if tables of docs/levers-issue13.md as Markdown, to paste in again
after the posterior is re-made (the numbers depend on it; the layout does not).

Each lever (or bundle) runs as ``politburo whatif NAME -n 4000`` does: ex ante, seed 1, 4,000
paired histories, parameters from the shipped posterior and then from the priors. A leader is
listed when he wins in at least 1% of histories in either world of either run. After each
table come the flips (the share of histories whose winner changes) and the first flipped
histories of the posterior run, so that one can be read with
``politburo chronicle -l NAME -k K``.

    .venv/bin/python tools/lever_tables.py trotsky_deputy_chairman georgian_affair_raised \\
        right_organises_1928
"""

from __future__ import annotations

import argparse

import numpy as np

from politburo import Experiment, load_scenario


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _pts(x: float) -> str:
    return f"{100 * x:+.1f}".replace("-", "\u2212")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("levers", nargs="+")
    ap.add_argument("-n", "--runs", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", default="soviet-1922")
    ap.add_argument("--flips", type=int, default=12, help="flipped histories to list")
    args = ap.parse_args()
    scenario = load_scenario(args.scenario)
    for name in args.levers:
        runs = {}
        for source in ("posterior", "prior"):
            runs[source] = Experiment(scenario, levers=[name], runs=args.runs, seed=args.seed,
                                      parameters=source).whatif()  # type: ignore[arg-type]
        actors = runs["posterior"].actors
        shown = [a for a in actors if any(max(r.winners("baseline")[a],
                                              r.winners("intervened")[a]) >= 0.01
                                          for r in runs.values())]
        print(f"## `{name}`\n")
        print("| parameters | leader | baseline | with the lever | difference (95%) |")
        print("|---|---|---|---|---|")
        for source, r in runs.items():
            if r.parameters != source:
                raise SystemExit(f"{name}: asked for {source}, got {r.parameters} "
                                 f"({r.parameters_note})")
            base, new, diff = r.winners("baseline"), r.winners("intervened"), r.difference()
            order = sorted(shown, key=lambda a: -runs["posterior"].winners("baseline")[a])
            for a in order:
                lo, hi = diff[a]["ci"]
                who = "no one" if a == "none" else scenario_name(scenario, a)
                print(f"| {source} | {who} | {_pct(base[a])} | {_pct(new[a])} | "
                      f"{_pts(diff[a]['delta'])} ({_pts(lo)} to {_pts(hi)}) |")
        flips = {s: float(np.mean(r.baseline.winner != r.intervened.winner))
                 for s, r in runs.items()}
        print(f"\nFlips: {_pct(flips['posterior'])} (posterior), {_pct(flips['prior'])} "
              f"(prior).")
        r = runs["posterior"]
        names = (*r.model.principals, "no one")
        changed = np.flatnonzero(r.baseline.winner != r.intervened.winner)[:args.flips]
        print("First flipped histories (posterior): " + "; ".join(
            f"{int(r.baseline.index[k])}: {names[r.baseline.winner[k]]} -> "
            f"{names[r.intervened.winner[k]]}" for k in changed) + "\n")


def scenario_name(scenario: object, pid: str) -> str:
    """A principal's surname, as the tables write him."""
    p = next(p for p in scenario.principals if p.id == pid)  # type: ignore[attr-defined]
    return str(p.name).split()[-1]


if __name__ == "__main__":
    main()
