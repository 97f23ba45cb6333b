// A minimal MCP Apps host for the browser test, built on the official SDKs: the TypeScript MCP
// client (@modelcontextprotocol/client) talks to a real `ilert-mcp demo` (through run.mjs's
// same-origin proxy), and the ext-apps AppBridge runs one view in a sandboxed iframe, as Claude,
// ChatGPT or VS Code would: it reads the tool's `_meta.ui.resourceUri`, fetches the HTML with
// resources/read, applies the resource's CSP, calls the tool, and hands the view its input and
// result. Calls the view makes go through `oncalltool`, which enforces `_meta.ui.visibility`.
//
// Query: ?tool=NAME&args=JSON&theme=light|dark&tz=IANA[&readonly=1][&deny=TOOL,...][&key=KEY]
// (readonly: the client sends X-MCP-Readonly, as a host configured for read-only use would; deny:
// the host refuses the view these tools, as a host whose user has not allowed them would; key: the
// demo API key the host's client sends, demo-key-user by default). Progress and results land in
// `window.hostState` for run.mjs to read.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import {
  AppBridge,
  PostMessageTransport,
  getToolUiResourceUri,
  isToolVisibilityAppOnly,
} from "@modelcontextprotocol/ext-apps/app-bridge";

const UI_MIME = "text/html;profile=mcp-app";

interface HostState {
  phase: string;
  error?: string;
  uri?: string;
  csp?: string;
  /** SHA-256 (hex) of the view's HTML as resources/read answered it. */
  htmlSha256?: string;
  viewCalls: Array<{ name: string; arguments: unknown; isError?: boolean; structuredContent?: unknown }>;
  refused: string[];
  opened: string[];
  sizes: number[];
}
const state: HostState = { phase: "starting", viewCalls: [], refused: [], opened: [], sizes: [] };
(window as unknown as { hostState: HostState }).hostState = state;

/** The CSP a host builds from the resource's `_meta.ui.csp` (the spec's restrictive default,
 * widened only by the domains the server declares). */
function cspFor(meta: { connectDomains?: string[]; resourceDomains?: string[] } | undefined): string {
  const connect = meta?.connectDomains?.length ? meta.connectDomains.join(" ") : "'none'";
  const res = meta?.resourceDomains?.length ? ` ${meta.resourceDomains.join(" ")}` : "";
  return [
    "default-src 'none'",
    `script-src 'unsafe-inline'${res}`,
    `style-src 'unsafe-inline'${res}`,
    `img-src data:${res}`,
    `font-src${res || " 'none'"}`,
    `connect-src ${connect}`,
    "frame-src 'none'",
    "base-uri 'none'",
  ].join("; ");
}

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const toolName = q.get("tool") || "list_alerts";
  const args = JSON.parse(q.get("args") || "{}");
  const theme = q.get("theme") === "dark" ? "dark" : "light";
  const timeZone = q.get("tz") || "Europe/Berlin";
  const denied = (q.get("deny") || "").split(",").filter(Boolean);
  document.documentElement.style.colorScheme = theme;
  document.body.style.background = theme === "dark" ? "#111" : "#eee";

  const client = new Client(
    { name: "ilert-apps-test-host", version: "1.0.0" },
    { capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: [UI_MIME] } } } as never },
  );
  const transport = new StreamableHTTPClientTransport(new URL("/mcp", location.href), {
    requestInit: {
      headers: {
        Authorization: `Bearer ${q.get("key") || "demo-key-user"}`,
        ...(q.get("readonly") ? { "X-MCP-Readonly": "true" } : {}),
      },
    },
  });
  await client.connect(transport);
  state.phase = "connected";

  const { tools } = await client.listTools();
  const tool = tools.find((t) => t.name === toolName);
  if (!tool) throw new Error(`no tool ${toolName}`);
  const uri = getToolUiResourceUri(tool);
  if (!uri) throw new Error(`${toolName} declares no view`);
  state.uri = uri;
  const read = await client.readResource({ uri });
  const content = read.contents[0] as { text?: string; mimeType?: string; _meta?: { ui?: { csp?: object } } };
  if (content.mimeType !== UI_MIME || !content.text) throw new Error(`${uri}: not an MCP App (${content.mimeType})`);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(content.text));
  state.htmlSha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const csp = cspFor(content._meta?.ui?.csp as never);
  state.csp = csp;
  // The host's CSP goes first in <head>, where a real host would send it as a header.
  const html = content.text.replace(/<head>/i, `<head><meta http-equiv="Content-Security-Policy" content="${csp}">`);

  const frame = document.createElement("iframe");
  frame.id = "view";
  frame.title = `${toolName} view`;
  frame.setAttribute("sandbox", "allow-scripts");
  frame.style.cssText = "width:720px;height:200px;border:1px solid #888;border-radius:8px;display:block";
  document.getElementById("wrap")!.append(frame);

  const bridge = new AppBridge(
    null,
    { name: "ilert-apps-test-host", version: "1.0.0" },
    { openLinks: {}, serverTools: {}, logging: {} },
    {
      hostContext: {
        theme,
        timeZone,
        locale: "en-US",
        displayMode: "inline",
        platform: "web",
        containerDimensions: { maxHeight: 500, width: 720 },
        toolInfo: { tool },
      },
    },
  );
  bridge.oncalltool = async (params) => {
    const target = tools.find((t) => t.name === params.name);
    // A host lets views call only tools whose visibility includes "app" (the default). Tools it
    // was not shown go to the server, which has the last word (read-only mode, grants).
    if ((target?._meta?.ui as { visibility?: string[] } | undefined)?.visibility?.includes("app") === false) {
      state.refused.push(params.name);
      throw new Error(`${params.name} is not callable by views`);
    }
    if (denied.includes(params.name)) {
      state.refused.push(params.name);
      throw new Error(`The host does not allow this view to call ${params.name}.`);
    }
    const result = await client.callTool({ name: params.name, arguments: params.arguments });
    state.viewCalls.push({
      name: params.name,
      arguments: params.arguments,
      isError: result.isError as boolean,
      structuredContent: result.structuredContent,
    });
    return result as never;
  };
  bridge.onopenlink = async ({ url }) => {
    state.opened.push(url);
    return {};
  };
  bridge.onsizechange = ({ height }) => {
    if (height === undefined) return;
    state.sizes.push(height);
    // Inline hosts grow the frame with its content up to their own limit: 500 px here.
    frame.style.height = `${Math.min(500, Math.ceil(height))}px`;
  };
  bridge.onloggingmessage = (m) => console.log(`[view] ${JSON.stringify(m)}`);
  bridge.oninitialized = async () => {
    state.phase = "initialized";
    await bridge.sendToolInput({ arguments: args });
    const result = await client.callTool({ name: toolName, arguments: args });
    await bridge.sendToolResult(result as never);
    state.phase = "result-sent";
  };
  await bridge.connect(new PostMessageTransport(frame.contentWindow!, frame.contentWindow!));
  frame.srcdoc = html;
  state.phase = "loading";
  // The model never sees app-only tools: a host filters them out of the agent's list.
  (window as unknown as { modelTools: string[] }).modelTools = tools
    .filter((t) => !isToolVisibilityAppOnly(t))
    .map((t) => t.name);
}

main().catch((e) => {
  state.phase = "failed";
  state.error = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
});
