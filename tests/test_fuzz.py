"""Fuzzing the scenario loader and the command line (issue 15).

Hypothesis mutates the built-in scenario (its structure, types, ranges, references, months,
duplicate ids, list sizes, and the YAML text itself) and draws unusual command lines, and runs
each against the real CLI entry point (``politburo.cli.app`` through Typer's runner). The
property: the command exits 0 or 2 (``chronicle --where`` may also exit 1, "no match"), never
with a traceback, within ``PER_EXAMPLE_S``; and a file that ``validate`` accepts also runs
(``run --runs 20``).

The default test run checks a small, fixed set of examples (``derandomize``), so it stays fast
and never flaky; the nightly run, ``pytest -m fuzz``, draws more and fresh ones each time
(``POLITBURO_FUZZ_EXAMPLES`` sets how many). With ``POLITBURO_FUZZ_REPORT=file.json`` the counts
(files generated, validated, clean errors, tracebacks, timeouts, commands by exit code) are
written there (``file.json.gw0``, ... under pytest-xdist).
"""

from __future__ import annotations

import copy
import json
import os
import signal
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from politburo.cli import app
from politburo.scenario.loader import builtin_text

PER_EXAMPLE_S = 60
"""No example may take longer (the slowest honest one, a small calibrate, takes a few)."""
NIGHTLY = int(os.environ.get("POLITBURO_FUZZ_EXAMPLES", "300"))
COUNTS: Counter[str] = Counter()
BASE: dict[str, Any] = yaml.safe_load(builtin_text("soviet-1922"))


class Timeout(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise Timeout in this (the main) thread after ``seconds``."""

    def ring(signum: int, frame: Any) -> None:
        raise Timeout(f"example took over {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def invoke(args: list[str]) -> Result:
    with time_limit(PER_EXAMPLE_S):
        return CliRunner().invoke(app, args)


def judge(res: Result, args: list[str], allowed: tuple[int, ...] = (0, 2)) -> None:
    """Count and check one invocation: an allowed exit code, no traceback, no timeout."""
    if isinstance(res.exception, Timeout):
        COUNTS["timeouts"] += 1
        pytest.fail(f"timed out: politburo {' '.join(args)}")
    crashed = res.exception is not None and not isinstance(res.exception, SystemExit)
    if crashed or "Traceback" in res.output:
        COUNTS["tracebacks"] += 1
        pytest.fail(f"traceback from politburo {' '.join(args)}: {res.exception!r}\n"
                    f"{res.output[-2000:]}")
    assert res.exit_code in allowed, f"exit {res.exit_code} from politburo {args}: {res.output}"


def report_counts() -> None:
    path = os.environ.get("POLITBURO_FUZZ_REPORT")
    if path:  # one file per pytest-xdist worker: file.json.gw0, ...
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        target = Path(f"{path}.{worker}" if worker else path)
        target.write_text(json.dumps(dict(COUNTS), indent=1, sort_keys=True))


# --- scenario files ----------------------------------------------------------------------------

def paths(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value in the (dumped) scenario."""
    yield here
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, (*here, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, (*here, i))


PATHS = [p for p in paths(BASE) if p]
IDS = sorted({item["id"] for group in BASE.values() if isinstance(group, list)
              for item in group if isinstance(item, dict) and "id" in item} | {"lenin"})
MARKUP = ["[/]", "[/][/]", "[bold]x", "x[/]y", "[link=file:///etc]z[/link]", "\\[", "[red"]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2, 10**9 + 1, 1e308, -1e308, 1e-320, 0.5]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "x", "9999-12", "1900-01", "1925-13", "0000-00", "1926-06", *MARKUP,
                     *IDS, "beria", "Stalin", "a b", "ü", "\t"]),
    st.text(max_size=12),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def get(data: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        data = data[k]
    return data


@st.composite
def mutation(draw: st.DrawFn, data: dict[str, Any]) -> str:
    """Apply one mutation to ``data`` in place; return its kind."""
    live = [p for p in paths(data) if p]
    path = draw(st.sampled_from(live))
    parent, key = get(data, path[:-1]), path[-1]
    old = parent[key]
    kind = draw(st.sampled_from(["nudge", "nudge", "nudge", "reverse", "reverse", "delete",
                                 "retype", "number", "month", "duplicate", "reference", "empty",
                                 "grow", "markup"]))
    if kind == "nudge":  # mostly still valid: the file should then run
        if isinstance(old, bool):
            parent[key] = not old
        elif isinstance(old, (int, float)):
            parent[key] = old * draw(st.sampled_from([0.0, 0.5, 0.9, 1.1]))
        elif isinstance(old, str):
            parent[key] = old + draw(st.sampled_from([" ", " [/]", " x"]))
    elif kind == "reverse" and isinstance(old, list):
        parent[key] = old[::-1]
    elif kind == "delete":
        del parent[key]
    elif kind == "retype":
        parent[key] = draw(values)
    elif kind == "number":
        parent[key] = draw(st.sampled_from([float("inf"), float("-inf"), float("nan"), 1e308,
                                            -1e308, 0, -1, 2, 1.5, 10**12, -(10**12), 2**64]))
    elif kind == "month":
        y = draw(st.integers(0, 9999))
        m = draw(st.integers(0, 13))
        parent[key] = draw(st.sampled_from([f"{y:04d}-{m:02d}", "1922-11", "1931-01",
                                            "1926-06", "1930-12", "1922-12"]))
    elif kind == "duplicate" and isinstance(old, list) and old:
        old.append(copy.deepcopy(old[draw(st.integers(0, len(old) - 1))]))
    elif kind == "reference":
        parent[key] = draw(st.sampled_from([*IDS, "beria", "nobody"]))
    elif kind == "empty":
        parent[key] = [] if isinstance(old, list) else ({} if isinstance(old, dict) else "")
    elif kind == "grow" and isinstance(old, list) and old:
        parent[key] = old * draw(st.sampled_from([2, 3, 20, 100]))
    elif kind == "markup":
        parent[key] = draw(st.sampled_from(MARKUP))
    return kind


@st.composite
def scenario_file(draw: st.DrawFn) -> tuple[bytes, str]:
    """YAML bytes of a mutated built-in scenario, and a description of what was done."""
    data = copy.deepcopy(BASE)
    kinds = [draw(mutation(data)) for _ in range(draw(st.integers(1, 3)))]
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    how = draw(st.sampled_from(["none"] * 6 + ["truncate", "repeat_line", "insert", "nest",
                                                "bytes"]))
    lines = text.splitlines(keepends=True)
    if how == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif how == "repeat_line":
        i = draw(st.integers(0, len(lines) - 1))
        text = "".join(lines[: i + 1] + lines[i:])
    elif how == "insert":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(alphabet="[]{}:&*!|>%@\t\n\"'-,#?x ", max_size=20)) \
            + text[at:]
    elif how == "nest":
        i = draw(st.integers(0, len(lines) - 1))
        depth = draw(st.sampled_from([25, 400, 5000]))
        text = "".join(lines[:i] + [f"deep: {'[' * depth}{']' * depth}\n"] + lines[i:])
    raw = text.encode("utf-8")
    if how == "bytes":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    return raw, "+".join(kinds) + f"/{how}"


def check_scenario_file(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "fuzzed[bold]scenario.yaml"
        p.write_bytes(raw)
        COUNTS["files"] += 1
        args = ["validate", str(p)]
        res = invoke(args)
        judge(res, args)
        if res.exit_code == 0:
            COUNTS["validated"] += 1
            args = ["run", "--prior", "--runs", "20", "-s", str(p)]
            res = invoke(args)
            judge(res, args, allowed=(0,))
            COUNTS["ran"] += 1
        else:
            COUNTS["clean_errors"] += 1
    report_counts()


FAST = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
DEEP = settings(max_examples=NIGHTLY, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@FAST
@given(scenario_file())
def test_fuzzed_scenarios_bounded(case: tuple[bytes, str]) -> None:
    check_scenario_file(case[0])


@pytest.mark.fuzz
@DEEP
@given(scenario_file())
def test_fuzzed_scenarios(case: tuple[bytes, str]) -> None:
    check_scenario_file(case[0])


# --- command lines -----------------------------------------------------------------------------

LEVERS = [lv["id"] for lv in BASE["levers"]]
odd_text = st.sampled_from(["", " ", ",", "x", *MARKUP, "nobody", "stalin", "none", "-1",
                            "1925-06", "9999-99", "ü", "a" * 300])
small = st.integers(1, 30)
huge = st.sampled_from([0, -1, 10**12, 2**53, 2**63, 2**64, 10**30])
count = st.one_of(small, small, small, small, huge)


@st.composite
def out_path(draw: st.DrawFn, folder: str, suffix: str) -> str:
    kind = draw(st.sampled_from(["file"] * 6 + ["missing", "fifo", "folder", "markup", "dash",
                                                 "proc", "wrong"]))
    base = Path(folder)
    if kind == "missing":
        return str(base / "no" / f"x{suffix}")
    if kind == "fifo":
        p = base / f"pipe{suffix}"
        if not p.exists():
            os.mkfifo(p)
        return str(p)
    if kind == "folder":
        p = base / f"dir{suffix}"
        p.mkdir(exist_ok=True)
        return str(p)
    if kind == "markup":
        return str(base / f"x[red]y{suffix}")
    if kind == "dash":
        return "-"
    if kind == "proc":
        return f"/proc/politburo-fuzz{suffix}"
    if kind == "wrong":
        return str(base / "x.txt")
    return str(base / f"out{suffix}")


def lever_args(draw: st.DrawFn) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(LEVERS), max_size=3, unique=True))
    out = []
    for lv in chosen:
        v = draw(st.one_of(st.none(), odd_text))
        out.append(lv if v is None else f"{lv}={v}")
    return out


token = st.one_of(odd_text, st.sampled_from(["--seed", "--history", "--json", "--prior", "-k",
                                             "--format", "--lever", "--", "-", "--help"]),
                  st.integers(-(2**70), 2**70).map(str), st.text(max_size=8))


@st.composite
def command_line(draw: st.DrawFn, folder: str) -> list[str]:
    """A command with a few unusual options; work is kept small so each example is quick."""
    if draw(st.integers(0, 9)) == 0:  # garbage after a cheap command (nothing that writes)
        return [draw(st.sampled_from(["validate", "chronicle", "schema", "nonsense", "[/]"])),
                *draw(st.lists(token, max_size=5))]
    cmd = draw(st.sampled_from(["validate", "run", "fit", "whatif", "explain", "sensitivity",
                                "chronicle", "report", "plot", "calibrate"]))
    seed = draw(st.one_of(st.integers(0, 10), st.integers(0, 10), st.integers(0, 10), huge))
    scenario = draw(st.sampled_from(["soviet-1922"] * 8 + ["nope", *MARKUP, folder,
                                                         "/dev/null"]))
    if cmd == "validate":
        return ["validate", scenario]
    args = [cmd, "--seed", str(seed), "-s", scenario]
    if cmd == "run":
        args += ["--runs", str(draw(count))]
        if draw(st.booleans()):
            args += ["--out", draw(out_path(folder, ".parquet"))]
        if draw(st.booleans()):
            args += ["--batch-size", str(draw(count))]
        if draw(st.booleans()):
            args.append("--json")
    elif cmd == "fit":
        args += ["--runs", str(draw(count))]
        if draw(st.booleans()):
            args += ["--posterior", draw(out_path(folder, ".parquet"))]
    elif cmd == "whatif":
        args += [*lever_args(draw), "--runs", str(draw(count)),
                 "--mode", draw(st.sampled_from(["ex-ante", "ex-ante", "nonsense"]))]
    elif cmd == "explain":
        lv = draw(st.lists(st.sampled_from(LEVERS), min_size=0, max_size=3, unique=True))
        args += ["--levers", ",".join(lv), "--runs", str(draw(count)), "--boot",
                 str(draw(st.one_of(st.integers(2, 30), huge))), "--workers", "1",
                 "--target", draw(st.sampled_from(["stalin", "none", "trotsky", *MARKUP]))]
    elif cmd == "sensitivity":
        args += ["--n-base", str(draw(st.sampled_from([2, 4]))), "--histories",
                 str(draw(st.integers(1, 3))), "--workers", "1",
                 "--params", draw(st.sampled_from(["motion_rate,ladder_gap", "", ",", "nope",
                                                   *MARKUP])),
                 "--target", draw(st.sampled_from(["stalin", "nobody", *MARKUP]))]
    elif cmd == "chronicle":
        if draw(st.booleans()):
            args += ["--history", str(draw(st.one_of(st.integers(0, 50), huge)))]
        else:
            args += ["--where", draw(st.sampled_from(["winner == trotsky", "winner ==",
                                                      "falls.trotsky.party > 1927-12",
                                                      *MARKUP, "((((((", "winner == [/]"])),
                     "--search", str(draw(st.integers(1, 40)))]
        for lv in lever_args(draw):
            args += ["--lever", lv]
        args += ["--format", draw(st.sampled_from(["text", "markdown", "json", "xml"]))]
    elif cmd == "report":
        args += ["--runs", str(draw(count)), "-o", draw(out_path(folder, ".html"))]
    elif cmd == "plot":
        args = ["plot", draw(st.sampled_from(["winners", "power", "tallies", "pie"])), *args[1:],
                "--runs", str(draw(count)), "-o", draw(out_path(folder, ".png"))]
    elif cmd == "calibrate":
        args += ["--method", draw(st.sampled_from(["rejection", "rejection", "smc", "mcmc"])),
                 "--runs", str(draw(st.one_of(st.integers(100, 300), huge))),
                 "--particles", "20", "--generations", "2",
                 "--screen", str(draw(st.one_of(st.just(100), huge))),
                 "--batch-size", "100", "--workers", "1", "--check-runs",
                 str(draw(st.integers(0, 20))), "--out", draw(out_path(folder, ".parquet"))]
        if draw(st.booleans()):
            args += ["--until", draw(odd_text)]
        if draw(st.booleans()):
            args += ["--free", draw(st.sampled_from(["auto", "all", ",", "nope", "motion_rate"]))]
    return args


def check_command(args: list[str]) -> None:
    COUNTS["commands"] += 1
    res = invoke(args)
    judge(res, args, allowed=(0, 1, 2) if args[0] == "chronicle" else (0, 2))
    COUNTS[f"exit_{res.exit_code}"] += 1
    report_counts()


def _with_folder(test: Callable[[list[str]], None]) -> Callable[[st.DataObject], None]:
    def run(data: st.DataObject) -> None:
        with tempfile.TemporaryDirectory() as d:
            test(data.draw(command_line(d)))
    return run


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_fuzzed_command_lines_bounded(data: st.DataObject) -> None:
    _with_folder(check_command)(data)


@pytest.mark.fuzz
@DEEP
@given(st.data())
def test_fuzzed_command_lines(data: st.DataObject) -> None:
    _with_folder(check_command)(data)
