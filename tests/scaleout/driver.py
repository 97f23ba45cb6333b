#!/usr/bin/env python3
"""Client side of scripts/scaleout: three `ilert-mcp serve` replicas behind nginx, sharing Redis.

Phases (one per run; scripts/scaleout starts and stops the processes between them):
  eras      both protocol eras (2026-07-28 and 2025-11-25) through nginx with the official MCP Python
            SDK: tools/list, list_alerts, who_is_on_call; every replica must have served some.
  confirm   an outward write's confirmation (issue 13) asked at one replica and answered at another:
            accept raises the alert once, a replay at the third is refused (nonce in Redis), a
            decline raises nothing; a follow-through task (issue 26) made at one replica, answered
            at another and polled at a third until an acceptance completes it; then the SDK's
            elicitation callback through nginx.
  kill      N tool calls through nginx, a few at a time, while one replica is SIGKILLed: only calls in
            flight during the kill may fail, every call started after it must succeed.
  oauth     the connector flow with each step at a different replica (register A, authorize B,
            token C, refresh A, MCP B), replays of the code and the old refresh token refused at the
            other replicas, the same code and refresh token raced at all three at once (one wins),
            reuse of a rotated refresh token at one replica revoking its whole family at the others
            (a thief's newer token refused, another sign-in untouched), and the whole flow through
            nginx.
  outage    Redis killed: token exchanges refused (503 temporarily_unavailable) on every replica,
            /readyz says so, MCP calls with keys and access tokens still work.
  recovery  Redis back (empty): /readyz ready again, the flow through nginx works, replays refused.

Prints one `ROW<TAB>check<TAB>PASS|FAIL<TAB>detail` line per check; exits 1 if any failed.
Only 127.0.0.1 is contacted. Run from the repo's venv (scripts/interop-setup --python-only).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from typing import Any, Callable

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
# Keys of the kill run. Each replica allows a key 120 ilert requests a minute, as ilert does; the
# OAuth phases sign in with demo-key-user, so the kill run leaves that one alone.
KEYS = ["demo-key-responder", "demo-key-admin", "demo-key-stakeholder"]
REDIRECT = "https://claude.ai/api/mcp/auth_callback"
META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "scaleout", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}

failed = 0


class CheckFailed(Exception):
    pass


def row(check: str, ok: bool, detail: str, seconds: float) -> None:
    global failed
    if not ok:
        failed += 1
    detail = " ".join(detail.split())
    print(f"ROW\t{check}\t{'PASS' if ok else 'FAIL'}\t{seconds:.1f}\t{detail}", flush=True)


def check(check_name: str, fn: Callable[[], str]) -> None:
    """Runs one check; its return value is the detail, CheckFailed (or anything else) a FAIL."""
    t0 = time.monotonic()
    try:
        detail = fn()
    except CheckFailed as e:
        row(check_name, False, str(e), time.monotonic() - t0)
    except Exception as e:  # noqa: BLE001 - report anything readably
        where = traceback.extract_tb(e.__traceback__)[-1]
        row(check_name, False, f"{type(e).__name__}: {e} (at {where.name}:{where.lineno})",
            time.monotonic() - t0)
    else:
        row(check_name, True, detail, time.monotonic() - t0)


def need(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# --- nginx's access log --------------------------------------------------------------------

class AccessLog:
    """Lines nginx wrote since `mark()`: `msec method uri status upstream_addr upstream_status time`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = os.path.getsize(self.path)

    def since(self) -> list[list[str]]:
        time.sleep(0.2)  # nginx writes the line after the answer is sent
        with open(self.path, encoding="utf-8") as f:
            f.seek(self.offset)
            return [line.split(" ", 6) for line in f.read().splitlines() if line.strip()]

    @staticmethod
    def served_by(lines: list[list[str]], uri: str | None = None) -> Counter:
        """Which replica answered each request (the last upstream nginx tried)."""
        count: Counter = Counter()
        for fields in lines:
            if len(fields) >= 5 and (uri is None or fields[2] == uri):
                count[fields[4].split(", ")[-1]] += 1
        return count


def per_replica(count: Counter, replicas: list[str]) -> str:
    return ", ".join(f"{chr(65 + i)}={count.get(addr_of(r), 0)}" for i, r in enumerate(replicas))


def addr_of(base_url: str) -> str:
    return base_url.split("://", 1)[1].rstrip("/")


# --- raw MCP over HTTP ---------------------------------------------------------------------

def mcp_request(era: str, key: str, rid: int, tool: str, arguments: dict[str, Any]) -> tuple[dict, dict]:
    """Headers and body of a stateless tools/call in either era."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json",
               "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": era}
    params: dict[str, Any] = {"name": tool, "arguments": arguments}
    if era == MODERN:
        headers.update({"Mcp-Method": "tools/call", "Mcp-Name": tool})
        params["_meta"] = META
    return headers, {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


def tool_result(response: httpx2.Response) -> dict:
    """The result of a tools/call answer, or CheckFailed with why not."""
    if response.status_code != 200:
        raise CheckFailed(f"HTTP {response.status_code}: {response.text[:200]}")
    body = response.json()
    result = body.get("result")
    if not isinstance(result, dict):
        raise CheckFailed(f"no result: {json.dumps(body)[:200]}")
    if result.get("isError"):
        texts = " ".join(c.get("text", "") for c in result.get("content", []))
        raise CheckFailed(f"isError: {texts[:200]}")
    return result


# --- phase: eras ---------------------------------------------------------------------------

async def sdk_session(url: str, key: str, mode: str) -> str:
    hc = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=httpx2.Timeout(20.0))
    async with hc, Client(streamable_http_client(url, http_client=hc), mode=mode) as client:
        want = MODERN if mode == "auto" else LEGACY
        need(client.protocol_version == want, f"negotiated {client.protocol_version}, want {want}")
        names = {t.name for t in (await client.list_tools()).tools}
        need({"list_alerts", "who_is_on_call"} <= names, f"tools/list lacks list_alerts/who_is_on_call: {sorted(names)[:8]}")
        calls = 0
        for tool, args in [("list_alerts", {"limit": 3}), ("who_is_on_call", {}),
                           ("list_alerts", {"states": ["PENDING"], "limit": 2}), ("who_is_on_call", {})]:
            result = await client.call_tool(tool, args)
            text = " ".join(getattr(c, "text", "") for c in result.content)
            need(not result.is_error, f"{tool} isError: {text[:200]}")
            need(bool(text.strip()), f"{tool} answered no text")
            calls += 1
        return f"protocol {client.protocol_version}, {len(names)} tools, {calls} calls ok"


def phase_eras(args: argparse.Namespace, log: AccessLog) -> None:
    log.mark()
    for era, mode in [(MODERN, "auto"), (LEGACY, "legacy")]:
        check(f"eras: {era} via nginx (python SDK)",
              lambda mode=mode: anyio.run(sdk_session, f"{args.nginx}/mcp", "demo-key-user", mode))

    def spread() -> str:
        served = log.served_by(log.since(), "/mcp")
        need(all(served.get(addr_of(r), 0) > 0 for r in args.replicas),
             f"not every replica served /mcp: {per_replica(served, args.replicas)}")
        metrics = []
        for r in args.replicas:
            text = httpx2.get(f"{r}/metrics", timeout=5).text
            total = sum(int(float(m)) for m in re.findall(r'^ilert_mcp_http_requests_total\{[^}]*\} (\S+)$', text, re.M))
            need(total > 0, f"{r}/metrics counts no MCP request")
            metrics.append(str(total))
        return f"/mcp requests per replica (nginx log): {per_replica(served, args.replicas)}; /metrics totals: {', '.join(metrics)}"

    check("eras: round robin reached all 3 replicas", spread)


# --- phase: confirm ------------------------------------------------------------------------

CONFIRM_META = {**META, "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}}}


def confirm_call(base: str, args: dict[str, Any], retry: tuple[str, str] | None = None) -> dict:
    """create_alert at one replica as a 2026-07-28 client that declared elicitation; `retry` is
    (requestState, action)."""
    headers, body = mcp_request(MODERN, "demo-key-user", 1, "create_alert", args)
    body["params"]["_meta"] = CONFIRM_META
    if retry:
        body["params"]["requestState"] = retry[0]
        answer: dict[str, Any] = {"action": retry[1]}
        if retry[1] == "accept":
            answer["content"] = {}
        body["params"]["inputResponses"] = {"confirm": answer}
    r = httpx2.post(f"{base}/mcp", headers=headers, json=body, timeout=20)
    need(r.status_code == 200, f"HTTP {r.status_code}: {r.text[:200]}")
    return r.json()["result"]


TASK_META = {**META, "io.modelcontextprotocol/clientCapabilities": {
    "elicitation": {"form": {}}, "extensions": {"io.modelcontextprotocol/tasks": {}}}}


def task_rpc(base: str, method: str, params: dict[str, Any]) -> dict:
    """One request of a 2026-07-28 client that declared the tasks extension (issue 26); its result."""
    headers = {"Authorization": "Bearer demo-key-user", "Content-Type": "application/json",
               "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MODERN,
               "Mcp-Method": method, "Mcp-Name": params.get("name") or params.get("taskId", "")}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": TASK_META}}
    r = httpx2.post(f"{base}/mcp", headers=headers, json=body, timeout=20)
    need(r.status_code == 200, f"{method}: HTTP {r.status_code}: {r.text[:200]}")
    answer = r.json()
    need("result" in answer, f"{method}: {json.dumps(answer)[:200]}")
    return answer["result"]


def asked_state(result: dict, where: str) -> str:
    need(result.get("resultType") == "input_required", f"{where}: no input_required: {json.dumps(result)[:200]}")
    message = result["inputRequests"]["confirm"]["params"]["message"]
    need("Paged now" in message, f"{where}: the prompt does not say who is paged: {message[:200]}")
    return result["requestState"]


def texts(result: dict) -> str:
    return " ".join(c.get("text", "") for c in result.get("content", []))


def alerts_with(base: str, summary: str) -> list[int]:
    headers, body = mcp_request(MODERN, "demo-key-user", 2, "list_alerts", {"states": ["PENDING"], "limit": 100})
    result = tool_result(httpx2.post(f"{base}/mcp", headers=headers, json=body, timeout=20))
    return [a["id"] for a in result["structuredContent"]["alerts"] if a.get("summary") == summary]


def phase_confirm(args: argparse.Namespace, log: AccessLog) -> None:
    a, b, c = args.replicas

    def accept_elsewhere() -> str:
        summary = f"scaleout confirm {secrets.token_hex(4)}"
        call = {"summary": summary, "source": "Grafana"}
        state = asked_state(confirm_call(a, call), "A")
        need(alerts_with(c, summary) == [], "asking alone raised the alert")
        result = confirm_call(b, call, (state, "accept"))
        need(not result.get("isError") and result.get("resultType", "complete") == "complete",
             f"accept at B: {texts(result)[:200]}")
        raised = alerts_with(c, summary)
        need(len(raised) == 1, f"after accept at B, C lists {len(raised)} alert(s) named {summary!r}")
        replay = confirm_call(c, call, (state, "accept"))
        need(replay.get("isError") and "already used" in texts(replay), f"replay at C: {texts(replay)[:200]}")
        need(len(alerts_with(a, summary)) == 1, "the replay raised another alert")
        return f"asked at A, accepted at B (alert #{raised[0]}), replay refused at C (Redis), still one alert"

    def decline_elsewhere() -> str:
        summary = f"scaleout confirm {secrets.token_hex(4)}"
        call = {"summary": summary, "source": "Grafana"}
        state = asked_state(confirm_call(b, call), "B")
        result = confirm_call(c, call, (state, "decline"))
        need(result.get("isError") and "declined" in texts(result), f"decline at C: {texts(result)[:200]}")
        need(alerts_with(a, summary) == [], "the declined alert exists")
        return "asked at B, declined at C: nothing raised"

    async def sdk_via_nginx() -> str:
        log.mark()
        summary = f"scaleout confirm sdk {secrets.token_hex(4)}"
        asked: list[str] = []

        async def on_elicit(_context: Any, params: Any) -> Any:
            from mcp import types
            asked.append(params.message)
            return types.ElicitResult(action="accept", content={})

        hc = httpx2.AsyncClient(headers={"Authorization": "Bearer demo-key-user"}, timeout=httpx2.Timeout(20.0))
        async with hc, Client(streamable_http_client(f"{args.nginx}/mcp", http_client=hc), mode=MODERN,
                              elicitation_callback=on_elicit) as client:
            result = await client.call_tool("create_alert", {"summary": summary, "source": "Grafana"})
        need(len(asked) == 1 and summary in asked[0], f"elicitation asked {len(asked)} time(s)")
        need(not result.is_error, f"create_alert after accept: {result.content}")
        served = log.served_by(log.since(), "/mcp")
        need(len(alerts_with(a, summary)) == 1, "the alert was not raised exactly once")
        return f"python SDK through nginx, callback accepted; /mcp per replica: {per_replica(served, args.replicas)}"

    def task_elsewhere() -> str:
        summary = f"scaleout task {secrets.token_hex(4)}"
        created = task_rpc(a, "tools/call", {"name": "create_alert",
                                             "arguments": {"summary": summary, "source": "Grafana"}})
        need(created.get("resultType") == "task" and created.get("status") == "input_required",
             f"create_alert at A with tasks declared: {json.dumps(created)[:200]}")
        task_id = created["taskId"]
        asking = task_rpc(b, "tasks/get", {"taskId": task_id})
        need(asking.get("status") == "input_required" and "confirm" in asking.get("inputRequests", {}),
             f"tasks/get at B: {json.dumps(asking)[:200]}")
        task_rpc(c, "tasks/update", {"taskId": task_id,
                                     "inputResponses": {"confirm": {"action": "accept", "content": {}}}})
        raised = alerts_with(a, summary)
        need(len(raised) == 1, f"after the yes at C, A lists {len(raised)} alert(s) named {summary!r}")
        working = task_rpc(a, "tasks/get", {"taskId": task_id})
        need(working.get("status") == "working" and f"#{raised[0]}" in working.get("statusMessage", ""),
             f"tasks/get at A: {json.dumps(working)[:200]}")
        headers, body = mcp_request(MODERN, "demo-key-admin", 3, "accept_alerts", {"ids": [raised[0]]})
        tool_result(httpx2.post(f"{b}/mcp", headers=headers, json=body, timeout=20))
        deadline = time.monotonic() + 10
        while True:
            done = task_rpc(c, "tasks/get", {"taskId": task_id})
            if done.get("status") == "completed" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        text = " ".join(x.get("text", "") for x in done.get("result", {}).get("content", []))
        need(done.get("status") == "completed" and "accepted by" in text,
             f"tasks/get at C after the acceptance: {json.dumps(done)[:300]}")
        return f"task made at A, question read at B, answered at C, alert #{raised[0]} accepted at B, completed at C"

    check("confirm: asked at A, accepted at B, replay refused at C", accept_elsewhere)
    check("tasks: made at A, answered at C, polled at A and C (Redis)", task_elsewhere)
    check("confirm: asked at B, declined at C", decline_elsewhere)
    check("confirm: SDK elicitation through nginx", lambda: anyio.run(sdk_via_nginx))


# --- phase: kill ---------------------------------------------------------------------------

def process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


KILL_GRACE_S = 0.1


async def kill_loop(args: argparse.Namespace) -> dict[str, Any]:
    calls, concurrency, kill_at = args.calls, args.concurrency, args.calls // 3
    started = 0
    in_flight = 0
    records: list[dict[str, Any]] = []
    kill = {"at": None, "dead": None, "in_flight": 0, "started_at_kill": 0}
    killed = anyio.Event()

    async def do_kill() -> None:
        kill["in_flight"] = in_flight
        kill["started_at_kill"] = started
        kill["at"] = time.monotonic()
        os.kill(args.victim_pid, signal.SIGKILL)
        while not process_gone(args.victim_pid):  # the kernel closes its sockets as it dies
            await anyio.sleep(0.001)
        kill["dead"] = time.monotonic()
        killed.set()

    async def worker(client: httpx2.AsyncClient) -> None:
        nonlocal started, in_flight
        while started < calls:
            i = started
            started += 1
            if i == kill_at:
                await do_kill()
            era = MODERN if i % 2 == 0 else LEGACY
            tool, arguments = ("who_is_on_call", {}) if i % 10 == 0 else ("list_alerts", {"limit": 3})
            headers, body = mcp_request(era, KEYS[i % len(KEYS)], i, tool, arguments)
            record = {"i": i, "start": time.monotonic(), "ok": False, "error": ""}
            in_flight += 1
            try:
                tool_result(await client.post(f"{args.nginx}/mcp", headers=headers, json=body))
                record["ok"] = True
            except CheckFailed as e:
                record["error"] = str(e)
            except httpx2.HTTPError as e:
                record["error"] = f"{type(e).__name__}: {e}"
            except Exception as e:  # noqa: BLE001 (any other transport fault is a failed call too,
                # judged by the same window rules; seen once as an unhandled error in the group)
                record["error"] = f"{type(e).__name__}: {e}"
            finally:
                in_flight -= 1
                record["end"] = time.monotonic()
                records.append(record)

    t0 = time.monotonic()
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(15.0)) as client:
        with anyio.fail_after(args.timeout):
            async with anyio.create_task_group() as tg:
                for _ in range(concurrency):
                    tg.start_soon(worker, client)
    return {"records": records, "kill": kill, "seconds": time.monotonic() - t0, "killed": killed.is_set()}


def phase_kill(args: argparse.Namespace, log: AccessLog) -> None:
    log.mark()
    def summary() -> str:
        out = anyio.run(kill_loop, args)
        records, kill = out["records"], out["kill"]
        lines = log.since()
        need(out["killed"] and kill["dead"] is not None, "the victim was never killed")
        need(len(records) == args.calls, f"{len(records)} of {args.calls} calls finished")
        failures = [r for r in records if not r["ok"]]
        # In flight during the kill: started before the victim was gone (or within KILL_GRACE_S
        # after: nginx may still hand a call to a pooled keep-alive connection to the dead
        # replica, and does not re-send a POST; seen once in CI as a 502 for the call that
        # started right after the kill), finished after the signal.
        settled = kill["dead"] + KILL_GRACE_S
        overlapping = [r for r in records if r["start"] < settled and r["end"] > kill["at"]]
        after = [r for r in records if r["start"] >= settled]
        stray = [r for r in failures if r not in overlapping]
        served = log.served_by([f for f in lines if f[2] == "/mcp"])
        victim = addr_of(args.replicas[2])
        not_ok = [f for f in lines if len(f) >= 5 and f[3] != "200"]
        bad_gateway = sum(1 for f in not_ok if f[3] == "502" and f[4].split(", ")[-1] == victim)
        rerouted = sum(1 for f in lines if len(f) >= 5 and ", " in f[4])
        detail = (f"{len(records)} calls ({args.concurrency} at a time) in {out['seconds']:.1f} s; SIGKILL "
                  f"as call #{kill['started_at_kill']} started, {kill['in_flight']} other call(s) in flight, "
                  f"{len(overlapping)} overlapping the kill; {len(failures)} failed (allowed: those "
                  f"overlapping, at most {args.concurrency}), each a 502 from C mid-answer ({bad_gateway}); all {len(after)} "
                  f"started 0.1 s after it ok; served {per_replica(served, args.replicas)}; "
                  f"{rerouted} re-sent by nginx to another replica")
        need(not stray, f"{len(stray)} failure(s) outside the kill window, e.g. call #{stray[0]['i'] if stray else '?'}: "
             f"{stray[0]['error'] if stray else ''}; {detail}")
        need(len(failures) <= len(overlapping) and len(failures) <= args.concurrency,
             f"too many failures; {detail}; first: {failures[0]['error'] if failures else ''}")
        need(all(r["ok"] for r in after), f"a call after the kill failed; {detail}")
        # Every failed call was one nginx had handed to the killed replica, which died mid-answer.
        need(len(not_ok) == bad_gateway == len(failures),
             f"nginx logged {len(not_ok)} non-200 answer(s), {bad_gateway} of them 502 from replica C, "
             f"for {len(failures)} failed call(s); {detail}")
        need(len(after) >= args.calls // 2, f"only {len(after)} calls ran after the kill")
        for r in failures:
            print(f"  failed in flight: call #{r['i']}: {r['error']}", file=sys.stderr)
        return detail

    check("kill: replica C SIGKILLed mid-run", summary)


# --- OAuth helpers -------------------------------------------------------------------------

def pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def http() -> httpx2.Client:
    return httpx2.Client(timeout=httpx2.Timeout(10.0), follow_redirects=False)


def register(base: str) -> str:
    with http() as c:
        r = c.post(f"{base}/register", json={"client_name": "Scale-out test", "redirect_uris": [REDIRECT],
                                              "token_endpoint_auth_method": "none"})
    need(r.status_code == 201, f"register at {base}: HTTP {r.status_code} {r.text[:200]}")
    return r.json()["client_id"]


def authorize(base: str, issuer: str, client_id: str, challenge: str, post_base: str | None = None) -> str:
    """GET the sign-in page at `base`, submit it (at `post_base`, default the same), return the code."""
    with http() as c:
        page = c.get(f"{base}/authorize", params={
            "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
            "code_challenge": challenge, "code_challenge_method": "S256", "state": "st",
            "scope": "ilert:read ilert:write", "resource": f"{issuer}/mcp"})
        need(page.status_code == 200, f"authorize page at {base}: HTTP {page.status_code} {page.text[:200]}")
        found = re.search(r'name="request" value="([^"]+)"', page.text)
        need(found is not None, "no sign-in form")
        cookie = page.headers.get("set-cookie", "").split(";")[0]
        answer = c.post(f"{post_base or base}/authorize", headers={"Cookie": cookie}, data={
            "request": html.unescape(found.group(1)), "api_key": "demo-key-user",
            "scope": "write", "decision": "allow"})
    need(answer.status_code == 303, f"authorize submit: HTTP {answer.status_code} {answer.text[:200]}")
    location = httpx2.URL(answer.headers["location"])
    need(str(location).startswith(REDIRECT), f"redirected to {location}")
    need(location.params.get("iss") == issuer, f"iss {location.params.get('iss')!r}, want {issuer}")
    code = location.params.get("code")
    need(bool(code), f"no code in the redirect: {location}")
    return code


def token(base: str, form: dict[str, str]) -> tuple[int, dict]:
    with http() as c:
        r = c.post(f"{base}/token", data=form)
    try:
        body = r.json()
    except ValueError:
        body = {"raw": r.text[:200]}
    return r.status_code, body


def exchange(base: str, client_id: str, code: str, verifier: str) -> tuple[int, dict]:
    return token(base, {"grant_type": "authorization_code", "code": code, "client_id": client_id,
                        "redirect_uri": REDIRECT, "code_verifier": verifier})


def refresh(base: str, client_id: str, refresh_token: str) -> tuple[int, dict]:
    return token(base, {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id})


def granted(status: int, body: dict, what: str) -> dict:
    need(status == 200 and "access_token" in body and "refresh_token" in body,
         f"{what}: HTTP {status} {body.get('error', '')} {body.get('error_description', '')}")
    return body


def refused(status: int, body: dict, what: str, error: str = "invalid_grant", want: int = 400) -> str:
    # Never print tokens, not even a test run's: say that some were issued.
    got = body.get("error") or ("tokens issued" if "access_token" in body else sorted(body))
    need(status == want and body.get("error") == error, f"{what}: want {want} {error}, got HTTP {status} {got}")
    return f"{status} {error}"


def whoami(base: str, access: str, era: str = MODERN) -> str:
    headers, body = mcp_request(era, access, 1, "get_current_user", {})
    with http() as c:
        result = tool_result(c.post(f"{base}/mcp", headers=headers, json=body))
    name = (result.get("structuredContent") or {}).get("name")
    need(name == "Jonas Weber", f"get_current_user answered {name!r}")
    return name


def race(fn: Callable[[str], tuple[int, dict]], bases: list[str]) -> list[int]:
    """Calls fn(base) for every base at the same moment; their HTTP statuses."""
    statuses: list[int] = [0] * len(bases)
    barrier = threading.Barrier(len(bases))

    def run(i: int) -> None:
        barrier.wait(5)
        statuses[i] = fn(bases[i])[0]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return statuses


def nginx_flow(args: argparse.Namespace, log: AccessLog, label: str) -> str:
    """register, authorize, token, refresh, MCP (both eras) and replays, all through nginx."""
    n = args.nginx
    log.mark()
    client_id = register(n)
    verifier, challenge = pkce()
    code = authorize(n, n, client_id, challenge)
    tokens = granted(*exchange(n, client_id, code, verifier), "token via nginx")
    renewed = granted(*refresh(n, client_id, tokens["refresh_token"]), "refresh via nginx")
    whoami(n, renewed["access_token"], MODERN)
    whoami(n, renewed["access_token"], LEGACY)
    refused(*exchange(n, client_id, code, verifier), "code replay via nginx")
    refused(*refresh(n, client_id, tokens["refresh_token"]), "refresh replay via nginx")
    served = log.served_by(log.since())
    return f"{label}: 7 steps + 2 replays refused; served {per_replica(served, args.replicas)}"


# --- phase: oauth --------------------------------------------------------------------------

def phase_oauth(args: argparse.Namespace, log: AccessLog) -> None:
    a, b, c = args.replicas
    issuer = args.nginx
    state: dict[str, Any] = {}

    def flow() -> str:
        state["client_id"] = client_id = register(a)
        verifier, challenge = pkce()
        state["code"], state["verifier"] = authorize(b, issuer, client_id, challenge), verifier
        state["tokens"] = granted(*exchange(c, client_id, state["code"], verifier), "token at C")
        state["renewed"] = granted(*refresh(a, client_id, state["tokens"]["refresh_token"]), "refresh at A")
        whoami(b, state["renewed"]["access_token"])
        return "register@A -> authorize GET+POST@B -> token@C -> refresh@A -> tools/call@B as Jonas Weber"

    check("oauth: each step at a different replica", flow)

    def replays() -> str:
        need("renewed" in state, "the flow above did not finish")
        client_id, code, verifier = state["client_id"], state["code"], state["verifier"]
        old = state["tokens"]["refresh_token"]
        results = [
            "code@A " + refused(*exchange(a, client_id, code, verifier), "code replay at A"),
            "code@B " + refused(*exchange(b, client_id, code, verifier), "code replay at B"),
            "old refresh@B " + refused(*refresh(b, client_id, old), "refresh replay at B"),
            "old refresh@C " + refused(*refresh(c, client_id, old), "refresh replay at C"),
        ]
        return "; ".join(results)

    check("oauth: replays refused across replicas", replays)

    def races() -> str:
        need("client_id" in state, "the flow above did not finish")
        client_id = state["client_id"]
        verifier, challenge = pkce()
        code = authorize(c, issuer, client_id, challenge, post_base=a)
        codes = race(lambda base: exchange(base, client_id, code, verifier), [a, b, c])
        need(sorted(codes) == [200, 400, 400], f"one code at A, B, C at once: statuses {codes}")
        # The replays above revoked the first sign-in's family: race a fresh sign-in's token.
        verifier2, challenge2 = pkce()
        code2 = authorize(b, issuer, client_id, challenge2)
        rt = granted(*exchange(c, client_id, code2, verifier2), "fresh sign-in at C")["refresh_token"]
        refreshes = race(lambda base: refresh(base, client_id, rt), [a, b, c])
        need(sorted(refreshes) == [200, 400, 400], f"one refresh token at A, B, C at once: statuses {refreshes}")
        return f"same code at A,B,C at once -> {codes}; same refresh token -> {refreshes}"

    check("oauth: simultaneous redemption, one winner", races)

    def family() -> str:
        need("client_id" in state, "the flow above did not finish")
        client_id = state["client_id"]

        def sign_in(token_at: str) -> dict:
            verifier, challenge = pkce()
            code = authorize(b, issuer, client_id, challenge)
            return granted(*exchange(token_at, client_id, code, verifier), f"sign-in, token at {token_at}")

        victim, other = sign_in(a), sign_in(b)
        stolen = victim["refresh_token"]
        thief = granted(*refresh(a, client_id, stolen), "thief refreshes the stolen token at A")
        reused = refused(*refresh(b, client_id, stolen), "the client's reuse at B")
        status, body = refresh(c, client_id, thief["refresh_token"])
        revoked = refused(status, body, "the thief's newer token at C")
        need("revoked" in body.get("error_description", ""),
             f"the thief's token at C is refused as revoked: {body}")
        granted(*refresh(c, client_id, other["refresh_token"]), "another sign-in refreshes at C")
        return (f"stolen token refreshed@A (200), reused@B -> {reused}, thief's newer token@C -> {revoked} "
                "(family revoked), another family@C -> 200")

    check("oauth: reuse revokes the whole family across replicas", family)
    check("oauth: whole flow through nginx", lambda: nginx_flow(args, log, "round robin"))


# --- phase: outage -------------------------------------------------------------------------

def phase_outage(args: argparse.Namespace, log: AccessLog) -> None:
    a, b, c = args.replicas
    n = args.nginx
    prepared: dict[str, Any] = {}

    def prepare() -> str:
        client_id = register(n)
        verifier, challenge = pkce()
        tokens = granted(*exchange(n, client_id, authorize(n, n, client_id, challenge), verifier), "token")
        verifier2, challenge2 = pkce()
        prepared.update(client_id=client_id, tokens=tokens, verifier=verifier2,
                        code=authorize(n, n, client_id, challenge2))
        try:
            os.kill(args.redis_pid, signal.SIGKILL)
        except ProcessLookupError:
            # Seen twice in five runs: redis-server already gone when this phase began (no line
            # in its log, no OOM). The checks below need only that Redis is down, so say so and
            # go on; the recovery phase starts a new one.
            return "a grant and an unused code in hand; redis-server was already gone (not killed here)"
        deadline = time.monotonic() + 5
        while not process_gone(args.redis_pid):
            need(time.monotonic() < deadline, "redis-server did not die")
            time.sleep(0.01)
        return "a grant and an unused code in hand, then redis-server SIGKILLed"

    check("outage: Redis killed", prepare)
    if "code" not in prepared:
        return

    def refusals() -> str:
        client_id = prepared["client_id"]
        t0 = time.monotonic()
        results = [
            "code@A " + refused(*exchange(a, client_id, prepared["code"], prepared["verifier"]),
                                "code at A without Redis", "temporarily_unavailable", 503),
            "refresh@B " + refused(*refresh(b, client_id, prepared["tokens"]["refresh_token"]),
                                   "refresh at B without Redis", "temporarily_unavailable", 503),
            "refresh@C " + refused(*refresh(c, client_id, prepared["tokens"]["refresh_token"]),
                                   "refresh at C without Redis", "temporarily_unavailable", 503),
        ]
        took = time.monotonic() - t0
        need(took < 10, f"refusals took {took:.1f} s")
        return "; ".join(results) + f" (fail closed, {took:.1f} s for all three)"

    check("outage: token endpoint refuses (fail closed)", refusals)

    def readiness() -> str:
        states = []
        for i, r in enumerate(args.replicas):
            resp = httpx2.get(f"{r}/readyz", timeout=10)
            need(resp.status_code == 503 and "oauth store (redis): not reachable" in resp.text,
                 f"{r}/readyz: HTTP {resp.status_code} {resp.text!r}")
            states.append(f"{chr(65 + i)}=503")
        return f"/readyz {' '.join(states)}: 'oauth store (redis): not reachable'"

    check("outage: /readyz reports Redis", readiness)

    def still_serving() -> str:
        for era in (MODERN, LEGACY):
            headers, body = mcp_request(era, "demo-key-user", 1, "list_alerts", {"limit": 2})
            with http() as cl:
                tool_result(cl.post(f"{n}/mcp", headers=headers, json=body))
        whoami(n, prepared["tokens"]["access_token"])
        return "API-key calls (both eras) and an access token still work through nginx"

    check("outage: MCP keeps working without Redis", still_serving)


def phase_recovery(args: argparse.Namespace, log: AccessLog) -> None:
    def ready_again() -> str:
        t0 = time.monotonic()
        pending = list(args.replicas)
        while pending:
            pending = [r for r in pending if httpx2.get(f"{r}/readyz", timeout=10).status_code != 200]
            if pending:
                need(time.monotonic() - t0 < 15, f"not ready again within 15 s: {pending}")
                time.sleep(0.2)
        return f"all replicas ready {time.monotonic() - t0:.1f} s after the check began"

    check("recovery: /readyz ready again", ready_again)
    check("recovery: flow through nginx", lambda: nginx_flow(args, log, "after Redis restart"))

    def rejoined() -> str:
        """nginx left the killed replica out for fail_timeout; now it must get requests again."""
        c = addr_of(args.replicas[2])
        t0 = time.monotonic()
        log.mark()
        with http() as cl:
            while True:
                need(cl.get(f"{args.nginx}/healthz").status_code == 200, "GET /healthz via nginx failed")
                if log.served_by(log.since()).get(c):
                    return f"nginx sent requests to the restarted replica C again after {time.monotonic() - t0:.1f} s of polling"
                need(time.monotonic() - t0 < 20, "the restarted replica C got no request through nginx within 20 s")

    check("recovery: restarted replica C back in rotation", rejoined)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("phase", choices=["eras", "confirm", "kill", "oauth", "outage", "recovery"])
    p.add_argument("--nginx", required=True, help="nginx base URL (the public URL), http://127.0.0.1:PORT")
    p.add_argument("--replicas", required=True, help="comma-separated base URLs of replicas A,B,C")
    p.add_argument("--access-log", required=True, help="nginx access log (format: see nginx.conf.in)")
    p.add_argument("--victim-pid", type=int, help="kill: the replica to SIGKILL")
    p.add_argument("--redis-pid", type=int, help="outage: the redis-server to SIGKILL")
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--timeout", type=float, default=60.0, help="kill: time limit for the loop (s)")
    args = p.parse_args()
    args.nginx = args.nginx.rstrip("/")
    args.replicas = [r.rstrip("/") for r in args.replicas.split(",")]
    for url in [args.nginx, *args.replicas]:
        if httpx2.URL(url).host != "127.0.0.1":
            p.error(f"only 127.0.0.1 is contacted: {url}")
    log = AccessLog(args.access_log)
    {"eras": phase_eras, "confirm": phase_confirm, "kill": phase_kill, "oauth": phase_oauth, "outage": phase_outage,
     "recovery": phase_recovery}[args.phase](args, log)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
