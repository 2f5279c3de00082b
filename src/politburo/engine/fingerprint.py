"""A fingerprint of the model's source: what a calibrated posterior and a cluster's workers are
checked against.

``engine_hash`` hashes the text of the files that decide what a history does (the month, the
state, the compiler of scenarios and every mechanism; the compiled kernels, which tests hold
bit-identical to their NumPy twins, are left out). A posterior records the hash it was made
with (``calibration.posterior.stale_engine`` warns on a mismatch), and ``runner.cluster`` refuses
workers whose hash differs from the client's. ``platform_stamp`` adds to it the processor and
library versions every result records.
"""

from __future__ import annotations

import hashlib
import platform
from functools import lru_cache
from importlib import resources

ENGINE_SOURCES = ("engine/month.py", "engine/switch.py", "engine/histories.py", "engine/state.py",
                  "scenario/compile.py", "engine/mechanisms/circular_flow.py",
                  "engine/mechanisms/clients.py", "engine/mechanisms/coalitions.py",
                  "engine/mechanisms/policy.py", "engine/mechanisms/standing.py",
                  "engine/mechanisms/votes.py", "engine/mechanisms/arrest.py",
                  "engine/mechanisms/returns.py", "engine/mechanisms/appeal.py",
                  "engine/mechanisms/inner.py",
                  "engine/mechanisms/power.py", "engine/mechanisms/offices.py",
                  "engine/mechanisms/testament.py", "engine/mechanisms/consolidation.py")


def engine_hash() -> str:
    """A short hash of the engine's and mechanisms' source text."""
    h = hashlib.sha256()
    root = resources.files("politburo")
    for rel in ENGINE_SOURCES:
        f = root.joinpath(*rel.split("/"))
        h.update(rel.encode())
        h.update(f.read_bytes() if f.is_file() else b"<missing>")
    return h.hexdigest()[:16]


def _cpu() -> str:
    """The processor's model name where the system says it (Linux), else the platform's."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@lru_cache(maxsize=1)
def platform_stamp() -> dict[str, str]:
    """Where a result was computed: the engine's hash and what can round a last bit otherwise
    (the processor and the numerical libraries; docs/model.md, *Stochasticity*). Histories are
    the same bits on one platform; a result that records this says which one it was."""
    import numba
    import numpy
    import scipy

    return {"engine_hash": engine_hash(), "python": platform.python_version(),
            "numpy": numpy.__version__, "scipy": scipy.__version__, "numba": numba.__version__,
            "machine": platform.machine(), "cpu": _cpu()}
