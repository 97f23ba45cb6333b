// The hostile-text corpus in the browser (issue 23): what run.mjs needs to write the payloads of
// crates/ilert-mcp/tests/hostile/corpus.json into the demo's sandbox through its REST and Events
// APIs, and to audit a rendered view's DOM over them. Nothing here reads the server's code: the
// payloads come from the corpus file, the ids from the sandbox.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const CORPUS = join(HERE, "../../crates/ilert-mcp/tests/hostile/corpus.json");

/** The payloads, `repeat` expanded between `prefix` and `suffix` (as tests/it/hostile.rs does). */
export function loadCorpus() {
  const { payloads } = JSON.parse(readFileSync(CORPUS, "utf8"));
  return payloads.map((p) => ({
    id: p.id,
    class: p.class,
    text: `${p.prefix || ""}${p.text.repeat(p.repeat || 1)}${p.suffix || ""}`,
  }));
}

/** Characters that must never reach the DOM from third-party text: C0/C1 controls (but line
 * feed), bidirectional controls, zero-width and invisible characters, tag characters. The same
 * set tests/it/hostile.rs checks the tools' answers for. */
export const FORBIDDEN_SOURCE = String.raw`[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028\u2029\u202A-\u202E\u2060-\u2064\u2066-\u206F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFFC]|\uDB40[\uDC00-\uDC7F\uDD00-\uDDEF]`;
const FORBIDDEN = new RegExp(FORBIDDEN_SOURCE, "g");

/** Text reduced to what survives any cleaning: no forbidden character, no white space. Both the
 * payloads and the view's own words are compared in this form. */
export function squash(text) {
  return text.replace(FORBIDDEN, "").replace(/\s+/gu, "");
}

/** Pieces of `chrome` (the view's own words: button labels, headings...) that also occur in a
 * payload: every run of WINDOW characters of the squashed text is looked up in the squashed
 * payloads. Empty when the view's own words hold no third-party text. */
export const WINDOW = 12;
export function thirdPartyIn(chrome, squashedPayloads) {
  const s = squash(chrome);
  const hits = [];
  for (let i = 0; i + WINDOW <= s.length && hits.length < 3; i++) {
    const piece = s.slice(i, i + WINDOW);
    const owner = squashedPayloads.find((p) => p.text.includes(piece));
    if (owner) {
      hits.push(`${JSON.stringify(piece)} (payload ${owner.id})`);
      i += WINDOW - 1;
    }
  }
  return hits;
}

// ---- in the page ------------------------------------------------------------------------

/** Runs in every frame before any of its scripts (page.addInitScript). In the view's frame it
 * records in `window.__hostileRan` anything a script smuggled in through third-party text would
 * do: a dialog, a fetch, a cookie read, a window opened, document.write; and in
 * `window.__hostileAdded`, from the moment the view's own markup has been parsed, every element
 * of a kind the views never create and every event-handler attribute added to the DOM (even if
 * removed again at once). */
export function installTripwires() {
  if (window === window.top) return;
  const ran = [];
  const added = [];
  Object.defineProperty(window, "__hostileRan", { value: ran });
  Object.defineProperty(window, "__hostileAdded", { value: added });
  const note = (what) => ran.push(String(what).slice(0, 200));
  const noteAdded = (what) => added.push(String(what).slice(0, 200));
  for (const name of ["alert", "confirm", "prompt", "print", "open"]) {
    try {
      window[name] = (...args) => note(`${name}(${args.map(String).join(", ")})`);
    } catch {}
  }
  const realFetch = window.fetch;
  window.fetch = (input, init) => {
    note(`fetch ${input}`);
    return realFetch.call(window, input, init);
  };
  const realOpen = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    note(`XMLHttpRequest ${method} ${url}`);
    return realOpen.call(this, method, url, ...rest);
  };
  const realWrite = Document.prototype.write;
  Document.prototype.write = function (...args) {
    note(`document.write ${args.join("")}`);
    return realWrite.apply(this, args);
  };
  try {
    Object.defineProperty(Document.prototype, "cookie", {
      configurable: true,
      get() {
        note("document.cookie read");
        return "";
      },
      set() {
        note("document.cookie written");
      },
    });
  } catch {}
  // Kinds of element the views never create after their markup is parsed.
  const STRANGE = /^(img|image|a|area|iframe|frame|frameset|object|embed|form|input|textarea|link|base|meta|script|style|video|audio|source|picture|foreignobject|math|template|marquee|applet|portal|use|animate|set)$/i;
  let parsed = false;
  const inspect = (el) => {
    if (!(el instanceof Element)) return;
    for (const e of [el, ...el.querySelectorAll("*")]) {
      const tag = e.localName;
      if (STRANGE.test(tag)) noteAdded(`<${tag}> added`);
      for (const a of e.attributes) if (/^on/i.test(a.name)) noteAdded(`<${tag} ${a.name}> added`);
    }
  };
  new MutationObserver((records) => {
    if (!parsed) return;
    for (const r of records) {
      if (r.type === "attributes" && /^on/i.test(r.attributeName || "")) noteAdded(`${r.attributeName} set on <${r.target.localName}>`);
      for (const n of r.addedNodes) inspect(n);
    }
  }).observe(document, { childList: true, subtree: true, attributes: true });
  document.addEventListener("DOMContentLoaded", () => {
    parsed = true;
  });
}

/** Runs in the view's frame after rendering: what run.mjs checks over the corpus. `forbidden`
 * is FORBIDDEN_SOURCE. Returns plain data. */
export function auditDom(forbidden) {
  const bad = new RegExp(forbidden);
  const out = {
    ran: [...(window.__hostileRan || [])],
    elements: [...new Set(window.__hostileAdded || [])],
    links: [],
    chars: [],
    chrome: [],
    text: "",
  };
  const show = (s) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
  const charAt = (s) => {
    const m = s.match(bad);
    return m ? `U+${m[0].codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}` : "";
  };
  // Elements: exactly the view's own one <script> and one <style>, and nothing from markup.
  const scripts = document.querySelectorAll("script").length;
  const styles = document.querySelectorAll("style").length;
  if (scripts !== 1) out.elements.push(`${scripts} <script> elements`);
  if (styles !== 1) out.elements.push(`${styles} <style> elements`);
  const KNOWN = new Set([
    "html", "head", "meta", "title", "style", "script", "body", "main", "header", "section",
    "div", "span", "p", "strong", "em", "small", "h1", "h2", "h3", "ul", "ol", "li", "table",
    "thead", "tbody", "tr", "th", "td", "button", "select", "option", "label",
    "svg", "g", "line", "polyline", "circle", "rect", "text", "path",
  ]);
  for (const e of document.querySelectorAll("*")) {
    const tag = e.localName;
    if (!KNOWN.has(tag)) out.elements.push(`<${tag}>`);
    if (tag === "meta" && !e.closest("head")) out.elements.push("<meta> outside <head>");
    for (const a of e.attributes) {
      if (/^on/i.test(a.name)) out.elements.push(`<${tag} ${a.name}=${show(a.value)}>`);
      // Links and sources: http(s) only.
      if (/^(href|xlink:href|src|srcset|action|formaction|poster|data)$/i.test(a.name)) {
        if (!/^\s*https?:\/\//i.test(a.value)) out.links.push(`<${tag} ${a.name}=${show(a.value)}>`);
      }
      const c = charAt(a.value);
      if (c) out.chars.push(`${c} in <${tag} ${a.name}>: ${show(a.value)}`);
    }
  }
  for (const a of document.querySelectorAll("a")) {
    const href = a.getAttribute("href") || "";
    let scheme = "";
    try {
      scheme = new URL(href, "http://x.invalid/").protocol;
    } catch {}
    if (scheme !== "http:" && scheme !== "https:") out.links.push(`<a href=${show(href)}>`);
  }
  // Text: every text node as written (only line feeds allowed), and the rendered text, where
  // the browser's own tabs between table cells are allowed too.
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement?.closest("script,style")) continue;
    const c = charAt(n.data);
    if (c) out.chars.push(`${c} in the text of <${n.parentElement?.localName}>: ${show(n.data)}`);
  }
  const rendered = document.body.innerText.replace(/\t/g, " ");
  const c = charAt(rendered);
  if (c) out.chars.push(`${c} in document.body.innerText`);
  if (charAt(document.title)) out.chars.push(`${charAt(document.title)} in the title`);
  // The view's own words: buttons (text, label, tooltip), headings, table headers, badges,
  // tabs and the document title. Third-party text has no place there.
  for (const e of document.querySelectorAll("button,h1,h2,h3,h4,h5,h6,th,caption,legend,label,[role=tab],.badge,title")) {
    const parts = [e.textContent || "", e.getAttribute("aria-label") || "", e.getAttribute("title") || ""];
    out.chrome.push({ what: `<${e.localName}${e.className && typeof e.className === "string" ? `.${e.className.split(" ")[0]}` : ""}>`, text: parts.join(" ") });
  }
  out.text = document.body.textContent || "";
  return out;
}
