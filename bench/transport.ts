// The SOCK_SEQPACKET transport (koffi): cost of loading it and of one telemetry round trip against a
// real testpmd, beside the cost of loading Node itself.
//   node --import tsx bench/transport.ts [rounds]
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { startTestpmd, stop } from '../test/helpers/dpdk.js';
import { connectSeqpacket } from '../src/collect/seqpacket.js';

const rounds = Number(process.argv[2] ?? 2000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const loadMs = () => {
  const r = spawnSync(process.execPath, ['-e', 'const t = performance.now(); require("koffi"); console.log(performance.now() - t)'], { encoding: 'utf8' });
  return Number(r.stdout);
};

const tp = await startTestpmd({ mbufs: 8192 });
try {
  const socket = connectSeqpacket(`/var/run/dpdk/${tp.prefix}/dpdk_telemetry.v2`);
  await socket.receive(1000);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    socket.send(Buffer.from('/eal/heap_info,0'));
    if (typeof (await socket.receive(1000)) === 'string') throw new Error('no reply');
    times.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  socket.close();
  const loads = Array.from({ length: 7 }, loadMs);
  console.log(`${rounds} /eal/heap_info round trips against testpmd ${tp.pid}`);
  console.log(`round trip median ${median(times).toFixed(3)} ms (p90 ${times.sort((a, b) => a - b)[Math.floor(rounds * 0.9)]!.toFixed(3)} ms)`);
  console.log(`gzmem CPU ${((cpu.user + cpu.system) / rounds / 1000).toFixed(3)} ms per command; loading koffi ${median(loads).toFixed(1)} ms (median of 7)`);
} finally {
  await stop(tp);
}
