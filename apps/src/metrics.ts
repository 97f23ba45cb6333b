// Metrics chart, for get_alert_metrics: alerts per period as bars, MTTA and MTTR as lines (inline
// SVG), then the same window broken down by alert source (sources from get_view_context, one
// get_alert_metrics call per source).
import {
  callTool,
  fmtMinutes,
  getViewContext,
  h,
  type Json,
  mount,
  s,
  startView,
  statusLine,
} from "./common";

interface Bucket {
  bucket: string;
  count: number;
  mtta_minutes?: number;
  mttr_minutes?: number;
}

const MAX_SOURCES = 8;
const status = statusLine();

function chart(buckets: Bucket[]): SVGElement {
  const W = 600, H = 170, L = 34, R = 44, T = 10, B = 22;
  const n = Math.max(1, buckets.length);
  const maxCount = Math.max(1, ...buckets.map((b) => b.count));
  const maxMin = Math.max(1, ...buckets.flatMap((b) => [b.mtta_minutes ?? 0, b.mttr_minutes ?? 0]));
  const x = (i: number) => L + ((W - L - R) * (i + 0.5)) / n;
  const yCount = (v: number) => H - B - ((H - T - B) * v) / maxCount;
  const yMin = (v: number) => H - B - ((H - T - B) * v) / maxMin;
  const barW = Math.max(2, ((W - L - R) / n) * 0.6);
  const line = (key: "mtta_minutes" | "mttr_minutes") =>
    buckets
      .map((b, i) => (b[key] === undefined ? null : `${x(i).toFixed(1)},${yMin(b[key]!).toFixed(1)}`))
      .filter(Boolean)
      .join(" ");
  const dots = (key: "mtta_minutes" | "mttr_minutes", cls: string) =>
    buckets.flatMap((b, i) =>
      b[key] === undefined ? [] : [s("circle", { cx: x(i).toFixed(1), cy: yMin(b[key]!).toFixed(1), r: 3, class: cls })],
    );
  const labelEvery = Math.ceil(n / 10);
  const summary = buckets
    .map((b) => `${b.bucket}: ${b.count} alerts, MTTA ${fmtMinutes(b.mtta_minutes)}, MTTR ${fmtMinutes(b.mttr_minutes)}`)
    .join("; ");
  return s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": summary || "No data" },
    ...[0, 0.5, 1].map((f) =>
      s("line", { x1: L, x2: W - R, y1: yCount(maxCount * f), y2: yCount(maxCount * f), class: "grid" }),
    ),
    s("text", { x: L - 4, y: yCount(maxCount) + 4, "text-anchor": "end" }, String(maxCount)),
    s("text", { x: L - 4, y: yCount(0) + 4, "text-anchor": "end" }, "0"),
    s("text", { x: W - R + 4, y: yMin(maxMin) + 4 }, fmtMinutes(maxMin)),
    ...buckets.map((b, i) =>
      s(
        "rect",
        { x: (x(i) - barW / 2).toFixed(1), y: yCount(b.count).toFixed(1), width: barW.toFixed(1), height: (H - B - yCount(b.count)).toFixed(1), class: "bar" },
        s("title", {}, `${b.bucket}: ${b.count} alerts`),
      ),
    ),
    s("polyline", { points: line("mtta_minutes"), class: "mtta" }),
    s("polyline", { points: line("mttr_minutes"), class: "mttr" }),
    ...dots("mtta_minutes", "mtta"),
    ...dots("mttr_minutes", "mttr"),
    ...buckets.map((b, i) =>
      i % labelEvery === 0 ? s("text", { x: x(i), y: H - B + 14, "text-anchor": "middle" }, b.bucket.slice(5) || b.bucket) : null,
    ),
  );
}

/** Per-day answers list only days with alerts; show the quiet days too, as zero. */
function fillDays(buckets: Bucket[], from: string | undefined, until: string | undefined): Bucket[] {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (!from || !until || !buckets.every((b) => day.test(b.bucket))) return buckets;
  const have = new Map(buckets.map((b) => [b.bucket, b]));
  const out: Bucket[] = [];
  let t = Date.parse(`${from.slice(0, 10)}T00:00:00Z`);
  const end = Date.parse(`${until.slice(0, 10)}T00:00:00Z`);
  for (let i = 0; t <= end && i < 400; i++, t += 86_400_000) {
    const key = new Date(t).toISOString().slice(0, 10);
    out.push(have.get(key) || { bucket: key, count: 0 });
  }
  return out;
}

/** Totals of a window: alerts summed, MTTA/MTTR as means over periods weighted by their alerts. */
function totals(buckets: Bucket[]): { count: number; mtta?: number; mttr?: number } {
  const count = buckets.reduce((n, b) => n + b.count, 0);
  const mean = (key: "mtta_minutes" | "mttr_minutes") => {
    const with_ = buckets.filter((b) => b[key] !== undefined && b.count > 0);
    const w = with_.reduce((n, b) => n + b.count, 0);
    return w ? with_.reduce((n, b) => n + b[key]! * b.count, 0) / w : undefined;
  };
  return { count, mtta: mean("mtta_minutes"), mttr: mean("mttr_minutes") };
}

function spark(buckets: Bucket[], all: Bucket[]): SVGElement {
  const max = Math.max(1, ...all.map((b) => b.count));
  const byKey = new Map(buckets.map((b) => [b.bucket, b.count]));
  const n = Math.max(1, all.length);
  return s(
    "svg",
    { viewBox: `0 0 ${n * 6} 20`, class: "spark", "aria-hidden": "true", preserveAspectRatio: "none" },
    ...all.map((b, i) => {
      const v = byKey.get(b.bucket) || 0;
      const hgt = (18 * v) / max;
      return s("rect", { x: i * 6 + 1, y: 20 - hgt, width: 4, height: hgt, class: "bar" });
    }),
  );
}

async function bySource(slot: HTMLElement, data: Json, args: Record<string, unknown>, all: Bucket[]): Promise<void> {
  const ctx = await getViewContext();
  const sources: Array<{ id: number; name?: string }> = ctx.ok && Array.isArray(ctx.data?.sources) ? ctx.data.sources : [];
  if (!sources.length) {
    slot.replaceChildren(h("p", { class: "placeholder" }, ctx.ok ? "No alert sources." : "Sources are not available here."));
    return;
  }
  const picked = sources.slice(0, MAX_SOURCES);
  const base: Record<string, unknown> = { from: data.from, until: data.until, group_by: data.group_by };
  for (const k of ["priority", "policy", "timezone"]) if (args[k] !== undefined) base[k] = args[k];
  const answers = await Promise.all(picked.map((src) => callTool("get_alert_metrics", { ...base, source: String(src.id) })));
  const rows = picked
    .map((src, i) => ({ src, answer: answers[i] }))
    .map(({ src, answer }) => ({ src, ok: answer.ok, buckets: (answer.ok ? answer.data?.buckets : []) as Bucket[] }))
    .map((r) => ({ ...r, t: totals(r.buckets || []) }))
    .sort((a, b) => b.t.count - a.t.count);
  if (rows.some((r) => !r.ok)) status.say("Some sources could not be loaded.", true);
  slot.replaceChildren(
    h(
      "table",
      { "aria-label": "Alert metrics by source" },
      h("thead", {}, h("tr", {}, ...["Source", "Alerts", "MTTA", "MTTR", "Per period"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        ...rows.map((r) =>
          h(
            "tr",
            {},
            h("td", {}, r.src.name || `#${r.src.id}`),
            h("td", {}, String(r.t.count)),
            h("td", {}, fmtMinutes(r.t.mtta)),
            h("td", {}, fmtMinutes(r.t.mttr)),
            h("td", {}, spark(r.buckets || [], all)),
          ),
        ),
      ),
    ),
  );
  if (sources.length > MAX_SOURCES) slot.append(h("p", { class: "small muted" }, `First ${MAX_SOURCES} of ${sources.length} sources.`));
}

startView("metrics", (data: Json, args) => {
  const buckets = fillDays(Array.isArray(data.buckets) ? data.buckets : [], data.from, data.until);
  const t = totals(buckets);
  const per = String(data.group_by || "DAY").toLowerCase();
  const slot = h("div", { class: "scroll", style: "height:150px" }, h("p", { class: "placeholder", style: "padding:8px" }, "Loading sources…"));
  mount(
    h(
      "header",
      {},
      h("h1", { class: "grow" }, `Alerts per ${per}`, " ", h("span", { class: "muted small" }, `${t.count} alerts · MTTA ${fmtMinutes(t.mtta)} · MTTR ${fmtMinutes(t.mttr)}`)),
    ),
    chart(buckets),
    h(
      "div",
      { class: "legend" },
      h("span", {}, h("span", { class: "swatch", style: "background:var(--info)" }), "alerts (left axis)"),
      h("span", {}, h("span", { class: "swatch", style: "background:var(--warn)" }), "MTTA"),
      h("span", {}, h("span", { class: "swatch", style: "background:var(--danger)" }), "MTTR (right axis)"),
    ),
    h("h2", {}, "By source"),
    slot,
    status,
  );
  void bySource(slot, data, args, buckets);
});
