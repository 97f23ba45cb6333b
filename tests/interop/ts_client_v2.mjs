#!/usr/bin/env node
// Interop smoke client for ilert-mcp using the official MCP TypeScript SDK v2
// (`@modelcontextprotocol/client`, the split-package successor of `@modelcontextprotocol/sdk`),
// Streamable HTTP, in either protocol era:
//   --mode legacy   the 2025 `initialize` handshake (the SDK's default);
//   --mode modern   pinned to 2026-07-28 (`server/discover`, per-request `_meta`; no fallback).
// Checks:
//   - without the Authorization header the connection must fail with HTTP 401;
//   - tools/list has the five ilert alert/user tools, each with a title and an object inputSchema
//     (the SDK validates tools/list, and structuredContent against outputSchema);
//   - get_current_user; then one write: accept a PENDING alert (-> ACCEPTED), or, when the seeded
//     sandbox has none left, resolve an ACCEPTED one (-> RESOLVED).
// Alert ids are picked from live listings (state is shared with other clients).
// Prints one `PASS ...` line on success, or `FAIL ...` and exits 1.
// Usage (Node 22 from .tools, packages via tests/interop/node_modules -> .tools/npm/node_modules):
//   node tests/interop/ts_client_v2.mjs --url http://127.0.0.1:PORT/mcp [--key demo-key-user] [--mode modern]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, SdkHttpError, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';

const EXPECTED_TOOLS = ['list_alerts', 'get_alert', 'accept_alerts', 'resolve_alerts', 'get_current_user'];
const MODERN = '2026-07-28';
const SDK = `ts-sdk-v2/${sdkVersion()}`;
const TRANSPORT = 'streamable-http';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.ILERT_MCP_URL ?? 'http://127.0.0.1:8080/mcp' },
    key: { type: 'string', default: 'demo-key-user' },
    mode: { type: 'string', default: 'legacy' },
    timeout: { type: 'string', default: '45' },
  },
});
if (opts.mode !== 'legacy' && opts.mode !== 'modern') {
  console.log(`FAIL ${SDK} ${TRANSPORT} protocol=-: --mode must be legacy or modern, not ${opts.mode}`);
  process.exit(2);
}

class CheckFailed extends Error {}

// The package's exports map hides its package.json; walk up from a resolved module instead.
function sdkVersion() {
  let dir = dirname(fileURLToPath(import.meta.resolve('@modelcontextprotocol/client')));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const f = join(dir, 'package.json');
    if (!existsSync(f)) continue;
    const pkg = JSON.parse(readFileSync(f, 'utf8'));
    if (pkg.name === '@modelcontextprotocol/client') return pkg.version;
  }
  return 'unknown';
}
let protocol = '-';
const line = (verdict, detail) => `${verdict} ${SDK} ${TRANSPORT} protocol=${protocol}: ${detail}`;

const withTimeout = (promise, ms, what) => {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`${what} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
};

const resultText = (r) =>
  (r.content ?? []).map((c) => (c.type === 'text' ? c.text : `<${c.type} content>`)).join(' | ') || '<no content>';

function newClient() {
  const mode = opts.mode === 'modern' ? { pin: MODERN } : 'legacy';
  return new Client({ name: 'ilert-mcp-interop-ts-v2', version: '0.0.0' }, { versionNegotiation: { mode } });
}

async function call(client, name, args) {
  let r;
  try {
    r = await client.callTool({ name, arguments: args });
  } catch (e) {
    throw new CheckFailed(`${name}(${JSON.stringify(args)}) threw: ${e?.message ?? e}`);
  }
  if (r.isError) throw new CheckFailed(`${name}(${JSON.stringify(args)}) returned isError=true: ${resultText(r)}`);
  const content = r.content ?? [];
  if (content.length !== 1 || content[0].type !== 'text') {
    throw new CheckFailed(`${name}: expected exactly one text content item, got ${JSON.stringify(content).slice(0, 300)}`);
  }
  const sc = r.structuredContent;
  if (sc === null || typeof sc !== 'object' || Array.isArray(sc)) {
    throw new CheckFailed(`${name}: structuredContent missing or not an object; text: ${resultText(r)}`);
  }
  return sc;
}

// An HTTP status anywhere in the error (or its causes), for the 401 check.
function httpStatusOf(err) {
  for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (e instanceof UnauthorizedError) return 401;
    if (e instanceof SdkHttpError) return e.status;
    if (Number.isInteger(e?.status)) return e.status;
  }
  return undefined;
}

async function checkUnauthenticated() {
  const transport = new StreamableHTTPClientTransport(new URL(opts.url));
  const client = newClient();
  let err;
  try {
    await withTimeout(client.connect(transport), 10_000, 'unauthenticated connect');
  } catch (e) {
    err = e;
  } finally {
    await client.close().catch(() => {});
  }
  if (!err) throw new CheckFailed('connected WITHOUT an Authorization header');
  if (err instanceof CheckFailed) throw err;
  const status = httpStatusOf(err);
  if (status !== 401) {
    throw new CheckFailed(`unauthenticated connect failed, but not with HTTP 401 (status ${status}): ${err?.name}: ${err?.message}`);
  }
}

async function listAllTools(client) {
  const tools = [];
  let cursor;
  for (let i = 0; i < 20; i++) {
    const page = await client.listTools(cursor ? { cursor } : undefined);
    tools.push(...page.tools);
    cursor = page.nextCursor;
    if (!cursor) return tools;
  }
  throw new CheckFailed('tools/list did not finish within 20 pages');
}

function checkTools(tools) {
  const names = new Set(tools.map((t) => t.name));
  const missing = EXPECTED_TOOLS.filter((n) => !names.has(n));
  if (missing.length) throw new CheckFailed(`tools/list lacks ${missing} (got ${[...names]})`);
  for (const t of tools) {
    if (!t.title && !t.annotations?.title) throw new CheckFailed(`tool ${t.name} has neither title nor annotations.title`);
    if (t.inputSchema?.type !== 'object') throw new CheckFailed(`tool ${t.name} inputSchema.type is not 'object'`);
  }
  return tools.length;
}

async function alertsIn(client, state) {
  const listed = await call(client, 'list_alerts', { states: [state] });
  if (!Array.isArray(listed.alerts)) throw new CheckFailed(`list_alerts: alerts is not an array: ${JSON.stringify(listed).slice(0, 300)}`);
  for (const a of listed.alerts) {
    if (!Number.isInteger(a?.id) || a.status !== state) {
      throw new CheckFailed(`list_alerts(states=[${state}]) returned an unexpected alert: ${JSON.stringify(a).slice(0, 300)}`);
    }
  }
  return listed.alerts;
}

async function bulk(client, tool, id) {
  const out = await call(client, tool, { ids: [id] });
  const r0 = out.results?.[0];
  if (out.results?.length !== 1 || r0?.id !== id || r0?.ok !== true) {
    throw new CheckFailed(`${tool}([${id}]) not ok: ${JSON.stringify(out).slice(0, 300)}`);
  }
  if (out.succeeded !== 1 || out.failed !== 0) {
    throw new CheckFailed(`${tool}: expected succeeded=1 failed=0, got ${out.succeeded}/${out.failed}`);
  }
}

async function expectStatus(client, id, status) {
  const alert = await call(client, 'get_alert', { id });
  if (alert.id !== id || alert.status !== status) {
    throw new CheckFailed(`get_alert(${id}): expected ${status}, got id=${alert.id} status=${alert.status}`);
  }
}

async function flow() {
  await checkUnauthenticated();
  const transport = new StreamableHTTPClientTransport(new URL(opts.url), {
    requestInit: { headers: { Authorization: `Bearer ${opts.key}` } },
  });
  const client = newClient();
  try {
    await client.connect(transport);
    protocol = client.getNegotiatedProtocolVersion() ?? '-';
    const era = client.getProtocolEra?.();
    if (opts.mode === 'modern' && protocol !== MODERN) {
      throw new CheckFailed(`pinned ${MODERN} but negotiated ${protocol} (era ${era})`);
    }
    if (opts.mode === 'legacy' && protocol === MODERN) {
      throw new CheckFailed(`legacy mode negotiated ${protocol}`);
    }
    const toolCount = checkTools(await listAllTools(client));
    const me = await call(client, 'get_current_user', {});
    if (!('id' in me) || !('role' in me)) throw new CheckFailed(`get_current_user: missing id/role in ${JSON.stringify(me)}`);

    let write;
    const pending = await alertsIn(client, 'PENDING');
    if (pending.length > 0) {
      const id = pending[0].id;
      await bulk(client, 'accept_alerts', id);
      await expectStatus(client, id, 'ACCEPTED');
      write = `alert ${id} PENDING -> ACCEPTED`;
    } else {
      const accepted = await alertsIn(client, 'ACCEPTED');
      if (accepted.length === 0) throw new CheckFailed('no PENDING or ACCEPTED alert left in the sandbox for the write check');
      const id = accepted[0].id;
      await bulk(client, 'resolve_alerts', id);
      await expectStatus(client, id, 'RESOLVED');
      write = `no PENDING alert left; alert ${id} ACCEPTED -> RESOLVED`;
    }
    return `${toolCount} tools ok, 401 without key, ${write}`;
  } finally {
    await client.close().catch(() => {});
  }
}

try {
  const detail = await withTimeout(flow(), Number(opts.timeout) * 1000, 'whole flow');
  console.log(line('PASS', detail));
  process.exit(0);
} catch (e) {
  if (e instanceof CheckFailed) {
    console.log(line('FAIL', e.message));
  } else {
    console.log(line('FAIL', `${e?.name ?? 'Error'}: ${e?.message ?? e}`));
    console.error(e);
  }
  process.exit(1);
}
