// Alert inbox, for list_alerts and get_overview: open alerts with priority, severity, age and
// responders; Accept, Resolve and Open in ilert. Writes go through the host as tools/call of
// accept_alerts / resolve_alerts, so the server's read-only mode and grants still decide.
import {
  badge,
  callTool,
  fmtAge,
  fmtTime,
  getViewContext,
  h,
  type Json,
  mount,
  openLink,
  startView,
  statusLine,
} from "./common";

interface Alert {
  id: number;
  summary: string;
  status: string;
  priority?: string;
  severity?: number;
  reported_at?: string;
  source?: { name?: string };
  responders?: Array<{ name?: string; status?: string }>;
  url?: string;
}

let alerts: Alert[] = [];
let heading = "Open alerts";
// The arguments list_alerts was called with, so Refresh shows the same selection.
let listArgs: Record<string, unknown> = {};
const status = statusLine();
const busy = new Set<number>();

function counts(): string {
  const pending = alerts.filter((a) => a.status === "PENDING").length;
  const accepted = alerts.filter((a) => a.status === "ACCEPTED").length;
  return `${pending} pending · ${accepted} accepted`;
}

async function alertUrl(alert: Alert): Promise<string | undefined> {
  if (alert.url) return alert.url;
  const ctx = await getViewContext();
  return ctx.ok && ctx.data?.app_url ? `${ctx.data.app_url}/alert/view?id=${alert.id}` : undefined;
}

async function act(alert: Alert, tool: "accept_alerts" | "resolve_alerts", verb: string): Promise<void> {
  busy.add(alert.id);
  draw();
  status.say(`${verb} #${alert.id}…`);
  const answer = await callTool(tool, { ids: [alert.id] });
  busy.delete(alert.id);
  if (!answer.ok) {
    status.say(answer.text || `${verb} #${alert.id} failed.`, true);
    draw();
    return;
  }
  status.say(answer.text.split("\n")[0] || `${verb} #${alert.id}: done.`);
  await refresh(false);
}

async function open(alert: Alert): Promise<void> {
  const url = await alertUrl(alert);
  if (!url || !(await openLink(url))) status.say(`Could not open alert #${alert.id} in ilert.`, true);
}

async function refresh(announce = true): Promise<void> {
  const answer = await callTool("list_alerts", listArgs);
  if (answer.ok && Array.isArray(answer.data?.alerts)) {
    alerts = answer.data.alerts;
    heading = "Open alerts";
    if (announce) status.say(`Refreshed at ${fmtTime(new Date().toISOString(), false)}.`);
  } else if (announce) {
    status.say(answer.text || "Refresh failed.", true);
  }
  draw();
}

function row(a: Alert): HTMLElement {
  const pendingWork = busy.has(a.id);
  const responders = (a.responders || [])
    .map((r) => `${r.name || "?"}${r.status === "ACCEPTED" ? " ✓" : ""}`)
    .join(", ");
  return h(
    "tr",
    { "data-alert": a.id },
    h("td", {}, badge(a.priority), h("div", { class: "small muted" }, a.severity ? `sev${a.severity}` : "")),
    h("td", {}, badge(a.status)),
    h(
      "td",
      {},
      h("div", { class: "summary" }, `#${a.id} ${a.summary}`),
      h("div", { class: "small muted" }, a.source?.name || ""),
    ),
    h("td", { class: "small", title: fmtTime(a.reported_at) }, fmtAge(a.reported_at)),
    h("td", { class: "small" }, responders || "–"),
    h(
      "td",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          disabled: pendingWork || a.status !== "PENDING",
          "aria-label": `Accept alert ${a.id}`,
          onclick: () => act(a, "accept_alerts", "Accepting"),
        },
        "Accept",
      ),
      h(
        "button",
        {
          type: "button",
          disabled: pendingWork || a.status === "RESOLVED",
          "aria-label": `Resolve alert ${a.id}`,
          onclick: () => act(a, "resolve_alerts", "Resolving"),
        },
        "Resolve",
      ),
      h(
        "button",
        { type: "button", "aria-label": `Open alert ${a.id} in ilert`, onclick: () => open(a) },
        "Open",
      ),
    ),
  );
}

function draw(): void {
  const focused = document.activeElement?.getAttribute("aria-label");
  const body =
    alerts.length === 0
      ? h("p", { class: "placeholder" }, "No open alerts.")
      : h(
          "div",
          { class: "scroll" },
          h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ...["Priority", "Status", "Alert", "Age", "Responders", ""].map((t) =>
                  h("th", { scope: "col" }, t),
                ),
              ),
            ),
            h("tbody", {}, ...alerts.map(row)),
          ),
        );
  mount(
    h(
      "header",
      {},
      h("h1", { class: "grow" }, heading, " ", h("span", { class: "muted small" }, counts())),
      h("button", { type: "button", onclick: () => refresh() }, "Refresh"),
    ),
    body,
    status,
  );
  // Keep keyboard focus on the same control across a redraw.
  if (focused) {
    const again = [...document.querySelectorAll("button")].find(
      (b) => b.getAttribute("aria-label") === focused,
    );
    again?.focus();
  }
}

startView("inbox", (data: Json, args) => {
  if (Array.isArray(data.alerts)) {
    const { cursor: _page, ...rest } = args;
    listArgs = rest;
    alerts = data.alerts;
    heading = "Open alerts";
  } else if (Array.isArray(data.top_alerts)) {
    // get_overview: its most urgent alerts.
    alerts = data.top_alerts;
    heading = "Most urgent alerts";
  } else {
    alerts = [];
  }
  draw();
});
