#!/usr/bin/env node
// Issue 13 interop: the official MCP TypeScript SDK v2 (`@modelcontextprotocol/client`), pinned to
// protocol 2026-07-28 and declaring form elicitation, answers ilert-mcp's confirmation of an
// outward write through its `elicitation/create` handler.
// It calls create_alert (pages people) on alert source "Grafana". The server answers
// `input_required`; the SDK hands the elicitation to our handler, which answers --answer, and
// retries with the answer and the echoed requestState.
//   accept   the alert is raised: the sandbox's alert count (its REST API) goes up by one;
//   decline  the tool result is an error saying nothing was changed; the count is unchanged.
// The handler must be asked exactly once, with a message naming the alert and who is paged.
// Prints the message the handler received (what a person would see), then one PASS/FAIL line.
// Usage: node tests/interop/ts_confirm_v2.mjs --url URL --sandbox SANDBOX_API --answer accept|decline
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const MODERN = '2026-07-28';
const SDK = `ts-sdk-v2/${sdkVersion()}`;
const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    sandbox: { type: 'string' },
    key: { type: 'string', default: 'demo-key-user' },
    answer: { type: 'string' },
  },
});
let protocol = '-';
const line = (verdict, detail) => `${verdict} ${SDK} streamable-http protocol=${protocol}: ${detail}`;

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

async function alertCount() {
  const r = await fetch(`${opts.sandbox}/alerts/count`, { headers: { Authorization: `Bearer ${opts.key}` } });
  if (!r.ok) throw new Error(`sandbox /alerts/count: HTTP ${r.status}`);
  return (await r.json()).count;
}

async function run() {
  if (!['accept', 'decline'].includes(opts.answer)) throw new Error('--answer must be accept or decline');
  const asked = [];
  const client = new Client(
    { name: 'ilert-mcp-interop-ts-v2-confirm', version: '0.0.0' },
    { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: MODERN } } },
  );
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(request.params.message);
    console.log(`elicitation shown to the person:\n${request.params.message}\n`);
    return opts.answer === 'accept' ? { action: 'accept', content: {} } : { action: 'decline' };
  });
  const transport = new StreamableHTTPClientTransport(new URL(opts.url), {
    requestInit: { headers: { Authorization: `Bearer ${opts.key}` } },
  });
  const summary = `interop confirm ts-v2 ${opts.answer}`;
  const before = await alertCount();
  await client.connect(transport);
  let result;
  try {
    protocol = client.getNegotiatedProtocolVersion() ?? '-';
    result = await client.callTool({ name: 'create_alert', arguments: { summary, source: 'Grafana' } });
  } finally {
    await client.close();
  }
  const after = await alertCount();
  const text = (result.content ?? []).map((c) => c.text ?? '').join(' | ');
  if (asked.length !== 1) throw new Error(`the handler was asked ${asked.length} time(s), want 1`);
  if (!asked[0].includes(summary) || !asked[0].includes('Paged now')) {
    throw new Error(`the prompt does not say what will happen: ${asked[0]}`);
  }
  if (opts.answer === 'accept') {
    if (result.isError || after !== before + 1) throw new Error(`accepted but alerts ${before} -> ${after}; result: ${text}`);
    return `elicitation accepted -> alert raised (${before} -> ${after} alerts)`;
  }
  if (!result.isError || !text.includes('declined') || after !== before) {
    throw new Error(`declined but alerts ${before} -> ${after}; result: ${text}`);
  }
  return `elicitation declined -> nothing raised (${after} alerts), tool said: ${text}`;
}

const timer = setTimeout(() => {
  console.log(line('FAIL', 'timed out after 45 s'));
  process.exit(1);
}, 45_000);
try {
  const detail = await run();
  console.log(line('PASS', detail));
  clearTimeout(timer);
  process.exit(0);
} catch (e) {
  console.log(line('FAIL', `${e?.name ?? 'Error'}: ${e?.message ?? e}`));
  clearTimeout(timer);
  process.exit(1);
}
