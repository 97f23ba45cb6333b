// On-call board, for who_is_on_call and get_schedule_shifts: who is on call now per policy and
// level, the next handover, and a 7-day timeline of each schedule's shifts in the viewer's time
// zone, with overrides marked (shifts via get_schedule_shifts, overrides via get_view_context).
import { callTool, colourOf, fmtShort, fmtTime, h, type Json, mount, startView, statusLine, timeZone } from "./common";

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
    h("h2", {}, `Next 7 days (${timeZone()})`),
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

async function render(data: Json): Promise<void> {
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
  // Reserve the timeline's place while its shifts load, so nothing below it moves.
  const slot = h("div", { style: `min-height:${76 + picked.length * 26}px` }, h("p", { class: "placeholder" }, "Loading shifts…"));
  mount(head, subject, ...now_, slot, status);
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

startView("oncall", (data: Json) => {
  void render(data);
});
