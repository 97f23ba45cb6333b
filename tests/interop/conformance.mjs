#!/usr/bin/env node
// Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against an
// `ilert-mcp demo`, for one protocol revision, with the checked-in expected-failures baseline:
//   conformance server --url <proxy>/mcp --requirements <revision> --expected-failures conformance-baseline.yml
// `--requirements` runs exactly the server scenarios the revision requires, at that revision's
// wire version (2025-11-25: initialize handshake; 2026-07-28: stateless, server/discover), plus
// its not-scored extras (extensions, pending scenarios), which are reported but cannot fail.
// The suite cannot send request headers (modelcontextprotocol/conformance#453), so it talks to an
// in-process loopback proxy (auth_proxy.mjs) that adds `Authorization: Bearer <key>`.
// Prints one `PASS ...`/`FAIL ...` line (exit 0/1); the suite's own output goes before it.
// Usage: node tests/interop/conformance.mjs --url http://127.0.0.1:PORT/mcp --revision 2026-07-28
//          [--key demo-key-user] [--output-dir DIR] [--timeout 240]
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startAuthProxy } from './auth_proxy.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PKG_DIR = join(HERE, 'node_modules', '@modelcontextprotocol', 'conformance');
const VERSION = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8')).version;
const LABEL = `conformance/${VERSION}`;

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    revision: { type: 'string' },
    key: { type: 'string', default: 'demo-key-user' },
    baseline: { type: 'string', default: join(HERE, 'conformance-baseline.yml') },
    'output-dir': { type: 'string' },
    timeout: { type: 'string', default: '240' },
  },
});
const line = (verdict, detail) => `${verdict} ${LABEL} streamable-http protocol=${opts.revision ?? '-'}: ${detail}`;
if (!opts.url || !opts.revision) {
  console.log(line('FAIL', 'usage: conformance.mjs --url http://127.0.0.1:PORT/mcp --revision 2025-11-25|2026-07-28'));
  process.exit(2);
}

const target = new URL(opts.url);
const proxy = await startAuthProxy({ target: target.origin, header: `Authorization: Bearer ${opts.key}` });
const suiteUrl = `${proxy.url}${target.pathname}`;
const args = [
  join(PKG_DIR, 'dist', 'index.js'),
  'server',
  '--url', suiteUrl,
  '--requirements', opts.revision,
  '--expected-failures', opts.baseline,
  ...(opts['output-dir'] ? ['--output-dir', opts['output-dir']] : []),
];
console.log(`$ conformance ${args.slice(1).join(' ')}   (proxy ${proxy.url} -> ${target.origin}, adds Authorization)`);

let out = '';
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const timer = setTimeout(() => {
    out += `\n[conformance.mjs] killed after ${opts.timeout} s\n`;
    child.kill('SIGKILL');
  }, Number(opts.timeout) * 1000);
  for (const s of [child.stdout, child.stderr]) {
    s.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
  }
  child.on('close', (c, sig) => {
    clearTimeout(timer);
    resolve(c ?? (sig ? 128 : 1));
  });
});
await proxy.close();

// Summarise from the suite's own report (colour codes stripped).
const text = out.replace(/\x1b\[[0-9;]*m/g, '');
const section = (title) => {
  const m = text.match(new RegExp(`${title}[^\\n]*:\\n((?:  [^\\n]*\\n?)*)`));
  return m ? m[1].split('\n').map((l) => l.trim().replace(/^[~✓✗]\s*/, '')).filter(Boolean) : [];
};
const scenarios = [...text.matchAll(/^([✓✗]) (\S+): (\d+) passed, (\d+) failed/gm)];
// The revision's requirement set: `server:` lists what is scored, `not_scored:` the extras
// (extensions, pending scenarios) that run for information only.
const reqYaml = readFileSync(join(PKG_DIR, 'requirements', `${opts.revision}.yaml`), 'utf8');
const serverBlock = reqYaml.match(/^server:\n((?:[ \t]+-.*\n|[ \t]*#.*\n|\s*\n)*)/m)?.[1] ?? '';
const required = new Set([...serverBlock.matchAll(/^\s+-\s+([\w/.-]+)/gm)].map((m) => m[1]));
const ran = scenarios.map((m) => ({ name: m[2], failed: Number(m[4]) }));
const requiredRan = ran.filter((r) => required.has(r.name));
const extras = ran.filter((r) => !required.has(r.name));
const expected = section('Expected failures \\(in baseline\\)');
const unexpected = section('Unexpected failures \\(not in baseline\\)');
const stale = section('Stale baseline entries');
const summary =
  `${requiredRan.length} required scenarios (${requiredRan.filter((r) => r.failed === 0).length} without failed checks), ` +
  `${expected.length} baselined fixture checks failed as expected; ` +
  `${extras.length} not-scored scenarios run (${extras.filter((r) => r.failed > 0).length} failing, informational)`;

if (code === 0 && unexpected.length === 0 && stale.length === 0 && scenarios.length > 0) {
  console.log(line('PASS', summary));
  process.exit(0);
}
// What the suite said about each unexpected failure (from its checks.json), for the log.
if (opts['output-dir'] && unexpected.length) {
  console.log('\n[conformance.mjs] failing checks of the unexpected failures:');
  const dirs = existsSync(opts['output-dir']) ? readdirSync(opts['output-dir']) : [];
  for (const entry of unexpected) {
    const [scenario, checkId] = entry.split(':');
    const dir = dirs.find((d) => d.replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '') === `server-${scenario}`);
    if (!dir) continue;
    const checks = JSON.parse(readFileSync(join(opts['output-dir'], dir, 'checks.json'), 'utf8'));
    for (const c of checks) {
      if ((c.status === 'FAILURE' || c.status === 'WARNING') && (!checkId || c.id === checkId)) {
        const why = c.errorMessage ?? c.details?.message ?? '';
        console.log(`  ${scenario}: ${c.id} ${c.status}: ${why}`);
      }
    }
  }
}
const problems = [];
if (unexpected.length) problems.push(`unexpected failures: ${unexpected.join(', ')}`);
if (stale.length) problems.push(`stale baseline entries (now passing, remove them): ${stale.join(', ')}`);
if (!problems.length) problems.push(`suite exited ${code}${scenarios.length ? '' : ' without running any scenario'}`);
console.log(line('FAIL', `${problems.join('; ')} [${summary}]`));
process.exit(1);
