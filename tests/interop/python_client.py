#!/usr/bin/env python3
"""Interop smoke client for ilert-mcp using the official MCP Python SDK (`mcp`).

Modes:
  default   Streamable HTTP against --url with `Authorization: Bearer <key>`:
            - without the Authorization header the connection must fail with HTTP 401;
            - tools/list has the five ilert tools, each with a title and an object inputSchema;
            - list_alerts(PENDING) -> a stakeholder key may not accept it -> accept_alerts -> get_alert == ACCEPTED
              (no PENDING alert left: the same with an ACCEPTED one, resolve_alerts -> RESOLVED).
  --stdio   Spawns `<bin> stdio` (ILERT_API_KEY / ILERT_BASE_URL in its env); same tool checks, then
            accepts a PENDING alert (or takes an ACCEPTED one) and resolves it -> get_alert == RESOLVED.

State is shared with other clients, so alert ids are always picked from live listings.
Prints exactly one `PASS ...` line on success, or `FAIL ...` (plus details) and exits 1.
Run it from the repo's venv: .tools/venv/bin/python tests/interop/python_client.py --help
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import traceback
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

EXPECTED_TOOLS = {"list_alerts", "get_alert", "accept_alerts", "resolve_alerts", "get_current_user"}
REPO_ROOT = Path(__file__).resolve().parents[2]
SDK = f"python-sdk/{importlib.metadata.version('mcp')}"


class CheckFailed(Exception):
    """An interop assertion failed; the message is meant for humans."""


class Run:
    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.protocol = "-"
        self.notes: list[str] = []

    def line(self, verdict: str, detail: str) -> str:
        return f"{verdict} {SDK} {self.transport} protocol={self.protocol}: {detail}"


def describe(exc: BaseException) -> str:
    """One line for an exception, flattening (nested) exception groups to their leaves."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


def first_check_failure(exc: BaseException) -> CheckFailed | None:
    if isinstance(exc, CheckFailed):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = first_check_failure(inner)
            if found is not None:
                return found
    return None


def result_text(result: Any) -> str:
    parts = [getattr(c, "text", f"<{getattr(c, 'type', '?')} content>") for c in (result.content or [])]
    return " | ".join(parts) if parts else "<no content>"


async def call(client: Client, name: str, args: dict[str, Any]) -> Any:
    """Call a tool, require a non-error result with one text item, return structuredContent."""
    try:
        result = await client.call_tool(name, args)
    except MCPError as e:
        raise CheckFailed(f"{name}({args}) raised JSON-RPC error {e.code}: {e.message}") from e
    if result.is_error:
        raise CheckFailed(f"{name}({args}) returned isError=true: {result_text(result)}")
    texts = [c for c in result.content if getattr(c, "type", None) == "text"]
    if len(result.content) != 1 or len(texts) != 1:
        raise CheckFailed(f"{name}: expected exactly one text content item, got {len(result.content)} item(s)")
    if not isinstance(result.structured_content, dict):
        raise CheckFailed(f"{name}: structuredContent missing or not an object; text: {result_text(result)}")
    return result.structured_content


def check_tools(tools: list[Any]) -> None:
    names = {t.name for t in tools}
    missing = EXPECTED_TOOLS - names
    if missing:
        raise CheckFailed(f"tools/list lacks {sorted(missing)} (got {sorted(names)})")
    for t in tools:
        title = t.title or (t.annotations.title if t.annotations else None)
        if not title:
            raise CheckFailed(f"tool {t.name!r} has neither title nor annotations.title")
        if not isinstance(t.input_schema, dict) or t.input_schema.get("type") != "object":
            raise CheckFailed(f"tool {t.name!r} inputSchema.type is not 'object': {t.input_schema!r}")


async def list_all_tools(client: Client) -> list[Any]:
    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(20):  # bounded pagination
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools
    raise CheckFailed("tools/list did not finish within 20 pages")


async def alerts_in_state(client: Client, state: str) -> list[dict[str, Any]]:
    sc = await call(client, "list_alerts", {"states": [state]})
    alerts = sc.get("alerts")
    if not isinstance(alerts, list):
        raise CheckFailed(f"list_alerts: structuredContent.alerts is not a list: {sc!r}"[:500])
    for a in alerts:
        if not isinstance(a, dict) or not isinstance(a.get("id"), int) or a.get("status") != state:
            raise CheckFailed(f"list_alerts(states=[{state}]) returned an unexpected alert: {a!r}"[:500])
    return alerts


async def expect_status(client: Client, alert_id: int, status: str) -> None:
    alert = await call(client, "get_alert", {"id": alert_id})
    if alert.get("id") != alert_id or alert.get("status") != status:
        raise CheckFailed(f"get_alert({alert_id}): expected status {status}, got id={alert.get('id')!r} "
                          f"status={alert.get('status')!r}")


async def bulk(client: Client, tool: str, alert_id: int) -> None:
    sc = await call(client, tool, {"ids": [alert_id]})
    results = sc.get("results")
    if not isinstance(results, list) or len(results) != 1:
        raise CheckFailed(f"{tool}: expected one entry in results, got {sc!r}"[:500])
    r = results[0]
    if r.get("id") != alert_id or r.get("ok") is not True:
        raise CheckFailed(f"{tool}([{alert_id}]) not ok: {r!r}")
    if sc.get("succeeded") != 1 or sc.get("failed") != 0:
        raise CheckFailed(f"{tool}: expected succeeded=1 failed=0, got {sc.get('succeeded')!r}/{sc.get('failed')!r}")


def http_transport(url: str, key: str | None, hooks: list[Any] | None = None) -> tuple[Any, httpx2.AsyncClient]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    hc = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(20.0),
                            event_hooks={"response": hooks or []})
    return streamable_http_client(url, http_client=hc), hc


async def check_unauthenticated(url: str, mode: str) -> None:
    statuses: list[int] = []

    async def record(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    transport, hc = http_transport(url, None, [record])
    connected = False
    failure = ""
    async with hc:
        try:
            with anyio.fail_after(10):
                async with Client(transport, mode=mode) as client:
                    await client.list_tools()
                    connected = True
        except TimeoutError as e:
            raise CheckFailed(f"unauthenticated connect neither failed nor succeeded within 10 s "
                              f"(HTTP statuses seen: {statuses})") from e
        except Exception as e:  # noqa: BLE001 - any failure is expected; the status decides
            failure = describe(e)
    if connected:
        raise CheckFailed("connected and listed tools WITHOUT an Authorization header")
    if 401 not in statuses:
        raise CheckFailed(f"unauthenticated connect failed, but not with HTTP 401 "
                          f"(statuses seen: {statuses}; error: {failure})")


async def check_stakeholder_refused(url: str, mode: str, user: Client, tool: str, alert_id: int, status: str) -> None:
    """The read-only stakeholder key must not be able to run `tool` on the alert (still `status`)."""
    transport, hc = http_transport(url, "demo-key-stakeholder")
    async with hc, Client(transport, mode=mode) as sh:
        await list_all_tools(sh)
        try:
            result = await sh.call_tool(tool, {"ids": [alert_id]})
        except MCPError:
            result = None  # refused at the protocol level: acceptable
        if result is not None and not result.is_error:
            sc = result.structured_content or {}
            rows = sc.get("results") or [{}]
            if rows[0].get("ok") is not False:
                raise CheckFailed(f"stakeholder key was allowed to {tool} alert {alert_id}: {result_text(result)}")
    await expect_status(user, alert_id, status)


async def common_checks(client: Client, run: Run) -> None:
    run.protocol = client.protocol_version
    check_tools(await list_all_tools(client))
    me = await call(client, "get_current_user", {})
    if "id" not in me or "role" not in me:
        raise CheckFailed(f"get_current_user: missing id/role in {me!r}"[:500])


async def http_flow(args: argparse.Namespace, run: Run) -> str:
    await check_unauthenticated(args.url, args.mode)
    transport, hc = http_transport(args.url, args.key)
    async with hc, Client(transport, mode=args.mode) as client:
        await common_checks(client, run)
        # Accept a PENDING alert; when other clients have used them all up, resolve an ACCEPTED one.
        pending = await alerts_in_state(client, "PENDING")
        if pending:
            alert_id, tool, before, after = pending[0]["id"], "accept_alerts", "PENDING", "ACCEPTED"
        else:
            accepted = await alerts_in_state(client, "ACCEPTED")
            if not accepted:
                raise CheckFailed("no PENDING or ACCEPTED alert left in the sandbox for the write check")
            alert_id, tool, before, after = accepted[0]["id"], "resolve_alerts", "ACCEPTED", "RESOLVED"
        refused = ""
        if not args.skip_role_check:
            await check_stakeholder_refused(args.url, args.mode, client, tool, alert_id, before)
            refused = f", stakeholder {tool} refused"
        await bulk(client, tool, alert_id)
        await expect_status(client, alert_id, after)
    return f"tools ok, 401 without key{refused}, alert {alert_id} {before} -> {after}"


async def stdio_flow(args: argparse.Namespace, run: Run) -> str:
    if not args.base_url:
        raise CheckFailed("--stdio needs --base-url (or ILERT_BASE_URL), e.g. http://127.0.0.1:PORT/api")
    params = StdioServerParameters(
        command=str(args.bin),
        args=["stdio"],
        env={"ILERT_API_KEY": args.key, "ILERT_BASE_URL": args.base_url,
             **{k: os.environ[k] for k in ("RUST_LOG", "ILERT_MCP_LOG") if k in os.environ}},
    )
    async with AsyncExitStack() as stack:
        errlog = stack.enter_context(open(args.server_log, "a", encoding="utf-8")) if args.server_log else sys.stderr
        client = await stack.enter_async_context(Client(stdio_client(params, errlog=errlog), mode=args.mode))
        await common_checks(client, run)
        pending = await alerts_in_state(client, "PENDING")
        if pending:
            alert_id = pending[0]["id"]
            await bulk(client, "accept_alerts", alert_id)
            path = "PENDING -> ACCEPTED -> RESOLVED"
        else:
            accepted = await alerts_in_state(client, "ACCEPTED")
            if not accepted:
                raise CheckFailed("no PENDING or ACCEPTED alert left to resolve")
            alert_id = accepted[0]["id"]
            path = "ACCEPTED -> RESOLVED"
        await expect_status(client, alert_id, "ACCEPTED")
        await bulk(client, "resolve_alerts", alert_id)
        await expect_status(client, alert_id, "RESOLVED")
    return f"tools ok, alert {alert_id} {path}"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=os.environ.get("ILERT_MCP_URL", "http://127.0.0.1:8080/mcp"),
                   help="MCP endpoint for HTTP mode (default: $ILERT_MCP_URL or %(default)s)")
    p.add_argument("--stdio", action="store_true", help="spawn `<bin> stdio` instead of using HTTP")
    p.add_argument("--bin", type=Path, default=REPO_ROOT / "target" / "debug" / "ilert-mcp",
                   help="ilert-mcp binary for --stdio (default: %(default)s)")
    p.add_argument("--base-url", default=os.environ.get("ILERT_BASE_URL"),
                   help="sandbox API base for --stdio, e.g. http://127.0.0.1:PORT/api (default: $ILERT_BASE_URL)")
    p.add_argument("--key", default="demo-key-user", help="ilert API key (default: %(default)s)")
    p.add_argument("--mode", default="auto", choices=["auto", "legacy"],
                   help="SDK negotiation: auto = server/discover then initialize fallback; legacy = initialize only")
    p.add_argument("--skip-role-check", action="store_true", help="HTTP mode: skip the stakeholder refusal check")
    p.add_argument("--server-log", type=Path, help="--stdio: append the server's stderr to this file")
    p.add_argument("--timeout", type=float, default=45.0, help="overall time limit in seconds (default: %(default)s)")
    return p.parse_args()


async def main() -> int:
    args = parse_args()
    run = Run("stdio" if args.stdio else "streamable-http")
    try:
        with anyio.fail_after(args.timeout):
            detail = await (stdio_flow(args, run) if args.stdio else http_flow(args, run))
    except TimeoutError:
        print(run.line("FAIL", f"timed out after {args.timeout:g} s"), flush=True)
        return 1
    except BaseException as e:  # noqa: BLE001 - report anything (incl. ExceptionGroup) readably
        # The SDK's task groups wrap our own CheckFailed in ExceptionGroups; unwrap it.
        check = first_check_failure(e)
        if check is not None:
            print(run.line("FAIL", str(check)), flush=True)
        else:
            print(run.line("FAIL", describe(e)), flush=True)
            traceback.print_exception(e)
        return 1
    print(run.line("PASS", detail), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
