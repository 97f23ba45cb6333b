#!/usr/bin/env python3
"""Issue 13 interop: the official MCP Python SDK on protocol 2026-07-28 answers ilert-mcp's
confirmation of an outward write through its elicitation callback.

Over Streamable HTTP (--url) or stdio (--stdio BIN spawns `BIN stdio`), it calls create_alert (pages people) on alert source "Grafana". The server answers
`input_required`; the SDK shows the elicitation to our callback, which answers --answer
(accept or decline), and the SDK retries with the answer and the echoed requestState.
  accept   the alert is raised: the sandbox's alert count (read over its REST API) goes up by one;
  decline  the tool result is an error saying nothing was changed; the count is unchanged.
Either way the callback must have been asked exactly once, with a message naming the alert.
Prints the message the callback received (what a person would have seen), then one PASS/FAIL line.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import sys
from typing import Any

import anyio
import httpx2
from mcp import Client, types
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

SDK = f"python-sdk/{importlib.metadata.version('mcp')}"
MODERN = "2026-07-28"


def describe(exc: BaseException) -> str:
    """One line for an exception, flattening exception groups to their leaves."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


async def alert_count(sandbox: str, key: str) -> int:
    async with httpx2.AsyncClient(timeout=10.0) as hc:
        r = await hc.get(f"{sandbox}/alerts/count", headers={"Authorization": f"Bearer {key}"})
        r.raise_for_status()
        return int(r.json()["count"])


async def run(args: argparse.Namespace) -> str:
    asked: list[str] = []

    async def on_elicit(_context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        print(f"elicitation shown to the person:\n{params.message}\n", flush=True)
        if args.answer == "accept":
            return types.ElicitResult(action="accept", content={})
        return types.ElicitResult(action="decline")

    summary = f"interop confirm python {args.answer}"
    before = await alert_count(args.sandbox, args.key)
    if args.stdio:
        params = StdioServerParameters(command=args.stdio, args=["stdio"],
                                       env={"ILERT_API_KEY": args.key, "ILERT_BASE_URL": args.sandbox})
        errlog = open(args.server_log, "a", encoding="utf-8") if args.server_log else sys.stderr  # noqa: SIM115
        transport = stdio_client(params, errlog=errlog)
        hc = contextlib.AsyncExitStack()  # nothing to close but the server's log
        hc.callback(lambda: errlog is sys.stderr or errlog.close())
    else:
        hc = httpx2.AsyncClient(headers={"Authorization": f"Bearer {args.key}"}, timeout=httpx2.Timeout(20.0))
        transport = streamable_http_client(args.url, http_client=hc)
    async with hc, Client(transport, mode=MODERN, elicitation_callback=on_elicit) as client:
        if client.protocol_version != MODERN:
            raise AssertionError(f"negotiated {client.protocol_version}, want {MODERN}")
        result = await client.call_tool("create_alert", {"summary": summary, "source": "Grafana"})
    after = await alert_count(args.sandbox, args.key)
    text = " | ".join(getattr(c, "text", "") for c in result.content or [])
    if len(asked) != 1:
        raise AssertionError(f"the callback was asked {len(asked)} time(s), want 1")
    if summary not in asked[0] or "Paged now" not in asked[0]:
        raise AssertionError(f"the prompt does not say what will happen: {asked[0]!r}")
    if args.answer == "accept":
        if result.is_error or after != before + 1:
            raise AssertionError(f"accepted but alerts {before} -> {after}; result: {text}")
        return f"elicitation accepted -> alert raised ({before} -> {after} alerts)"
    if not result.is_error or "declined" not in text or after != before:
        raise AssertionError(f"declined but alerts {before} -> {after}; result: {text}")
    return f"elicitation declined -> nothing raised ({after} alerts), tool said: {text}"


async def run_bounded(args: argparse.Namespace) -> str:
    with anyio.fail_after(45):
        return await run(args)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="MCP endpoint, e.g. http://127.0.0.1:PORT/mcp")
    p.add_argument("--stdio", metavar="BIN", help="instead of --url, spawn `BIN stdio` against --sandbox")
    p.add_argument("--server-log", help="--stdio: append the server's stderr to this file")
    p.add_argument("--sandbox", required=True, help="sandbox API base, e.g. http://127.0.0.1:PORT/api")
    p.add_argument("--key", default="demo-key-user")
    p.add_argument("--answer", choices=["accept", "decline"], required=True)
    args = p.parse_args()
    if not (args.url or args.stdio):
        p.error("give --url or --stdio")
    transport = "stdio" if args.stdio else "streamable-http"
    try:
        detail = anyio.run(run_bounded, args)
    except BaseException as e:  # noqa: BLE001 - report anything readably
        print(f"FAIL {SDK} {transport} protocol={MODERN}: {describe(e)}", flush=True)
        return 1
    print(f"PASS {SDK} {transport} protocol={MODERN}: {detail}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
