#!/usr/bin/env python3
"""The ilert-mcp benchmark (issue 7). Run through scripts/bench, which builds the release binary.

One run, everything on 127.0.0.1:
  1. nginx serves bench/fixtures/alerts.json as a fast local "ilert" (config from nginx.conf.in).
  2. `ilert-mcp serve --no-oauth` in front of it.
  3. wrk warm-up: one pass over all API keys (each key is verified once against /users/current),
     then a check that mcp.lua counts tool errors and JSON-RPC errors as errors.
  4. floor: wrk GET /api/alerts straight at nginx.
  5. mcp: wrk `tools/call list_alerts {"limit":50}` at /mcp, same wrk settings, rotating keys.
  6. stdio: cold start (spawn to `initialize` answer) and `tools/list` bytes.
  7. serve: cold start (spawn to the first answered HTTP `initialize`), as installed (OAuth on)
     and with --no-oauth, each against the same nginx.
  8. side by side (issue 27, with --passthrough and --server): the same `list_alerts` call through
     two bare rmcp pass-throughs (crates/ilert-mcp/examples/passthrough.rs: the body as text, and
     parsed and answered as structuredContent with --structured) and each named ilert-mcp
     build, interleaved over --rounds rounds; medians of requests/s, the ratios to both
     pass-throughs, server CPU per call, and answer bytes against upstream bytes.
Prints one table with pass/fail per target; writes only under bench/out/ unless --write-doc.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
RUN = os.path.join(OUT, "run")
FIXTURES = os.path.join(HERE, "fixtures")
DOC = os.path.join(ROOT, "docs", "performance.md")
PROTOCOL = "2025-11-25"
CALL_BODY = ('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
             '{"name":"list_alerts","arguments":{"limit":50}}}')
ALERTS_QUERY = "/api/alerts?states=PENDING&states=ACCEPTED&max-results=51"
CLK = os.sysconf("SC_CLK_TCK")

children = []  # Popen objects started by this run, each in its own process group


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def die(msg):
    log(f"error: {msg}")
    sys.exit(2)


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    children.append(p)
    return p


def cleanup():
    for p in reversed(children):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 3
    for p in children:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    children.clear()


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            die(f"{what} exited with {proc.returncode} before listening (see {RUN})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    die(f"{what} did not listen on {port} within {timeout}s")


def ensure_tool(binary, package):
    if shutil.which(binary):
        return
    log(f"{binary} missing; installing Debian package {package}")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    cmd = sudo + ["apt-get", "install", "-y", "--no-install-recommends", package]
    if subprocess.run(cmd, timeout=300).returncode != 0:
        subprocess.run(sudo + ["apt-get", "update"], timeout=300)
        subprocess.run(cmd, timeout=300, check=True)
    if not shutil.which(binary):
        die(f"{binary} still missing after installing {package}")


def cpu_ticks(pid):
    """utime + stime of one process, in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError):
        return 0.0


def tree_pids(pid):
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for c in f.read().split():
                    pids.extend(tree_pids(int(c)))
    except OSError:
        pass
    return pids


def tree_cpu(pid):
    return sum(cpu_ticks(p) for p in tree_pids(pid))


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # kB
    return 0


def run_wrk(name, url, script, args, env_extra=None, timeout=None):
    env = dict(os.environ, BENCH_THREADS=str(args.threads), **(env_extra or {}))
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
           "--timeout", "2s", "--latency", "-s", os.path.join(HERE, script), url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        out, _ = p.communicate(timeout=timeout or args.duration + 30)
    except subprocess.TimeoutExpired:
        die(f"wrk ({name}) did not finish in time")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(os.path.join(OUT, f"wrk-{name}.txt"), "w") as f:
        f.write(" ".join(cmd) + "\n" + out)
    m = re.search(r"^BENCH (.*)$", out, re.M)
    if p.returncode != 0 or not m:
        die(f"wrk ({name}) failed:\n{out}")
    r = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["sock_errors"] + r["status_errors"] + r["app_errors"]
    r["wrk_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    r["cmd"] = " ".join(cmd)
    return r


ERROR_BODIES = {
    # a tool error: rejected before any upstream call, `"isError":true` at the end of the result
    "tool error": '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
                  '{"name":"list_alerts","arguments":{"limit":0}}}',
    # a JSON-RPC error
    "protocol error": '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
                      '{"name":"no_such_tool","arguments":{}}}',
}


def check_error_count(port, args):
    """Runs mcp.lua for a second with bodies that must fail and checks every answer was counted."""
    seen = {}
    short = argparse.Namespace(**{**vars(args), "duration": 1})
    for kind, body in ERROR_BODIES.items():
        r = run_wrk(f"errors-{kind.split()[0]}", f"http://127.0.0.1:{port}/mcp", "mcp.lua", short,
                    {"BENCH_KEYS": str(args.keys), "BENCH_BODY": body})
        if r["responses"] == 0 or r["app_errors"] != r["responses"]:
            die(f"mcp.lua counted {r['app_errors']} of {r['responses']} {kind} answers as errors")
        seen[kind] = {"responses": r["responses"], "errors": r["app_errors"]}
    return seen


def mcp_call(port, key="bench-key-probe"):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/mcp", data=CALL_BODY.encode(), method="POST",
        headers={"Content-Type": "application/json",
                 "Accept": "application/json, text/event-stream",
                 "MCP-Protocol-Version": PROTOCOL, "Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read()


def warm_up(port, keys, connections, timeout=120):
    """One call per key, `connections` keep-alive connections in parallel."""
    import http.client
    import threading
    errors = [0] * connections
    deadline = time.monotonic() + timeout

    def worker(t):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for k in range(t, keys, connections):
            if time.monotonic() > deadline:
                errors[t] += 1
                break
            conn.request("POST", "/mcp", body=CALL_BODY, headers={
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": PROTOCOL, "Authorization": f"Bearer bench-key-{k}"})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200 or b'"isError":true' in body:
                errors[t] += 1
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(connections)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout + 5)
    return {"requests": keys, "seconds": time.monotonic() - t0, "errors": sum(errors)}


def stdio_env():
    return dict(os.environ, ILERT_API_KEY="x", ILERT_BASE_URL="http://127.0.0.1:9/api",
                RUST_LOG="warn")


def initialize_line(id_=1):
    return json.dumps({"jsonrpc": "2.0", "id": id_, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"}}}) + "\n"


def cold_start(binary, runs):
    times = []
    line = initialize_line().encode()
    for _ in range(runs):
        t0 = time.perf_counter()
        p = spawn([binary, "stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=subprocess.DEVNULL, env=stdio_env())
        p.stdin.write(line)
        p.stdin.flush()
        first = p.stdout.readline()
        t1 = time.perf_counter()
        if b'"result"' not in first:
            die(f"stdio initialize answered {first[:200]!r}")
        times.append((t1 - t0) * 1000)
        p.stdin.close()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        children.remove(p)
    return statistics.median(times), min(times), max(times)


def http_initialize(port):
    """POST one `initialize` to /mcp on a fresh connection; the status, or None if refused."""
    body = initialize_line().strip().encode()
    request = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
               "Authorization: Bearer bench-key-0\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(request)
            head = s.recv(4096)
    except OSError:
        return None
    if not head.startswith(b"HTTP/1.1 "):
        return None
    return int(head[9:12])


def serve_cold_start(binary, runs, upstream, extra):
    """Spawn `serve`, then knock every 0.2 ms until an `initialize` is answered 200."""
    times = []
    for _ in range(runs):
        port = free_port()
        t0 = time.perf_counter()
        p = spawn([binary, "serve", "--bind", f"127.0.0.1:{port}", "--ilert-url", upstream,
                   *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                  env=dict(os.environ, RUST_LOG="warn"))
        deadline = t0 + 5
        status = None
        while time.perf_counter() < deadline and p.poll() is None:
            status = http_initialize(port)
            if status is not None:
                break
            time.sleep(0.0002)
        t1 = time.perf_counter()
        if status != 200:
            die(f"serve {' '.join(extra)}: initialize answered {status} (exit {p.poll()})")
        times.append((t1 - t0) * 1000)
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        children.remove(p)
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "runs": runs}


def tools_list_bytes(binary, extra):
    p = spawn([binary, "stdio", *extra], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
              stderr=subprocess.DEVNULL, env=stdio_env(), text=True)
    msgs = initialize_line() + json.dumps(
        {"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n" + json.dumps(
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}) + "\n"
    try:
        out, _ = p.communicate(msgs, timeout=10)
    except subprocess.TimeoutExpired:
        die("stdio tools/list timed out")
    children.remove(p)
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("id") == 2:
            tools = msg["result"]["tools"]
            compact = json.dumps(tools, separators=(",", ":"), ensure_ascii=False).encode()
            return len(tools), len(compact), len(line.encode())
    die(f"no tools/list answer in {out[:300]!r}")


def start_nginx(fixture="alerts.json", name="nginx"):
    """The bench's stand-in for ilert on a free port, answering /api/alerts with
    bench/fixtures/FIXTURE; (Popen, port). Its config and logs go under bench/out/run as NAME.*."""
    port = free_port()
    with open(os.path.join(HERE, "nginx.conf.in")) as f:
        conf = f.read().replace("@RUN@", RUN).replace("@PORT@", str(port)) \
            .replace("@FIXTURES@", FIXTURES).replace("/alerts.json", "/" + fixture)
    conf_path = os.path.join(RUN, f"{name}.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    p = spawn(["nginx", "-p", RUN, "-c", conf_path, "-e", os.path.join(RUN, f"{name}-error.log")],
              stdout=subprocess.DEVNULL, stderr=open(os.path.join(RUN, f"{name}.out"), "w"))
    wait_port(port, p, "nginx")
    return p, port


def start_server(label, binary, nport, passthrough=False, extra=()):
    """One server in front of nginx on a free port; (Popen, port)."""
    port = free_port()
    upstream = f"http://127.0.0.1:{nport}/api"
    if passthrough:
        cmd = [binary, "--bind", f"127.0.0.1:{port}", "--upstream", upstream, *extra]
    else:
        cmd = [binary, "serve", "--bind", f"127.0.0.1:{port}", "--ilert-url", upstream,
               "--no-oauth", "--key-checks-per-second", "0"]
    p = spawn(cmd, stdout=subprocess.DEVNULL,
              stderr=open(os.path.join(RUN, f"server-{label}.log"), "w"))
    wait_port(port, p, label)
    return p, port


def compare(args, nport, upstream_bytes):
    """The same `list_alerts` call through the pass-through and each --server build, side by side:
    every server is started and warmed up (one call per key), then each round runs wrk at each in
    turn. Medians over the rounds; CPU per call is the server's user+system time over its calls."""
    # Two yardsticks: the upstream body forwarded as text, unparsed; and the way an rmcp tool
    # answers JSON (parsed, then structuredContent plus its serialisation as text).
    servers = [(PASS_TEXT, args.passthrough, True, ()),
               (PASS_JSON, args.passthrough, True, ("--structured",))]
    for spec in args.server:
        label, _, binary = spec.partition("=")
        if not binary or not os.access(binary, os.X_OK):
            die(f"--server {spec}: not LABEL=BINARY with an executable binary")
        servers.append((label, binary, False, ()))
    running = {}
    out = {"servers": [s[0] for s in servers], "rounds": args.rounds, "runs": {}}
    for label, binary, bare, extra in servers:
        p, port = start_server(label, binary, nport, bare, extra)
        status, _, answer = mcp_call(port)
        if status != 200 or b'"isError":true' in answer or b'"error":{' in answer[:60]:
            die(f"{label}: tools/call list_alerts failed ({status}): {answer[:300]!r}")
        w = warm_up(port, args.keys, args.connections)
        if w["errors"]:
            die(f"{label}: {w['errors']} errors in the warm-up")
        log(f"{label}: answer {len(answer)} bytes; warm-up {w['seconds']:.1f}s")
        running[label] = (p, port)
        out["runs"][label] = {"answer_bytes": len(answer), "binary": binary,
                              "answer_ratio": len(answer) / upstream_bytes, "rounds": [],
                              **answer_parts(answer)}
    for rnd in range(args.rounds):
        for label, _, _, _ in servers:
            p, port = running[label]
            c0 = cpu_ticks(p.pid)
            r = run_wrk(f"cmp-{label}-{rnd}", f"http://127.0.0.1:{port}/mcp", "mcp.lua", args,
                        {"BENCH_KEYS": str(args.keys)})
            cpu = cpu_ticks(p.pid) - c0
            if p.poll() is not None:
                die(f"{label} died during the run")
            out["runs"][label]["rounds"].append({
                "rps": r["rps"], "requests": r["requests"], "errors": r["errors"],
                "p50_us": r["p50_us"], "p99_us": r["p99_us"], "server_cpu_s": cpu,
                "cpu_us_per_call": cpu * 1e6 / max(1, r["requests"]),
                "load": os.getloadavg()})
            log(f"round {rnd + 1}/{args.rounds} {label}: {r['rps']:.0f} req/s, "
                f"{cpu * 1e6 / max(1, r['requests']):.0f} us CPU per call, {r['errors']} errors")
    for label, _, _, _ in servers:
        run = out["runs"][label]
        rs = run["rounds"]
        run["rps"] = statistics.median(x["rps"] for x in rs)
        run["cpu_us_per_call"] = statistics.median(x["cpu_us_per_call"] for x in rs)
        run["p99_us"] = statistics.median(x["p99_us"] for x in rs)
        run["errors"] = sum(x["errors"] for x in rs)
    for label, _, _, _ in servers:
        run = out["runs"][label]
        run["ratio"] = run["rps"] / out["runs"][PASS_TEXT]["rps"]
        run["ratio_json"] = run["rps"] / out["runs"][PASS_JSON]["rps"]
    for label, (p, _) in running.items():
        p.terminate()
    out["load_after"] = os.getloadavg()
    return out


def answer_parts(answer):
    """Bytes of the tool result's text block and of its structuredContent (compact JSON)."""
    try:
        result = json.loads(answer)["result"]
        text = sum(len(c.get("text", "").encode()) for c in result.get("content", []))
        sc = result.get("structuredContent")
        structured = len(json.dumps(sc, separators=(",", ":"), ensure_ascii=False).encode()) \
            if sc is not None else 0
        return {"text_bytes": text, "structured_bytes": structured}
    except (ValueError, KeyError, TypeError):
        return {"text_bytes": 0, "structured_bytes": 0}


def render_compare(c, settings):
    rows = [("server", "requests/s", f"ratio to {PASS_TEXT}", f"ratio to {PASS_JSON}",
             "server CPU per call", "p99", "errors", "answer bytes / upstream")]
    for label in c["servers"]:
        r = c["runs"][label]
        rows.append((label, f"{r['rps']:.0f}", f"{r['ratio']:.2f}", f"{r['ratio_json']:.2f}",
                     f"{r['cpu_us_per_call']:.0f} µs",
                     f"{r['p99_us'] / 1000:.2f} ms", f"{r['errors']}",
                     f"{r['answer_bytes']} ({r['answer_ratio']:.3f})"))
    w = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    line = lambda row: "| " + " | ".join(f"{v:<{w[i]}}" for i, v in enumerate(row)) + " |"
    loads = [x["load"] for label in c["servers"] for x in c["runs"][label]["rounds"]]
    lo = min(l[0] for l in loads)
    hi = max(l[0] for l in loads)
    parts = [f"{label}: text {c['runs'][label]['text_bytes']} + structuredContent "
             f"{c['runs'][label]['structured_bytes']} bytes" for label in c["servers"]]
    return "\n".join([
        f"Side by side: wrk -t{settings['threads']} -c{settings['connections']} "
        f"-d{settings['duration_s']}s per server and round, {c['rounds']} rounds interleaved, "
        f"medians; {settings['keys']} keys in rotation, each server warmed up with one call per "
        f"key; 1-minute load average {lo:.2f} to {hi:.2f} during the runs",
        "",
        line(rows[0]),
        "|" + "|".join("-" * (x + 2) for x in w) + "|",
        *(line(r) for r in rows[1:]),
        "",
        "Answer parts: " + "; ".join(parts)])


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bin", required=True, help="release ilert-mcp binary")
    ap.add_argument("--write-doc", action="store_true", help=f"regenerate {os.path.relpath(DOC, ROOT)}")
    ap.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keys", type=int, default=5000, help="distinct API keys in rotation (< 10000)")
    ap.add_argument("--cold-runs", type=int, default=20)
    ap.add_argument("--render", action="store_true",
                    help=f"measure nothing: rewrite {os.path.relpath(DOC, ROOT)} from the last run's "
                         "bench/out/results.json and the current bench/notes.md")
    ap.add_argument("--passthrough", help="bare rmcp pass-through binary (examples/passthrough.rs)")
    ap.add_argument("--server", action="append", default=[], metavar="LABEL=BINARY",
                    help="an ilert-mcp build to measure side by side with --passthrough "
                         "(repeatable)")
    ap.add_argument("--rounds", type=int, default=2, help="side-by-side rounds (medians)")
    ap.add_argument("--compare-only", action="store_true",
                    help="only the side-by-side comparison (no floor, targets or cold starts)")
    ap.add_argument("--command", default="scripts/bench", help=argparse.SUPPRESS)
    args = ap.parse_args()
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    if args.render:
        with open(os.path.join(OUT, "results.json")) as f:
            results = json.load(f)
        write_doc(results, render(results))
        log(f"wrote {os.path.relpath(DOC, ROOT)} from {os.path.relpath(OUT, ROOT)}/results.json")
        return 0

    ensure_tool("nginx", "nginx")
    ensure_tool("wrk", "wrk")
    shutil.rmtree(RUN, ignore_errors=True)
    os.makedirs(RUN)
    os.chmod(RUN, 0o755)
    results = {"machine": machine(), "date": datetime.datetime.now(datetime.timezone.utc)
               .strftime("%Y-%m-%d %H:%M UTC"), "command": args.command,
               "settings": {"threads": args.threads, "connections": args.connections,
                            "duration_s": args.duration, "keys": args.keys}}
    try:
        # 1. upstream
        nginx, nport = start_nginx()
        with urllib.request.urlopen(f"http://127.0.0.1:{nport}{ALERTS_QUERY}", timeout=5) as r:
            upstream = r.read()
        upstream_bytes = len(upstream)
        if upstream_bytes != os.path.getsize(os.path.join(FIXTURES, "alerts.json")):
            die("nginx does not serve the fixture")
        if args.compare_only:
            if not args.passthrough:
                die("--compare-only needs --passthrough")
            results["answer"] = {"upstream_bytes": upstream_bytes}
            results["compare"] = compare(args, nport, upstream_bytes)
            cleanup()
            with open(os.path.join(OUT, "results-compare.json"), "w") as f:
                json.dump(results, f, indent=2)
            print(render_compare(results["compare"], results["settings"]))
            print(compare_verdicts(results["compare"]))
            return 0

        # 2. server
        sport = free_port()
        # Warm-up brings in thousands of keys at once: no bound on new-key checks (a server's
        # default, 10 a second, would refuse most of them with 503).
        server = spawn([args.bin, "serve", "--bind", f"127.0.0.1:{sport}",
                        "--ilert-url", f"http://127.0.0.1:{nport}/api", "--no-oauth",
                        "--key-checks-per-second", "0"],
                       stdout=subprocess.DEVNULL, stderr=open(os.path.join(RUN, "server.log"), "w"))
        wait_port(sport, server, "ilert-mcp serve")
        status, ctype, answer = mcp_call(sport)
        with open(os.path.join(OUT, "answer.json"), "wb") as f:
            f.write(answer)
        if status != 200 or b'"isError":true' in answer or b'"error":{' in answer[:60]:
            die(f"tools/call list_alerts failed ({status}): {answer[:400]!r}")
        results["answer"] = {"bytes": len(answer), "content_type": ctype,
                             "upstream_bytes": upstream_bytes,
                             "ratio": len(answer) / upstream_bytes}
        log(f"one call: {len(answer)} bytes ({ctype}) for {upstream_bytes} upstream bytes")

        # 3. warm-up: every key once (verification miss + budget entry), then caches are warm
        log(f"warm-up: {args.keys} keys, one call each")
        results["warmup"] = warm_up(sport, args.keys, args.connections)
        log(f"warm-up: {results['warmup']['requests']} calls in {results['warmup']['seconds']:.1f}s, "
            f"{results['warmup']['errors']} errors")

        # 3b. the Lua hook counts both kinds of error (it looks only where their marks can be)
        results["error_check"] = check_error_count(sport, args)
        log("error count checked: " + ", ".join(
            f"{k} {v['errors']}/{v['responses']}" for k, v in results["error_check"].items()))

        # 4. floor (after a short warm-up of its own)
        run_wrk("floor-warmup", f"http://127.0.0.1:{nport}{ALERTS_QUERY}", "floor.lua",
                argparse.Namespace(**{**vars(args), "duration": 2}))
        n0 = tree_cpu(nginx.pid)
        log("floor: GET /api/alerts at nginx")
        floor = run_wrk("floor", f"http://127.0.0.1:{nport}{ALERTS_QUERY}", "floor.lua", args)
        floor["nginx_cpu_s"] = tree_cpu(nginx.pid) - n0
        results["floor"] = floor

        # 5. mcp
        n0, s0 = tree_cpu(nginx.pid), cpu_ticks(server.pid)
        log("mcp: tools/call list_alerts at ilert-mcp")
        mcp = run_wrk("mcp", f"http://127.0.0.1:{sport}/mcp", "mcp.lua", args,
                      {"BENCH_KEYS": str(args.keys)})
        mcp["nginx_cpu_s"] = tree_cpu(nginx.pid) - n0
        mcp["server_cpu_s"] = cpu_ticks(server.pid) - s0
        mcp["server_hwm_kib"] = proc_status(server.pid, "VmHWM")
        mcp["server_rss_kib"] = proc_status(server.pid, "VmRSS")
        mcp["server_threads"] = proc_status(server.pid, "Threads")
        results["mcp"] = mcp
        if server.poll() is not None:
            die("the server died during the run")

        # 6. stdio
        log("stdio: cold start and tools/list")
        med, lo, hi = cold_start(args.bin, args.cold_runs)
        results["cold_start_ms"] = {"median": med, "min": lo, "max": hi, "runs": args.cold_runs}
        d = tools_list_bytes(args.bin, [])
        a = tools_list_bytes(args.bin, ["--toolsets", "all"])
        results["tools_list"] = {"default": {"tools": d[0], "bytes": d[1], "message_bytes": d[2]},
                                 "all": {"tools": a[0], "bytes": a[1], "message_bytes": a[2]}}

        # 7. serve cold start, as installed and without the OAuth server
        log("serve: cold start")
        upstream = f"http://127.0.0.1:{nport}/api"
        results["serve_cold_start_ms"] = serve_cold_start(args.bin, args.cold_runs, upstream, [])
        results["serve_cold_start_no_oauth_ms"] = serve_cold_start(
            args.bin, args.cold_runs, upstream, ["--no-oauth"])

        # 8. side by side with the bare pass-through
        if args.passthrough:
            log("side by side: pass-through and " + ", ".join(args.server))
            results["compare"] = compare(args, nport, upstream_bytes)
    finally:
        cleanup()

    results["ratio"] = results["mcp"]["rps"] / results["floor"]["rps"]
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    table = render(results)
    print(table)
    if args.write_doc:
        write_doc(results, table)
        log(f"wrote {os.path.relpath(DOC, ROOT)}")
    return 0 if all(t[3] for t in targets(results)) else 1


def targets(r):
    m = r["mcp"]
    hwm = m["server_hwm_kib"] / 1024
    return [
        ("throughput / floor", f"{r['ratio']:.3f}", ">= 0.10", r["ratio"] >= 0.10),
        ("p99 latency", f"{m['p99_us'] / 1000:.2f} ms", "< 5 ms", m["p99_us"] < 5000),
        ("errors", f"{m['errors']}", "0", m["errors"] == 0 and r["warmup"]["errors"] == 0),
        ("peak RSS (VmHWM)", f"{hwm:.1f} MiB", "< 40 MiB", hwm < 40),
        ("stdio cold start (median)", f"{r['cold_start_ms']['median']:.1f} ms", "< 20 ms",
         r["cold_start_ms"]["median"] < 20),
        ("serve cold start (median)", f"{r['serve_cold_start_ms']['median']:.1f} ms", "<= 10 ms",
         r["serve_cold_start_ms"]["median"] <= 10),
        ("answer / upstream bytes", f"{r['answer']['ratio']:.3f}", "<= 0.35",
         r["answer"]["ratio"] <= 0.35),
    ] + compare_targets(r.get("compare"))


# Issue 27: the build `cargo install` and the README make against the bare pass-through, and
# the shipped (dist) build; against each of the two pass-throughs.
WANTED_RATIO = {"release": 1.0, "dist": 1.1}
PASS_TEXT = "pass-through"
PASS_JSON = "pass-through, structured"


def compare_targets(c):
    if not c:
        return []
    return [(f"{label} / {base}", f"{c['runs'][label][key]:.2f}", f">= {want}",
             c["runs"][label][key] >= want)
            for label, want in WANTED_RATIO.items() if label in c["runs"]
            for base, key in ((PASS_TEXT, "ratio"), (PASS_JSON, "ratio_json"))]


def compare_verdicts(c):
    return "\n".join(f"{name}: {val} (wanted {want}) {'PASS' if ok else 'FAIL'}"
                     for name, val, want, ok in compare_targets(c))


def render(r):
    m, f, s = r["mcp"], r["floor"], r["settings"]
    rows = [
        ("", "floor (nginx direct)", "ilert-mcp list_alerts"),
        ("requests/s", f"{f['rps']:.0f}", f"{m['rps']:.0f}"),
        ("p50 latency", f"{f['p50_us'] / 1000:.2f} ms", f"{m['p50_us'] / 1000:.2f} ms"),
        ("p99 latency", f"{f['p99_us'] / 1000:.2f} ms", f"{m['p99_us'] / 1000:.2f} ms"),
        ("max latency", f"{f['max_us'] / 1000:.2f} ms", f"{m['max_us'] / 1000:.2f} ms"),
        ("requests", f"{f['requests']}", f"{m['requests']}"),
        ("errors (socket+status+app)",
         f"{f['errors']} ({f['sock_errors']}+{f['status_errors']}+{f['app_errors']})",
         f"{m['errors']} ({m['sock_errors']}+{m['status_errors']}+{m['app_errors']})"),
        ("bytes per answer", f"{r['answer']['upstream_bytes']}", f"{r['answer']['bytes']}"),
        ("CPU s: wrk / nginx / server",
         f"{f['wrk_cpu_s']:.1f} / {f['nginx_cpu_s']:.1f} / -",
         f"{m['wrk_cpu_s']:.1f} / {m['nginx_cpu_s']:.1f} / {m['server_cpu_s']:.1f}"),
        ("server peak RSS (VmHWM)", "-", f"{m['server_hwm_kib'] / 1024:.1f} MiB"),
    ]
    w0 = max(len(x[0]) for x in rows)
    w1 = max(len(x[1]) for x in rows)
    lines = [f"Load: wrk -t{s['threads']} -c{s['connections']} -d{s['duration_s']}s, "
             f"{s['keys']} API keys in rotation (warm-up: {r['warmup']['requests']} calls, "
             f"{r['warmup']['errors']} errors)"]
    if "error_check" in r:
        lines.append("")
        lines.append("Error count checked first: " + ", ".join(
            f"{k} answers {v['errors']} of {v['responses']} counted"
            for k, v in r["error_check"].items()))
    lines.append("")
    lines += [f"| {a:<{w0}} | {b:<{w1}} | {c} |" for a, b, c in rows[:1]]
    lines.append(f"|{'-' * (w0 + 2)}|{'-' * (w1 + 2)}|{'-' * 24}|")
    lines += [f"| {a:<{w0}} | {b:<{w1}} | {c} |" for a, b, c in rows[1:]]
    tl, cs = r["tools_list"], r["cold_start_ms"]
    lines += ["",
              f"stdio cold start (spawn to initialize answer, {cs['runs']} runs): median "
              f"{cs['median']:.1f} ms (min {cs['min']:.1f}, max {cs['max']:.1f})",
              *(f"serve cold start{label} (spawn to answered HTTP initialize, {c['runs']} runs): "
                f"median {c['median']:.1f} ms (min {c['min']:.1f}, max {c['max']:.1f})"
                for label, c in [("", r["serve_cold_start_ms"]),
                                 (" --no-oauth", r["serve_cold_start_no_oauth_ms"])]),
              f"tools/list result.tools: default {tl['default']['bytes']} bytes "
              f"({tl['default']['tools']} tools), --toolsets all {tl['all']['bytes']} bytes "
              f"({tl['all']['tools']} tools)", ""]
    ts = targets(r)
    w = max(len(t[0]) for t in ts)
    lines.append(f"| {'target':<{w}} | {'measured':<10} | {'wanted':<8} | result |")
    lines.append(f"|{'-' * (w + 2)}|{'-' * 12}|{'-' * 10}|--------|")
    for name, val, want, ok in ts:
        lines.append(f"| {name:<{w}} | {val:<10} | {want:<8} | {'PASS' if ok else 'FAIL'}   |")
    if "compare" in r:
        lines += ["", render_compare(r["compare"], r["settings"])]
    return "\n".join(lines)


def write_doc(r, table):
    mc = r["machine"]
    notes_path = os.path.join(HERE, "notes.md")
    notes = open(notes_path).read().strip() if os.path.exists(notes_path) else ""
    doc = f"""# Performance

<!-- Generated by `scripts/bench --write-doc`; edit bench/run.py or bench/notes.md instead. -->

Figures from one run of `{r['command']}` on {r['date']}.
Machine: {mc['nproc']} cores, {mc['cpu']}, Linux {mc['kernel']}. Client (wrk), upstream (nginx) and
server share those cores (and other people's builds share the machine), so the absolute numbers
say little; the ratios to the floor and to the pass-through measured in the same run are the
figures to compare.

{table}

## What is measured

- **floor**: `GET {ALERTS_QUERY}` straight at nginx, which serves
  `bench/fixtures/alerts.json` (50 alerts, {r['answer']['upstream_bytes']} bytes, made by
  `bench/gen_fixture.py`) as a stand-in for ilert.
- **ilert-mcp**: `ilert-mcp serve --no-oauth --key-checks-per-second 0` in front of the same
  nginx (no bound on new-key checks, so that the warm-up can bring in every key); every request is a
  stateless Streamable HTTP `tools/call list_alerts {{"limit":50}}` (protocol 2025-11-25, JSON
  answer) with its own `Authorization: Bearer` key out of {r['settings']['keys']} in rotation, so
  the per-key budget (120 ilert requests a minute) never refuses, and the server does its real
  work per call: key check against its cache, budget, upstream `GET /alerts`, projection of 50
  alerts, answer. A warm-up pass calls once with every key first (the key check misses once per
  key there and calls `GET /users/current`).
- Both runs use the same wrk settings. Errors are socket errors, non-2xx statuses and, for MCP,
  JSON-RPC errors and tool answers with `"isError":true`. The MCP Lua hook looks for those marks
  only where they can be (the start of the body; its last 64 bytes, where rmcp writes `isError`),
  so the client spends about as much CPU per answer as in the floor run: scanning whole answers
  took about 6% of the server's throughput on these shared cores. Before the floor run, the
  benchmark drives the same hook for a second each at a tool error and at a JSON-RPC error, and
  stops unless every answer was counted as an error.
- **peak RSS**: `VmHWM` of the server process after warm-up and the run.
- **bytes per answer**: one tool answer body (HTTP body) against the upstream body.
- **cold start**: `ilert-mcp stdio` spawned, one `initialize` line written, time to the first line
  on stdout; median of {r['cold_start_ms']['runs']}.
- **serve cold start**: `ilert-mcp serve` spawned (as installed, with its OAuth server, and with
  `--no-oauth`), then a fresh connection every 0.2 ms posts `initialize` with a bearer key until
  one is answered 200 (that answer includes the key's first check against nginx's
  `/users/current`); median of {r['serve_cold_start_ms']['runs']}.
- **tools/list bytes**: compact JSON of `result.tools`, default selection and `--toolsets all`.
- **side by side** (issue 27): the same `list_alerts` call through two bare rmcp pass-throughs
  (`crates/ilert-mcp/examples/passthrough.rs`, release profile: the caller's key forwarded to
  `GET /alerts`, nothing else) and each ilert-mcp build. **pass-through** answers the upstream
  body as one text block, unparsed. **pass-through, structured** answers as an rmcp tool
  answers JSON: the body parsed into a `serde_json::Value` and returned with
  `CallToolResult::structured` as `{{"alerts": [...]}}` (structuredContent, and its
  serialisation as text). Every server is warmed up with one call per key, then wrk runs at each
  in turn, rounds interleaved, medians. CPU per call is the server process's user+system time over the calls
  wrk counted. The load average is the machine's 1-minute figure, read after each run.

Raw wrk output and `results.json` land in `bench/out/` (git-ignored).

{notes}
"""
    with open(DOC, "w") as f:
        f.write(doc.rstrip() + "\n")


if __name__ == "__main__":
    sys.exit(main())
