// Time-series panels: uPlot options built by pure functions, data as uPlot columns [ts[], s1[], …].
// A Panel owns one uPlot: it shows a /api/series reply, or appends live samples over a sliding window.

import uPlot from 'uplot';
import type { SeriesReply } from './api.js';
import { BYTE_INCRS, bytes, bytesTick, count, time, timeTicks } from './format.js';
import { highestPoint, type Peak } from '../../src/model/peaks.js';

export type Unit = 'bytes' | 'objects';

export interface PanelSpec {
  id: string;
  title: string;
  unit: Unit;
  /** Series shown first, in this order (the rest follow in the reply's order). */
  order?: string[];
  /** Legend text: the reply's label, or the series name (a pool or stack name, shown as the target spells it). */
  legend: 'label' | 'name';
}

export interface SeriesMeta {
  name: string;
  label: string;
}

export type Columns = [number[], ...(number | null)[][]];

const PROCESS_COLORS: Record<string, string> = {
  reserved_bytes: '#8c96a3',
  heap_bytes: '#4c78a8',
  allocated_bytes: '#e08a1e',
  in_use_bytes: '#2e9b57',
};
const PALETTE = ['#4c78a8', '#e45756', '#54a24b', '#b279a2', '#f58518', '#72b7b2', '#9d755d', '#eeca3b', '#ff9da6', '#79706e'];

export function seriesColor(name: string, index: number): string {
  return PROCESS_COLORS[name] ?? PALETTE[index % PALETTE.length]!;
}

export const CHART_HEIGHT = 220;
/** Time-axis tick steps in seconds: never below one second, the recorder's finest interval shown. */
const TIME_INCRS = [
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  10800,
  21600,
  43200,
  86400,
  2 * 86400,
  7 * 86400,
  14 * 86400,
  30 * 86400,
];
export const SYNC_KEY = 'gzmem';

/** Static uPlot options of one panel for a given set of series and width (no data, no state). */
export function panelOptions(spec: PanelSpec, series: SeriesMeta[], width: number, plugins: uPlot.Plugin[] = []): uPlot.Options {
  const fmt = spec.unit === 'bytes' ? bytes : count;
  return {
    width,
    height: CHART_HEIGHT,
    plugins,
    cursor: {
      // Same key on every panel: cursors move together and a drag-zoom on one zooms all.
      sync: { key: SYNC_KEY, setSeries: true },
      drag: { x: true, y: false, setScale: true },
    },
    scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.08 : 1] } },
    legend: { live: true },
    series: [
      { label: 'time', value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : time(v * 1000)) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: seriesColor(s.name, i),
        width: 1.5,
        // Gaps (the target exited, or had not started) stay breaks in the line.
        spanGaps: false,
        points: { show: false },
        value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : fmt(v)),
      })),
    ],
    axes: [
      {
        stroke: '#555',
        space: 70,
        incrs: TIME_INCRS,
        values: (_u, splits, _i, _space, incr) => timeTicks(splits, incr),
        grid: { stroke: '#eee' },
        ticks: { stroke: '#ddd' },
      },
      spec.unit === 'bytes'
        ? {
            stroke: '#555',
            size: 72,
            incrs: BYTE_INCRS,
            values: (_u, splits) => splits.map(bytesTick),
            grid: { stroke: '#eee' },
            ticks: { stroke: '#ddd' },
          }
        : {
            stroke: '#555',
            size: 72,
            values: (_u, splits) => splits.map((v) => count(v)),
            grid: { stroke: '#eee' },
            ticks: { stroke: '#ddd' },
          },
    ],
  };
}

/** Items in the panel's order: the names in `order` first, then the others as they came. */
export function orderByName<T extends { name: string }>(items: readonly T[], order: readonly string[] = []): T[] {
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  return items
    .map((s, i) => ({ s, i }))
    .sort((a, b) => rank(a.s.name) - rank(b.s.name) || a.i - b.i)
    .map((x) => x.s);
}

/** "in_use_bytes" → "in use": a legend for a series the server has not labelled yet. */
export function fallbackLabel(name: string): string {
  return name.replace(/_bytes$/, '').replace(/_/g, ' ');
}

/** Series as uPlot columns. */
export function seriesColumns(ts: number[], series: SeriesReply['series']): Columns {
  return [ts.slice(), ...series.map((s) => s.values.slice())];
}

/**
 * Appends one sample to `data` (series in `names` order; a name missing from `record` is a gap) and
 * drops what is older than `windowSec` before it. Returns new columns; `data` is not changed.
 */
export function appendColumns(
  data: Columns,
  names: string[],
  ts: number,
  record: Record<string, number | null>,
  windowSec: number,
): Columns {
  const [xs, ...ys] = data;
  if (xs.length > 0 && ts <= xs[xs.length - 1]!) return data; // a repeat or out of order: keep the newest
  let from = 0;
  while (from < xs.length && xs[from]! < ts - windowSec) from++;
  return [
    [...xs.slice(from), ts],
    ...names.map((n, i) => [...(ys[i] ?? new Array<number | null>(xs.length).fill(null)).slice(from), record[n] ?? null]),
  ] as Columns;
}

/** The peak of each series in `data`, by name (the history's rule: src/model/peaks.ts); none for a series with no value. */
export function columnPeaks(data: Columns, names: string[]): Map<string, Peak> {
  const out = new Map<string, Peak>();
  names.forEach((n, i) => {
    const peak = highestPoint(data[0], data[i + 1] ?? []);
    if (peak) out.set(n, peak);
  });
  return out;
}

/** Draws each visible series' peak as a dot with its value. */
export function peaksPlugin(names: () => string[], peaks: () => Map<string, Peak>, unit: Unit): uPlot.Plugin {
  const fmt = unit === 'bytes' ? bytes : count;
  return {
    hooks: {
      draw: (u: uPlot) => {
        const ctx = u.ctx;
        const { left, top, width, height } = u.bbox;
        const dpr = devicePixelRatio || 1;
        ctx.save();
        ctx.font = `${11 * dpr}px system-ui, sans-serif`;
        ctx.textAlign = 'left';
        ctx.textBaseline = 'bottom';
        const lineH = 13 * dpr;
        const taken: { x: number; y: number; w: number }[] = [];
        names().forEach((name, i) => {
          const s = u.series[i + 1];
          const p = peaks().get(name);
          // A series that never rose above zero has no peak worth a label.
          if (!p || p.value <= 0 || !s || s.show === false) return;
          const x = u.valToPos(p.ts, 'x', true);
          const y = u.valToPos(p.value, 'y', true);
          if (x < left || x > left + width || y < top || y > top + height) return;
          const color = typeof s.stroke === 'function' ? s.stroke(u, i + 1) : (s.stroke as string);
          ctx.fillStyle = color;
          ctx.beginPath();
          ctx.arc(x, y, 3.5 * dpr, 0, 2 * Math.PI);
          ctx.fill();
          const label = `peak ${fmt(p.value)}`;
          const w = ctx.measureText(label).width;
          // Inside the plot: left of the dot near the right edge; below a label already there.
          const lx = x + 6 * dpr + w > left + width ? x - 6 * dpr - w : x + 6 * dpr;
          let ly = Math.max(top + lineH, y - 3 * dpr);
          while (taken.some((t) => Math.abs(t.y - ly) < lineH && lx < t.x + t.w && t.x < lx + w)) ly += lineH;
          taken.push({ x: lx, y: ly, w });
          ctx.fillText(label, lx, ly);
        });
        ctx.restore();
      },
    },
  };
}

export interface Panel {
  /** Replaces the data with a /api/series reply. */
  show(reply: SeriesReply): void;
  /** Appends one live sample (values by series name), keeping `windowSec` of history. */
  append(ts: number, record: Record<string, number | null>, windowSec: number): void;
  resize(width: number): void;
  resetZoom(): void;
  /** The width to ask the server for points: one per pixel of plot area. */
  plotWidth(): number;
  /** A new title; `warn` marks it (a leaking pool). */
  setTitle(text: string, warn: boolean): void;
  readonly el: HTMLElement;
}

export function createPanel(el: HTMLElement, spec: PanelSpec, widthOf: () => number): Panel {
  const title = el.querySelector<HTMLElement>('.chart-title');
  if (title) title.textContent = spec.title;
  const host = el.querySelector<HTMLElement>('.chart')!;
  const empty = el.querySelector<HTMLElement>('.chart-empty');
  let names: string[] = [];
  let metas: SeriesMeta[] = [];
  let data: Columns = [[]];
  let peaks = new Map<string, Peak>();
  let draws = 0;
  let plot: uPlot | undefined;

  const zoomed = () => {
    const x = plot?.scales.x;
    const xs = data[0];
    // A new plot has no range until its first commit (a microtask): not zoomed.
    if (!plot || !x || x.min == null || x.max == null || xs.length < 2) return false;
    return x.min > xs[0]! + 1e-6 || x.max < xs[xs.length - 1]! - 1e-6;
  };

  const counters: uPlot.Plugin = {
    hooks: {
      draw: () => {
        // Read by the browser test and handy in devtools: how many points, how many redraws.
        el.dataset.points = String(data[0].length);
        el.dataset.draws = String(++draws);
      },
      setScale: (_u, key) => {
        if (key === 'x') el.classList.toggle('zoomed', zoomed());
      },
    },
  };

  const build = () => {
    plot = new uPlot(
      panelOptions(spec, metas, widthOf(), [
        peaksPlugin(
          () => names,
          () => peaks,
          spec.unit,
        ),
        counters,
      ]),
      data as uPlot.AlignedData,
      host,
    );
  };

  const render = (keepZoom: boolean) => {
    if (empty) empty.hidden = data[0].length > 0 && names.length > 0;
    if (!plot) return build();
    const { min, max } = plot.scales.x!;
    if (!keepZoom || min == null || max == null) return plot.setData(data as uPlot.AlignedData, true);
    // setData without rescaling does not redraw: set the same zoomed range again to draw.
    plot.setData(data as uPlot.AlignedData, false);
    plot.setScale('x', { min, max });
  };

  return {
    el,
    show(reply) {
      const series = orderByName(reply.series, spec.order);
      const next = series.map((s) => ({ name: s.name, label: spec.legend === 'label' && s.label ? s.label : s.name }));
      const changed = next.length !== metas.length || next.some((m, i) => m.name !== metas[i]!.name || m.label !== metas[i]!.label);
      metas = next;
      names = next.map((m) => m.name);
      data = seriesColumns(reply.ts, series);
      peaks = new Map(reply.peaks.map((p) => [p.name, { ts: p.ts, value: p.value }]));
      el.dataset.resolution = reply.resolution;
      if (changed) {
        // Other series: new options, so a new chart (render builds it).
        plot?.destroy();
        plot = undefined;
      }
      render(false);
    },
    append(ts, record, windowSec) {
      const fresh = Object.keys(record).filter((n) => !names.includes(n));
      if (fresh.length > 0) {
        // A new stack or pool: add its series (no history yet), keep the panel's order, rebuild.
        const columns = new Map(names.map((n, i) => [n, data[i + 1]!]));
        const all = [...metas, ...fresh.map((n) => ({ name: n, label: spec.legend === 'label' ? fallbackLabel(n) : n }))];
        metas = orderByName(all, spec.order);
        names = metas.map((m) => m.name);
        data = [data[0], ...names.map((n) => columns.get(n) ?? new Array<number | null>(data[0].length).fill(null))];
        plot?.destroy();
        plot = undefined;
      }
      const before = data;
      const keepZoom = zoomed();
      data = appendColumns(data, names, ts, record, windowSec);
      if (data === before && plot) return; // a repeated tick
      // Keep the peaks of what is still in the window: recompute when the oldest point left.
      if (data[0][0] !== before[0][0]) peaks = columnPeaks(data, names);
      else {
        for (const n of names) {
          const p = peaks.get(n);
          const next = highestPoint(p ? [p.ts, ts] : [ts], p ? [p.value, record[n] ?? null] : [record[n] ?? null]);
          if (next) peaks.set(n, next);
        }
      }
      el.dataset.resolution = 'live';
      render(keepZoom);
    },
    resize(width) {
      plot?.setSize({ width, height: CHART_HEIGHT });
    },
    resetZoom() {
      plot?.setData(data as uPlot.AlignedData, true);
    },
    plotWidth() {
      return Math.max(50, Math.round(plot ? plot.bbox.width / (devicePixelRatio || 1) : widthOf() - 80));
    },
    setTitle(text, warn) {
      if (!title) return;
      title.textContent = text;
      title.classList.toggle('warn', warn);
    },
  };
}
