// Plain, borderless text tables (cli-table3), the way `ps`-style tools print.

import Table from 'cli-table3';
import { safe } from './units.js';

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align?: Align;
}

export function table(columns: Column[], rows: string[][]): string {
  const t = new Table({
    head: columns.map((c) => c.header),
    colAligns: columns.map((c) => c.align ?? 'left'),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  for (const r of rows) t.push(r.map(safe));
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

export function section(title: string, body: string): string {
  return `${title}\n${body
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n')}\n`;
}
