// On-call board, for who_is_on_call and get_schedule_shifts: who is on call now per policy and
// level, the next handover, and a 7-day timeline of each schedule's shifts in the viewer's time
// zone, with overrides marked (shifts via get_schedule_shifts, overrides via get_view_context).
// A second tab shows the on-call load of the last 30 days per person (get_oncall_load, fetched
// when the tab is first opened, for the team the model asked about or one schedule on the board).
import {
  type ToolAnswer,
  callTool,
  colourOf,
  fmtShort,
  fmtTime,
  h,
  hostCallsTools,
  type Json,
  mount,
  startView,
  statusLine,
  timeZone,
} from "./common";

interface Ref {
  id: number;
  name?: string;
}
interface Entry {
  level?: number;
  policy?: Ref;
  schedule?: Ref;
  user?: Ref;
  since?: string;
  until?: string;
  next?: Ref;
}
interface Shift {
  user?: Ref;
  start?: string;
  end?: string;
}
interface Override extends Shift {
  schedule: number;
}
/** get_oncall_load's structured output, the parts shown. */
interface PersonLoad {
  user: number;
  name?: string;
  timezone?: string;
  hours?: number;
  night_hours?: number;
  weekend_hours?: number;
  pages?: number;
  night_pages?: number;
  accepted?: number;
}
interface RestFlag {
  user: number;
  night?: string;
  rest_hours?: number;
}
/** What the load tab can be about: the team the model named, or one schedule on the board. */
interface Scope {
  key: string;
  label: string;
  args: Record<string, string>;
}

const DAY = 86_400_000;
const MAX_SCHEDULES = 6;
const status = statusLine();

/** Midnight today in the viewer's time zone, as epoch ms. */
function startOfToday(now: number): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: timeZone(),
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(now));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value || 0);
  return now - ((get("hour") * 60 + get("minute")) * 60 + get("second")) * 1000 - (now % 1000);
}

function inMinutes(iso: string, now: number): string {
  const min = Math.round((new Date(iso).getTime() - now) / 60000);
  if (min < 60) return `in ${min}m`;
  return `in ${Math.floor(min / 60)}h ${min % 60}m`;
}

function nowSection(entries: Entry[], now: number): HTMLElement[] {
  const byPolicy = new Map<string, Entry[]>();
  for (const e of entries) {
    const key = e.policy?.name || "No policy";
    byPolicy.set(key, [...(byPolicy.get(key) || []), e]);
  }
  const cards: HTMLElement[] = [];
  for (const [policy, list] of byPolicy) {
    cards.push(
      h(
        "section",
        { class: "policy", "aria-label": policy },
        h("div", { class: "small muted" }, policy),
        h(
          "ul",
          { class: "levels" },
          ...list.map((e) =>
            h(
              "li",
              { title: e.schedule ? `via ${e.schedule.name}` : "directly" },
              h("span", { class: "lvl" }, `L${e.level ?? "?"}`),
              h(
                "span",
                {},
                h("strong", {}, e.user?.name || "nobody"),
                e.until
                  ? h("div", { class: "small muted" }, `until ${fmtShort(e.until)}${e.next ? ` → ${e.next.name}` : ""}`)
                  : null,
              ),
            ),
          ),
        ),
      ),
    );
  }
  const blocks: HTMLElement[] = [h("h2", {}, "On call now"), h("div", { class: "policies" }, ...cards)];
  const upcoming = entries
    .filter((e) => e.until && new Date(e.until).getTime() > now)
    .sort((a, b) => new Date(a.until!).getTime() - new Date(b.until!).getTime());
  const first = upcoming[0];
  if (first?.until) {
    blocks.unshift(
      h(
        "p",
        { class: "handover" },
        h("strong", {}, "Next handover: "),
        `${fmtShort(first.until)} (${inMinutes(first.until, now)}) · ${first.policy?.name || ""} L${first.level ?? "?"}: `,
        `${first.user?.name || "nobody"} → ${first.next?.name || "?"}`,
      ),
    );
  }
  return blocks;
}

function isOverride(shift: Shift, overrides: Override[], schedule: number): boolean {
  const s = new Date(shift.start || 0).getTime();
  const e = new Date(shift.end || 0).getTime();
  return overrides.some(
    (o) =>
      o.schedule === schedule &&
      o.user?.id === shift.user?.id &&
      new Date(o.start || 0).getTime() < e &&
      new Date(o.end || 0).getTime() > s,
  );
}

function timeline(
  rows: Array<{ schedule: Ref; shifts: Shift[] }>,
  overrides: Override[],
  from: number,
  now: number,
): HTMLElement {
  const span = 7 * DAY;
  const pct = (t: number) => Math.min(100, Math.max(0, ((t - from) / span) * 100));
  const days = Array.from({ length: 7 }, (_, i) =>
    h(
      "div",
      {},
      new Date(from + i * DAY + DAY / 2).toLocaleDateString(undefined, {
        timeZone: timeZone(),
        weekday: "short",
        day: "numeric",
      }),
    ),
  );
  const people = new Set<string>();
  const tracks = rows.map(({ schedule, shifts }) => {
    const bars = shifts
      .filter((sh) => sh.start && sh.end && new Date(sh.end).getTime() > from && new Date(sh.start).getTime() < from + span)
      .map((sh) => {
        const left = pct(new Date(sh.start!).getTime());
        const width = Math.max(0.3, pct(new Date(sh.end!).getTime()) - left);
        const name = sh.user?.name || "nobody";
        const override = isOverride(sh, overrides, schedule.id);
        people.add(name);
        const label = `${schedule.name}: ${name}, ${fmtTime(sh.start)} – ${fmtTime(sh.end)}${override ? " (override)" : ""}`;
        return h(
          "span",
          {
            class: `shift${override ? " override" : ""}`,
            style: `left:${left.toFixed(3)}%;width:${width.toFixed(3)}%;background-color:${colourOf(name)}`,
            tabindex: 0,
            role: "img",
            "aria-label": label,
            title: label,
          },
          name.split(" ")[0],
        );
      });
    return h(
      "div",
      { class: "row" },
      h("div", { class: "name", title: schedule.name }, schedule.name || `#${schedule.id}`),
      h("div", { class: "track" }, ...bars, h("span", { class: "now", style: `left:${pct(now)}%`, "aria-hidden": "true" })),
    );
  });
  return h(
    "div",
    {},
    h(
      "div",
      { class: "timeline" },
      h("div", { class: "days", "aria-hidden": "true" }, h("div", {}), ...days),
      ...tracks,
      h(
        "div",
        { class: "legend" },
        ...[...people].map((p) =>
          h("span", {}, h("span", { class: "swatch", style: `background:${colourOf(p)}` }), p),
        ),
        h("span", {}, h("span", { class: "swatch shift override", style: "position:static;display:inline-block;background:#888" }), "override"),
        h("span", {}, h("span", { class: "swatch", style: "background:var(--danger)" }), "now"),
      ),
    ),
  );
}

/** "12.5 h", or "–" when the figure is missing. */
function hrs(v: number | undefined): string {
  return typeof v === "number" && Number.isFinite(v) ? `${v} h` : "–";
}

function fmtDay(iso: string | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString(undefined, { timeZone: timeZone(), month: "short", day: "numeric" });
}

/** The load table of one get_oncall_load answer. */
function loadTable(answer: ToolAnswer): HTMLElement {
  const data = answer.data || {};
  const people: PersonLoad[] = Array.isArray(data.people) ? data.people : [];
  const rest: RestFlag[] = Array.isArray(data.short_rest) ? data.short_rest : [];
  const gaps = Array.isArray(data.gaps) ? data.gaps.length : 0;
  const period = h(
    "p",
    {
      class: "small muted load-note",
      title:
        "Night: 22:00–06:00, weekend: Saturday and Sunday, in each person's own time zone. A page: an alert that notified them. " +
        "Short rest: a night page left under 11 h without pages between 19:00 and 09:00.",
    },
    `${fmtDay(data.from)} – ${fmtDay(data.until)} · nights and weekends in each person's time zone · gaps in the next 7 days: ${gaps || "none"}`,
  );
  if (!people.length) return h("div", {}, h("p", { class: "placeholder" }, "Nobody had a shift or a page in this period."), period);
  const cols = ["Person", "On call", "Night", "Weekend", "Pages", "Accepted", "Rest"];
  return h(
    "div",
    {},
    h(
      "div",
      { class: "scroll load-table" },
      h(
        "table",
        { "aria-label": "On-call load per person" },
        h("thead", {}, h("tr", {}, ...cols.map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          ...people.map((p) => {
            const flags = rest.filter((r) => r.user === p.user);
            return h(
              "tr",
              { "data-user": p.user },
              h("td", { class: "person", title: p.timezone || "" }, p.name || `#${p.user}`),
              h("td", { "data-figure": "hours" }, hrs(p.hours)),
              h("td", { "data-figure": "night_hours" }, hrs(p.night_hours)),
              h("td", { "data-figure": "weekend_hours" }, hrs(p.weekend_hours)),
              h(
                "td",
                { "data-figure": "pages" },
                String(p.pages ?? "–"),
                p.night_pages ? h("span", { class: "small muted" }, ` (${p.night_pages} at night)`) : null,
              ),
              h("td", { "data-figure": "accepted" }, String(p.accepted ?? "–")),
              h(
                "td",
                {
                  "data-figure": "rest",
                  class: flags.length ? "short-rest" : "",
                  title: flags.map((f) => `night of ${f.night}: ${f.rest_hours} h rest`).join("; "),
                },
                flags.length ? `short ${flags.length}×` : "ok",
              ),
            );
          }),
        ),
      ),
    ),
    period,
  );
}

/** The load tab: a scope picker and the table, fetched on first use and kept per scope. */
function loadPanel(scopes: Scope[]): { panel: HTMLElement; picker: HTMLElement; show(): void } {
  const cache = new Map<string, Promise<ToolAnswer>>();
  const body = h("div", { class: "load-body", "aria-live": "polite" });
  const select = h(
    "select",
    { "aria-label": "Load of", onchange: () => void show() },
    ...scopes.map((s) => h("option", { value: s.key }, s.label)),
  ) as HTMLSelectElement;
  const picker = h("span", { class: "small muted picker", hidden: true }, "of ", select);
  const panel = h("div", { class: "panel", id: "panel-load", role: "tabpanel", hidden: true }, body);
  async function show(): Promise<void> {
    if (!scopes.length) {
      body.replaceChildren(h("p", { class: "placeholder" }, "No team or schedule to show the load of."));
      return;
    }
    if (!hostCallsTools()) {
      body.replaceChildren(
        h("p", { class: "status error" }, "The on-call load cannot be shown: this host does not let views call tools."),
      );
      return;
    }
    const scope = scopes.find((s) => s.key === select.value) || scopes[0];
    if (!cache.has(scope.key)) cache.set(scope.key, callTool("get_oncall_load", scope.args));
    body.replaceChildren(h("p", { class: "placeholder" }, "Loading the on-call load…"));
    body.setAttribute("aria-busy", "true");
    const answer = await cache.get(scope.key)!;
    if (select.value !== scope.key) return; // another scope was picked meanwhile
    body.setAttribute("aria-busy", "false");
    if (!answer.ok) {
      cache.delete(scope.key); // try again next time
      body.replaceChildren(
        h("p", { class: "status error load-error" }, `The on-call load could not be fetched: ${answer.text || "no answer."}`),
      );
      return;
    }
    body.replaceChildren(loadTable(answer));
  }
  return { panel, picker, show: () => void show() };
}

async function render(data: Json, args: Record<string, unknown>): Promise<void> {
  const now = Date.now();
  const from = startOfToday(now);
  const entries: Entry[] = Array.isArray(data.on_call) ? data.on_call : [];
  const schedules = new Map<number, Ref>();
  if (data.schedule?.id) schedules.set(data.schedule.id, data.schedule);
  for (const e of entries) if (e.schedule?.id) schedules.set(e.schedule.id, e.schedule);
  const picked = [...schedules.values()].slice(0, MAX_SCHEDULES);

  // The heading is the view's own words; a schedule's name is third-party text, shown below it.
  const head = h("header", {}, h("h1", { class: "grow" }, "On-call board"));
  const subject = data.schedule?.name ? h("p", { class: "subject", title: data.schedule.name }, data.schedule.name) : null;
  const now_ = entries.length ? nowSection(entries, now) : [];
  if (!entries.length && Array.isArray(data.shifts)) {
    const current = data.shifts.find((s: Shift) => s.start && s.end && new Date(s.start).getTime() <= now && new Date(s.end).getTime() > now);
    const next = data.shifts.find((s: Shift) => s.start && new Date(s.start).getTime() > now);
    now_.push(
      h("h2", {}, "On call now"),
      h("p", {}, h("strong", {}, current?.user?.name || "nobody"), current ? ` until ${fmtTime(current.end)}` : ""),
    );
    if (next?.start) {
      now_.unshift(
        h("p", { class: "handover" }, h("strong", {}, "Next handover: "), `${fmtShort(next.start)} (${inMinutes(next.start, now)}) → ${next.user?.name || "nobody"}`),
      );
    }
  }
  // Two tabs in one place: the week's timeline and the load. The place is reserved while the
  // shifts load, and the load scrolls inside it, so nothing below moves.
  const height = 76 + Math.max(1, picked.length) * 26;
  const slot = h("div", {}, h("p", { class: "placeholder" }, "Loading shifts…"));
  const week = h("div", { class: "panel", id: "panel-week", role: "tabpanel", style: `min-height:${height - 30}px` }, slot);
  const scopes: Scope[] = [];
  if (typeof args.team === "string" && args.team) scopes.push({ key: "team", label: `team ${args.team}`, args: { team: args.team } });
  for (const sch of picked) scopes.push({ key: `schedule:${sch.id}`, label: sch.name || `schedule #${sch.id}`, args: { schedule: String(sch.id) } });
  const load = loadPanel(scopes);
  load.panel.style.height = `${height - 30}px`;
  const zone = h("span", { class: "small muted" }, `in ${timeZone()}`);
  const tabs: HTMLElement[] = [];
  const select = (which: number) => {
    tabs.forEach((t, i) => {
      t.setAttribute("aria-selected", String(i === which));
      t.tabIndex = i === which ? 0 : -1;
    });
    // The load takes the timeline's place at the timeline's height.
    if (which === 1 && week.offsetHeight > 0) load.panel.style.height = `${week.offsetHeight}px`;
    week.hidden = which !== 0;
    zone.hidden = which !== 0;
    load.panel.hidden = which !== 1;
    load.picker.hidden = which !== 1;
    if (which === 1) load.show();
  };
  tabs.push(
    h("button", { type: "button", role: "tab", id: "tab-week", "aria-controls": "panel-week", "aria-selected": "true", onclick: () => select(0) }, "Next 7 days"),
    h("button", { type: "button", role: "tab", id: "tab-load", "aria-controls": "panel-load", "aria-selected": "false", tabindex: -1, onclick: () => select(1) }, "Load, last 30 days"),
  );
  const tabRow = h(
    "div",
    {
      class: "tabs",
      role: "tablist",
      "aria-label": "On-call board",
      onkeydown: (e: KeyboardEvent) => {
        if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
        const next = tabs.findIndex((t) => t.getAttribute("aria-selected") === "true") === 0 ? 1 : 0;
        select(next);
        tabs[next].focus();
      },
    },
    ...tabs,
    zone,
    load.picker,
  );
  mount(head, subject, ...now_, tabRow, week, load.panel, status);
  if (!picked.length) {
    slot.replaceChildren(h("p", { class: "placeholder" }, "No schedules involved."));
    return;
  }
  const window = { from: new Date(from).toISOString(), until: new Date(from + 7 * DAY).toISOString() };
  const [ctx, ...answers] = await Promise.all([
    callTool("get_view_context", { schedules: picked.map((s) => s.id) }),
    ...picked.map((s) => callTool("get_schedule_shifts", { schedule: String(s.id), ...window })),
  ]);
  const rows = picked.map((schedule, i) => ({
    schedule,
    shifts: answers[i]?.ok && Array.isArray(answers[i].data?.shifts) ? answers[i].data.shifts : [],
  }));
  const failed = answers.filter((a) => !a.ok);
  if (failed.length) status.say(failed[0].text || "Some shifts could not be loaded.", true);
  const overrides: Override[] = ctx.ok && Array.isArray(ctx.data?.overrides) ? ctx.data.overrides : [];
  slot.replaceChildren(timeline(rows, overrides, from, now));
}

startView("oncall", (data: Json, args) => {
  void render(data, args);
});
