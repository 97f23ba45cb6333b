// Loopback HTTP proxy that adds one fixed request header (normally `Authorization`) to every
// request that does not already carry it, and forwards everything else unchanged: method, path,
// the other headers (Host and Origin included, so DNS-rebinding checks still reach the server as
// the client sent them), the body, and the streamed response.
//
// Why: the official conformance suite (@modelcontextprotocol/conformance) has no option to send
// request headers (upstream issue modelcontextprotocol/conformance#453), and `ilert-mcp demo` has
// no unauthenticated mode. conformance.mjs points the suite at this proxy in front of the demo.
//
// As a module: `const p = await startAuthProxy({ target, header: 'Authorization: Bearer k' })`
// gives `p.url` (http://127.0.0.1:PORT) and `await p.close()`.
// As a program (for running the suite by hand):
//   INTEROP_PROXY_HEADER='Authorization: Bearer demo-key-user' \
//     node tests/interop/auth_proxy.mjs --target http://127.0.0.1:8384
// prints `LISTENING <port>` and one line per request on stderr.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export function startAuthProxy({ target, header, log = () => {} }) {
  const t = new URL(target);
  if (t.protocol !== 'http:' || (t.hostname !== '127.0.0.1' && t.hostname !== 'localhost')) {
    throw new Error(`auth proxy: refusing a non-loopback or non-http target ${target}`);
  }
  const colon = header.indexOf(':');
  if (colon <= 0) throw new Error("auth proxy: the header must be 'Name: value'");
  const name = header.slice(0, colon).trim().toLowerCase();
  const value = header.slice(colon + 1).trim();

  const server = http.createServer((req, res) => {
    const headers = { ...req.headers };
    const injected = !(name in headers);
    if (injected) headers[name] = value;
    const upstream = http.request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers },
      (up) => {
        log(`${req.method} ${req.url} -> ${up.statusCode}${injected ? '' : ` (client sent its own ${name})`}`);
        res.writeHead(up.statusCode ?? 502, up.rawHeaders);
        up.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      log(`${req.method} ${req.url} -> upstream error: ${e.message}`);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`auth proxy: upstream error: ${e.message}`);
    });
    req.on('aborted', () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values: opts } = parseArgs({
    options: { target: { type: 'string' }, 'header-env': { type: 'string', default: 'INTEROP_PROXY_HEADER' } },
  });
  const header = process.env[opts['header-env']];
  if (!opts.target || !header) {
    console.error(`usage: ${opts['header-env']}='Name: value' node auth_proxy.mjs --target http://127.0.0.1:PORT`);
    process.exit(2);
  }
  const p = await startAuthProxy({ target: opts.target, header, log: (l) => console.error(l) });
  console.log(`LISTENING ${p.port}`);
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}
