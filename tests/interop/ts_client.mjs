#!/usr/bin/env node
// Interop smoke client for ilert-mcp using the official MCP TypeScript SDK (v1), Streamable HTTP.
//   - without the Authorization header the connection must fail with HTTP 401;
//   - tools/list has the five ilert tools, each with a title and an object inputSchema
//     (the SDK also validates tools/list strictly, and structuredContent against outputSchema);
//   - list_alerts(PENDING) -> accept_alerts(first id) -> get_alert == ACCEPTED (no PENDING alert left:
//     an ACCEPTED one, resolve_alerts -> RESOLVED).
// Alert ids are picked from live listings (state is shared with other clients).
// Prints one `PASS ...` line on success, or `FAIL ...` and exits 1.
// Usage (Node 22 from .tools, packages via tests/interop/node_modules -> .tools/npm/node_modules):
//   node tests/interop/ts_client.mjs --url http://127.0.0.1:PORT/mcp [--key demo-key-user]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const EXPECTED_TOOLS = ['list_alerts', 'get_alert', 'accept_alerts', 'resolve_alerts', 'get_current_user'];
const SDK = `ts-sdk/${sdkVersion()}`;
const TRANSPORT = 'streamable-http';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.ILERT_MCP_URL ?? 'http://127.0.0.1:8080/mcp' },
    key: { type: 'string', default: 'demo-key-user' },
    timeout: { type: 'string', default: '45' },
  },
});

class CheckFailed extends Error {}

// The SDK's exports map hides its package.json; walk up from a resolved module instead.
function sdkVersion() {
  let dir = dirname(fileURLToPath(import.meta.resolve('@modelcontextprotocol/sdk/client/index.js')));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const f = join(dir, 'package.json');
    if (!existsSync(f)) continue;
    const pkg = JSON.parse(readFileSync(f, 'utf8'));
    if (pkg.name === '@modelcontextprotocol/sdk') return pkg.version;
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
  return new Client({ name: 'ilert-mcp-interop-ts', version: '0.0.0' });
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
  if (!(err instanceof StreamableHTTPError) || err.code !== 401) {
    throw new CheckFailed(`unauthenticated connect failed, but not with HTTP 401: ${err?.name}: ${err?.message}`);
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

async function flow() {
  await checkUnauthenticated();
  const transport = new StreamableHTTPClientTransport(new URL(opts.url), {
    requestInit: { headers: { Authorization: `Bearer ${opts.key}` } },
  });
  const client = newClient();
  try {
    await client.connect(transport);
    protocol = transport.protocolVersion ?? '-';
    checkTools(await listAllTools(client));
    const me = await call(client, 'get_current_user', {});
    if (!('id' in me) || !('role' in me)) throw new CheckFailed(`get_current_user: missing id/role in ${JSON.stringify(me)}`);

    // Accept a PENDING alert; when other clients have used them all up, resolve an ACCEPTED one.
    let [tool, before, after] = ['accept_alerts', 'PENDING', 'ACCEPTED'];
    let alerts = await alertsIn(client, before);
    if (alerts.length === 0) {
      [tool, before, after] = ['resolve_alerts', 'ACCEPTED', 'RESOLVED'];
      alerts = await alertsIn(client, before);
      if (alerts.length === 0) throw new CheckFailed('no PENDING or ACCEPTED alert left in the sandbox for the write check');
    }
    const id = alerts[0].id;

    const out = await call(client, tool, { ids: [id] });
    const r0 = out.results?.[0];
    if (out.results?.length !== 1 || r0?.id !== id || r0?.ok !== true) {
      throw new CheckFailed(`${tool}([${id}]) not ok: ${JSON.stringify(out).slice(0, 300)}`);
    }
    if (out.succeeded !== 1 || out.failed !== 0) {
      throw new CheckFailed(`${tool}: expected succeeded=1 failed=0, got ${out.succeeded}/${out.failed}`);
    }
    const alert = await call(client, 'get_alert', { id });
    if (alert.id !== id || alert.status !== after) {
      throw new CheckFailed(`get_alert(${id}): expected ${after}, got id=${alert.id} status=${alert.status}`);
    }
    return `tools ok, 401 without key, alert ${id} ${before} -> ${after}`;
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
