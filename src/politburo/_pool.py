"""Worker pools whose workers die with their parent.

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
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
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
