"""Using a stored posterior: find it, check it fits the scenario, draw per-history parameters.

Drawing is a pure function of (seed, history index), as the model brief (section 3) asks of every
random draw: history *k* picks a particle by the inverse CDF of the cumulative particle weights at
``politburo.engine.rng.uniforms(seed, k, -1, "posterior")`` and takes that particle's parameter row.
No jitter is added: the particles are a weighted sample of the ABC posterior (Pritchard et al. 1999;
Beaumont et al. 2009) and a kernel would put mass where no simulation was accepted. The history's
own randomness (every month's draws) stays fresh, so calibration narrows the parameters without
removing contingency.

A posterior records the scenario it was calibrated on. ``baseline_hash`` is the scenario's
content hash with its levers and bundles left out (levers are counterfactual overrides and do not
change the baseline world; adding one must not invalidate the calibration; a bundle is a name for
some levers, and the hash leaves out even the field, so a file without bundles keeps the hash it
had before bundles existed). ``engine_hash`` (``politburo.engine.fingerprint``) fingerprints
the source of the engine and mechanisms; a mismatch there is reported as a warning, not an error,
because the numbers may still be close, but the posterior should then be re-made.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from politburo.calibration.abc_smc import Posterior, PosteriorError, read_posterior
from politburo.engine import rng
from politburo.engine.fingerprint import engine_hash
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.loader import BUILTIN
from politburo.scenario.schema import Scenario


def baseline_hash(scenario: Scenario) -> str:
    """The scenario's content hash without its levers and bundles (see the module docstring)."""
    data = scenario.model_dump(mode="json")
    data["levers"] = []
    data.pop("bundles", None)
    blob = json.dumps(data, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def default_posterior_path(scenario_id: str) -> Path:
    """Where the package ships the posterior of a built-in scenario."""
    root = resources.files("politburo") / "scenarios"
    return Path(str(root / f"{scenario_id}.posterior.parquet"))


def source_checkout(path: Path) -> Path | None:
    """The root of the git work tree that holds ``path`` (a source checkout of politburo),
    or None when ``path`` lies in an installed package (site-packages, dist-packages) or in
    no work tree. ``calibrate --ship`` writes only into a checkout: rewriting an installed
    package's data would change what every user of that environment runs, silently."""
    path = Path(path).resolve()
    if any(part in ("site-packages", "dist-packages") for part in path.parts):
        return None
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def expected_meta(scenario: Scenario) -> dict[str, str]:
    return {"scenario": scenario.id, "baseline_hash": baseline_hash(scenario)}


def load_posterior(path: str | Path, scenario: Scenario) -> Posterior:
    """Read ``path`` and check its parameter names and baseline hash against ``scenario``.

    Raises :class:`PosteriorError` with a message that says how to fix it.
    """
    names = compile_scenario(scenario).priors.names
    try:
        return read_posterior(path, expected_names=names, expected_meta=expected_meta(scenario))
    except PosteriorError as exc:
        raise PosteriorError(
            f"{exc}. Re-make it with the command in its 'command' metadata (for the built-in "
            f"scenario: {SHIP_COMMANDS.get(scenario.id, SHIP_COMMAND)}), or run with --prior "
            f"to draw from the priors instead"
        ) from None


def load_default_posterior(scenario: Scenario) -> Posterior | None:
    """The shipped posterior of a built-in scenario, checked; None for other scenarios.

    A built-in scenario whose shipped file is missing, unreadable or made for other names or
    another version of the scenario raises :class:`PosteriorError`.
    """
    if scenario.id not in BUILTIN:
        return None
    return load_posterior(default_posterior_path(scenario.id), scenario)


def stale_engine(posterior: Posterior) -> bool:
    """True when the posterior was made with different engine or mechanism source."""
    made = posterior.meta.get("engine_hash")
    return made is not None and made != engine_hash()


def draw_posterior_params(model: Compiled, posterior: Posterior, seed: int,
                          index: NDArray[np.int64]) -> NDArray[np.float64]:
    """Per-history parameter rows (H, D) from ``posterior``: a pure function of (seed, index).

    Values a lever fixes (``model.fixed``) override the drawn ones, as in
    ``engine.month.draw_params``.
    """
    if tuple(posterior.names) != tuple(model.priors.names):
        raise PosteriorError(
            f"posterior parameters {list(posterior.names)} differ from the scenario's "
            f"{list(model.priors.names)}")
    index = np.asarray(index, dtype=np.int64)
    u = rng.uniforms(seed, index, -1, "posterior")[:, 0]
    cdf = np.cumsum(posterior.weights)
    k = np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), len(cdf) - 1)
    theta = np.array(posterior.theta[k], dtype=np.float64)
    for name, value in model.fixed.items():
        theta[:, model.priors.index(name)] = value
    return theta


SHIP_COMMAND = ("politburo calibrate --scenario soviet-1922 --method rejection --runs 200000 "
                "--seed 1922 --quantile 0.02 --workers 2 --ship")
"""The command that made the shipped posterior (kept in step with politburo.calibration)."""

SHIP_COMMANDS = {
    "soviet-1922": SHIP_COMMAND,
    "china-1976": ("politburo calibrate --scenario china-1976 --method rejection --runs 100000 "
                   "--seed 1976 --quantile 0.02 --workers 2 --ship"),
}
"""The command that made each built-in scenario's shipped posterior."""
