"""The any-hour sweep (issue 21): the time-dependent tests and the scenario suite, run at each
instant of tests/sweep/instants.txt with the wall clock of the whole process tree (test,
sandbox, server, MCP client) moved there by libfaketime. Prints one line per instant; exits
non-zero if any instant fails, naming it and the failing tests.

The clock is moved by an offset from the real time (FAKETIME="+Ns"), computed when each process
tree starts, so a test begins at the instant and every process it starts shares its clock; the
monotonic clock is left alone (DONT_FAKE_MONOTONIC), so timers, timeouts and exporters tick as
usual. The `faketime` wrapper's absolute mode shares its start time through a shared-memory
semaphore, which a test that kills a child with SIGKILL can leave locked: seen as two tests
hanging at one instant.

Every integration test runs in its own process, as under nextest, because some of them capture
the process-wide log subscriber. Run by scripts/sweep, which builds what this needs.
"""

from __future__ import annotations

import argparse
import calendar
import concurrent.futures
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTANTS = ROOT / "tests" / "sweep" / "instants.txt"

# Left out of the sweep, each for a reason that has nothing to do with the hour; they run at the
# current time in scripts/test's main test step.
SKIP_PREFIXES = {
    # builds and packs the bundle with external tools; no clock in it
    "packaging::": "builds packages",
    # drives the hostile corpus through every tool and question (minutes a run); what it checks
    # is the shape of text, which no clock moves
    "hostile::": "the hostile corpus",
}
PER_TEST_TIMEOUT = 180  # seconds; a hung test fails its instant instead of the whole run
SCENARIOS_TIMEOUT = 300


def instants() -> list[tuple[str, str]]:
    out = []
    for line in INSTANTS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        out.append((line[:19], line[19:].strip()))
    return out


LIBFAKETIME = ""  # set from --libfaketime


def faked(at: str, monotonic_too: bool = False) -> dict[str, str]:
    """The environment of a process tree whose wall clock reads `at` now and runs on from there.
    `monotonic_too` moves the monotonic clock with it: Python's `time.sleep` fails with EINVAL
    under libfaketime 0.9.10 when only the wall clock moves."""
    env = dict(os.environ)
    target = calendar.timegm(time.strptime(at, "%Y-%m-%d %H:%M:%S"))
    offset = round(target - time.time())
    env["LD_PRELOAD"] = " ".join(p for p in (LIBFAKETIME, env.get("LD_PRELOAD", "")) if p)
    env["FAKETIME"] = f"{offset:+d}s"
    if monotonic_too:
        env.pop("DONT_FAKE_MONOTONIC", None)
    else:
        env["DONT_FAKE_MONOTONIC"] = "1"
    for name in ("FAKETIME_DONT_RESET", "FAKETIME_SHARED"):
        env.pop(name, None)
    return env


def run_bounded(args: list[str], env: dict[str, str], timeout: int) -> tuple[int | None, str]:
    """Runs `args` in its own process group; on timeout the whole group is killed. The exit code
    is None after a timeout."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, f"timed out after {timeout} s\n{out}"


def list_tests(binary: str) -> list[str]:
    listed = subprocess.run([binary, "--list", "--format", "terse"], capture_output=True, text=True,
                            check=True, timeout=60).stdout
    return [line.rsplit(": ", 1)[0] for line in listed.splitlines() if line.endswith(": test")]


def run_one(at: str, binary: str, test: str | None, log_dir: Path) -> tuple[str, bool, float]:
    """One test (or a whole unit-test binary when `test` is None) in its own process."""
    args = [binary]
    if test is not None:
        args += ["--exact", test]
    args += ["--quiet"]
    name = test or Path(binary).name
    started = time.monotonic()
    code, output = run_bounded(args, faked(at), PER_TEST_TIMEOUT)
    ok = code == 0
    if not ok:
        safe = name.replace("::", "__").replace("/", "_")
        (log_dir / f"{safe}.log").write_text(output)
    return name, ok, time.monotonic() - started


def run_scenarios(at: str, python: str, mcp_bin: str, log_dir: Path) -> tuple[bool, str]:
    args = [python, str(ROOT / "tests" / "scenarios" / "run.py"), "--bin", mcp_bin, "--fail-on", "upstream"]
    env = faked(at, monotonic_too=True)
    env["ILERT_MCP_TEST_LOG_DIR"] = str(log_dir / "scenarios")
    code, out = run_bounded(args, env, SCENARIOS_TIMEOUT)
    (log_dir / "scenarios.log").write_text(out)
    summary = next((line for line in out.splitlines() if " passed; " in line), "no summary")
    return code == 0, summary.split(";")[0]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--integration", action="append", default=[], help="integration-test binary (one process per test)")
    p.add_argument("--unit", action="append", default=[], help="unit-test binary (one process)")
    p.add_argument("--python", required=True, help="the venv's python with the MCP SDK")
    p.add_argument("--mcp-bin", required=True, help="the ilert-mcp binary for the scenario suite")
    p.add_argument("--logs", required=True, help="where failing tests' output goes")
    p.add_argument("--only", help="run only instants whose line contains this text")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--libfaketime", required=True, help="path of libfaketime.so.1")
    a = p.parse_args()
    global LIBFAKETIME
    LIBFAKETIME = a.libfaketime

    jobs: list[tuple[str, str | None]] = [(b, None) for b in a.unit]
    skipped = 0
    for binary in a.integration:
        for test in list_tests(binary):
            if any(test.startswith(prefix) for prefix in SKIP_PREFIXES):
                skipped += 1
                continue
            jobs.append((binary, test))
    chosen = [(at, why) for at, why in instants() if not a.only or a.only in f"{at} {why}"]
    print(f"[sweep] {len(chosen)} instants x ({len(jobs)} test processes + the scenario suite); "
          f"{skipped} tests left to the current time ({', '.join(sorted(set(SKIP_PREFIXES.values())))})",
          flush=True)
    # The clock really moves: a process under the preload must read the first instant.
    probe = subprocess.run([sys.executable, "-c", "import time; print(int(time.time()))"], capture_output=True,
                           text=True, env=faked(chosen[0][0]), check=True).stdout
    want = calendar.timegm(time.strptime(chosen[0][0], "%Y-%m-%d %H:%M:%S"))
    if abs(int(probe) - want) > 5:
        print(f"[sweep] ERROR: libfaketime did not move the clock ({probe.strip()} for {want})", flush=True)
        return 2
    failed_instants = []
    total_started = time.monotonic()
    for at, why in chosen:
        started = time.monotonic()
        log_dir = Path(a.logs) / at.replace(" ", "T").replace(":", "")
        log_dir.mkdir(parents=True, exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
            results = list(pool.map(lambda job: run_one(at, job[0], job[1], log_dir), jobs))
        failures = [name for name, ok, _ in results if not ok]
        scen_ok, scen_summary = run_scenarios(at, a.python, a.mcp_bin, log_dir)
        ok = not failures and scen_ok
        verdict = "ok    " if ok else "FAILED"
        print(f"[sweep] {verdict} {at} UTC  tests {len(results) - len(failures)}/{len(results)}  "
              f"scenarios {scen_summary}  ({time.monotonic() - started:.0f} s)  {why}", flush=True)
        for name in failures:
            print(f"[sweep]        failed at {at}: {name} (output in {log_dir})", flush=True)
        if not scen_ok:
            print(f"[sweep]        failed at {at}: the scenario suite (output in {log_dir}/scenarios.log)", flush=True)
        if not ok:
            failed_instants.append(at)
    print(f"[sweep] {len(chosen) - len(failed_instants)}/{len(chosen)} instants passed "
          f"in {time.monotonic() - total_started:.0f} s", flush=True)
    if failed_instants:
        print(f"[sweep] FAILED at: {', '.join(failed_instants)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
