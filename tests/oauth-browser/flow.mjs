// End-to-end OAuth 2.1 test of ilert-mcp's authorize page in a real headless Chromium
// (Debian's /usr/bin/chromium driven by playwright-core; Playwright's own browsers are not used).
//
// Then a Cursor (cursor://), a VS Code (vscode://) and a claude.ai (https) client: after Allow the
// 303 back to each must pass the page's CSP (form-action applies to redirects after a POST).
//
//   node flow.mjs --issuer http://127.0.0.1:PORT [--chromium /usr/bin/chromium]
//                 [--artifacts DIR] [--profile-dir DIR]
//
// Needs a running `ilert-mcp demo` (OAuth on) at --issuer; scripts/oauth-browser starts one.
// Prints one PASS line per step and exits 1 with a FAIL line on the first failure. Only talks to
// 127.0.0.1: the server, and a callback listener this script starts on a free loopback port.

import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    issuer: { type: "string" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    artifacts: { type: "string", default: join(HERE, "artifacts") },
    "profile-dir": { type: "string" },
  },
});
if (!args.issuer) {
  console.error("usage: node flow.mjs --issuer http://127.0.0.1:PORT [--chromium PATH] [--artifacts DIR]");
  process.exit(2);
}
const ISSUER = args.issuer.replace(/\/+$/, "");
const ARTIFACTS = args.artifacts;
const PAGE_TIMEOUT = 15_000; // ms, every page action / navigation
const HTTP_TIMEOUT = 10_000; // ms, every fetch
const CALLBACK_TIMEOUT = 15_000; // ms, waiting for the browser to reach the callback
const LAUNCH_TIMEOUT = 30_000; // ms, Chromium start-up (first start builds font caches)
const CLIENT_NAME = "Browser test";
const GOOD_KEY = "demo-key-user";
const GOOD_USER = "Jonas Weber";
const WRONG_KEY = "demo-key-not-a-real-key-4711";
// Consent groups on the sign-in page, and those with tools that write (the demo serves all toolsets).
const GROUPS = ["alerts", "incidents", "oncall", "config"];
const WRITE_GROUPS = ["alerts", "incidents", "oncall"];

mkdirSync(ARTIFACTS, { recursive: true });
const rel = (p) => relative(process.cwd(), p) || p;

// --- small helpers ------------------------------------------------------------------------

class Failure extends Error {}
function check(cond, message) {
  if (!cond) throw new Failure(message);
}
function eq(actual, expected, what) {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

let page = null; // the current browser page, for a failure screenshot
let stepNo = 0;
async function step(name, fn) {
  stepNo += 1;
  try {
    const detail = await fn();
    console.log(`PASS ${String(stepNo).padStart(2)} ${name}${detail ? ` (${detail})` : ""}`);
    return detail;
  } catch (err) {
    const cause = err?.cause ? ` (${err.cause.code || err.cause.message || err.cause})` : "";
    const why = err instanceof Failure ? err.message : `${err?.name ?? "Error"}: ${err?.message ?? err}${cause}`;
    console.log(`FAIL ${String(stepNo).padStart(2)} ${name}: ${why}`);
    if (page && !page.isClosed()) {
      const shot = join(ARTIFACTS, "failure.png");
      try {
        await page.screenshot({ path: shot, fullPage: true, timeout: 5_000 });
        console.log(`     page at failure: ${page.url()} (screenshot: ${rel(shot)})`);
      } catch {
        /* best effort */
      }
    }
    throw new Failure("stop");
  }
}

const loopbackOnly = (url) => {
  const u = new URL(url);
  check(u.hostname === "127.0.0.1", `refusing to talk to a non-loopback host: ${url}`);
  return url;
};

async function getJson(url) {
  const res = await fetch(loopbackOnly(url), { signal: AbortSignal.timeout(HTTP_TIMEOUT) });
  const text = await res.text();
  check(res.status === 200, `GET ${url} -> ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function postForm(url, fields) {
  const res = await fetch(loopbackOnly(url), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams(fields).toString(),
    signal: AbortSignal.timeout(HTTP_TIMEOUT),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* leave null */
  }
  return { status: res.status, json, text, headers: res.headers };
}

// One stateless JSON-RPC request to /mcp; accepts a JSON or an SSE answer.
let rpcId = 0;
async function mcp(resource, token, method, params) {
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
  };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(loopbackOnly(resource), {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, ...(params ? { params } : {}) }),
    signal: AbortSignal.timeout(HTTP_TIMEOUT),
  });
  const text = await res.text();
  let json = null;
  if ((res.headers.get("content-type") || "").includes("text/event-stream")) {
    const data = text
      .split(/\r?\n/)
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).trim())
      .filter(Boolean);
    for (const d of data) {
      try {
        const msg = JSON.parse(d);
        if (msg.id === rpcId) json = msg;
      } catch {
        /* not JSON */
      }
    }
  } else {
    try {
      json = JSON.parse(text);
    } catch {
      /* leave null */
    }
  }
  return { status: res.status, json, text, headers: res.headers };
}

const b64url = (buf) => buf.toString("base64url");
function pkcePair() {
  const verifier = b64url(randomBytes(32)); // 43 chars
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  return { verifier, challenge };
}

// A loopback HTTP listener standing in for the client's redirect_uri; records every query.
function startCallback() {
  const hits = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname !== "/callback") {
      res.writeHead(404).end();
      return;
    }
    const query = Object.fromEntries(url.searchParams);
    hits.push(query);
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    res.end("<!doctype html><title>Callback received</title><p>Callback received. You can close this tab.</p>");
    for (const w of waiters.splice(0)) w(query);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        uri: `http://127.0.0.1:${port}/callback`,
        hits,
        // The next hit after `seen` hits, within CALLBACK_TIMEOUT.
        next(seen) {
          if (hits.length > seen) return Promise.resolve(hits[seen]);
          return new Promise((res, rej) => {
            const t = setTimeout(
              () => rej(new Failure(`the callback was not called within ${CALLBACK_TIMEOUT / 1000} s`)),
              CALLBACK_TIMEOUT,
            );
            waiters.push((q) => {
              clearTimeout(t);
              res(q);
            });
          });
        },
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

// --- the flow -----------------------------------------------------------------------------

let browser = null; // a persistent BrowserContext (fresh user-data dir)
let callback = null;
let ownProfile = null;

async function main() {
  const resource = `${ISSUER}/mcp`;
  let as; // authorization server metadata

  await step("POST /mcp without a token is refused with 401 and a resource_metadata pointer", async () => {
    const r = await mcp(resource, null, "tools/list");
    eq(r.status, 401, "status");
    const www = r.headers.get("www-authenticate") || "";
    check(/^Bearer\b/i.test(www), `WWW-Authenticate should be a Bearer challenge, got ${JSON.stringify(www)}`);
    check(www.includes("resource_metadata="), `WWW-Authenticate lacks resource_metadata: ${JSON.stringify(www)}`);
  });

  await step("protected resource metadata names this server as the authorization server", async () => {
    const prm = await getJson(`${ISSUER}/.well-known/oauth-protected-resource/mcp`);
    check(
      [resource, `${resource}/`].includes(prm.resource),
      `resource: expected ${resource}, got ${JSON.stringify(prm.resource)}`,
    );
    check(
      (prm.authorization_servers || []).map((s) => s.replace(/\/+$/, "")).includes(ISSUER),
      `authorization_servers ${JSON.stringify(prm.authorization_servers)} does not include ${ISSUER}`,
    );
  });

  await step("authorization server metadata (issuer, endpoints, S256)", async () => {
    as = await getJson(`${ISSUER}/.well-known/oauth-authorization-server`);
    eq(as.issuer, ISSUER, "issuer");
    check(
      (as.code_challenge_methods_supported || []).includes("S256"),
      `code_challenge_methods_supported lacks S256: ${JSON.stringify(as.code_challenge_methods_supported)}`,
    );
    for (const k of ["authorization_endpoint", "token_endpoint", "registration_endpoint"]) {
      check(typeof as[k] === "string", `${k} missing`);
      loopbackOnly(as[k]);
    }
    return `code_challenge_methods_supported=${JSON.stringify(as.code_challenge_methods_supported)}`;
  });

  callback = await startCallback();

  let clientId;
  await step("dynamic client registration (RFC 7591) with a loopback redirect URI", async () => {
    const res = await fetch(loopbackOnly(as.registration_endpoint), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ client_name: CLIENT_NAME, redirect_uris: [callback.uri] }),
      signal: AbortSignal.timeout(HTTP_TIMEOUT),
    });
    const text = await res.text();
    eq(res.status, 201, `status (${text.slice(0, 300)})`);
    const body = JSON.parse(text);
    check(typeof body.client_id === "string" && body.client_id, "no client_id in the registration response");
    clientId = body.client_id;
    return `redirect_uri=${callback.uri}`;
  });

  const authorizeUrl = (challenge, state) => {
    const u = new URL(as.authorization_endpoint);
    u.search = new URLSearchParams({
      response_type: "code",
      client_id: clientId,
      redirect_uri: callback.uri,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state,
      scope: "ilert:read ilert:write",
      resource,
    }).toString();
    return u.toString();
  };

  // -- browser -----------------------------------------------------------------------------
  const profile = args["profile-dir"] || (ownProfile = mkdtempSync(join(tmpdir(), "ilert-mcp-oauth-chromium-")));
  const foreign = []; // requests the page made to anything but 127.0.0.1
  await step("launch headless Chromium", async () => {
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: args.chromium,
      headless: true,
      timeout: LAUNCH_TIMEOUT,
      viewport: { width: 1280, height: 800 },
      locale: "en-US",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-dev-shm-usage",
        // Belt and braces: no name resolves, so nothing but literal 127.0.0.1 is reachable.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      ],
    });
    browser.setDefaultTimeout(PAGE_TIMEOUT);
    browser.setDefaultNavigationTimeout(PAGE_TIMEOUT);
    browser.on("request", (req) => {
      const u = new URL(req.url());
      if (/^https?:$/.test(u.protocol) && u.hostname !== "127.0.0.1") foreign.push(req.url());
    });
    page = browser.pages()[0] || (await browser.newPage());
    const cdp = await browser.newCDPSession(page);
    const { product } = await cdp.send("Browser.getVersion");
    await cdp.detach();
    return `${args.chromium}, ${product}`;
  });

  // -- Allow run ---------------------------------------------------------------------------
  const pkce = pkcePair();
  const state = b64url(randomBytes(16));
  let seen = 0;

  await step("authorize page loads, names the client and its redirect host, is not frameable", async () => {
    const res = await page.goto(authorizeUrl(pkce.challenge, state), { waitUntil: "load" });
    check(res, "no response for the authorize page");
    eq(res.status(), 200, "status");
    const h = res.headers();
    eq(h["x-frame-options"], "DENY", "X-Frame-Options");
    check(
      (h["content-security-policy"] || "").includes("frame-ancestors 'none'"),
      `CSP lacks frame-ancestors 'none': ${JSON.stringify(h["content-security-policy"])}`,
    );
    eq(await page.title(), `Connect ${CLIENT_NAME} to ilert`, "title");
    const heading = page.getByRole("heading", { level: 1 });
    eq((await heading.textContent())?.trim(), `Connect ${CLIENT_NAME} to ilert`, "h1");
    const text = await page.locator("main").innerText();
    check(text.includes(CLIENT_NAME), `page text does not name the client "${CLIENT_NAME}"`);
    check(
      text.includes("127.0.0.1"),
      `page text does not name the redirect host 127.0.0.1:\n${text.slice(0, 500)}`,
    );
    // The key field is reachable by its visible label and is a password field.
    const key = page.getByLabel("Your ilert API key");
    eq(await key.getAttribute("type"), "password", "API key input type");
    eq(await key.getAttribute("id"), "api_key", "API key input id");
    // The requested scope (ilert:read ilert:write) ticks every group, and "make changes" wherever
    // a group has tools that write (configuration has none).
    for (const group of GROUPS) {
      check(await page.locator(`input[name=${group}]`).isChecked(), `${group} should be ticked`);
    }
    for (const group of WRITE_GROUPS) {
      check(await page.locator(`input[name=${group}_write]`).isChecked(), `${group}_write should be ticked`);
    }
    eq(await page.locator("input[name=config_write]").count(), 0, "configuration has no write box");
    return `title "${await page.title()}"`;
  });

  await step("a wrong API key re-renders the page with an error and keeps the choices", async () => {
    await page.locator("#api_key").fill(WRONG_KEY);
    // Read only: untick every "make changes".
    for (const group of WRITE_GROUPS) await page.locator(`input[name=${group}_write]`).uncheck();
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(as.authorization_endpoint) && r.request().method() === "POST"),
      page.locator("button[value=allow]").click(),
    ]);
    await page.waitForLoadState("load");
    eq(res.status(), 400, "status of the POST with a wrong key");
    eq(res.headers()["x-frame-options"], "DENY", "X-Frame-Options on the error page");
    const alert = page.getByRole("alert");
    await alert.waitFor({ state: "visible" });
    const msg = (await alert.innerText()).trim();
    check(msg.includes("did not accept this API key"), `unexpected error text: ${JSON.stringify(msg)}`);
    eq(await page.locator("#api_key").inputValue(), "", "API key field after an error");
    check(!(await page.content()).includes(WRONG_KEY), "the rejected key is echoed back in the page");
    for (const group of WRITE_GROUPS) {
      check(!(await page.locator(`input[name=${group}_write]`).isChecked()), `the read-only choice was not kept (${group})`);
    }
    for (const group of GROUPS) {
      check(await page.locator(`input[name=${group}]`).isChecked(), `the read choice was not kept (${group})`);
    }
    eq(callback.hits.length, seen, "callback hits after a wrong key");
    const shot = join(ARTIFACTS, "authorize-error.png");
    await page.screenshot({ path: shot, fullPage: true });
    return `"${msg}"; screenshot ${rel(shot)}`;
  });

  let code;
  await step("the right key + read-and-write + Allow redirects to the callback with code, state, iss", async () => {
    await page.locator("#api_key").fill(GOOD_KEY);
    for (const group of WRITE_GROUPS) await page.locator(`input[name=${group}_write]`).check();
    const shot = join(ARTIFACTS, "authorize.png");
    await page.screenshot({ path: shot, fullPage: true });
    const hit = callback.next(seen);
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(callback.uri), { waitUntil: "load" }),
      page.locator("button[value=allow]").click(),
    ]);
    const q = await hit;
    seen += 1;
    check(!q.error, `callback got error=${q.error} (${q.error_description})`);
    check(q.code, `callback got no code: ${JSON.stringify(q)}`);
    eq(q.state, state, "state");
    eq(q.iss, ISSUER, "iss");
    eq(await page.title(), "Callback received", "title of the page the browser landed on");
    code = q.code;
    return `screenshot ${rel(shot)}`;
  });

  let tokens;
  await step("token exchange: authorization_code + PKCE verifier", async () => {
    const r = await postForm(as.token_endpoint, {
      grant_type: "authorization_code",
      code,
      client_id: clientId,
      redirect_uri: callback.uri,
      code_verifier: pkce.verifier,
    });
    eq(r.status, 200, `status (${r.text.slice(0, 300)})`);
    tokens = r.json;
    check(tokens?.access_token && tokens?.refresh_token, `tokens missing: ${r.text.slice(0, 300)}`);
    eq(String(tokens.token_type).toLowerCase(), "bearer", "token_type");
    check(Number(tokens.expires_in) > 0, `expires_in: ${tokens.expires_in}`);
    check(
      String(tokens.scope).split(" ").includes("ilert:write"),
      `scope should include ilert:write, got ${JSON.stringify(tokens.scope)}`,
    );
    return `scope="${tokens.scope}", expires_in=${tokens.expires_in}`;
  });

  await step("the code cannot be exchanged twice", async () => {
    const r = await postForm(as.token_endpoint, {
      grant_type: "authorization_code",
      code,
      client_id: clientId,
      redirect_uri: callback.uri,
      code_verifier: pkce.verifier,
    });
    eq(r.status, 400, `status (${r.text.slice(0, 300)})`);
    eq(r.json?.error, "invalid_grant", "error");
  });

  await step("tools/list with the access token", async () => {
    const r = await mcp(resource, tokens.access_token, "tools/list");
    eq(r.status, 200, `status (${r.text.slice(0, 300)})`);
    const tools = r.json?.result?.tools;
    check(Array.isArray(tools) && tools.length > 0, `no tools: ${r.text.slice(0, 300)}`);
    check(tools.some((t) => t.name === "get_current_user"), "get_current_user is not listed");
    return `${tools.length} tools`;
  });

  const currentUser = async (token) => {
    const r = await mcp(resource, token, "tools/call", { name: "get_current_user", arguments: {} });
    eq(r.status, 200, `status (${r.text.slice(0, 300)})`);
    check(!r.json?.error && !r.json?.result?.isError, `tool call failed: ${r.text.slice(0, 300)}`);
    eq(r.json?.result?.structuredContent?.name, GOOD_USER, "structuredContent.name");
  };
  await step("tools/call get_current_user acts as the user whose key was entered", async () => {
    await currentUser(tokens.access_token);
    return GOOD_USER;
  });

  let rotated;
  await step("refresh_token grant rotates both tokens", async () => {
    const r = await postForm(as.token_endpoint, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
      client_id: clientId,
    });
    eq(r.status, 200, `status (${r.text.slice(0, 300)})`);
    rotated = r.json;
    check(rotated?.access_token && rotated?.refresh_token, `tokens missing: ${r.text.slice(0, 300)}`);
    check(rotated.refresh_token !== tokens.refresh_token, "the refresh token was not rotated");
    check(rotated.access_token !== tokens.access_token, "the access token was not renewed");
    await currentUser(rotated.access_token);
    return `new access token works, scope="${rotated.scope}"`;
  });

  await step("the old refresh token is refused (400 invalid_grant)", async () => {
    const r = await postForm(as.token_endpoint, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
      client_id: clientId,
    });
    eq(r.status, 400, `status (${r.text.slice(0, 300)})`);
    eq(r.json?.error, "invalid_grant", "error");
  });

  // -- Deny run ----------------------------------------------------------------------------
  await step("Deny (without a key) redirects to the callback with error=access_denied", async () => {
    const pk = pkcePair();
    const denyState = b64url(randomBytes(16));
    const res = await page.goto(authorizeUrl(pk.challenge, denyState), { waitUntil: "load" });
    eq(res?.status(), 200, "status of the authorize page");
    const hit = callback.next(seen);
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(callback.uri), { waitUntil: "load" }),
      page.locator("button[value=deny]").click(),
    ]);
    const q = await hit;
    seen += 1;
    eq(q.error, "access_denied", "error");
    check(!q.code, "a code was issued although the user denied");
    eq(q.state, denyState, "state");
    eq(q.iss, ISSUER, "iss");
    return q.error_description ? `error_description="${q.error_description}"` : "";
  });

  await step("the page loaded nothing from hosts other than 127.0.0.1", async () => {
    check(foreign.length === 0, `requests to other hosts: ${foreign.join(", ")}`);
  });

  // -- native apps and claude.ai: the redirect after consent must pass the page's CSP --------
  // Chromium applies form-action to every redirect that follows the form's POST, so a policy of
  // 'self' plus http(s) origins would stop the way back to cursor:// or vscode://.
  const cspErrors = [];
  for (const target of [
    { name: "Cursor", uri: "cursor://anysphere.cursor-mcp/oauth/callback", app: true },
    { name: "VS Code", uri: "vscode://vscode.github-authentication/did-authenticate", app: true },
    { name: "claude.ai", uri: "https://claude.ai/api/mcp/auth_callback", app: false },
  ]) {
    await step(`after Allow, the redirect reaches ${target.name} (${target.uri.split("/")[0]}//) under the page's CSP`, async () => {
      const reg = await fetch(loopbackOnly(as.registration_endpoint), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ client_name: target.name, redirect_uris: [target.uri] }),
        signal: AbortSignal.timeout(HTTP_TIMEOUT),
      });
      const regText = await reg.text();
      eq(reg.status, 201, `registration of ${target.uri} (${regText.slice(0, 200)})`);
      const id = JSON.parse(regText).client_id;
      const pk = pkcePair();
      const st = b64url(randomBytes(16));
      const u = new URL(as.authorization_endpoint);
      u.search = new URLSearchParams({
        response_type: "code",
        client_id: id,
        redirect_uri: target.uri,
        code_challenge: pk.challenge,
        code_challenge_method: "S256",
        state: st,
        resource,
      }).toString();
      // A fresh tab each: Chromium may hold a tab that handed a URL to the system.
      page = await browser.newPage();
      page.on("console", (m) => {
        if (/Content Security Policy|form-action/i.test(m.text())) cspErrors.push(m.text());
      });
      // claude.ai is answered here, inside the browser: no name resolves and nothing leaves the machine.
      let reached = null;
      if (!target.app) {
        await page.route(`${target.uri}**`, (route) => {
          reached = route.request().url();
          return route.fulfill({ status: 200, contentType: "text/html", body: "<title>claude.ai callback</title>" });
        });
      }
      const res = await page.goto(u.toString(), { waitUntil: "load" });
      eq(res?.status(), 200, "status of the authorize page");
      const text = await page.locator("main").innerText();
      const shown = `${new URL(target.uri).protocol}//${new URL(target.uri).host}`;
      check(text.includes(shown), `the page does not show ${shown}:\n${text.slice(0, 400)}`);
      eq(text.includes("an app on this device"), target.app, "marked as an app on this device");
      const csp = (await res.headers())["content-security-policy"] || "";
      await page.locator("#api_key").fill(GOOD_KEY);
      const before = cspErrors.length;
      const failed = [];
      // Never print the URL: it carries the code.
      const onFailed = (r) => failed.push(`${new URL(r.url()).protocol} ${r.failure()?.errorText}`);
      page.on("requestfailed", onFailed);
      const redirect = page.waitForResponse(
        (r) => r.url().startsWith(as.authorization_endpoint) && r.request().method() === "POST",
      );
      await page.locator("button[value=allow]").click();
      // A redirect that form-action blocks never completes as a response.
      const r = await redirect.catch((e) => {
        throw new Failure(
          `the 303 after Allow never completed (${e.name}); CSP: ${csp}; console: ${cspErrors.slice(before).join(" | ") || "none"}; failed: ${failed.join(" | ") || "none"}`,
        );
      });
      eq(r.status(), 303, "status of the POST");
      const location = r.headers()["location"] || "";
      check(location.startsWith(target.uri), `Location ${location.slice(0, 80)} is not ${target.uri}`);
      const back = new URL(location);
      eq(back.searchParams.get("state"), st, "state");
      check(back.searchParams.get("code"), "no code in the redirect");
      if (target.app) {
        // Chromium hands an app's scheme to the system; what matters is that CSP let it go.
        await page.waitForTimeout(1000);
      } else {
        await page.waitForURL((x) => x.toString().startsWith(target.uri), { waitUntil: "load" });
        check(reached && reached.startsWith(target.uri), "the browser never requested the claude.ai callback");
        eq(await page.title(), "claude.ai callback", "title of the page the browser landed on");
        await page.unroute(`${target.uri}**`);
      }
      page.off("requestfailed", onFailed);
      const blocked = cspErrors.slice(before);
      check(blocked.length === 0, `CSP blocked the redirect: ${blocked.join(" | ")}`);
      check(!failed.some((f) => f.includes("ERR_BLOCKED_BY_CSP")), `blocked by CSP: ${failed.join(" | ")}`);
      // The code is good: the app exchanges it as any client would.
      const t = await postForm(as.token_endpoint, {
        grant_type: "authorization_code",
        code: back.searchParams.get("code"),
        client_id: id,
        redirect_uri: target.uri,
        code_verifier: pk.verifier,
      });
      eq(t.status, 200, `token exchange (${t.text.slice(0, 200)})`);
      await page.close();
      return `CSP form-action: ${(csp.match(/form-action [^;]*/) || [""])[0]}${failed.length ? `; ${failed.join(", ")}` : ""}`;
    });
  }
}

let rc = 0;
try {
  await main();
  console.log(`PASS all ${stepNo} steps`);
} catch (err) {
  if (!(err instanceof Failure)) console.log(`FAIL ${err?.stack || err}`);
  rc = 1;
} finally {
  page = null;
  if (browser) await browser.close().catch(() => {});
  if (callback) await callback.close().catch(() => {});
  if (ownProfile) rmSync(ownProfile, { recursive: true, force: true });
}
process.exit(rc);
