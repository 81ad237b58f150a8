// `gzmem advise` as text: the predicted memory per stack and what the machine must reserve for it.

import type { Advice, Observation } from '../analysis/advice.js';
import type { Prediction } from '../analysis/predict.js';
import { section, table } from './table.js';
import { bytes, count, pct } from './units.js';

export function renderPrediction(p: Prediction, source: string): string {
  const rows: string[][] = [];
  for (const st of p.stacks) {
    st.parts.forEach((part, i) =>
      rows.push([
        i === 0 ? String(st.id) : '',
        i === 0 ? String(st.cpu) : '',
        i === 0 ? String(st.node) : '',
        part.name,
        bytes(part.bytes),
        part.how,
      ]),
    );
    rows.push(['', '', '', 'stack total', bytes(st.bytes), '']);
  }
  p.shared.forEach((part, i) => rows.push([i === 0 ? 'process' : '', '', '', part.name, bytes(part.bytes), part.how]));
  rows.push(['', '', '', 'total', bytes(p.totalBytes), `${count(p.totalBytes)} B`]);
  const head =
    `Predicted hugepage memory for ${source} (${p.profile}, DPDK ${p.release} ${p.arch}, ${bytes(p.pageBytes)} pages)\n` +
    `${p.stacks.length} protocol-stack thread${p.stacks.length === 1 ? '' : 's'}, ${count(p.connections)} connections in all, ` +
    `${p.appThreads} application thread${p.appThreads === 1 ? '' : 's'}\n\n`;
  const parts = table(
    [
      { header: 'STACK' },
      { header: 'CPU', align: 'right' },
      { header: 'NODE', align: 'right' },
      { header: 'PART' },
      { header: 'BYTES', align: 'right' },
      { header: 'HOW' },
    ],
    rows,
  );
  const page = bytes(p.pageBytes);
  const needs = p.nodes.map((n) => `node ${n.node}: ${bytes(n.bytes)} in ${count(n.pages)} pages of ${page}`).join('\n');
  const settings = `--socket-mem ${p.socketMemMiB.join(',')}\nnr_hugepages >= ${p.nrHugepages} (of ${page}, for this process alone)`;
  const notes = p.notes.length ? section('Notes:', p.notes.join('\n')) : '';
  return `${head}${parts}\n\n${section('Needs:', needs)}${section('Set:', settings)}${notes}`;
}

export function renderAdvice(a: Advice, subject: string, o: Observation, diff: string | undefined): string {
  const out: string[] = [`Advice for ${subject}, headroom x ${a.headroom}`, ''];
  if (a.pools.length > 0) {
    out.push(
      table(
        [
          { header: 'POOL' },
          { header: 'SIZE', align: 'right' },
          { header: 'PEAK', align: 'right' },
          { header: 'ADVISED', align: 'right' },
          { header: 'SAVES', align: 'right' },
        ],
        a.pools.map((p) => [p.name, count(p.size), count(p.peakInUse), count(p.advised), bytes(p.savedBytes)]),
      ),
      '',
    );
  } else {
    const peaks = o.pools
      .filter((p) => p.peakInUse !== null)
      .map((p) => `${p.name} ${count(p.peakInUse)} of ${count(p.size)}${p.peakIsTrue ? '' : ' (sampled)'}`);
    if (peaks.length) out.push(section('Peak in use:', peaks.join('\n')));
  }
  out.push(
    a.changes.length
      ? section(
          'Change:',
          table(
            [{ header: 'SETTING' }, { header: 'FROM', align: 'right' }, { header: 'TO', align: 'right' }, { header: 'WHY' }],
            a.changes.map((c) => [c.key, String(c.from), String(c.to), c.why]),
          ),
        )
      : section('Change:', 'nothing: the settings already fit'),
  );
  if (a.advisedBytes !== null) {
    const saved =
      a.savedBytes === null
        ? 'saves: unknown (the hugepages the process holds were not readable)'
        : `${a.savedBytes >= 0 ? 'saves' : 'needs more'}: ${bytes(Math.abs(a.savedBytes))} ` +
          `(${pct(a.savedShare === null ? null : Math.abs(a.savedShare))} of the ${bytes(o.reservedBytes)} it holds now)`;
    out.push(
      section(
        'Hugepages:',
        `--socket-mem ${a.socketMemMiB?.join(',')}; nr_hugepages >= ${a.nrHugepages} for this process; ` +
          `${bytes(a.advisedBytes)} in all\n${saved}`,
      ),
    );
  }
  if (diff) out.push(diff.trimEnd(), '');
  out.push(section('Notes:', a.notes.join('\n')));
  return out.join('\n');
}
