"""Re-stamp the shipped posterior after a change of the scenario's *format* that leaves its
histories bit-identical (a renamed parameter, labels moved into the file).

This is not a calibration: the particles, weights and distances are kept as they are. It renames
parameter columns (``--rename OLD=NEW``) and records the scenario's new ``baseline_hash``, with a
``restamped`` note saying why. Run it only after checking that the histories are unchanged; a
change of mechanism needs the shipping calibration instead (``SHIP_COMMAND``).

    .venv/bin/python tools/restamp_posterior.py soviet-1922 \
        --rename lenin_restraint=founder_restraint

``--engine`` also records the current engine hash: for a change of engine or mechanism source
(``ENGINE_SOURCES``) that leaves every history bit-identical, such as code that only a lever's
world reaches. Check the histories first (the same seed and histories before and after).
"""

from __future__ import annotations

import argparse
import dataclasses

from politburo.calibration.abc_smc import read_posterior, write_posterior
from politburo.calibration.posterior import baseline_hash, default_posterior_path, engine_hash
from politburo.scenario.compile import compile_scenario
from politburo.scenario.loader import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--rename", action="append", default=[], metavar="OLD=NEW")
    ap.add_argument("--why", default="scenario format generalised (issue 12); histories "
                    "bit-identical, particles unchanged")
    ap.add_argument("--engine", action="store_true",
                    help="also record the current engine_hash (histories checked bit-identical)")
    args = ap.parse_args()
    scenario = load_scenario(args.scenario)
    path = default_posterior_path(scenario.id)
    post = read_posterior(path)
    rename = dict(r.split("=", 1) for r in args.rename)
    names = tuple(rename.get(n, n) for n in post.names)
    want = compile_scenario(scenario).priors.names
    if tuple(names) != tuple(want):
        raise SystemExit(f"after renaming, the names {names} differ from the scenario's {want}")
    meta = dict(post.meta, baseline_hash=baseline_hash(scenario), restamped=args.why)
    if args.engine:
        meta["engine_hash"] = engine_hash()
    write_posterior(path, dataclasses.replace(post, names=names, meta=meta))
    print(f"re-stamped {path}: baseline_hash {meta['baseline_hash']}")


if __name__ == "__main__":
    main()
