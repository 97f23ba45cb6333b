// Incident view, for get_incident: status, affected services with their impact, and the status
// history as a timeline (newest first), times in the viewer's time zone.
import { badge, fmtTime, h, type Json, mount, openLink, startView, statusLine } from "./common";

interface Update {
  at?: string;
  by?: string;
  status?: string;
  message?: string;
}

const status = statusLine();

/** "Checkout: PARTIAL_OUTAGE" -> ["Checkout", "PARTIAL_OUTAGE"]. */
function splitService(entry: string): [string, string | undefined] {
  const at = entry.lastIndexOf(": ");
  return at < 0 ? [entry, undefined] : [entry.slice(0, at), entry.slice(at + 2)];
}

startView("incident", (data: Json) => {
  const updates: Update[] = Array.isArray(data.updates) ? [...data.updates] : [];
  updates.sort((a, b) => new Date(b.at || 0).getTime() - new Date(a.at || 0).getTime());
  const services: string[] = Array.isArray(data.services) ? data.services : [];
  mount(
    h(
      "header",
      {},
      // The heading is the view's own words; the summary (third-party text) goes below it.
      h("h1", { class: "grow" }, `Incident #${data.id} `, badge(data.status)),
      data.url
        ? h(
            "button",
            {
              type: "button",
              "aria-label": `Open incident ${data.id} in ilert`,
              onclick: async () => {
                if (!(await openLink(data.url))) status.say("Could not open the incident in ilert.", true);
              },
            },
            "Open ↗",
          )
        : null,
    ),
    data.summary ? h("p", { class: "subject", title: data.summary }, data.summary) : null,
    h(
      "p",
      { class: "small muted" },
      `Opened ${fmtTime(data.created_at)} · last update ${fmtTime(data.updated_at)}${data.resolved_at ? ` · resolved ${fmtTime(data.resolved_at)}` : ""}`,
    ),
    h("h2", {}, "Affected services"),
    services.length
      ? h(
          "ul",
          { class: "services" },
          ...services.map((entry) => {
            const [name, impact] = splitService(entry);
            return h("li", {}, `${name} `, badge(impact));
          }),
        )
      : h("p", { class: "placeholder" }, "No services affected."),
    h("h2", {}, "Status history"),
    h(
      "div",
      { class: "scroll", style: "max-height:300px;padding:8px 8px 0 12px;border:0" },
      updates.length
        ? h(
            "ol",
            { class: "history", "aria-label": "Status updates, newest first" },
            ...updates.map((u) =>
              h(
                "li",
                { class: (u.status || "").toLowerCase() },
                h("span", {}, badge(u.status), " ", h("span", { class: "small muted" }, `${fmtTime(u.at)}${u.by ? ` · ${u.by}` : ""}`)),
                h("p", {}, u.message || ""),
              ),
            ),
          )
        : h("p", { class: "placeholder" }, data.message || "No updates yet."),
    ),
    status,
  );
});
