"""Hostile input (issue 15): every bad file or argument is a clean error, outputs go only to
regular files, and workers do not outlive a killed command. One regression test per finding."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner, Result

from politburo.cli import app
from politburo.cli.common import fail
from politburo.scenario.loader import (
    MAX_ITEMS,
    ScenarioError,
    builtin_text,
    load_scenario,
    parse_scenario,
)
from politburo.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "data" / "tiny-scenario.yaml"


def builtin() -> dict[str, Any]:
    return yaml.safe_load(builtin_text("soviet-1922"))  # type: ignore[no-any-return]


def write(tmp_path: Path, data: dict[str, Any], name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def clean_error(res: Result, *needles: str) -> str:
    """Exit code 2, no traceback, and each needle in the output."""
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    for n in needles:
        assert n in res.output, (n, res.output)
    return res.output


def refused(tmp_path: Path, data: dict[str, Any], *needles: str) -> str:
    """``validate`` refuses the file, naming it, a line and each needle."""
    p = write(tmp_path, data)
    out = clean_error(invoke("validate", str(p)), str(p), *needles)
    assert "(line " in out
    return out


# --- validate: what the engine relies on -------------------------------------------------------

@pytest.mark.parametrize("field", ["milestones", "events", "clients", "offices", "levers",
                                   "bibliography", "principals"])
def test_duplicate_ids_are_refused_in_every_list(tmp_path: Path, field: str) -> None:
    d = builtin()
    d[field].append(dict(d[field][0]))
    n = len(d[field]) - 1
    refused(tmp_path, d, "duplicate id" if field != "principals" else "unique",
            repr(d[field][0]["id"]) if field != "principals" else "principal")
    if field != "principals":
        out = refused(tmp_path, d, f"{field}.{n}.id")
        assert "first at item 0" in out


@pytest.mark.parametrize("month", ["9999-12", "1900-01"])
def test_months_outside_the_span_are_refused(tmp_path: Path, month: str) -> None:
    d = builtin()
    d["events"][1]["month"] = month
    refused(tmp_path, d, "events.1.month", month, "between 1922-12 and 1930-12")
    d = builtin()
    d["milestones"][0]["month"] = month
    refused(tmp_path, d, "milestones.0.month", month)


def test_an_until_before_its_month_is_refused(tmp_path: Path) -> None:
    d = builtin()
    e = next(e for e in d["events"] if e.get("until"))
    e["until"] = "1922-12"
    refused(tmp_path, d, "until", "no earlier than")


def test_a_lever_path_that_names_nothing_is_refused(tmp_path: Path) -> None:
    d = builtin()
    d["levers"][0]["set"] = {"events.nobody.month": "1925-01"}
    refused(tmp_path, d, "levers.0.set", "nobody", "names nothing")


def test_a_lever_that_sets_a_month_outside_the_span_is_refused(tmp_path: Path) -> None:
    d = builtin()
    d["levers"][0]["set"] = {"events.lenin_death.month": "1900-01"}
    refused(tmp_path, d, "levers.0", "1900-01", "between 1922-12 and 1930-12")


def first_congress(d: dict[str, Any]) -> int:
    """Index of the built-in calendar's first congress (the calendar lists every plenum)."""
    return next(i for i, m in enumerate(d["calendar"]) if m["kind"] == "congress")


@pytest.mark.parametrize("edit,needles", [
    (lambda d: d["constants"]["power_weight_cc"].__setitem__("value", -1e308),
     ("constants.power_weight_cc.value", "-1e+308")),
    (lambda d: d["parameters"]["standing_noise"].update(family="lognormal", median=float("inf"),
                                                        sigma=0.5),
     ("parameters.standing_noise.median", "finite")),
    (lambda d: d["calendar"][first_congress(d)]["cc_size"].__setitem__("value", 2),
     ("calendar.{congress}.cc_size.value", "Politburo")),
    (lambda d: d["calendar"][first_congress(d)]["voting_delegates"].__setitem__("value", 408.5),
     ("calendar.{congress}.voting_delegates.value", "whole number")),
    (lambda d: d["offices"][0]["weight"].__setitem__("value", float("nan")),
     ("offices.0.weight.value", "finite")),
])
def test_non_finite_and_absurd_numbers_are_refused(tmp_path: Path, edit: Any,
                                                   needles: tuple[str, ...]) -> None:
    d = builtin()
    edit(d)
    refused(tmp_path, d, *(n.format(congress=first_congress(d)) for n in needles))


def test_a_repeated_yaml_key_is_refused(tmp_path: Path) -> None:
    text = builtin_text("soviet-1922").replace('end: "1930-12"', 'end: "1930-12"\nend: "1929-12"')
    p = tmp_path / "twice.yaml"
    p.write_text(text)
    clean_error(invoke("validate", str(p)), str(p), "'end'", "repeats", "line 14")
    nested = builtin_text("soviet-1922").replace("  cc_unaligned:", "  cc_unaligned: {value: 1, "
                                                 "assumption: x}\n  cc_unaligned:", 1)
    with pytest.raises(ScenarioError, match="'cc_unaligned' repeats"):
        parse_scenario(nested, "n.yaml")


@pytest.mark.parametrize("field", ["offices", "calendar"])
def test_an_empty_list_the_engine_needs_is_refused(tmp_path: Path, field: str) -> None:
    d = builtin()
    d[field] = []
    p = write(tmp_path, d)
    clean_error(invoke("validate", str(p)), field, "at least one")
    clean_error(invoke("run", "--prior", "-n", "5", "-s", str(p)), field)


def test_a_person_who_is_not_in_the_scenario_is_refused(tmp_path: Path) -> None:
    d = builtin()
    d["events"][3]["present"] = ["beria"]
    out = refused(tmp_path, d, "'beria'", "not in the scenario")
    lines = (tmp_path / "s.yaml").read_text().splitlines()
    first = lines.index("- id: testament")  # the item; the line of the name inside it
    assert f"events.3.present.0 (line {lines.index('  - beria', first) + 1})" in out
    d = builtin()
    d["milestones"][0]["actor"] = "lenin"
    refused(tmp_path, d, "milestones.0.actor", "expected a principal")


def test_the_builtin_scenario_and_its_levers_pass_every_check() -> None:
    from politburo.scenario.checks import lever_problems, problems

    s = load_scenario()
    assert problems(s) == [] and lever_problems(s) == []


# --- no traceback from markup or from the parser -----------------------------------------------

def test_rich_markup_in_a_file_name_or_value_is_printed_literally(tmp_path: Path) -> None:
    (tmp_path / "x[").mkdir()
    odd = tmp_path / "x[" / "]y.yaml"  # the path ends in 'x[/]y.yaml'
    odd.write_text(builtin_text("soviet-1922"))
    res = invoke("validate", str(odd))
    assert res.exit_code == 0 and "x[/]y.yaml: ok" in res.output, res.output
    clean_error(invoke("validate", str(tmp_path / "x[/]z.yaml")), "x[/]z.yaml")
    d = builtin()
    d["principals"][0]["id"] = "[/][/]"
    out = refused(tmp_path, d, "'[/][/]'")
    assert "'^[a-z][a-z0-9_]*$'" in out  # the id pattern, brackets and all


def test_error_messages_keep_their_brackets() -> None:
    """The install hint of a missing extra printed 'politburo' without '[report]'."""
    small = typer.Typer()

    @small.command()
    def hint() -> None:
        fail("reports and plots need Matplotlib: pip install 'politburo[report]' [/]")

    res = CliRunner().invoke(small, [])
    assert res.exit_code == 2 and "'politburo[report]' [/]" in res.output


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "deep.yaml"
    p.write_text("id: " + "[" * 5000 + "]" * 5000 + "\n")
    clean_error(invoke("validate", str(p)), "deep.yaml", "nested deeper")
    p.write_text("id: x\nprincipals: " + "[" * 30 + "]" * 30 + "\n")
    clean_error(invoke("validate", str(p)), "deep; expected at most 20 levels")


def test_size_limits_apply_before_any_validation(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Too many principals, a huge calendar, a huge file or aliases that expand hugely are
    refused from the file's outline, before pydantic builds anything."""

    def boom(*a: Any, **k: Any) -> None:
        raise AssertionError("validated a file the size checks should have refused")

    monkeypatch.setattr(Scenario, "model_validate", boom)
    d = builtin()
    d["principals"] = d["principals"] * 2  # 14
    with pytest.raises(ScenarioError, match="expected 2 to 12 principals, got 14"):
        load_scenario(write(tmp_path, d))
    d = builtin()
    d["calendar"] = d["calendar"] * (20_000 // len(d["calendar"]))
    with pytest.raises(ScenarioError, match=f"expected at most {MAX_ITEMS}"):
        load_scenario(write(tmp_path, d))
    d = builtin()
    d["principals"] = d["principals"] * 700  # 4,900 principals
    with pytest.raises(ScenarioError, match="a list of 4900 items; expected at most"):
        load_scenario(write(tmp_path, d))
    d["description"] = "x" * 1_000_000
    with pytest.raises(ScenarioError, match="bytes; expected a scenario of at most"):
        load_scenario(write(tmp_path, d))
    lol = ("title: &a " + "x" * 1000 + "\n" + "".join(
        f"l{i}: &l{i} [{', '.join([f'*{'a' if i == 0 else f'l{i - 1}'}'] * 9)}]\n"
        for i in range(6)))
    with pytest.raises(ScenarioError, match="aliases expand"):
        parse_scenario(lol, "lol.yaml")
    with pytest.raises(ScenarioError, match="refers to itself"):
        parse_scenario("a: &x [*x]\n", "self.yaml")


def test_a_file_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    clean_error(invoke("validate", str(tmp_path)), "not a regular file")


# --- arguments ---------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["run"], ["fit"], ["whatif", "lenin_lives"],
                                     ["report", "-o", "r.html"]])
def test_runs_beyond_available_memory_are_refused(command: list[str]) -> None:
    clean_error(invoke(*command, "--runs", "1000000000000"), "--runs 1,000,000,000,000",
                "memory")
    clean_error(invoke(*command, "--runs", str(2**62)), "fewer than")


@pytest.mark.parametrize("args", [
    ["explain", "--levers", "lenin_lives", "--runs", "10", "--boot", str(10**12)],
    ["explain", "--permutations", str(10**12)],
    ["calibrate", "-n", "200", "--screen", str(10**12)],
])
def test_huge_work_options_are_refused(args: list[str]) -> None:
    """--boot and --screen of 10**12 ended in a MemoryError."""
    res = invoke(*args)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert args[-2] in res.output


def test_a_history_beyond_the_index_range_is_refused() -> None:
    """--history 2**63 ended in an OverflowError converting it to an int64 index."""
    for k in ("9223372036854775808", str(2**53)):
        clean_error(invoke("chronicle", "--history", k), "--history")
    assert invoke("chronicle", "--history", str(2**53 - 1), "--prior").exit_code == 0


@pytest.mark.parametrize("args,needle", [
    (["explain", "--levers", ""], "--levers"),
    (["explain", "--levers", " , "], "--levers"),
    (["sensitivity", "--params", ""], "--params"),
    (["sensitivity", "--levers", ","], "--levers"),
    (["calibrate", "--free", ","], "--free"),
])
def test_an_empty_list_argument_is_an_error(args: list[str], needle: str) -> None:
    clean_error(invoke(*args), needle)


# --- outputs -----------------------------------------------------------------------------------

@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux's /proc, which refuses "
                    "new files")
def test_an_output_in_a_folder_that_refuses_files_is_a_clean_error() -> None:
    clean_error(invoke("report", "-o", "/proc/politburo-test.html", "-n", "20"),
                "cannot write /proc/politburo-test.html")


@pytest.mark.parametrize("command", [["run", "-n", "20", "--out"], ["report", "-n", "20", "-o"],
                                     ["plot", "winners", "-n", "20", "-o"],
                                     ["calibrate", "-n", "200", "--out"]])
def test_outputs_are_written_only_to_regular_files(tmp_path: Path, command: list[str]) -> None:
    """A device node, a pipe or a folder is never replaced by a file (as root, an atomic
    write over /dev/full did that); a pipe stands in for the device here."""
    ext = {"run": ".parquet", "report": ".html", "plot": ".png", "calibrate": ".parquet"}
    pipe = tmp_path / f"pipe{ext[command[0]]}"
    os.mkfifo(pipe)
    clean_error(invoke(*command, str(pipe)), "not a regular file")
    assert pipe.is_fifo()
    folder = tmp_path / f"folder{ext[command[0]]}"
    folder.mkdir()
    clean_error(invoke(*command, str(folder)), "is a folder")
    assert folder.is_dir()
    missing = tmp_path / "no" / "such" / f"x{ext[command[0]]}"
    clean_error(invoke(*command, str(missing)), f"the folder {missing.parent} does not exist")
    assert not (tmp_path / "no").exists()


def test_run_writes_its_parquet_to_standard_output_with_a_dash() -> None:
    res = invoke("run", "-n", "20", "--prior", "--out", "-")
    assert res.exit_code == 0 and res.stdout_bytes.startswith(b"PAR1")
    clean_error(invoke("run", "-n", "20", "--out", "-", "--json"), "standard output")


# --- calibrate ---------------------------------------------------------------------------------

def test_the_checkpoint_lives_beside_the_output(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import politburo.calibration as calibration

    seen: dict[str, Any] = {}

    def fake(scenario: Any, spec: Any, **kw: Any) -> None:
        seen.update(kw)
        raise ValueError("stop here")

    monkeypatch.setattr(calibration, "calibrate", fake)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    clean_error(invoke("calibrate", "-n", "200", "--out", str(tmp_path / "out" / "p.parquet")),
                "stop here")
    assert seen["checkpoint"] == tmp_path / "out" / ".p.parquet.checkpoint"


def test_ship_writes_only_into_a_source_checkout(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import politburo.calibration as calibration
    from politburo.calibration.posterior import source_checkout

    installed = tmp_path / "lib" / "site-packages" / "politburo" / "scenarios"
    installed.mkdir(parents=True)
    monkeypatch.setattr(calibration, "default_posterior_path",
                        lambda sid: installed / f"{sid}.posterior.parquet")
    clean_error(invoke("calibrate", "--ship", "-n", "200"), "not in a source checkout",
                str(installed))
    assert not list(installed.iterdir())
    assert source_checkout(installed) is None
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    assert source_checkout(tmp_path / "repo" / "src" / "x") == tmp_path / "repo"


@pytest.mark.parametrize("until", ["1900-01", "1923-01"])
def test_calibrating_on_no_milestones_is_an_error(until: str) -> None:
    clean_error(invoke("calibrate", "--until", until, "-n", "200"), f"--until {until}")


def test_the_core_refuses_to_calibrate_on_no_milestones() -> None:
    from politburo.calibration import CalibrationSpec, calibrate

    s = load_scenario().model_copy(update={"milestones": ()})
    with pytest.raises(ValueError, match="no milestone to calibrate on"):
        calibrate(s, CalibrationSpec(runs=10))


# --- processes ---------------------------------------------------------------------------------

def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(d))
    found, todo = [], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_calibrate_leaves_no_process_behind() -> None:
    """kill -9 of calibrate: its two workers and multiprocessing's resource tracker exit too
    (they waited for ever before)."""
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from politburo.cli import main; main()", "calibrate",
             "--method", "rejection", "--runs", "2000000", "--batch-size", "1000",
             "--workers", "2", "--check-runs", "0", "--out", f"{d}/p.parquet"],
            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kids: list[int] = []
        parts = Path(d) / ".p.parquet.checkpoint"
        try:
            # Wait until the workers have scored a batch (a checkpoint part is written): then
            # they are running, not still importing (a worker still starting up exits as soon
            # as its start-up reaches the check; on a loaded machine that can take a while).
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and proc.poll() is None:
                kids = _descendants(proc.pid)
                if len(kids) >= 3 and list(parts.glob("part-*.npz")):
                    break
                time.sleep(0.2)
            assert len(kids) >= 3, f"calibrate did not start its workers: {kids}"
            assert list(parts.glob("part-*.npz")), "the workers scored no batch"
            kids = _descendants(proc.pid)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.1)
        survivors = [k for k in kids if _alive(k)]
        for k in survivors:  # do not leave them running if the test fails
            os.kill(k, signal.SIGKILL)
        assert not survivors, f"processes outlived the killed calibrate: {survivors}"


def test_an_input_file_that_is_a_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    pipe = tmp_path / "fit.json"
    os.mkfifo(pipe)
    for option in ("--fit", "--weights"):
        clean_error(invoke("report", "-n", "20", "-o", str(tmp_path / "r.html"), option,
                           str(pipe)), option, "not a regular file")
    clean_error(invoke("fit", "-n", "20", "--posterior", str(pipe)), "fit.json")
    clean_error(invoke("validate", str(pipe)), "not a regular file")


@pytest.mark.parametrize("command", [["run", "--out", "x.parquet"], ["chronicle"],
                                     ["whatif", "lenin_lives"], ["report", "-o", "r.html"]])
def test_a_seed_beyond_64_bits_is_refused(command: list[str]) -> None:
    """A seed of 2**63 overflowed the int64 seed column of the Parquet file."""
    res = invoke(*command, "--seed", str(2**63))
    assert res.exit_code == 2 and "--seed" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("command", [["run"], ["fit"], ["calibrate"], ["whatif", "lenin_lives"],
                                     ["explain"], ["sensitivity"]])
def test_an_absurd_number_of_workers_is_refused(command: list[str]) -> None:
    """A fork pool starts all its workers at once: --workers 100000 was a fork bomb."""
    clean_error(invoke(*command, "--workers", "100000", "--runs" if command[0] not in (
        "sensitivity",) else "--histories", "5"), "--workers")


@pytest.mark.parametrize("args", [["validate", "x[/]y.yaml"],
                                  ["run", "--runs", "1000000000000"]])
def test_the_installed_entry_point_fails_cleanly(args: list[str]) -> None:
    """The same findings through the real console entry point, in a fresh process."""
    res = subprocess.run([sys.executable, "-c", "from politburo.cli import main; main()", *args],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and res.stderr.startswith("error: ")
    assert args[1] in res.stderr.replace(",", "")
