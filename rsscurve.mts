import { readFileSync } from 'node:fs';
import { startGzload, stop } from './test/helpers/dpdk.ts';
import { startRecord, stopChild } from './test/helpers/serve.ts';
const gz = await startGzload({ app: ['--stacks', '2', '--pattern', 'burst'], eal: ['--lcores', '0@0,1@1,2@1'] });
const rec = startRecord([gz.prefix, '--db', '/tmp/rsscurve.db', '-i', '0.01']);
const t0 = Date.now();
for (let i = 0; i < 24; i++) {
  await new Promise((r) => setTimeout(r, 20000));
  const st = readFileSync(`/proc/${rec.child.pid}/status`, 'utf8');
  console.log(((Date.now() - t0) / 1000).toFixed(0), 's rss', (Number(/VmRSS:\s+(\d+)/.exec(st)![1]) / 1024).toFixed(1));
}
await stopChild(rec); await stop(gz);
