// What every view shares: the MCP Apps connection (official SDK `App`), host theme and time zone,
// tool calls through the host, a DOM builder that only ever sets text (tool data is never parsed
// as HTML), and time formatting.
import {
  App,
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
  type McpUiHostContext,
} from "@modelcontextprotocol/ext-apps";

export type Json = any; // tool output, shaped by the server's outputSchema

export interface ToolAnswer {
  ok: boolean;
  data: Json;
  text: string;
}

type Child = Node | string | null | undefined | false;

/** `h("td", { class: "x" }, "text", child)`: attributes as strings, `on*` as listeners. */
export function h(tag: string, attrs: Record<string, unknown> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v as EventListener);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
export function s(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.append(c);
  return el;
}

let hostContext: McpUiHostContext = {};

/** The viewer's IANA time zone: the host's, else the browser's. */
export function timeZone(): string {
  return hostContext.timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function locale(): string | undefined {
  return hostContext.locale || undefined;
}

export function fmtTime(iso: string | undefined, withDay = true): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale(), {
    timeZone: timeZone(),
    weekday: withDay ? "short" : undefined,
    month: withDay ? "short" : undefined,
    day: withDay ? "numeric" : undefined,
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** "Thu 16:00"-style: weekday and time only, for the coming week. */
export function fmtShort(iso: string | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale(), { timeZone: timeZone(), weekday: "short", hour: "2-digit", minute: "2-digit" });
}

export function fmtMinutes(min: number | undefined): string {
  if (min === undefined || min === null || Number.isNaN(min)) return "–";
  if (min < 60) return `${Math.round(min)}m`;
  if (min < 48 * 60) return `${Math.floor(min / 60)}h ${Math.round(min % 60)}m`;
  return `${Math.round(min / 60 / 24)}d`;
}

/** "12m", "3h", "2d" since `iso`. */
export function fmtAge(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "–";
  const min = Math.max(0, (now - new Date(iso).getTime()) / 60000);
  if (min < 60) return `${Math.floor(min)}m`;
  if (min < 48 * 60) return `${Math.floor(min / 60)}h`;
  return `${Math.floor(min / 60 / 24)}d`;
}

/** A stable colour per name, readable with white text in both themes. */
export function colourOf(name: string): string {
  let n = 0;
  for (const ch of name) n = (n * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${n % 360} 55% 42%)`;
}

export function badge(value: string | undefined): HTMLElement {
  const v = value || "–";
  return h("span", { class: `badge ${v.toLowerCase()}` }, v.replace(/_/g, " "));
}

/** Replaces the view's content in place (one node swap: no flash of empty content). */
export function mount(...nodes: Child[]): void {
  const root = document.getElementById("app");
  if (!root) return;
  root.replaceChildren(...nodes.filter((n): n is Node | string => !!n));
  root.setAttribute("aria-busy", "false");
}

/** A live region for outcomes of button presses; its height is reserved so nothing moves. */
export function statusLine(): HTMLElement & { say(text: string, error?: boolean): void } {
  const el = h("p", { class: "status", role: "status", "aria-live": "polite" }) as HTMLElement & {
    say(text: string, error?: boolean): void;
  };
  el.say = (text, error = false) => {
    el.textContent = text;
    el.classList.toggle("error", error);
  };
  return el;
}

function applyContext(ctx: McpUiHostContext | undefined): void {
  if (!ctx) return;
  hostContext = { ...hostContext, ...ctx };
  if (ctx.theme) applyDocumentTheme(ctx.theme);
  if (ctx.styles?.variables) applyHostStyleVariables(ctx.styles.variables);
  if (ctx.styles?.css?.fonts) applyHostFonts(ctx.styles.css.fonts);
}

function textOf(result: { content?: Array<{ type: string; text?: string }> }): string {
  return (result.content || [])
    .filter((c) => c.type === "text" && c.text)
    .map((c) => c.text)
    .join("\n");
}

let app: App | undefined;

/** Calls one of the server's tools through the host (which applies its own consent rules; the
 * server applies read-only mode and grants). */
export async function callTool(name: string, args: Record<string, unknown> = {}): Promise<ToolAnswer> {
  if (!app) return { ok: false, data: undefined, text: "Not connected to the host." };
  try {
    const result = await app.callServerTool({ name, arguments: args });
    return { ok: !result.isError, data: result.structuredContent, text: textOf(result) };
  } catch (e) {
    return { ok: false, data: undefined, text: e instanceof Error ? e.message : String(e) };
  }
}

/** Whether the host relays a view's tool calls to the server (its `serverTools` capability).
 * Unknown before the connection is up: then the calls are tried and their failure shown. */
export function hostCallsTools(): boolean {
  const caps = app?.getHostCapabilities();
  return caps === undefined || caps.serverTools !== undefined;
}

export async function openLink(url: string): Promise<boolean> {
  if (!app) return false;
  try {
    const r = await app.openLink({ url });
    return !r.isError;
  } catch {
    return false;
  }
}

let viewContext: Promise<ToolAnswer> | undefined;
/** The app-only helper `get_view_context` (app URL, alert sources), fetched once. */
export function getViewContext(): Promise<ToolAnswer> {
  viewContext ??= callTool("get_view_context");
  return viewContext;
}

/** Connects to the host and calls `render` with each tool result addressed to this view. */
export function startView(
  name: string,
  render: (data: Json, args: Record<string, unknown>) => void,
): void {
  let args: Record<string, unknown> = {};
  const view = new App({ name: `ilert-${name}`, version: "1.0.0" }, {}, { autoResize: true });
  view.onhostcontextchanged = (ctx) => applyContext(ctx);
  view.ontoolinput = (params) => {
    args = (params.arguments as Record<string, unknown>) || {};
  };
  view.ontoolresult = (result) => {
    if (result.isError || !result.structuredContent) {
      mount(h("p", { class: "status error", role: "alert" }, textOf(result) || "The tool returned no data."));
      return;
    }
    render(result.structuredContent, args);
  };
  view.ontoolcancelled = () => mount(h("p", { class: "placeholder" }, "The tool call was cancelled."));
  app = view;
  view
    .connect()
    .then(() => applyContext(view.getHostContext()))
    .catch((e) => mount(h("p", { class: "status error" }, `Could not connect to the host: ${e}`)));
}
