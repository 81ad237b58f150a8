// Sortable tables in plain DOM. Every cell is set with textContent: names come from the target.

import { DASH } from './format.js';

export interface Column<R> {
  key: string;
  label: string;
  /** What the column sorts by; null sorts last. */
  value: (r: R) => number | string | null;
  /** What the cell shows (default: the value as text). */
  text?: (r: R) => string;
  /** A 0..1 fill drawn behind the cell (use %). */
  bar?: (r: R) => number | null;
  numeric?: boolean;
  /** Tooltip of the header. */
  title?: string;
}

export interface Sort {
  key: string;
  desc: boolean;
}

/** Rows ordered by one column; unknown (null) values last whatever the direction; stable. */
export function sortRows<R>(rows: readonly R[], column: Column<R>, desc: boolean): R[] {
  const dir = desc ? -1 : 1;
  return rows
    .map((r, i) => ({ r, i, v: column.value(r) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;
      const c =
        typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v).localeCompare(String(b.v), 'en', { numeric: true });
      return c !== 0 ? c * dir : a.i - b.i;
    })
    .map((x) => x.r);
}

export interface TableOptions {
  /** Rows shown after sorting; the rest are counted below the table. */
  limit?: number;
  /** Plural name of a row, for the "n more" line. */
  noun: string;
  sort: Sort;
  /** Shown in place of the table when there are no rows. */
  empty: string;
}

export interface Table<R> {
  /** Shows `rows`; `empty` replaces the options' text for no rows this time. */
  update(rows: readonly R[], empty?: string): void;
}

/** Builds a sortable table inside `host` (a header click sorts by that column, again reverses). */
export function createTable<R>(host: HTMLElement, columns: Column<R>[], options: TableOptions): Table<R> {
  const table = document.createElement('table');
  table.className = 'grid';
  const thead = table.createTHead();
  const tbody = table.createTBody();
  const note = document.createElement('p');
  note.className = 'note';
  const scroller = document.createElement('div');
  scroller.className = 'scroll';
  scroller.append(table);
  host.replaceChildren(scroller, note);

  let sort = options.sort;
  let rows: readonly R[] = [];
  let emptyText = options.empty;
  const head = thead.insertRow();
  const ths = columns.map((c) => {
    const th = document.createElement('th');
    th.scope = 'col';
    if (c.numeric) th.classList.add('num');
    if (c.title) th.title = c.title;
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = c.label;
    button.addEventListener('click', () => {
      sort = { key: c.key, desc: sort.key === c.key ? !sort.desc : c.numeric === true };
      render();
    });
    th.append(button);
    head.append(th);
    return th;
  });

  const render = () => {
    const column = columns.find((c) => c.key === sort.key) ?? columns[0]!;
    columns.forEach((c, i) => {
      const th = ths[i]!;
      th.setAttribute('aria-sort', c === column ? (sort.desc ? 'descending' : 'ascending') : 'none');
    });
    const sorted = sortRows(rows, column, sort.desc);
    const shown = options.limit === undefined ? sorted : sorted.slice(0, options.limit);
    const body = document.createDocumentFragment();
    for (const r of shown) {
      const tr = document.createElement('tr');
      for (const c of columns) {
        const td = document.createElement('td');
        if (c.numeric) td.classList.add('num');
        const v = c.value(r);
        td.textContent = c.text ? c.text(r) : v === null ? DASH : String(v);
        const fill = c.bar?.(r);
        if (fill !== null && fill !== undefined) {
          td.classList.add('bar');
          td.style.setProperty('--fill', `${Math.min(100, Math.max(0, fill * 100)).toFixed(1)}%`);
        }
        tr.append(td);
      }
      body.append(tr);
    }
    tbody.replaceChildren(body);
    scroller.hidden = rows.length === 0;
    const hidden = sorted.length - shown.length;
    note.textContent =
      rows.length === 0
        ? emptyText
        : hidden > 0
          ? `Showing the first ${shown.length.toLocaleString('en-US')} of ${sorted.length.toLocaleString('en-US')} ${options.noun}; ` +
            `${hidden.toLocaleString('en-US')} more not shown (sort to see others).`
          : '';
    note.hidden = note.textContent === '';
  };

  return {
    update(next, empty) {
      rows = next;
      emptyText = empty ?? options.empty;
      render();
    },
  };
}
