#!/usr/bin/env python3
"""How small the benchmark's answer could be (issue 27, bench/notes.md): answer bytes against the
upstream bytes for the answer ilert-mcp gives now and for leaner encodings of the same facts.

Starts the bench nginx and one ilert-mcp server, makes one `list_alerts {"limit":50}` call, then
re-encodes that answer's own facts (it reads nothing else) in each shape and prints the body size
each would have. Every shape keeps the whole list in both halves of the answer: the text block
(what claude.ai's connectors pass to the model) and `structuredContent` (what Claude Code, VS Code
and Copilot CLI pass instead, when it is present). Writes only under bench/out/.

  python3 bench/shapes.py --bin target/release/ilert-mcp
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the benchmark's helpers: spawn, cleanup, nginx config, calls)


def fetch_answer(binary):
    os.makedirs(run.RUN, exist_ok=True)
    try:
        _, nport = run.start_nginx(name="nginx-shapes")
        _, port = run.start_server("shapes", binary, nport)
        status, _, answer = run.mcp_call(port)
        if status != 200:
            run.die(f"list_alerts answered {status}")
        return answer
    finally:
        run.cleanup()


def body_bytes(text, structured):
    """The JSON-RPC answer's size with this text block and structuredContent (compact JSON)."""
    message = {"jsonrpc": "2.0", "id": 1, "result": {
        "content": [{"type": "text", "text": text}], "structuredContent": structured,
        "isError": False}}
    return len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode())


def shapes(result):
    text = result["content"][0]["text"]
    sc = result["structuredContent"]
    alerts = sc["alerts"]
    rest = {k: v for k, v in sc.items() if k != "alerts"}
    out = [("now: text lines, one object per alert", text, sc)]

    # Names once, in tables keyed by id; items carry the ids.
    names = {"sources": {}, "policies": {}, "people": {}}
    items = []
    for a in alerts:
        b = {k: v for k, v in a.items() if k not in ("source", "policy", "responders")}
        for key, table in (("source", "sources"), ("policy", "policies")):
            if key in a:
                b[f"{key}_id"] = a[key]["id"]
                names[table][str(a[key]["id"])] = a[key].get("name")
        accepted = [r["id"] for r in a.get("responders", []) if r["status"] == "ACCEPTED"]
        waiting = [r["id"] for r in a.get("responders", []) if r["status"] != "ACCEPTED"]
        for r in a.get("responders", []):
            names["people"][str(r["id"])] = r["name"]
        if accepted:
            b["accepted_by"] = accepted
        if waiting:
            b["not_accepted_by"] = waiting
        items.append(b)
    out.append(("names in tables, ids in the items", text, {**rest, "alerts": items, "names": names}))

    # One header of column names, one array per alert.
    cols = ["id", "status", "priority", "severity", "summary", "source_id", "source", "policy_id",
            "policy", "reported_at", "resolved_at", "responders"]
    rows = [[a.get("id"), a.get("status"), a.get("priority"), a.get("severity"), a.get("summary"),
             a.get("source", {}).get("id"), a.get("source", {}).get("name"),
             a.get("policy", {}).get("id"), a.get("policy", {}).get("name"),
             a.get("reported_at"), a.get("resolved_at"),
             [[r["id"], r["name"], r["status"]] for r in a.get("responders", [])]]
            for a in alerts]
    columnar = {**rest, "columns": cols, "alerts": rows}
    out.append(("columns once, one array per alert", text, columnar))

    # Lossy, for scale: the same columns without the escalation policy, in both halves.
    rows_np = [[v for i, v in enumerate(r) if cols[i] not in ("policy_id", "policy")] for r in rows]
    cols_np = [c for c in cols if c not in ("policy_id", "policy")]
    text_np = re.sub(r' → "[^"]*"', "", text)
    out.append(("(lossy) columns, and no escalation policy in either half", text_np,
                {**rest, "columns": cols_np, "alerts": rows_np}))
    out.append(("(lossy) the text block alone, no structuredContent", text, None))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bin", required=True, help="ilert-mcp binary")
    args = ap.parse_args()
    upstream = os.path.getsize(os.path.join(run.FIXTURES, "alerts.json"))
    answer = fetch_answer(args.bin)
    result = json.loads(answer)["result"]
    print(f"upstream {upstream} bytes; answer now {len(answer)} bytes "
          f"({len(answer) / upstream:.3f}); target <= 0.35")
    print("| shape | answer bytes | / upstream |")
    print("|---|---|---|")
    for name, text, structured in shapes(result):
        if structured is None:
            message = {"jsonrpc": "2.0", "id": 1, "result": {
                "content": [{"type": "text", "text": text}], "isError": False}}
            size = len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode())
        else:
            size = body_bytes(text, structured)
        print(f"| {name} | {size} | {size / upstream:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
