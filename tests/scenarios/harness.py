"""The scenario suite's machinery: a fresh `ilert-mcp demo` per task, an MCP client (the official
Python SDK) that counts what the model reads, a REST client for ground truth that never goes
through ilert-mcp, state snapshots for writes, and the table.

Ground truth comes from the sandbox's own REST API (`/api/...`, the demo keys) with plain urllib
and a `User-Agent` of its own, so the sandbox's test-only counter (`GET /_test/requests`) tells
the requests ilert-mcp made (user agent `ilert-mcp`) apart from the truth checks' requests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable
from zoneinfo import ZoneInfo

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

UTC = timezone.utc
TRUTH_AGENT = "ilert-scenarios-truth/1"
HEALTH_TIMEOUT_S = 20

ADMIN = "demo-key-admin"          # Maya Chen, ADMIN
USER = "demo-key-user"            # Jonas Weber, USER
RESPONDER = "demo-key-responder"  # Priya Nair, RESPONDER
STAKEHOLDER = "demo-key-stakeholder"  # Sam Rivera, STAKEHOLDER


class CheckFailed(Exception):
    """A task cannot go on (its first call failed, a precondition does not hold)."""


# --- times ----------------------------------------------------------------------------------

ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})")


def parse_time(raw: str) -> datetime:
    """An ISO-8601 time with `Z` or an offset, as ilert and ilert-mcp write them."""
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def wire(t: datetime) -> str:
    """The ISO form the sandbox's query parameters take."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def times_in(text: str) -> list[str]:
    """Every ISO-8601 date-time (with Z or an offset) written in `text`."""
    return ISO_RE.findall(text)


def local(t: datetime, zone: str) -> datetime:
    return t.astimezone(ZoneInfo(zone))


# --- the demo -------------------------------------------------------------------------------

def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Demo:
    """`ilert-mcp demo` on two free loopback ports with its own fresh data directory."""

    def __init__(self, binary: str, args: list[str], log_dir: str | None) -> None:
        self.binary = binary
        self.args = args
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.dir = ""
        self.mcp_port = self.sandbox_port = 0

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.mcp_port}/mcp"

    @property
    def sandbox(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def start(self, label: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="ilert-scenarios-")
        self.mcp_port, self.sandbox_port = free_ports(2)
        log_path = os.path.join(self.log_dir or self.dir, f"demo-{label}.log")
        self.log = open(log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.log_path = log_path
        cmd = [self.binary, "demo", "--bind", f"127.0.0.1:{self.mcp_port}",
               "--sandbox-bind", f"127.0.0.1:{self.sandbox_port}", "--data-dir", self.dir, "--reset",
               *self.args]
        env = dict(os.environ)
        # The truth's snapshots read every alert's timeline (over 150 alerts with the history), more
        # than the sandbox's 120 requests a minute per key; the tools' own reads are counted anyway.
        env.setdefault("ILERT_SANDBOX_RATE_LIMIT", "0")
        if self.log_dir:  # kept for scripts/secrets-scan: log everything, as scripts/interop does
            env["ILERT_MCP_LOG"] = "trace"
        # stdout is the banner, which shows the demo key on purpose: not kept.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
                                     env=env)
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:  # bounded by HEALTH_TIMEOUT_S
            if self.proc.poll() is not None:
                raise CheckFailed(f"the demo exited with {self.proc.returncode}; log: {log_path}")
            if all(self._healthy(p) for p in (self.mcp_port, self.sandbox_port)):
                return
            if time.monotonic() > deadline:
                raise CheckFailed(f"the demo was not healthy within {HEALTH_TIMEOUT_S} s; log: {log_path}")
            time.sleep(0.05)

    @staticmethod
    def _healthy(port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""


# --- ground truth over REST -----------------------------------------------------------------

class Rest:
    """The sandbox's REST API with a demo key: the independent source of truth."""

    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.key = key

    def as_key(self, key: str) -> "Rest":
        return Rest(self.base, key)

    def get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode(
            [(k.replace("_", "-") if k in ("max_results", "start_index") else k, v)
             for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])])
        url = f"{self.base}/api{path}" + (f"?{query}" if query else "")
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.key}",
                                                   "User-Agent": TRUTH_AGENT, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise CheckFailed(f"truth GET {path} -> HTTP {e.code}: {e.read()[:300]!r}") from e

    def put(self, path: str) -> Any:
        """A write straight to the sandbox as this key's user (another person acting in ilert)."""
        req = urllib.request.Request(f"{self.base}/api{path}", method="PUT", data=b"",
                                     headers={"Authorization": f"Bearer {self.key}", "User-Agent": TRUTH_AGENT,
                                              "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise CheckFailed(f"truth PUT {path} -> HTTP {e.code}: {e.read()[:300]!r}") from e

    def upstream_count(self) -> int:
        """Requests ilert-mcp made to the sandbox so far (the sandbox's test-only counter)."""
        with urllib.request.urlopen(f"{self.base}/_test/requests", timeout=5) as r:
            return int(json.loads(r.read())["byUserAgent"].get("ilert-mcp", 0))

    # Collections, whole (the demo organisation is small; pages are bounded anyway).
    def paged(self, path: str, page: int, **params: Any) -> list[Any]:
        out: list[Any] = []
        for i in range(50):  # bounded
            batch = self.get(path, start_index=i * page, max_results=page, **params)
            out.extend(batch)
            if len(batch) < page:
                return out
        raise CheckFailed(f"truth: {path} has more than 50 pages")

    def alerts(self, states: tuple[str, ...] = ("PENDING", "ACCEPTED", "RESOLVED")) -> list[dict]:
        return self.paged("/alerts", 100, states=list(states))

    def open_alerts(self) -> list[dict]:
        return self.alerts(("PENDING", "ACCEPTED"))

    def me(self) -> dict:
        return self.get("/users/current")

    def users(self) -> list[dict]:
        return self.paged("/users", 100)

    def on_calls(self, **params: Any) -> list[dict]:
        return self.paged("/on-calls", 50, expand=["user"], **params)

    def policies(self) -> list[dict]:
        return self.paged("/escalation-policies", 50)

    def schedules(self) -> list[dict]:
        return self.paged("/schedules", 20)

    def sources(self) -> list[dict]:
        return self.paged("/alert-sources", 50)

    def incidents(self, **params: Any) -> list[dict]:
        return self.paged("/incidents", 100, **params)

    def snapshot(self) -> dict[str, Any]:
        """Everything a tool could change, keyed "kind/id" (reads as an admin sees them)."""
        admin = self.as_key(ADMIN)
        snap: dict[str, Any] = {}
        for a in admin.alerts():
            snap[f"alert/{a['id']}"] = sources_by_id(a)
            snap[f"alert-log/{a['id']}"] = admin.get(f"/alerts/{a['id']}/log-entries", max_results=100)
        for i in admin.incidents():
            snap[f"incident/{i['id']}"] = admin.get(f"/incidents/{i['id']}", include="history")
        for s in admin.get("/services"):
            snap[f"service/{s['id']}"] = s
        for state in ("OPEN", "CLOSED"):
            for m in admin.get("/maintenance-windows", state=state):
                snap[f"maintenance/{m['id']}"] = sources_by_id(m)
        for s in admin.schedules():
            snap[f"schedule/{s['id']}"] = s
            snap[f"overrides/{s['id']}"] = admin.get(f"/schedules/{s['id']}/overrides")
        for p in admin.policies():
            snap[f"policy/{p['id']}"] = p
        for s in admin.sources():
            snap[f"source/{s['id']}"] = s
        for u in admin.users():
            snap[f"user/{u['id']}"] = u
        for t in admin.get("/teams"):
            snap[f"team/{t['id']}"] = t
        return snap


def sources_by_id(obj: dict) -> dict:
    """Alert sources embedded in alerts and maintenance windows carry the source's status, which
    any alert of that source changes; the snapshot keeps sources apart (`source/<id>`)."""
    out = dict(obj)
    if isinstance(out.get("alertSource"), dict):
        out["alertSource"] = {"id": out["alertSource"].get("id"), "name": out["alertSource"].get("name")}
    if isinstance(out.get("alertSources"), list):
        out["alertSources"] = [{"id": s.get("id"), "name": s.get("name")} for s in out["alertSources"]]
    return out


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    keys = set(before) | set(after)
    return {k: (before.get(k), after.get(k)) for k in sorted(keys) if before.get(k) != after.get(k)}


# --- the model's side: MCP calls ------------------------------------------------------------

@dataclass
class ToolResult:
    name: str
    args: dict[str, Any]
    is_error: bool
    text: str
    sc: Any  # structuredContent (None when absent)

    @property
    def everything(self) -> str:
        """Text and structuredContent as one string, for "does the answer say X" checks."""
        return self.text + "\n" + (json.dumps(self.sc, ensure_ascii=False) if self.sc is not None else "")


@dataclass
class Ctx:
    """What a task sees: the MCP client, REST truth, and its checks."""

    client: Client
    rest: Rest
    demo: Demo
    key: str
    calls: int = 0
    bytes_read: int = 0
    failures: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    async def call(self, name: str, args: dict[str, Any]) -> ToolResult:
        self.calls += 1
        try:
            r = await self.client.call_tool(name, args)
        except MCPError as e:
            # A protocol error: the model reads its message.
            text = f"JSON-RPC error {e.code}: {e.message}"
            self.bytes_read += len(text.encode())
            self.transcript.append(f"-> {name} {json.dumps(args)}\n<- {text}")
            return ToolResult(name, args, True, text, None)
        text = "\n".join(getattr(c, "text", "") for c in (r.content or []))
        sc = r.structured_content
        self.bytes_read += len(text.encode())
        if sc is not None:
            self.bytes_read += len(json.dumps(sc, ensure_ascii=False, separators=(",", ":")).encode())
        self.transcript.append(f"-> {name} {json.dumps(args)}\n<- {'ERROR ' if r.is_error else ''}{text[:1500]}")
        return ToolResult(name, args, bool(r.is_error), text, sc)

    async def ok(self, name: str, args: dict[str, Any]) -> ToolResult:
        """A call the task depends on: an error result ends the task."""
        r = await self.call(name, args)
        if r.is_error:
            raise CheckFailed(f"{name}({json.dumps(args)}) failed: {r.text[:400]}")
        return r

    def check(self, cond: bool, message: str) -> bool:
        if not cond:
            self.failures.append(message)
        return cond

    def equal(self, got: Any, want: Any, what: str) -> bool:
        return self.check(got == want, f"{what}: got {got!r}, want {want!r}")

    def only_changed(self, before: dict[str, Any], after: dict[str, Any],
                     allowed: Callable[[str], bool]) -> dict[str, tuple[Any, Any]]:
        """Writes: nothing outside `allowed` keys changed. Returns the allowed changes."""
        diff = changed(before, after)
        stray = [k for k in diff if not allowed(k)]
        self.check(not stray, f"unexpected changes: {stray[:8]}")
        return {k: v for k, v in diff.items() if allowed(k)}


# --- tasks and the run ----------------------------------------------------------------------

@dataclass
class Task:
    name: str
    ask: str
    key: str
    covers: str
    defects: tuple[str, ...]
    fn: Callable[[Ctx], Awaitable[None]]
    demo_args: tuple[str, ...] = ()


TASKS: list[Task] = []


def task(name: str, ask: str, *, key: str = USER, covers: str, defects: tuple[str, ...] = (),
         demo_args: tuple[str, ...] = ()) -> Callable[[Callable[[Ctx], Awaitable[None]]], Callable[[Ctx], Awaitable[None]]]:
    def register(fn: Callable[[Ctx], Awaitable[None]]) -> Callable[[Ctx], Awaitable[None]]:
        if any(t.name == name for t in TASKS):
            raise ValueError(f"duplicate task {name}")
        TASKS.append(Task(name, ask, key, covers, defects, fn, demo_args))
        return fn
    return register


@dataclass
class Outcome:
    task: Task
    passed: bool
    calls: int
    bytes_read: int
    upstream: int
    failures: list[str]
    transcript: list[str]
    seconds: float


def describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


async def run_task(t: Task, binary: str, log_dir: str | None, extra: list[str] | None = None) -> Outcome:
    # A task that sets its own demo arguments keeps them alone (flags may not repeat).
    demo = Demo(binary, list(t.demo_args) if t.demo_args else list(extra or []), log_dir)
    started = time.monotonic()
    ctx: Ctx | None = None
    upstream = 0
    try:
        demo.start(t.name)
        rest = Rest(demo.sandbox, t.key)
        hc = httpx2.AsyncClient(headers={"Authorization": f"Bearer {t.key}"}, timeout=httpx2.Timeout(30.0))
        async with hc, Client(streamable_http_client(demo.mcp_url, http_client=hc), mode="auto") as client:
            ctx = Ctx(client, rest, demo, t.key)
            base = rest.upstream_count()
            try:
                await t.fn(ctx)
            except CheckFailed as e:
                ctx.failures.append(str(e))
            upstream = rest.upstream_count() - base
    except Exception as e:  # noqa: BLE001 (any fault fails the task, with its reason)
        failures = (ctx.failures if ctx else []) + [describe(e)]
        return Outcome(t, False, ctx.calls if ctx else 0, ctx.bytes_read if ctx else 0, upstream,
                       failures, ctx.transcript if ctx else [], time.monotonic() - started)
    finally:
        demo.stop()
    return Outcome(t, not ctx.failures, ctx.calls, ctx.bytes_read, upstream, ctx.failures, ctx.transcript,
                   time.monotonic() - started)
