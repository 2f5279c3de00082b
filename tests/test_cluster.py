"""Scale-out on Dask: a real ``distributed.LocalCluster`` of two worker processes, started here.

Every check holds a cluster's histories bit-identical to a local run's: through the API
(``run_scenario``, an ``Experiment``'s what-if, explain and sensitivity, calibration's batch
simulator), through the command line with ``--scheduler``, on one worker and on two, in ranges
of 7 and of 5,000, and after a worker dies in the middle of a run. Histories are a few hundred:
the cluster's start (a few seconds) is most of the cost. ``distributed`` is in the ``[test]``
extra, so it is imported outright: a missing one fails here, never skips.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster
from typer.testing import CliRunner

import politburo.runner.cluster as cluster
from politburo.calibration.simulator import EngineDistance
from politburo.calibration.targets import build_targets
from politburo.cli import app
from politburo.engine.histories import Histories
from politburo.engine.month import draw_params
from politburo.experiment.run import run_scenario
from politburo.experiment.worlds import Experiment
from politburo.runner.batches import run
from politburo.runner.pool import Slots, map_jobs
from politburo.scenario.compile import Compiled
from politburo.scenario.schema import Scenario

RUNS = 200
FIELDS = ("index", "params", "winner", "consolidation", "falls", "tallies", "coalition",
          "first_rule", "rises")


def same(a: Histories, b: Histories) -> None:
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.dtype == y.dtype and np.array_equal(x, y), name


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, scheduler_port=0) as c:
        yield c


@pytest.fixture(scope="module")
def client(local_cluster: LocalCluster) -> Iterator[Client]:
    c = cluster.connect(local_cluster.scheduler_address)
    yield c
    c.close()


@pytest.fixture(scope="module")
def dask(client: Client) -> Executor:
    return cluster.executor(client)


@pytest.fixture(scope="module")
def local(model: Compiled) -> Histories:
    return run(model, 5, RUNS, batch_size=5000)


# -- the merge by range -----------------------------------------------------------------------


def test_a_range_reported_twice_is_kept_once() -> None:
    slots: Slots[str] = Slots(3)
    assert slots.put(2, "c") and slots.put(0, "a")
    assert slots.missing() == [1]
    with pytest.raises(RuntimeError, match=r"jobs \[1\] of 3 never reported"):
        slots.results()
    assert slots.put(1, "b")
    assert not slots.put(1, "b again")  # a re-run range that reports late
    assert slots.results() == ["a", "b", "c"]


def _late(j: int) -> int:
    time.sleep(0.02 * (5 - j))  # the first range finishes last
    return j * j


def test_map_jobs_joins_by_range_whatever_the_order() -> None:
    calls: list[int] = []
    with ThreadPoolExecutor(6) as pool:
        out = map_jobs(_late, list(range(6)), executor=pool, done=lambda k, _r: calls.append(k))
    assert out == [0, 1, 4, 9, 16, 25] and sorted(calls) == list(range(6))


# -- the API ----------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [7, 5000])
def test_run_on_the_cluster_is_bit_identical(model: Compiled, local: Histories, dask: Executor,
                                             batch: int) -> None:
    ticks: list[int] = []
    h = run(model, 5, RUNS, batch_size=batch, executor=dask,
            progress=lambda done, total: ticks.append(done))
    same(h, local)
    ranges = -(-RUNS // batch)
    assert len(ticks) == ranges and ticks == sorted(ticks) and ticks[-1] == RUNS


def test_workers_keep_freed_memory_for_speed(client: Client) -> None:
    plugins = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.worker_plugins))
    assert cluster.RoomyMalloc.name in plugins  # on every worker, and on any that joins later
    assert cluster.roomy_malloc() == sys.platform.startswith("linux")


def test_one_worker_or_two_the_same(model: Compiled, local: Histories, client: Client) -> None:
    one = sorted(client.scheduler_info()["workers"])[0]
    on_one = client.get_executor(pure=False, workers=[one], allow_other_workers=False)
    same(run(model, 5, RUNS, batch_size=50, executor=on_one), local)
    same(run(model, 5, RUNS, batch_size=50, workers=2), local)


def test_run_scenario_records_its_provenance(scenario: Scenario, dask: Executor) -> None:
    here = run_scenario(scenario, runs=RUNS, seed=3)
    there = run_scenario(scenario, runs=RUNS, seed=3, executor=dask, batch_size=100)
    same(there.histories, here.histories)
    assert there.to_dict() == here.to_dict()
    d = there.to_dict()
    assert d["seed"] == 3 and d["scenario_hash"] and d["version"]


def test_experiment_verbs_on_the_cluster(scenario: Scenario, dask: Executor) -> None:
    kw: dict[str, Any] = {"runs": 80, "seed": 4, "parameters": "prior", "batch_size": 50}
    lv = ["no_secretariat_patronage"]
    here = Experiment(scenario, levers=lv, **kw).whatif()
    there = Experiment(scenario, levers=lv, executor=dask, **kw).whatif()
    same(there.baseline, here.baseline)
    same(there.intervened, here.intervened)
    levers = ["no_secretariat_patronage", "testament_published"]
    a = Experiment(scenario, **kw).explain(levers, "stalin", n_boot=50)
    b = Experiment(scenario, executor=dask, **kw).explain(levers, "stalin", n_boot=50)
    assert a.to_dict() | {"seconds": 0} == b.to_dict() | {"seconds": 0}
    names = ["patronage_rate", "motion_rate"]
    sa = Experiment(scenario, seed=4).sensitivity("stalin", parameters=names, n_base=4,
                                                  histories_per_row=10)
    sb = Experiment(scenario, seed=4, executor=dask, batch_size=40).sensitivity(
        "stalin", parameters=names, n_base=4, histories_per_row=10)
    assert sa.to_dict() == sb.to_dict()


def test_calibration_distances_on_the_cluster(scenario: Scenario, model: Compiled,
                                              dask: Executor) -> None:
    targets = build_targets(scenario, model)
    idx = np.arange(1200, dtype=np.int64)
    theta = draw_params(model, 4, idx)
    here = EngineDistance(model, targets)(theta, 4, idx)
    with EngineDistance(model, targets, executor=dask) as there:
        assert np.array_equal(there(theta, 4, idx), here)


# -- the command line -------------------------------------------------------------------------


def test_cli_run_with_scheduler_is_bit_identical(local_cluster: LocalCluster,
                                                 tmp_path: Path) -> None:
    r = CliRunner()
    args = ["run", "-n", str(RUNS), "--seed", "2", "--batch-size", "64"]
    here = r.invoke(app, [*args, "--out", str(tmp_path / "here.parquet")])
    there = r.invoke(app, [*args, "--scheduler", local_cluster.scheduler_address,
                           "--out", str(tmp_path / "there.parquet")])
    assert here.exit_code == 0, here.output
    assert there.exit_code == 0, there.output
    a, b = pq.read_table(tmp_path / "here.parquet"), pq.read_table(tmp_path / "there.parquet")
    assert a.equals(b) and a.num_rows == RUNS
    meta = json.loads(b.schema.metadata[b"politburo"])
    assert meta["seed"] == 2 and meta["scenario_hash"] and meta["version"]


def test_cli_chronicle_search_with_scheduler(local_cluster: LocalCluster) -> None:
    """``chronicle --where`` searches on the cluster in rounds and tells the same history."""
    r = CliRunner()
    args = ["chronicle", "--where", "winner == kamenev", "--prior", "--format", "json"]
    here = r.invoke(app, args)
    there = r.invoke(app, [*args, "--scheduler", local_cluster.scheduler_address])
    assert here.exit_code == 0 and there.exit_code == 0, there.output
    assert json.loads(there.stdout) == json.loads(here.stdout)
    assert "history 244 is the first" in there.stderr  # (seed 1, as the local search finds)


def test_cli_whatif_with_scheduler(local_cluster: LocalCluster) -> None:
    r = CliRunner()
    args = ["whatif", "no_secretariat_patronage", "-n", "150", "--prior", "--json"]
    here = json.loads(r.invoke(app, args).stdout)
    res = r.invoke(app, [*args, "--scheduler", local_cluster.scheduler_address])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == here


def test_cli_report_and_plot_with_scheduler_are_identical(local_cluster: LocalCluster,
                                                          tmp_path: Path) -> None:
    """The report's page and a chart, local and on the cluster, byte for byte (the report is
    deterministic: same seed, same histories, same page)."""
    r = CliRunner()
    for name, args in (("report.html", ["report", "-n", "120", "--seed", "3", "--prior"]),
                       ("side.html", ["report", "-n", "80", "--prior", "--lever",
                                      "no_secretariat_patronage"]),
                       ("odds.svg", ["plot", "winners", "-n", "120", "--prior"])):
        here = r.invoke(app, [*args, "--workers", "2", "--out", str(tmp_path / f"here-{name}")])
        there = r.invoke(app, [*args, "--scheduler", local_cluster.scheduler_address,
                               "--out", str(tmp_path / f"there-{name}")])
        assert here.exit_code == 0, here.output
        assert there.exit_code == 0, there.output
        assert (tmp_path / f"here-{name}").read_bytes() == (tmp_path / f"there-{name}").read_bytes()


def test_web_engine_on_the_cluster(scenario: Scenario, dask: Executor) -> None:
    """``serve --scheduler``: the web app's worlds and chronicles run on the cluster's workers,
    which load the server's scenario from the tasks themselves, and come out as a local run's."""
    from politburo.experiment.worlds import Draws, simulate_world
    from politburo.scenario.compile import compile_scenario
    from politburo.scenario.levers import apply_levers
    from politburo.web import compute

    engine = compute.Engine(scenario, chunk=70, executor=dask)
    engine.warm()
    draws = Draws(4, np.arange(150, dtype=np.int64), None, "prior")
    worlds = [{}, {"no_secretariat_patronage": None}]
    got = engine.worlds(worlds, draws, "prior")
    for settings, h in zip(worlds, got, strict=True):
        world, fixed = apply_levers(scenario, settings)
        same(h, simulate_world(compile_scenario(world, fixed=fixed), draws))
    story = engine.chronicle({}, 4, 11)
    here = compute._with_scenario(scenario, "local", compute._chronicle, (), 4, 11, True)
    assert story == here and story["months"]
    engine.shutdown()  # the executor is the caller's: it still works afterwards
    assert dask.submit(int, "7").result() == 7


# -- what goes wrong, said plainly ------------------------------------------------------------


def test_without_distributed_one_line_names_the_extra(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    res = CliRunner().invoke(app, ["run", "-n", "10", "--scheduler", "tcp://127.0.0.1:8786"])
    assert res.exit_code == 2
    assert "pip install 'politburo[cluster]'" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    for command in (["whatif", "no_secretariat_patronage"], ["explain"], ["sensitivity"],
                    ["fit"], ["calibrate", "--out", str(tmp_path / "posterior.parquet")],
                    ["report", "--out", str(tmp_path / "r.html")],
                    ["plot", "winners", "--out", str(tmp_path / "w.svg")], ["serve"]):
        res = CliRunner().invoke(app, [*command, "--scheduler", "tcp://127.0.0.1:8786"])
        assert res.exit_code == 2, (command, res.output)
        assert "politburo[cluster]" in res.output and "Traceback" not in res.output, command
    assert not list(tmp_path.iterdir())  # refused before any work


def test_no_scheduler_there_is_a_clear_error() -> None:
    with pytest.raises(cluster.ClusterError, match="cannot reach a Dask scheduler at "
                                                   "tcp://127.0.0.1:9"):
        cluster.connect("tcp://127.0.0.1:9", timeout=1)


def test_workers_with_other_code_are_refused(local_cluster: LocalCluster,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "__version__", "0.0.0+other")  # here only, not on workers
    with pytest.raises(cluster.ClusterError, match="2 of 2 workers .* run other politburo"):
        cluster.connect(local_cluster.scheduler_address)


# -- a worker lost mid-run (last: the cluster restarts the worker it loses) -------------------


class _KillOnce(Executor):
    """Sends work to ``inner``; the first range to start kills the worker process running it,
    as a machine lost mid-run would. The wrapper is a closure, so it travels by value."""

    def __init__(self, inner: Executor, flag: Path) -> None:
        self.inner, self.flag = inner, str(flag)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        flag = self.flag

        def die_once(*a: Any, **kw: Any) -> Any:
            try:
                fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return fn(*a, **kw)
            os.close(fd)
            os._exit(1)  # the worker process dies with its range unfinished

        return self.inner.submit(die_once, *args, **kwargs)


def test_a_lost_workers_range_is_rerun_and_counted_once(model: Compiled, local: Histories,
                                                        dask: Executor,
                                                        tmp_path: Path) -> None:
    flag = tmp_path / "killed"
    ticks: list[int] = []
    h = run(model, 5, RUNS, batch_size=25, executor=_KillOnce(dask, flag),
            progress=lambda done, total: ticks.append(done))
    assert flag.exists()  # a worker did die
    same(h, local)
    assert len(ticks) == RUNS // 25 and ticks[-1] == RUNS


class _Recording(Executor):
    """Runs each job at once, here, and keeps what was submitted."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.jobs.append((fn, args))
        f: Future[Any] = Future()
        f.set_result(fn(*args, **kwargs))
        return f


def _engine_named(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    runner = getattr(fn, "runner", None)  # a lever world's job carries its runner
    return runner.engine if runner is not None else args[0][-1]


def test_every_job_carries_the_engine_its_caller_chose(scenario: Scenario,
                                                       model: Compiled) -> None:
    """A worker started by ``spawn`` or a cluster's never saw ``politburo --engine``: each job
    names the engine of the process that cut the work (batches, calibration distances, lever
    worlds, Sobol rows), and the histories are those of a local run."""
    from politburo.engine.switch import default_engine, set_default_engine
    before = default_engine()
    rec = _Recording()
    try:
        set_default_engine("numpy")
        h = run(model, 5, 40, batch_size=15, executor=rec)
        theta = draw_params(model, 5, np.arange(1000, dtype=np.int64))
        EngineDistance(model, build_targets(scenario, model), executor=rec)(
            theta, 5, np.arange(1000, dtype=np.int64))
        kw: dict[str, Any] = {"runs": 20, "seed": 4, "parameters": "prior", "batch_size": 20,
                              "executor": rec}
        Experiment(scenario, levers=["no_secretariat_patronage"], **kw).whatif()
        Experiment(scenario, **kw).explain(["no_secretariat_patronage"], "stalin", n_boot=10)
        Experiment(scenario, seed=4, executor=rec, batch_size=40).sensitivity(
            "stalin", parameters=["motion_rate"], n_base=2, histories_per_row=5)
    finally:
        set_default_engine(before)
    kinds = {getattr(fn, "__name__", type(fn).__name__) for fn, _ in rec.jobs}
    assert {"run_range", "_job", "_MaskJob", "_sobol_chunk"} <= kinds
    assert {_engine_named(fn, args) for fn, args in rec.jobs} == {"numpy"}
    same(h, run(model, 5, 40, batch_size=40, engine="compiled"))
