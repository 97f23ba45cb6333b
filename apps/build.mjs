// Builds each view into one self-contained HTML file: the view's TypeScript bundled with the
// official MCP Apps SDK (@modelcontextprotocol/ext-apps) by esbuild, minified, inlined with the
// shared stylesheet. The first comment of each file records a SHA-256 of every source (see
// sourcesHash), which the cargo test `views::tests::embedded_views_match_their_sources` recomputes.
// Run through scripts/build-views, which installs the pinned toolchain.
//   node apps/build.mjs --out DIR
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const APPS = dirname(fileURLToPath(import.meta.url));
const VIEWS = {
  inbox: "ilert alert inbox",
  oncall: "ilert on-call board",
  incident: "ilert incident",
  metrics: "ilert alert metrics",
};

const outArg = process.argv.indexOf("--out");
if (outArg < 0 || !process.argv[outArg + 1]) {
  console.error("usage: node apps/build.mjs --out DIR");
  process.exit(2);
}
const OUT = process.argv[outArg + 1];

/** Every file the build reads, relative to apps/ with `/`, sorted: build.mjs, the package
 * manifest and lock, and everything under src/. */
function sourceFiles() {
  const files = ["build.mjs", "package.json", "package-lock.json"];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(relative(APPS, path).split(sep).join("/"));
    }
  };
  walk(join(APPS, "src"));
  return files.sort();
}

/** SHA-256 over `path NUL content NUL` of each source file in order (the Rust test does the same). */
function sourcesHash() {
  const hash = createHash("sha256");
  for (const file of sourceFiles()) {
    hash.update(file);
    hash.update("\0");
    hash.update(readFileSync(join(APPS, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

// zod ships error messages in ~50 languages; the views only ever show English ones. Every module
// in node_modules is also declared free of side effects so unused SDK parts are dropped.
const trim = {
  name: "trim",
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.inner) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: { inner: true },
      });
      if (resolved.errors.length) return undefined;
      if (/[\\/]zod[\\/]v4[\\/]locales[\\/](?!en\.js$|index\.js$)[^\\/]+\.js$/.test(resolved.path)) {
        return { path: resolved.path, namespace: "zod-locale" };
      }
      const pure = resolved.path.includes(`${sep}node_modules${sep}`);
      return { ...resolved, sideEffects: pure ? false : resolved.sideEffects };
    });
    build.onLoad({ filter: /.*/, namespace: "zod-locale" }, () => ({
      contents: "export default function () { return { localeError: () => undefined }; }",
    }));
  },
};

async function bundle(view) {
  const result = await esbuild.build({
    entryPoints: [join(APPS, "src", `${view}.ts`)],
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2022",
    platform: "browser",
    legalComments: "none",
    charset: "utf8",
    write: false,
    plugins: [trim],
    logLevel: "warning",
    metafile: true,
  });
  // What the minified script holds from packages (the SDK and what it pulls in) and from apps/src.
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  let sdk = 0;
  let own = 0;
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    if (path.includes("node_modules/")) sdk += bytesInOutput;
    else own += bytesInOutput;
  }
  // Inline in a <script>: `</script` must not end it early.
  const js = result.outputFiles[0].text.replace(/<\/(script)/gi, "<\\/$1").trimEnd();
  return { js, sdk, own };
}

const css = readFileSync(join(APPS, "src", "style.css"), "utf8")
  .replace(/\/\*[\s\S]*?\*\//g, "")
  .replace(/\s*\n\s*/g, "")
  .replace(/\s*([{}:;,>])\s*/g, "$1")
  .replace(/;}/g, "}");

const hash = sourcesHash();
mkdirSync(OUT, { recursive: true });
for (const [view, title] of Object.entries(VIEWS)) {
  const { js, sdk, own } = await bundle(view);
  const html =
    "<!doctype html>\n" +
    `<!-- ilert-mcp view "${view}": built by scripts/build-views from apps/, sources sha256 ${hash}. Do not edit. -->\n` +
    '<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    '<meta name="color-scheme" content="light dark">' +
    `<title>${title}</title><style>${css}</style></head>` +
    `<body><main id="app" aria-busy="true"><p class="placeholder">Loading…</p></main>` +
    `<script>${js}</script></body></html>\n`;
  writeFileSync(join(OUT, `${view}.html`), html);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(
    `${view}.html ${kb(Buffer.byteLength(html))}: script from packages ${kb(sdk)}, ` +
      `from apps/src ${kb(own)}, stylesheet ${kb(css.length)}`,
  );
}
