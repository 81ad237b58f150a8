// The dashboard page: wires the API to the waterfall, the tables and the three time-series panels.

import 'uplot/dist/uPlot.min.css';
import '../style.css';
import {
  fetchAdvice,
  fetchSeries,
  fetchSnapshot,
  fetchTargets,
  subscribe,
  type Mempool,
  type Ring,
  type PosixCallCount,
  type Sample,
  type Scope,
  type SeriesReply,
  type Snapshot,
  type StackView,
  type Target,
} from './api.js';
import { createPanel, type Panel } from './charts.js';
import { DASH, bytes, count, pct, percent, ratio, span, time } from './format.js';
import { createTable, type Column } from './tables.js';
import { alertLine } from '../../src/analysis/exhaustion.js';
import { highestPoint } from '../../src/model/peaks.js';
import { counterRate } from '../../src/model/series.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** Time windows: "live" follows the event stream; the others show recorded history. */
const WINDOWS = [
  { id: 'live', label: 'Live', sec: 300 },
  { id: '5m', label: 'last 5 min', sec: 300 },
  { id: '1h', label: '1 h', sec: 3600 },
  { id: '6h', label: '6 h', sec: 6 * 3600 },
  { id: '24h', label: '24 h', sec: 86400 },
  { id: '7d', label: '7 days', sec: 7 * 86400 },
] as const;
type WindowId = (typeof WINDOWS)[number]['id'];

const SNAPSHOT_REFRESH_MS = 5000;
/** Advice reads the whole window's history: not at every snapshot. */
const ADVICE_REFRESH_MS = 30_000;
const ROW_LIMIT = 200;

const state = {
  targets: [] as Target[],
  target: undefined as string | undefined,
  window: 'live' as WindowId,
  /** Bumped on every target or window change; late replies of older loads are dropped. */
  generation: 0,
  loading: undefined as AbortController | undefined,
  /** Samples that arrive while the live window's history loads, appended once it is in. */
  queued: [] as Sample[],
  seriesReady: false,
};

// ---------- target picker ----------

function targetLabel(t: Target): string {
  return `${t.command} · pid ${t.pid} · ${t.key} · ${t.alive ? 'alive' : 'exited'}`;
}

/** Alive first, then the most recently seen. */
function byRecency(targets: Target[]): Target[] {
  return [...targets].sort((a, b) => Number(b.alive) - Number(a.alive) || b.lastSeen - a.lastSeen);
}

function renderTargets(): void {
  const select = $<HTMLSelectElement>('target');
  const sorted = byRecency(state.targets);
  select.replaceChildren(
    ...sorted.map((t) => {
      const o = document.createElement('option');
      o.value = t.key;
      o.textContent = targetLabel(t);
      return o;
    }),
  );
  select.disabled = sorted.length === 0;
  if (state.target && sorted.some((t) => t.key === state.target)) select.value = state.target;
  renderTargetInfo();
}

function renderTargetInfo(): void {
  const t = state.targets.find((x) => x.key === state.target);
  const info = $('target-info');
  info.textContent = t ? (t.alive ? `recorded since ${time(t.firstSeen)}` : `exited; last seen ${time(t.lastSeen)}`) : '';
  info.classList.toggle('exited', t !== undefined && !t.alive);
}

function message(text: string | undefined): void {
  const m = $('message');
  m.textContent = text ?? '';
  m.hidden = !text;
}

function chooseTarget(key: string | undefined): void {
  if (key === state.target) return;
  state.target = key;
  if (key) history.replaceState(null, '', `#target=${encodeURIComponent(key)}`);
  renderTargets();
  clearSnapshotViews();
  void loadSnapshot();
  void loadSeries();
  void loadAdvice();
}

function targetFromHash(): string | undefined {
  const m = /^#target=(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

function onTargets(targets: Target[]): void {
  state.targets = targets;
  const keep = state.target && targets.some((t) => t.key === state.target);
  if (targets.length === 0) message('No DPDK process recorded yet: start one (or gzmem serve with the recorder) and it appears here.');
  else message(undefined);
  renderTargets();
  if (!keep) {
    const wanted = targetFromHash();
    const first = targets.find((t) => t.key === wanted) ?? byRecency(targets)[0];
    chooseTarget(first?.key);
  }
}

// ---------- waterfall ----------

const LEVELS = [
  { key: 'reserved', sample: 'reserved_bytes', label: 'reserved', title: 'hugepages the kernel mapped into the process' },
  { key: 'heap', sample: 'heap_bytes', label: 'heap', title: "DPDK's malloc heaps" },
  { key: 'allocated', sample: 'allocated_bytes', label: 'allocated', title: 'memzones, mempools, rings, rte_malloc' },
  { key: 'inUse', sample: 'in_use_bytes', label: 'in use', title: 'allocated less the free objects in every mempool' },
] as const;

/** What the waterfall shows of each level: a snapshot's `Level`s, or a live sample's figures. */
type WaterfallFigures = Record<(typeof LEVELS)[number]['key'], { bytes: number | null; why?: string | undefined }>;

let shownWaterfall: WaterfallFigures | undefined;

function renderWaterfall(w: WaterfallFigures | undefined): void {
  shownWaterfall = w;
  const tbody = $<HTMLTableElement>('waterfall').tBodies[0]!;
  if (!w) {
    tbody.replaceChildren();
    return;
  }
  const top = w.reserved.bytes;
  const rows = LEVELS.map((l, i) => {
    const v = w[l.key];
    const above = i > 0 ? w[LEVELS[i - 1]!.key].bytes : null;
    const tr = document.createElement('tr');
    tr.dataset.level = l.key;
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = l.label;
    name.title = l.title;
    const b = document.createElement('td');
    b.className = 'num bytes';
    b.textContent = bytes(v.bytes);
    const p = document.createElement('td');
    p.className = 'num';
    p.textContent = i === 0 ? '' : percent(v.bytes, above);
    const bar = document.createElement('td');
    bar.className = 'barcol';
    const fill = document.createElement('div');
    fill.className = `wbar wbar-${l.key}`;
    fill.style.width = `${Math.min(100, (ratio(v.bytes, top) ?? 0) * 100).toFixed(1)}%`;
    bar.append(fill);
    tr.append(name, b, p, bar);
    if (v.bytes === null) {
      // Unknown is not zero: say why instead of drawing a bar.
      bar.replaceChildren();
      bar.className = 'why';
      bar.textContent = v.why ?? 'unknown';
    }
    return tr;
  });
  tbody.replaceChildren(...rows);
}

/** A live sample moves the waterfall between snapshots; an unknown level keeps the snapshot's why. */
function waterfallFromSample(s: Sample): void {
  const base = shownWaterfall;
  const next = {} as WaterfallFigures;
  for (const l of LEVELS) {
    const v = s.process[l.sample];
    next[l.key] = v === null || v === undefined ? { bytes: null, why: base?.[l.key].why ?? 'no sample' } : { bytes: v };
  }
  renderWaterfall(next);
  $('sample-time').textContent = `live sample ${time(s.ts * 1000)}`;
}

// ---------- tables ----------

const stackColumns: Column<StackView>[] = [
  { key: 'name', label: 'stack', value: (s) => s.name },
  { key: 'tid', label: 'tid', value: (s) => s.tid, numeric: true },
  { key: 'cpu', label: 'cpu', value: (s) => s.cpu, numeric: true, title: 'CPU the thread last ran on' },
  { key: 'total', label: 'total', value: (s) => s.totalBytes, text: (s) => bytes(s.totalBytes), numeric: true },
  { key: 'used', label: 'used', value: (s) => s.usedBytes, text: (s) => bytes(s.usedBytes), numeric: true },
  { key: 'free', label: 'free', value: (s) => s.freeBytes, text: (s) => bytes(s.freeBytes), numeric: true },
  { key: 'usage', label: 'usage', value: (s) => s.usage, text: (s) => pct(s.usage), bar: (s) => s.usage, numeric: true },
  {
    key: 'mbufs',
    label: 'mbufs in use / total',
    value: (s) => s.mbufsInUse,
    text: (s) => `${count(s.mbufsInUse)} / ${count(s.mbufs)}`,
    numeric: true,
  },
  {
    key: 'rings',
    label: 'rings',
    value: (s) => s.rings.count,
    text: (s) => count(s.rings.count),
    numeric: true,
    title: "rte_malloc'd rings the stack thread made (per-connection rings)",
  },
  {
    key: 'ringEntries',
    label: 'in rings',
    value: (s) => s.rings.entries,
    text: (s) => count(s.rings.entries),
    numeric: true,
    title: 'entries those rings hold now',
  },
  {
    key: 'ringPeak',
    label: 'rings peak',
    value: (s) => s.rings.entriesPeak,
    text: (s) => count(s.rings.entriesPeak),
    numeric: true,
    title: "the highest entries at the preload sampler's walks (up to 4 a second) since gzmem's previous sample",
  },
];

const poolColumns: Column<Mempool>[] = [
  { key: 'name', label: 'name', value: (m) => m.name },
  { key: 'size', label: 'objects', value: (m) => m.size, text: (m) => count(m.size), numeric: true },
  { key: 'inUse', label: 'in use', value: (m) => m.occupancy?.inUse ?? null, text: (m) => count(m.occupancy?.inUse), numeric: true },
  {
    key: 'use',
    label: 'use %',
    value: (m) => ratio(m.occupancy?.inUse, m.size),
    text: (m) => percent(m.occupancy?.inUse, m.size),
    bar: (m) => ratio(m.occupancy?.inUse, m.size),
    numeric: true,
  },
  {
    key: 'objectBytes',
    label: 'object size',
    value: (m) => m.objectBytes,
    text: (m) => bytes(m.objectBytes),
    numeric: true,
    title: 'header + element + trailer',
  },
  {
    key: 'bytes',
    label: 'bytes',
    value: (m) => m.memzoneBytes,
    text: (m) => bytes(m.memzoneBytes),
    numeric: true,
    title: "the pool's memzones",
  },
  {
    key: 'source',
    label: 'source',
    value: (m) => m.occupancy?.source ?? null,
    text: (m) => m.occupancy?.source ?? `${DASH} (capacity only)`,
  },
];

const ringColumns: Column<Ring>[] = [
  { key: 'name', label: 'name', value: (r) => r.name },
  { key: 'count', label: 'count', value: (r) => r.count, text: (r) => count(r.count), numeric: true },
  { key: 'capacity', label: 'capacity', value: (r) => r.capacity, text: (r) => count(r.capacity), numeric: true },
  {
    key: 'use',
    label: 'use %',
    value: (r) => ratio(r.count, r.capacity),
    text: (r) => percent(r.count, r.capacity),
    bar: (r) => ratio(r.count, r.capacity),
    numeric: true,
  },
  { key: 'bytes', label: 'bytes', value: (r) => r.bytes, text: (r) => bytes(r.bytes), numeric: true },
  { key: 'tid', label: 'creator tid', value: (r) => r.creatorTid, numeric: true },
];

type SizeRow = Snapshot['hugepages']['sizes'][number];
type NodeRow = Snapshot['hugepages']['nodes'][number];
const sizeColumns: Column<SizeRow>[] = [
  { key: 'page', label: 'page size', value: (h) => h.pageBytes, text: (h) => bytes(h.pageBytes), numeric: true },
  { key: 'total', label: 'pages', value: (h) => h.total, text: (h) => count(h.total), numeric: true },
  { key: 'free', label: 'free', value: (h) => h.free, text: (h) => count(h.free), numeric: true },
  {
    key: 'used',
    label: 'used',
    value: (h) => h.total - h.free,
    text: (h) => `${count(h.total - h.free)} (${percent(h.total - h.free, h.total)})`,
    bar: (h) => ratio(h.total - h.free, h.total),
    numeric: true,
  },
  {
    key: 'reserved',
    label: 'reserved',
    value: (h) => h.reserved,
    text: (h) => count(h.reserved),
    numeric: true,
    title: 'promised to a mapping, not yet faulted in',
  },
  { key: 'surplus', label: 'surplus', value: (h) => h.surplus, text: (h) => count(h.surplus), numeric: true },
  { key: 'totalBytes', label: 'total', value: (h) => h.totalBytes, text: (h) => bytes(h.totalBytes), numeric: true },
  { key: 'freeBytes', label: 'free bytes', value: (h) => h.freeBytes, text: (h) => bytes(h.freeBytes), numeric: true },
];
const nodeColumns: Column<NodeRow>[] = [
  { key: 'node', label: 'node', value: (h) => h.node, numeric: true },
  { key: 'page', label: 'page size', value: (h) => h.pageBytes, text: (h) => bytes(h.pageBytes), numeric: true },
  { key: 'total', label: 'pages', value: (h) => h.total, text: (h) => count(h.total), numeric: true },
  { key: 'free', label: 'free', value: (h) => h.free, text: (h) => count(h.free), numeric: true },
  {
    key: 'used',
    label: 'used',
    value: (h) => h.total - h.free,
    text: (h) => `${count(h.total - h.free)} (${percent(h.total - h.free, h.total)})`,
    bar: (h) => ratio(h.total - h.free, h.total),
    numeric: true,
  },
  { key: 'totalBytes', label: 'total', value: (h) => h.totalBytes, text: (h) => bytes(h.totalBytes), numeric: true },
];
type OrphanRow = NonNullable<Snapshot['orphans']>[number];
const orphanColumns: Column<OrphanRow>[] = [
  { key: 'prefix', label: 'file prefix', value: (o) => o.prefix },
  { key: 'files', label: 'files', value: (o) => o.files, numeric: true },
  { key: 'bytes', label: 'bytes', value: (o) => o.bytes, text: (o) => bytes(o.bytes), numeric: true },
  { key: 'mount', label: 'mount', value: (o) => o.mount },
  { key: 'remove', label: 'to reclaim (gzmem never runs it)', value: (o) => o.removeCommand },
];

/** A call row with its rate since the previous snapshot of the same target. */
type CallRow = PosixCallCount & { perSecond: number | null };
const callColumns: Column<CallRow>[] = [
  { key: 'thread', label: 'thread', value: (c) => c.thread, text: (c) => c.thread ?? '(exited)' },
  { key: 'tid', label: 'tid', value: (c) => c.tid, numeric: true },
  { key: 'call', label: 'call', value: (c) => c.call },
  { key: 'calls', label: 'calls', value: (c) => c.calls, text: (c) => count(c.calls), numeric: true },
  { key: 'errors', label: 'failed', value: (c) => c.errors, text: (c) => count(c.errors), numeric: true },
  {
    key: 'rate',
    label: 'per second',
    value: (c) => c.perSecond,
    text: (c) => (c.perSecond === null ? DASH : c.perSecond.toFixed(1)),
    numeric: true,
    title: 'since the previous snapshot',
  },
];
let previousCalls: { target: string; at: number; counts: Map<string, number> } | undefined;

function callRows(target: string, s: Snapshot): CallRow[] | null {
  const calls = s.processes[0]?.posixCalls;
  if (!calls) return null;
  const at = Date.parse(s.takenAt) / 1000;
  const prev = previousCalls?.target === target ? previousCalls : undefined;
  previousCalls = { target, at, counts: new Map(calls.map((c) => [`${c.tid}/${c.call}`, c.calls])) };
  return calls.map((c) => ({ ...c, perSecond: counterRate(prev?.counts.get(`${c.tid}/${c.call}`), c.calls, prev ? at - prev.at : 0) }));
}

const tables = {
  calls: createTable($('calls'), callColumns, {
    noun: 'rows',
    limit: ROW_LIMIT,
    sort: { key: 'calls', desc: true },
    empty: 'No POSIX calls counted yet.',
  }),
  stacks: createTable($('stacks'), stackColumns, { noun: 'stacks', sort: { key: 'name', desc: false }, empty: '' }),
  pools: createTable($('pools'), poolColumns, {
    noun: 'pools',
    limit: ROW_LIMIT,
    sort: { key: 'bytes', desc: true },
    empty: 'No mempools.',
  }),
  rings: createTable($('rings'), ringColumns, {
    noun: 'rings',
    limit: ROW_LIMIT,
    sort: { key: 'count', desc: true },
    empty: 'No rings listed (the preload library or attach mode lists them).',
  }),
  sizes: createTable($('hp-sizes'), sizeColumns, { noun: 'page sizes', sort: { key: 'page', desc: false }, empty: 'No hugepage sizes.' }),
  nodes: createTable($('hp-nodes'), nodeColumns, { noun: 'nodes', sort: { key: 'node', desc: false }, empty: 'No NUMA nodes reported.' }),
};
const orphanHost = $('orphans');

function renderSnapshot(s: Snapshot): void {
  const p = s.processes[0];
  renderWaterfall(p?.waterfall);
  $('snapshot-time').textContent = `snapshot ${time(s.takenAt)}${p?.dpdkVersion ? ` · ${p.dpdkVersion}` : ''}`;

  const view = s.lstack?.[0];
  const stacks = view?.stacks ?? [];
  $('stacks-card').classList.toggle('not-gazelle', stacks.length === 0);
  tables.stacks.update(
    stacks,
    `Not a gazelle process: no gazellelstackNN threads${view?.notes.length ? ` (${view.notes.join('; ')})` : ''}.`,
  );
  tables.pools.update(p?.mempools ?? []);
  tables.rings.update(p?.rings ?? []);
  const calls = state.target ? callRows(state.target, s) : null;
  tables.calls.update(calls ?? [], calls === null ? `POSIX calls: unknown (${p?.posixCallsWhy ?? 'no process'}).` : undefined);
  tables.sizes.update(s.hugepages.sizes);
  tables.nodes.update(s.hugepages.nodes);
  renderOrphans(s.orphans);
  renderAlerts(p);
}

/** The memory line the CLI prints, each alert in a list, and a mark on the pool chart for a leak. */
function renderAlerts(p: Snapshot['processes'][number] | undefined): void {
  $('alert-line').textContent = p ? alertLine(p) : '';
  $('alerts').replaceChildren(
    ...(p?.alerts ?? []).map((a) => {
      const li = document.createElement('li');
      li.className = a.level;
      li.textContent = `${a.level === 'critical' ? 'CRITICAL' : 'warning'}: ${a.message}`;
      return li;
    }),
  );
  const leaking = (p?.alerts ?? []).filter((a) => /leaks\?/.test(a.message)).map((a) => a.subject);
  panels.pool.setTitle(`Objects in use per mempool${leaking.length ? ` · leak? ${leaking.join(', ')}` : ''}`, leaking.length > 0);
}

// ---------- right-sizing ----------

async function loadAdvice(): Promise<void> {
  const key = state.target;
  if (!key) return;
  const windowMs = (state.window === 'live' ? 3600 : windowSec()) * 1000;
  try {
    const r = await fetchAdvice(key, windowMs);
    if (key !== state.target) return;
    const a = r.advice;
    const share = pct(a.savedShare === null ? null : Math.abs(a.savedShare));
    const saved =
      a.savedBytes === null ? 'saving unknown' : `${a.savedBytes >= 0 ? 'saves' : 'needs'} ${bytes(Math.abs(a.savedBytes))} (${share})`;
    $('advice-summary').textContent =
      `From the last ${span(r.observation.windowMs / 1000)} of history, headroom × ${a.headroom}: ` +
      `--socket-mem ${a.socketMemMiB?.join(',') ?? DASH}, ${a.nrHugepages ?? DASH} hugepages, ${saved}.`;
    const cell = (v: string | number, num = false) => `<td${num ? ' class="num"' : ''}>${esc(String(v))}</td>`;
    const rows = a.changes.map((c) => `<tr>${cell(c.key)}${cell(c.from, true)}${cell(c.to, true)}${cell(c.why)}</tr>`);
    const head = '<thead><tr><th>setting</th><th class="num">from</th><th class="num">to</th><th>why</th></tr></thead>';
    $('advice-changes').innerHTML = rows.length
      ? `<table class="advice">${head}<tbody>${rows.join('')}</tbody></table>`
      : '<p class="small">Nothing to change: the settings fit.</p>';
    const diff = $('advice-diff');
    diff.hidden = r.diff === null;
    diff.textContent = r.diff ?? '';
    $('advice-notes').textContent = a.notes.join(' ');
  } catch (err) {
    if (key !== state.target) return;
    $('advice-summary').textContent = `No advice: ${err instanceof Error ? err.message : String(err)}`;
    $('advice-changes').replaceChildren();
    $('advice-diff').hidden = true;
    $('advice-notes').textContent = '';
  }
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function renderOrphans(orphans: Snapshot['orphans']): void {
  if (!orphans || orphans.length === 0) {
    const p = document.createElement('p');
    p.className = 'muted small';
    p.textContent = orphans ? 'No orphaned hugepage files.' : 'Orphaned hugepage files: not scanned in this snapshot.';
    orphanHost.replaceChildren(p);
    return;
  }
  const h = document.createElement('h3');
  const total = orphans.reduce((a, o) => a + o.bytes, 0);
  h.textContent = `Orphaned hugepage files: ${bytes(total)} held by files no live process maps`;
  h.className = 'warn';
  const host = document.createElement('div');
  orphanHost.replaceChildren(h, host);
  createTable(host, orphanColumns, { noun: 'prefixes', sort: { key: 'bytes', desc: true }, empty: '' }).update(orphans);
}

function clearSnapshotViews(): void {
  renderWaterfall(undefined);
  $('snapshot-time').textContent = '';
  $('sample-time').textContent = '';
  for (const t of [tables.stacks, tables.pools, tables.rings, tables.calls]) t.update([]);
}

async function loadSnapshot(): Promise<void> {
  const key = state.target;
  if (!key) return;
  try {
    const s = await fetchSnapshot(key);
    if (key !== state.target) return;
    renderSnapshot(s);
    message(undefined);
  } catch (err) {
    if (key !== state.target) return;
    const exited = state.targets.some((t) => t.key === key && !t.alive);
    message(`${exited ? `${key} has exited. ` : ''}No snapshot of ${key}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// ---------- time series ----------

const chartWidth = () => Math.max(300, $('history').clientWidth - 32);
const panels: Record<Scope, Panel> = {
  process: createPanel(
    $('panel-process'),
    {
      id: 'process',
      title: 'Process: reserved, heap, allocated, in use',
      unit: 'bytes',
      order: LEVELS.map((l) => l.sample),
      legend: 'label',
    },
    chartWidth,
  ),
  stack: createPanel($('panel-stack'), { id: 'stack', title: 'In use per gazelle stack', unit: 'bytes', legend: 'name' }, chartWidth),
  pool: createPanel($('panel-pool'), { id: 'pool', title: 'Objects in use per mempool', unit: 'objects', legend: 'name' }, chartWidth),
  calls: createPanel(
    $('panel-calls'),
    { id: 'calls', title: 'POSIX calls per second per thread (preload)', unit: 'objects', legend: 'name' },
    chartWidth,
  ),
};
const SCOPES: Scope[] = ['process', 'stack', 'pool', 'calls'];

/** The calls series are counters: the chart draws their rate between consecutive points (null after a reset). */
function rates(reply: SeriesReply): SeriesReply {
  const { ts } = reply;
  const rate = (values: (number | null)[]) => values.map((v, i) => (i === 0 ? null : counterRate(values[i - 1], v, ts[i]! - ts[i - 1]!)));
  const series = reply.series.map((x) => ({ ...x, values: rate(x.values) }));
  const peaks = series.flatMap((x) => {
    const peak = highestPoint(ts, x.values);
    return peak ? [{ name: x.name, ...peak }] : [];
  });
  return { ...reply, series, peaks };
}

/** The last counter value per thread seen live, to turn the next sample into a rate. */
let lastCalls: { ts: number; values: Record<string, number | null> } | undefined;

function callRates(s: Sample): Record<string, number | null> {
  const prev = lastCalls;
  lastCalls = { ts: s.ts, values: s.calls };
  const out: Record<string, number | null> = {};
  for (const [name, v] of Object.entries(s.calls)) out[name] = counterRate(prev?.values[name], v, prev ? s.ts - prev.ts : 0);
  return out;
}

function windowSec(): number {
  return WINDOWS.find((w) => w.id === state.window)!.sec;
}

async function loadSeries(): Promise<void> {
  state.loading?.abort();
  const key = state.target;
  const generation = ++state.generation;
  state.seriesReady = false;
  state.queued = [];
  if (!key) return;
  const abort = new AbortController();
  state.loading = abort;
  // An exited target's windows end where its samples do.
  const t = state.targets.find((x) => x.key === key);
  const to = t && !t.alive ? Math.min(Date.now(), t.lastSeen + 1000) : Date.now();
  const from = to - windowSec() * 1000;
  const status = $('series-status');
  status.textContent = 'loading…';
  try {
    const replies = await Promise.all(SCOPES.map((scope) => fetchSeries(key, scope, from, to, panels[scope].plotWidth(), abort.signal)));
    if (generation !== state.generation) return;
    SCOPES.forEach((scope, i) => panels[scope].show(scope === 'calls' ? rates(replies[i]!) : replies[i]!));
    lastCalls = undefined;
    const r = replies[0]!;
    status.textContent =
      state.window === 'live'
        ? `following live samples · last ${span(windowSec())}`
        : `${time(from)} – ${time(to)} · ${r.resolution === 'raw' ? 'every sample' : `per ${r.resolution}`} · ` +
          `${count(r.ts.length)} points`;
    state.seriesReady = true;
    for (const s of state.queued) appendSample(s);
    state.queued = [];
  } catch (err) {
    if (abort.signal.aborted || generation !== state.generation) return;
    status.textContent = `history unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function appendSample(s: Sample): void {
  const sec = windowSec();
  panels.process.append(s.ts, s.process, sec);
  panels.stack.append(s.ts, s.stacks, sec);
  panels.pool.append(s.ts, s.pools, sec);
  panels.calls.append(s.ts, callRates(s), sec);
}

function renderWindows(): void {
  const group = $('windows');
  group.replaceChildren(
    ...WINDOWS.map((w) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = w.label;
      b.dataset.window = w.id;
      b.setAttribute('aria-pressed', String(w.id === state.window));
      b.addEventListener('click', () => {
        state.window = w.id;
        renderWindows();
        void loadSeries();
        void loadAdvice();
      });
      return b;
    }),
  );
}

// ---------- live events ----------

function onSample(s: Sample): void {
  if (s.target !== state.target) return;
  waterfallFromSample(s);
  if (state.window !== 'live') return;
  if (state.seriesReady) appendSample(s);
  else state.queued.push(s);
}

let streamWasDown = false;

function onConnection(open: boolean): void {
  // Samples missed while the stream was down come back from the history.
  if (open && streamWasDown && state.window === 'live') void loadSeries();
  streamWasDown = !open;
  const c = $('conn');
  c.hidden = false;
  c.textContent = open ? 'live' : 'reconnecting…';
  c.classList.toggle('off', !open);
}

// ---------- start ----------

$<HTMLSelectElement>('target').addEventListener('change', (e) => chooseTarget((e.target as HTMLSelectElement).value));
$('reset-zoom').addEventListener('click', () => SCOPES.forEach((s) => panels[s].resetZoom()));
window.addEventListener('resize', () => SCOPES.forEach((s) => panels[s].resize(chartWidth())));
window.setInterval(() => {
  const t = state.targets.find((x) => x.key === state.target);
  if (t?.alive && document.visibilityState === 'visible') void loadSnapshot();
}, SNAPSHOT_REFRESH_MS);
window.setInterval(() => {
  if (document.visibilityState === 'visible') void loadAdvice();
}, ADVICE_REFRESH_MS);

renderWindows();
subscribe({ sample: onSample, targets: onTargets, connection: onConnection });
fetchTargets().then(onTargets, (err: unknown) => message(`Cannot reach gzmem serve: ${err instanceof Error ? err.message : String(err)}`));
