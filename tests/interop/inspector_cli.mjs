#!/usr/bin/env node
// Drives MCP Inspector's CLI (`mcp-inspector --cli`, @modelcontextprotocol/inspector) against
// ilert-mcp, directly over Streamable HTTP or through a stdio bridge (mcp-remote, ilert-mcp
// connect), in one protocol era (`--protocol-era legacy|modern`). Three Inspector runs:
//   1. --method initialize                    -> the negotiated protocolVersion and serverInfo;
//   2. --method tools/list --strict           -> Inspector's tool-schema portability lint; exit 6
//                                                on any error-severity finding; the alert tools exist;
//   3. --method tools/call get_current_user   -> structuredContent with id and role, isError false.
// With --demo-log, the demo's access log (one `mcp request method=...` line per request) is read
// for the lines written during this run, to check which era went over HTTP: `--http-era modern`
// wants `server/discover` and no `initialize`, `legacy` wants `initialize`. That matters for
// bridges, where the stdio side and the HTTP side may speak different eras (mcp-remote --protocol auto).
// Prints one `PASS ...`/`FAIL ...` line; each Inspector run's stdout/stderr goes to this stdout first.
// Usage:
//   node inspector_cli.mjs --era legacy|modern [--http-era legacy|modern] [--demo-log FILE]
//        [--label NAME] [--transport NAME] -- <Inspector target: URL --header ... | -e K=V -- cmd args...>
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const PKG_DIR = join(HERE, 'node_modules', '@modelcontextprotocol', 'inspector');
const LAUNCHER = join(PKG_DIR, 'clients', 'launcher', 'build', 'index.js');
const VERSION = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8')).version;
const EXPECTED_TOOLS = ['list_alerts', 'get_alert', 'accept_alerts', 'resolve_alerts', 'get_current_user'];
const MODERN = '2026-07-28';

const { values: opts, positionals: target } = parseArgs({
  allowPositionals: true,
  options: {
    era: { type: 'string', default: 'legacy' },
    'http-era': { type: 'string' },
    'demo-log': { type: 'string' },
    label: { type: 'string', default: 'inspector-cli' },
    transport: { type: 'string', default: 'streamable-http' },
    'run-timeout': { type: 'string', default: '30' },
  },
});
const httpEra = opts['http-era'] ?? opts.era;
let protocol = '-';
const line = (verdict, detail) => `${verdict} ${opts.label}/${VERSION} ${opts.transport} protocol=${protocol}: ${detail}`;
class CheckFailed extends Error {}

function logSize(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function logSince(file, offset) {
  const size = logSize(file);
  if (size <= offset) return '';
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8').replace(/\x1b\[[0-9;]*m/g, '');
}

// One Inspector CLI run; returns the parsed JSON result (`--format json` prints {"result": ...}).
function inspector(what, methodArgs, { allowExit = [0] } = {}) {
  const argv = [LAUNCHER, '--cli', '--protocol-era', opts.era, '--format', 'json', ...methodArgs, ...target];
  console.log(`--- ${what}: mcp-inspector ${argv.slice(1).join(' ')}`);
  const r = spawnSync(process.execPath, argv, {
    encoding: 'utf8',
    timeout: Number(opts['run-timeout']) * 1000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.stdout) console.log(r.stdout.length > 4000 ? `${r.stdout.slice(0, 4000)}... (${r.stdout.length} bytes)` : r.stdout);
  if (r.stderr) console.log(`[stderr]\n${r.stderr}`);
  if (r.error) throw new CheckFailed(`${what}: ${r.error.code === 'ETIMEDOUT' ? `timed out after ${opts['run-timeout']} s` : r.error.message}`);
  if (!allowExit.includes(r.status)) {
    const err = (r.stderr || '').trim().split('\n').slice(-3).join(' | ');
    throw new CheckFailed(`${what}: Inspector exited ${r.status ?? r.signal}${err ? `: ${err.slice(0, 400)}` : ''}`);
  }
  let parsed;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new CheckFailed(`${what}: stdout is not JSON: ${r.stdout.slice(0, 200)}`);
  }
  if (!parsed || typeof parsed !== 'object' || !('result' in parsed)) {
    throw new CheckFailed(`${what}: no result in ${r.stdout.slice(0, 200)}`);
  }
  return { result: parsed.result, stderr: r.stderr ?? '', status: r.status };
}

function flow() {
  if (!['legacy', 'modern'].includes(opts.era) || !['legacy', 'modern'].includes(httpEra)) {
    throw new CheckFailed('--era and --http-era must be legacy or modern');
  }
  if (target.length === 0) throw new CheckFailed('no Inspector target given after --');
  const mark = opts['demo-log'] ? logSize(opts['demo-log']) : 0;

  const init = inspector('initialize', ['--method', 'initialize']).result;
  const clientSide = init.protocolVersion;
  if (init.serverInfo?.name !== 'ilert-mcp') throw new CheckFailed(`initialize: serverInfo.name is ${init.serverInfo?.name}`);
  if (opts.era === 'modern' && clientSide !== MODERN) throw new CheckFailed(`--protocol-era modern negotiated ${clientSide}`);
  if (opts.era === 'legacy' && clientSide === MODERN) throw new CheckFailed(`--protocol-era legacy negotiated ${clientSide}`);
  protocol = clientSide;

  // 6 = SCHEMA_UNPORTABLE: let it through here to report the lint findings, then fail below.
  const listed = inspector('tools/list --strict', ['--method', 'tools/list', '--strict'], { allowExit: [0, 6] });
  if (listed.status === 6) {
    const report = listed.stderr.trim().split('\n').slice(0, 6).join(' | ');
    throw new CheckFailed(`tools/list --strict: schema portability errors (exit 6): ${report.slice(0, 600)}`);
  }
  const tools = listed.result.tools ?? [];
  const names = new Set(tools.map((t) => t.name));
  const missing = EXPECTED_TOOLS.filter((n) => !names.has(n));
  if (missing.length) throw new CheckFailed(`tools/list lacks ${missing.join(', ')}`);
  for (const t of tools) {
    if (t.inputSchema?.type !== 'object') throw new CheckFailed(`tool ${t.name}: inputSchema.type is not object`);
  }
  const lintNote = /portab/i.test(listed.stderr) ? 'schema lint: warnings only (see log)' : 'schema lint clean';

  const called = inspector('tools/call get_current_user', ['--method', 'tools/call', '--tool-name', 'get_current_user']).result;
  const me = called.structuredContent;
  if (called.isError || !me || !('id' in me) || !('role' in me)) {
    throw new CheckFailed(`get_current_user: unexpected result ${JSON.stringify(called).slice(0, 300)}`);
  }

  let wire = '';
  if (opts['demo-log']) {
    const methods = [...logSince(opts['demo-log'], mark).matchAll(/mcp request.*?method="([^"]+)"/g)].map((m) => m[1]);
    const discovers = methods.filter((m) => m === 'server/discover').length;
    const inits = methods.filter((m) => m === 'initialize').length;
    if (methods.length === 0) throw new CheckFailed(`the demo logged no MCP request during this run (${opts['demo-log']})`);
    if (httpEra === 'modern' && (discovers === 0 || inits > 0)) {
      throw new CheckFailed(`expected the 2026-07-28 era over HTTP, but the demo saw initialize x${inits}, server/discover x${discovers}`);
    }
    if (httpEra === 'legacy' && inits === 0) {
      throw new CheckFailed(`expected the initialize handshake over HTTP, but the demo saw none (server/discover x${discovers})`);
    }
    if (httpEra === 'modern') protocol = MODERN;
    wire = `; demo saw ${methods.length} requests (initialize x${inits}, server/discover x${discovers})`;
    if (protocol !== clientSide) wire += `; stdio side ${clientSide}`;
  }
  return `${tools.length} tools, ${lintNote}, get_current_user ok (${me.name ?? me.id}, ${me.role})${wire}`;
}

try {
  console.log(line('PASS', flow()));
  process.exit(0);
} catch (e) {
  console.log(line('FAIL', e instanceof CheckFailed ? e.message : `${e?.name}: ${e?.message}`));
  if (!(e instanceof CheckFailed)) console.error(e);
  process.exit(1);
}
