// Browser test of the MCP Apps views (run by scripts/apps-browser against a fresh `ilert-mcp demo`).
// Builds host.ts (official MCP client + ext-apps AppBridge), serves it on 127.0.0.1 with /mcp
// proxied to the demo (same origin, so the page needs no CORS), and drives Debian's Chromium
// (headless, playwright-core) through every view. Expected values come from the sandbox's REST API.
// Prints one PASS/FAIL line per check; exits non-zero on the first failure.
//   node run.mjs --mcp URL --sandbox URL --chromium PATH --artifacts DIR --screenshots DIR
import { createServer, request as httpRequest } from "node:http";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || !process.argv[i + 1]) throw new Error(`missing --${name}`);
  return process.argv[i + 1];
};
const MCP = new URL(arg("mcp"));
const SANDBOX = arg("sandbox").replace(/\/$/, "");
const CHROMIUM = arg("chromium");
const ARTIFACTS = arg("artifacts");
const SHOTS = arg("screenshots");
const KEY = "demo-key-user";
const WAIT = 20_000; // ms for any one thing to appear
mkdirSync(ARTIFACTS, { recursive: true });
mkdirSync(SHOTS, { recursive: true });

let passed = 0;
function pass(what) {
  passed++;
  console.log(`PASS ${what}`);
}
function fail(what) {
  console.log(`FAIL ${what}`);
  throw new Error(what);
}
function check(ok, what, detail = "") {
  if (ok) pass(what);
  else fail(`${what}${detail ? `: ${detail}` : ""}`);
}

async function rest(path, init = {}) {
  const r = await fetch(`${SANDBOX}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${KEY}`, Accept: "application/json", ...(init.headers || {}) },
  });
  if (!r.ok) throw new Error(`sandbox ${path}: HTTP ${r.status}`);
  return r.json();
}

// -- host page + same-origin proxy to the demo's /mcp --------------------------------------
const bundle = await esbuild.build({
  entryPoints: [join(HERE, "host.ts")],
  bundle: true,
  format: "iife",
  target: "es2022",
  platform: "browser",
  write: false,
  logLevel: "warning",
});
const hostJs = bundle.outputFiles[0].text;
const hostHtml =
  '<!doctype html><html><head><meta charset="utf-8"><title>ilert-mcp Apps test host</title></head>' +
  '<body style="margin:0;padding:16px;font:14px system-ui"><div id="wrap"></div><script src="/host.js"></script></body></html>';

const server = createServer((req, res) => {
  if (req.url.startsWith("/mcp")) {
    const upstream = httpRequest(
      { host: MCP.hostname, port: MCP.port, path: MCP.pathname, method: req.method, headers: { ...req.headers, host: MCP.host } },
      (up) => {
        res.writeHead(up.statusCode || 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
    return;
  }
  if (req.url === "/favicon.ico") {
    res.writeHead(204);
    res.end();
    return;
  }
  if (req.url === "/host.js") {
    res.writeHead(200, { "content-type": "text/javascript" });
    res.end(hostJs);
    return;
  }
  if (req.url === "/" || req.url.startsWith("/?")) {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(hostHtml);
    return;
  }
  res.writeHead(404);
  res.end();
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const HOST = `http://127.0.0.1:${server.address().port}`;

// -- browser ---------------------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  timeout: 30_000,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
  ],
});

/** Opens the host on `tool(args)` and waits for the view to render; returns { page, frame }. */
async function openView(tool, args, { theme = "light", ready, readonly = false }) {
  const page = await browser.newPage({ viewport: { width: 760, height: 560 }, locale: "en-US" });
  const problems = [];
  page.on("console", (m) => {
    const text = m.text();
    // The host page's own fetches (its SDK client probes GET /mcp, which answers 405) are not the view's.
    if (m.location().url.startsWith(HOST)) return;
    if (m.type() === "error" || /Content Security Policy/i.test(text)) problems.push(`${text} (${m.location().url})`);
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  const foreign = [];
  page.on("request", (r) => {
    // The host page itself talks to /mcp; the view must fetch nothing at all.
    if (r.frame() !== page.mainFrame()) foreign.push(r.url());
  });
  const q = new URLSearchParams({ tool, args: JSON.stringify(args), theme, tz: "Europe/Berlin" });
  if (readonly) q.set("readonly", "1");
  await page.goto(`${HOST}/?${q}`);
  await page.waitForFunction(
    () => ["result-sent", "failed"].includes(window.hostState?.phase),
    null,
    { timeout: WAIT },
  );
  const state = await page.evaluate(() => window.hostState);
  if (state.phase === "failed") fail(`${tool}: host failed: ${state.error}`);
  const frame = page.frameLocator("#view");
  await frame.locator(ready).first().waitFor({ timeout: WAIT });
  // Let the view finish its own follow-up calls (they reserve their space, see below).
  await page.waitForTimeout(300);
  return { page, frame, state, problems, foreign, handle: page.frames().find((f) => f !== page.mainFrame()) };
}

/** The view's content fits the 500 px an inline host gives it (long lists scroll inside). */
async function fitsIn500(view, name) {
  const height = await view.handle.evaluate(() => document.documentElement.scrollHeight);
  if (height > 500) await shot(view, `${name}-too-tall.png`);
  check(height <= 500, `${name}: content height ${height}px fits in 500 px`);
}

/** Cumulative layout shift inside the view since it loaded (no user input): should stay ~0. */
async function layoutShift(view) {
  return view.handle.evaluate(
    () =>
      new Promise((ok) => {
        let total = 0;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
        }).observe({ type: "layout-shift", buffered: true });
        setTimeout(() => ok(total), 200);
      }),
  );
}

async function finish(view, name) {
  check(view.problems.length === 0, `${name}: no console errors or CSP violations`, view.problems.join(" | "));
  check(view.foreign.length === 0, `${name}: the view fetched nothing`, view.foreign.join(", "));
  const cls = await layoutShift(view);
  check(cls < 0.05, `${name}: layout shift ${cls.toFixed(3)} < 0.05`);
  await view.page.close();
}

async function shot(view, file) {
  await view.page.locator("#view").screenshot({ path: join(SHOTS, file) });
}

try {
  // ---- inbox: list_alerts, Accept through the host, checked in the sandbox -----------------
  {
    const open = await rest("/alerts?states=PENDING&states=ACCEPTED&max-results=100");
    const view = await openView("list_alerts", {}, { ready: "tr[data-alert]" });
    check(view.state.uri === "ui://ilert/inbox", "list_alerts -> ui://ilert/inbox");
    check(/connect-src 'none'/.test(view.state.csp), "inbox: CSP allows no connections", view.state.csp);
    const rows = await view.frame.locator("tr[data-alert]").count();
    check(rows === open.length, `inbox: ${rows} rows = ${open.length} open alerts in the sandbox`);
    await fitsIn500(view, "inbox");
    await shot(view, "inbox-light.png");

    const target = open.find((a) => a.status === "PENDING");
    if (!target) fail("the sandbox has no PENDING alert to accept");
    await view.frame.locator(`button[aria-label="Accept alert ${target.id}"]`).click();
    await view.frame.locator(`tr[data-alert="${target.id}"] .badge.accepted`).waitFor({ timeout: WAIT });
    const after = await rest(`/alerts/${target.id}`);
    check(after.status === "ACCEPTED", `inbox: Accept on #${target.id} -> sandbox says ${after.status}`);
    const calls = await view.page.evaluate(() => window.hostState.viewCalls);
    check(
      calls.some((c) => c.name === "accept_alerts" && JSON.stringify(c.arguments) === JSON.stringify({ ids: [target.id] })),
      "inbox: Accept went through the host as accept_alerts",
      JSON.stringify(calls),
    );
    await shot(view, "inbox-accepted.png");

    // Keyboard: Tab to "Open" of that alert and press Enter.
    const openButton = view.frame.locator(`button[aria-label="Open alert ${target.id} in ilert"]`);
    await openButton.focus();
    await view.page.keyboard.press("Enter");
    await view.page.waitForFunction(() => window.hostState.opened.length > 0, null, { timeout: WAIT });
    const opened = await view.page.evaluate(() => window.hostState.opened);
    check(opened[0].endsWith(`/alert/view?id=${target.id}`), `inbox: Enter on Open asks the host to open ${opened[0]}`);
    const modelTools = await view.page.evaluate(() => window.modelTools);
    check(!modelTools.includes("get_view_context") && modelTools.includes("list_alerts"), "app-only get_view_context is kept from the model");
    await finish(view, "inbox");
  }

  // ---- inbox from get_overview, dark theme --------------------------------------------------
  {
    const view = await openView("get_overview", {}, { theme: "dark", ready: "tr[data-alert]" });
    const bg = await view.handle.evaluate(() => getComputedStyle(document.body).backgroundColor);
    check(bg !== "rgb(255, 255, 255)", `overview (dark host): view background follows the theme (${bg})`);
    await fitsIn500(view, "overview");
    await shot(view, "inbox-overview-dark.png");
    await finish(view, "overview");
  }

  // ---- on-call board ------------------------------------------------------------------------
  {
    const view = await openView("who_is_on_call", {}, { ready: ".shift" });
    check(view.state.uri === "ui://ilert/oncall", "who_is_on_call -> ui://ilert/oncall");
    const schedules = await rest("/schedules");
    const now = Date.now();
    let overlapping = 0;
    for (const s of schedules) {
      for (const o of await rest(`/schedules/${s.id}/overrides`)) {
        if (new Date(o.end).getTime() > now - 86_400_000 && new Date(o.start).getTime() < now + 7 * 86_400_000) overlapping++;
      }
    }
    const marked = await view.frame.locator(".shift.override").count();
    check(overlapping === 0 ? marked === 0 : marked > 0, `on-call: ${marked} shift(s) marked override (sandbox: ${overlapping} in the window)`);
    const handover = await view.frame.locator(".handover").textContent();
    check(/Next handover/.test(handover || ""), `on-call: ${handover}`);
    const tracks = await view.frame.locator(".row").count();
    check(tracks >= 1, `on-call: ${tracks} schedule row(s) in the 7-day timeline`);
    const label = await view.frame.locator(".shift").first().getAttribute("aria-label");
    check(!!label && label.length > 10, `on-call: shifts are labelled for keyboard and screen readers ("${label}")`);
    await fitsIn500(view, "on-call");
    await shot(view, "oncall.png");
    await finish(view, "on-call");
  }

  // ---- incident -----------------------------------------------------------------------------
  {
    const incidents = await rest("/incidents");
    const incident = incidents.find((i) => i.status !== "RESOLVED") || incidents[0];
    const want = await rest(`/incidents/${incident.id}`);
    const view = await openView("get_incident", { id: incident.id }, { theme: "dark", ready: ".history li" });
    check(view.state.uri === "ui://ilert/incident", "get_incident -> ui://ilert/incident");
    const services = await view.frame.locator(".services li").allTextContents();
    const expected = (want.affectedServices || []).map((s) => `${s.service.name} ${s.impact.replace(/_/g, " ")}`);
    check(
      JSON.stringify(services.map((s) => s.trim()).sort()) === JSON.stringify(expected.sort()),
      `incident: services ${JSON.stringify(services)} match the sandbox`,
    );
    const newest = await view.frame.locator(".history li .badge").first().textContent();
    check(newest === want.status.replace(/_/g, " "), `incident: newest history entry is ${newest} (sandbox: ${want.status})`);
    await fitsIn500(view, "incident");
    await shot(view, "incident-dark.png");
    await finish(view, "incident");
  }

  // ---- metrics ------------------------------------------------------------------------------
  {
    const sources = await rest("/alert-sources");
    const view = await openView("get_alert_metrics", {}, { ready: "table[aria-label='Alert metrics by source'] tbody tr" });
    check(view.state.uri === "ui://ilert/metrics", "get_alert_metrics -> ui://ilert/metrics");
    const bars = await view.frame.locator("svg.chart rect.bar").count();
    check(bars > 0, `metrics: ${bars} period bar(s) in the SVG chart`);
    const rows = await view.frame.locator("table[aria-label='Alert metrics by source'] tbody tr").count();
    check(rows === Math.min(8, sources.length), `metrics: ${rows} source rows (sandbox: ${sources.length} sources)`);
    await fitsIn500(view, "metrics");
    await shot(view, "metrics.png");
    await finish(view, "metrics");
  }
  // ---- read-only connection: the server refuses the view's Accept, nothing changes ----------
  {
    const pending = (await rest("/alerts?states=PENDING&max-results=100"))[0];
    if (!pending) fail("the sandbox has no PENDING alert left");
    const view = await openView("list_alerts", {}, { ready: "tr[data-alert]", readonly: true });
    await view.frame.locator(`button[aria-label="Accept alert ${pending.id}"]`).click();
    await view.frame.locator(".status.error").waitFor({ timeout: WAIT });
    const said = await view.frame.locator(".status.error").textContent();
    check(/read-only/.test(said || ""), `read-only: the view shows the server's refusal ("${said}")`);
    const after = await rest(`/alerts/${pending.id}`);
    check(after.status === "PENDING", `read-only: #${pending.id} is still ${after.status} in the sandbox`);
    await shot(view, "inbox-read-only.png");
    await finish(view, "read-only inbox");
  }
  console.log(`PASS all ${passed} checks`);
} catch (e) {
  console.log(`FAIL ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  server.close();
}
