"""Jobs, their progress, and the cache that lets a class share them.

Why this exists: thirty students on one laptop ask for work that takes seconds. A request must
not hold a connection while the engine runs, nor start unbounded work, nor repeat work another
student has just asked for. So every piece of work is a *job*:

- it is keyed by :func:`cache_key` of what determines its answer (the scenario's content hash,
  the kind of work, the levers, mode, seed, histories and the like), so an identical request
  is answered from the cache, or joins the job already running for it;
- at most ``max_jobs`` jobs run at once (a fixed thread pool; the simulation itself runs in a
  fixed pool of worker processes, see ``politburo.web.compute``), and at most ``queue_limit``
  jobs may wait or run: beyond that :class:`Busy` is raised, which the app turns into
  ``429 Too Many Requests`` with ``Retry-After``;
- it reports progress (histories done of total) that a page polls.

Nothing here knows about politburo's model: a job is a function of a progress callback.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["queued", "running", "done", "failed"]
Progress = Callable[[int, int], None]
Work = Callable[[Progress], Any]
log = logging.getLogger("politburo.web")


class Busy(RuntimeError):
    """Too many jobs are waiting; the client should retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UserError(ValueError):
    """A request that cannot be answered as asked, with a message fit to show a student."""


def cache_key(**parts: Any) -> str:
    """A stable key for a request: the SHA-256 of its parts as canonical JSON.

    Mappings are sorted by key, so ``{"a": 1, "b": None}`` and ``{"b": None, "a": 1}`` give the
    same key; numbers keep their type's JSON form, so 1 and 1.0 differ (callers resolve lever
    values first, which makes them canonical).
    """
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass
class Job:
    """One piece of work: its status, progress and, when done, result or error message."""

    id: str
    key: str
    kind: str
    status: Status = "queued"
    done: int = 0
    total: int = 0
    result: Any = None
    error: str | None = None
    created: float = field(default_factory=time.monotonic)
    finished: float | None = None
    cached: bool = False

    def progress(self) -> float:
        if self.status == "done":
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "status": self.status, "done": self.done,
                "total": self.total, "progress": round(self.progress(), 4),
                "error": self.error, "cached": self.cached}


class Jobs:
    """A bounded pool of jobs with a result cache keyed by request.

    ``max_jobs`` threads run jobs; ``queue_limit`` bounds jobs queued or running together;
    ``cache_size`` finished results are kept (least recently used dropped first), and
    ``keep_jobs`` finished jobs stay pollable by id.
    """

    def __init__(self, *, max_jobs: int = 2, queue_limit: int = 32, cache_size: int = 256,
                 keep_jobs: int = 1024, user_errors: tuple[type[Exception], ...] = (UserError,)
                 ) -> None:
        if max_jobs < 1 or queue_limit < 1:
            raise ValueError("max_jobs and queue_limit must be at least 1")
        self.max_jobs, self.queue_limit = max_jobs, queue_limit
        self.cache_size, self.keep_jobs = cache_size, keep_jobs
        self.user_errors = user_errors
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._active: dict[str, Job] = {}  # key -> job queued or running
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self.hits = self.misses = 0

    # -- queries ------------------------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def cached(self, key: str) -> Any | None:
        """The finished result for ``key``, or None (marks it recently used)."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            return None

    def active(self) -> int:
        with self._lock:
            return len(self._active)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"active": len(self._active), "cached": len(self._cache), "hits": self.hits,
                    "misses": self.misses, "max_jobs": self.max_jobs,
                    "queue_limit": self.queue_limit}

    # -- submitting ---------------------------------------------------------------------------

    def submit(self, key: str, kind: str, work: Work) -> Job:
        """A job for ``key``: finished from the cache, the one already under way, or a new one.

        Raises :class:`Busy` when ``queue_limit`` jobs are already queued or running.
        """
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                self.hits += 1
                job = Job(id=self._new_id(), key=key, kind=kind, status="done",
                          result=self._cache[key], cached=True, finished=time.monotonic())
                self._remember(job)
                return job
            if key in self._active:
                self.hits += 1
                return self._active[key]
            if len(self._active) >= self.queue_limit:
                raise Busy(f"the server is busy with {len(self._active)} jobs; try again in a "
                           "few seconds", retry_after=max(2, 2 * len(self._active)
                                                          // self.max_jobs))
            self.misses += 1
            job = Job(id=self._new_id(), key=key, kind=kind)
            self._active[key] = job
            self._remember(job)
            if self._pool is None:  # made on first use, and again after a shutdown
                self._pool = ThreadPoolExecutor(max_workers=self.max_jobs,
                                                thread_name_prefix="politburo-job")
            pool = self._pool
        pool.submit(self._run, job, work)
        return job

    def _new_id(self) -> str:
        return secrets.token_hex(8)

    def _remember(self, job: Job) -> None:
        self._jobs[job.id] = job
        while len(self._jobs) > self.keep_jobs:
            old_id, old = next(iter(self._jobs.items()))
            if old.status in ("queued", "running"):
                break  # never forget a job a page may still be polling
            del self._jobs[old_id]

    def _run(self, job: Job, work: Work) -> None:
        job.status = "running"

        def progress(done: int, total: int) -> None:
            job.done, job.total = int(done), int(total)

        try:
            result = work(progress)
        except self.user_errors as exc:
            self._finish(job, None, str(exc))
        except Exception as exc:  # noqa: BLE001 - a job's failure is reported, never raised
            log.exception("job %s (%s) failed", job.id, job.kind)
            self._finish(job, None, f"the work failed unexpectedly ({type(exc).__name__}); "
                                    "please tell the teacher")
        else:
            self._finish(job, result, None)

    def _finish(self, job: Job, result: Any, error: str | None) -> None:
        with self._lock:
            job.result, job.error = result, error
            job.status = "failed" if error is not None else "done"
            job.finished = time.monotonic()
            self._active.pop(job.key, None)
            if error is None:
                self._cache[job.key] = result
                self._cache.move_to_end(job.key)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)

    def wait(self, job: Job, timeout: float | None = None) -> Job:
        """Block until ``job`` finishes (for tests, scripts and the API's ``wait`` option)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while job.status in ("queued", "running"):
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.02)
        return job

    def shutdown(self) -> None:
        """Stop taking work; queued jobs are cancelled (and forgotten, so a page asking for
        them again starts them afresh)."""
        with self._lock:
            pool, self._pool = self._pool, None
            for key, job in list(self._active.items()):
                if job.status == "queued":
                    del self._active[key]
                    self._jobs.pop(job.id, None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
