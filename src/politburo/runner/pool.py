"""Worker pools whose workers die with their parent, and work split into jobs on any executor.

A ``ProcessPoolExecutor``'s workers wait on a queue for work. When the parent is killed outright
(``kill -9``, the out-of-memory killer) nothing tells them, and they would wait for ever,
holding memory and, with the ``spawn`` start method, keeping multiprocessing's resource tracker
alive through the pipe they inherit from it. So every pool here starts its workers with an
initializer that ties them to the parent:

* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (through ctypes): the kernel kills the worker
  when the thread that started it ends, which in a pool is the parent's thread that submitted
  the first work, so our pools are made and used in one thread;
* elsewhere, a daemon thread that polls ``os.getppid()`` and exits when the parent is gone.

Either way the worker checks once that its parent is still the one that started it (the parent
may have died before the initializer ran). With the workers gone, the resource tracker reads
end-of-file on its pipe and exits too; ``tests/test_hardening.py`` kills a real ``calibrate``
and checks that none of its processes survive.

``map_jobs`` runs numbered jobs (index ranges) here, on such a pool, or on any
``concurrent.futures.Executor`` a caller passes (a Dask cluster's, for one), and joins the
results by job number (``Slots``), so where and in what order the ranges ran cannot change the
result, and a range a cluster re-runs after losing a worker is counted once.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from multiprocessing.context import BaseContext
from typing import Any

_PR_SET_PDEATHSIG = 1
_POLL_S = 0.5


def die_with_parent(parent: int) -> None:
    """Make this process exit when process ``parent`` (its parent) dies."""
    tied = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            tied = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            tied = False
    if os.getppid() != parent:  # the parent died before we were tied to it
        os._exit(1)
    if not tied:
        threading.Thread(target=_watch, args=(parent,), daemon=True,
                         name="politburo-parent-watch").start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_POLL_S)
    os._exit(1)


def _start(parent: int, init: Callable[..., Any] | None, args: tuple[Any, ...]) -> None:
    die_with_parent(parent)
    if init is not None:
        init(*args)


def worker_pool(workers: int, mp_context: BaseContext | None = None,
                initializer: Callable[..., Any] | None = None,
                initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` whose workers die with this process (see the module)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp_context, initializer=_start,
                               initargs=(os.getpid(), initializer, initargs))


# -- work split into numbered jobs, on any executor -------------------------------------------

class Slots[R]:
    """Results kept by job number, each at most once.

    Jobs are index ranges (or lever worlds, or parameter rows) numbered in the order their
    results are joined. A job can finish twice: a cluster re-runs the range of a worker it
    thinks lost, and the first copy may yet report. Keeping results by number, the first copy
    wins and a second is dropped, so nothing is counted twice and the join is in index order
    whatever the order of completion.
    """

    def __init__(self, n: int) -> None:
        self._parts: list[R | None] = [None] * n
        self._filled = [False] * n

    def put(self, k: int, value: R) -> bool:
        """Keep job ``k``'s result; False (and nothing kept) if it is already here."""
        if self._filled[k]:
            return False
        self._parts[k], self._filled[k] = value, True
        return True

    def missing(self) -> list[int]:
        return [k for k, f in enumerate(self._filled) if not f]

    def results(self) -> list[R]:
        """Every job's result in job order; a missing one is an error, never a silent gap."""
        gaps = self.missing()
        if gaps:
            raise RuntimeError(f"jobs {gaps[:10]} of {len(self._filled)} never reported")
        return self._parts  # type: ignore[return-value]


def map_jobs[J, R](fn: Callable[[J], R], jobs: Sequence[J], *,
                   executor: Executor | None = None, workers: int = 1,
                   mp_context: BaseContext | None = None,
                   initializer: Callable[..., Any] | None = None,
                   initargs: tuple[Any, ...] = (),
                   done: Callable[[int, R], None] | None = None) -> list[R]:
    """``[fn(job) for job in jobs]``, run here, on ``workers`` local processes, or on
    ``executor`` (any ``concurrent.futures.Executor``: a Dask ``Client.get_executor()``
    among them), with the results in job order.

    ``done(k, result)`` is called once per job as it completes, in completion order (a
    progress bar advances as ranges finish, on whichever worker). A given executor is the
    caller's: it is used, never shut down, and ``initializer`` (for the local pool only) is not
    run on it, so ``fn`` must carry what it needs. A job that fails raises here; the jobs not
    yet started are cancelled.
    """
    slots: Slots[R] = Slots(len(jobs))
    if executor is None and (workers <= 1 or len(jobs) <= 1):
        if initializer is not None:
            initializer(*initargs)
        for k, job in enumerate(jobs):
            r = fn(job)
            slots.put(k, r)
            if done:
                done(k, r)
        return slots.results()
    own = executor is None
    ex = executor or worker_pool(min(workers, len(jobs)), mp_context, initializer, initargs)
    futures: dict[Future[R], int] = {}
    try:
        futures = {ex.submit(fn, job): k for k, job in enumerate(jobs)}
        for f in as_completed(futures):
            k = futures[f]
            r = f.result()
            if slots.put(k, r) and done:
                done(k, r)
    finally:
        if own:
            ex.shutdown(wait=True, cancel_futures=True)
        else:
            for f in futures:
                f.cancel()
    return slots.results()


def executor_width(executor: Executor | None, workers: int = 1) -> int:
    """How many jobs ``executor`` runs at once (``workers`` when it is None), to decide how
    finely to cut work. A local pool says so; a Dask executor asks its scheduler for the
    workers' threads; any other executor is taken to run four."""
    if executor is None:
        return max(1, workers)
    n = getattr(executor, "_max_workers", None)  # ProcessPool- and ThreadPoolExecutor
    if isinstance(n, int):
        return max(1, n)
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # a scheduler that does not answer: cut as for a small cluster
            return 4
    return 4
