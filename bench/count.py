#!/usr/bin/env python3
"""Instructions per `list_alerts` call, counted with callgrind (bench/notes.md, issue 27).

Starts the bench nginx and one server under `valgrind --tool=callgrind` (instrumentation off
until the warm-up is done), warms up --warm keys, zeroes the counters, makes --calls calls,
dumps, and prints the instructions per call and the heaviest functions (self cost).
Counts do not depend on the machine's load. Writes only under bench/out/.

  python3 bench/count.py --bin target/release/ilert-mcp
  python3 bench/count.py --bin target/release/examples/passthrough --passthrough [--structured]
  python3 bench/count.py --bin target/release/ilert-mcp --fixture alerts-hostile.json
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the benchmark's helpers: spawn, cleanup, nginx config, calls)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--passthrough", action="store_true", help="--bin is examples/passthrough")
    ap.add_argument("--structured", action="store_true",
                    help="with --passthrough: the pass-through's --structured answer")
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--warm", type=int, default=20)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--label", default="count")
    ap.add_argument("--fixture", default="alerts.json",
                    help="file under bench/fixtures that nginx serves as /api/alerts")
    args = ap.parse_args()
    os.makedirs(run.RUN, exist_ok=True)
    out_file = os.path.join(run.OUT, f"callgrind.{args.label}.out")
    for old in glob.glob(out_file + "*"):
        os.remove(old)
    try:
        _, nport = run.start_nginx(args.fixture, "nginx-count")
        port = run.free_port()
        upstream = f"http://127.0.0.1:{nport}/api"
        cmd = ([args.bin, "--bind", f"127.0.0.1:{port}", "--upstream", upstream,
                *(["--structured"] if args.structured else [])]
               if args.passthrough else
               [args.bin, "serve", "--bind", f"127.0.0.1:{port}", "--ilert-url", upstream,
                "--no-oauth", "--key-checks-per-second", "0"])
        server = run.spawn(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                            f"--callgrind-out-file={out_file}", *cmd],
                           stdout=subprocess.DEVNULL,
                           stderr=open(os.path.join(run.RUN, "callgrind.log"), "w"))
        run.wait_port(port, server, "server under callgrind", timeout=120)
        for k in range(args.warm):
            run.mcp_call(port, f"bench-key-{k}")
        subprocess.run(["callgrind_control", "-i", "on", str(server.pid)], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["callgrind_control", "-z", str(server.pid)], check=True,
                       stdout=subprocess.DEVNULL)
        size = 0
        for i in range(args.calls):
            status, _, body = run.mcp_call(port, f"bench-key-{i % args.warm}")
            if status != 200 or b'"isError":true' in body:
                run.die(f"call {i} failed: {body[:300]!r}")
            size = len(body)
        with open(os.path.join(run.OUT, f"answer-{args.label}.json"), "wb") as f:
            f.write(body)
        subprocess.run(["callgrind_control", "-d", str(server.pid)], check=True,
                       stdout=subprocess.DEVNULL)
        time.sleep(1)
    finally:
        run.cleanup()
    dumps = sorted(glob.glob(out_file + "*"), key=os.path.getmtime)
    dumps = [d for d in dumps if not d.endswith(out_file)] or dumps
    dump = dumps[-1]
    report = subprocess.run(["callgrind_annotate", "--inclusive=no", f"--threshold=100", dump],
                            capture_output=True, text=True, check=True).stdout
    total = re.search(r"^([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", report, re.M)
    if not total:
        run.die(f"no totals in {dump}")
    ir = int(total.group(1).replace(",", ""))
    print(f"{args.label}: {ir / args.calls:,.0f} instructions per call "
          f"({args.calls} calls, answer {size} bytes; {os.path.relpath(dump, run.ROOT)})")
    lines = [l for l in report.splitlines() if re.match(r"^\s*[\d,]+ \(\s*[\d.]+%\)\s", l)]
    for l in lines[1:args.top + 1]:
        print("  " + l.strip()[:160])
    return 0


if __name__ == "__main__":
    sys.exit(main())
