"""Scale-out on a Dask cluster: connect to a scheduler and hand its workers index ranges.

The core takes any ``concurrent.futures.Executor`` (``runner.run``, ``Experiment``,
``calibrate``, ``fit_report``); this module makes one from a Dask scheduler's address, for the
command line's ``--scheduler`` and for scripts. It is an edge, like the CLI: it opens a
connection, so the core never imports it. Dask's ``distributed`` is an optional extra
(``pip install 'politburo[cluster]'``); without it, ``connect`` raises ``ClusterError`` with a
message that says so.

Why the results cannot depend on the cluster: every history is a pure function of (seed,
index), the work is cut into index ranges, and ranges are joined by number
(``runner.pool.map_jobs``). A worker that dies mid-range is the scheduler's to handle: Dask re-runs
the tasks of a lost worker elsewhere (up to its ``distributed.scheduler.allowed-failures``, 3 by
default), and ``retries`` re-runs a range whose task raised, say a worker's memory error; a
range that reports twice is kept once. Before any work, ``connect`` asks every worker for its
politburo version and engine hash, and refuses a cluster whose workers would simulate with other
code (their histories would differ from a local run's).

Speed: Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` so that they hand freed
memory back to the system at once. The engine allocates and frees large temporary arrays every
month, and with that setting each one costs fresh pages: a worker ran histories at half the
speed of a local process (``benchmarks/bench_cluster.py``). ``connect`` registers a worker
plugin (``RoomyMalloc``) that raises the threshold to 32 MiB on every worker, present or
joining later, which restores the local speed; a worker then keeps up to 32 MiB of freed memory.
"""

from __future__ import annotations

import ctypes
import sys
from concurrent.futures import Executor
from typing import Any

from politburo._version import __version__

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # connect() says which extra to install
    WorkerPlugin = object  # type: ignore[misc,assignment]

EXTRA = "politburo[cluster]"
RETRIES = 2
"""Times a range whose task failed is tried again on the cluster before the run fails."""


class ClusterError(RuntimeError):
    """No usable cluster at the address given, with a message fit to show a user."""


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterError(f"--scheduler needs Dask's distributed package, which is not "
                           f"installed; install it with: pip install '{EXTRA}'") from None
    return distributed


_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter
TRIM_BYTES = 32 * 2**20


def roomy_malloc() -> bool:
    """Let this process keep up to ``TRIM_BYTES`` of freed memory (glibc only; see module)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES))
    except (OSError, AttributeError):  # not glibc
        return False


class RoomyMalloc(WorkerPlugin):  # type: ignore[misc,valid-type]
    """A Dask worker plugin: ``roomy_malloc`` on every worker as it starts."""

    name = "politburo-roomy-malloc"

    def setup(self, worker: Any) -> None:
        roomy_malloc()


def worker_code() -> tuple[str, str]:
    """This process's politburo version and engine hash (run on each worker by ``connect``)."""
    from politburo.engine.fingerprint import engine_hash

    return __version__, engine_hash()


def connect(address: str, *, timeout: float = 10.0) -> Any:
    """A ``distributed.Client`` for the scheduler at ``address`` (``tcp://host:8786``), its
    workers checked to run this politburo (``ClusterError`` if none can, or any differs)."""
    distributed = _distributed()
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:  # refused, timed out, a malformed address
        raise ClusterError(f"cannot reach a Dask scheduler at {address}: "
                           f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                           ) from None
    try:
        _check_workers(client, address)
        client.register_plugin(RoomyMalloc(), name=RoomyMalloc.name)
    except BaseException:
        client.close()
        raise
    return client


def _check_workers(client: Any, address: str) -> None:
    mine = worker_code()
    try:
        found: dict[str, tuple[str, str]] = client.run(worker_code)
    except Exception as exc:  # a worker without politburo cannot even unpickle worker_code
        raise ClusterError(f"the workers of {address} cannot run politburo ({type(exc).__name__}:"
                           f" {str(exc).splitlines()[0] if str(exc) else ''}); install "
                           f"politburo {__version__} on every worker") from None
    if not found:
        raise ClusterError(f"the Dask scheduler at {address} has no workers; start some with: "
                           f"dask worker {address}")
    odd = {w: tuple(v) for w, v in found.items() if tuple(v) != mine}
    if odd:
        w, (version, engine) = sorted(odd.items())[0]
        raise ClusterError(f"{len(odd)} of {len(found)} workers of {address} run other "
                           f"politburo code than this one (worker {w}: version {version}, engine "
                           f"{engine}; here: version {mine[0]}, engine {mine[1]}); their "
                           f"histories would differ, so install the same politburo on every "
                           f"worker")


def executor(client: Any) -> Executor:
    """The ``concurrent.futures.Executor`` politburo runs ranges on: impure tasks (each range
    runs as asked; nothing is hashed to find an equal one) tried ``RETRIES`` more times if
    they fail."""
    ex: Executor = client.get_executor(pure=False, retries=RETRIES)
    return ex


__all__ = ["EXTRA", "RETRIES", "TRIM_BYTES", "ClusterError", "RoomyMalloc", "connect",
           "executor", "roomy_malloc", "worker_code"]
