// A fake DPDK telemetry server for failure tests, run as its own process:
//   node --import tsx fake-telemetry.ts <socket path> <mode>
// modes: malformed (garbage reply), exit-after-N (process exits on the Nth command), silent (never replies),
// claim-pid-N (the greeting names pid N, as a planted socket would), pool-at-0xADDR (a mempool whose
// header and ring telemetry places at ADDR), endless (a memzone list at the cap and a memzone behind every id),
// flaky (every other connection is closed before its greeting, the others after 10 commands: transient
// failures, on a new connection and on one kept open, while the process lives on).
// Prints "ready" once listening; ends after 60 s or when its stdin closes.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { listenSeqpacket, type SeqpacketSocket } from '../../src/collect/seqpacket.js';

const [path, mode = 'malformed'] = process.argv.slice(2);
if (!path) throw new Error('usage: fake-telemetry.ts <socket path> <mode>');
mkdirSync(dirname(path), { recursive: true });
const server = listenSeqpacket(path);
let commands = 0;

const replies: Record<string, unknown> = { '/eal/params': ['fake', '--file-prefix', 'fake'], '/eal/heap_list': [0], '/eal/memzone_list': [], '/mempool/list': [], '/ethdev/list': [] };
const heap = { Head_id: 0, Name: 'socket_0', Heap_size: 2097152, Free_size: 0, Alloc_size: 2097152, Greatest_free_size: 0, Alloc_count: 1, Free_count: 0 };

function poolReplies(address: string): Record<string, unknown> {
  return {
    '/mempool/list': ['pool'],
    '/mempool/info': { name: 'pool', pool_id: Number(address), flags: 16, socket_id: 0, size: 1024, cache_size: 0, elt_size: 64, header_size: 64,
      trailer_size: 0, private_data_size: 0, ops_index: 0, populated_size: 1024, mz_name: 'MP_pool' },
    '/eal/memzone_list': [0],
    '/eal/memzone_info': { Zone: 0, Name: 'MP_pool', Length: 4096, Address: address, Socket: 0, Flags: 0, Hugepage_size: 2097152, Hugepage_base: address, Hugepage_used: 1 },
  };
}

async function serve(socket: SeqpacketSocket): Promise<void> {
  let served = 0;
  const claimed = /^claim-pid-(\d+)$/.exec(mode);
  socket.send(Buffer.from(JSON.stringify({ version: 'DPDK 22.11.11', pid: claimed ? Number(claimed[1]) : process.pid, max_output_len: 16384 })));
  for (;;) {
    const got = await socket.receive(60000);
    if (typeof got === 'string') break;
    const cmd = got.toString();
    commands++;
    if (mode === 'flaky' && ++served >= 10) break;
    const exitAfter = /^exit-after-(\d+)$/.exec(mode);
    if (exitAfter && commands >= Number(exitAfter[1])) process.exit(0);
    if (mode === 'silent') continue;
    if (mode === 'malformed' && cmd === '/eal/params') {
      socket.send(Buffer.from('{"/eal/params": [unterminated'));
      continue;
    }
    const key = cmd.split(',')[0]!;
    if (mode === 'endless' && (key === '/eal/memzone_list' || key === '/eal/memzone_info')) {
      const id = Number(cmd.split(',')[1] ?? 0);
      const zone = { Zone: id, Name: `z${id}`, Length: 64, Address: '0x100000000', Socket: 0, Flags: 0, Hugepage_size: 2097152, Hugepage_base: '0x100000000', Hugepage_used: 1 };
      socket.send(Buffer.from(JSON.stringify({ [key]: key === '/eal/memzone_list' ? Array.from({ length: 512 }, (_, i) => i) : zone })));
      continue;
    }
    const pool = /^pool-at-(0x[0-9a-f]+)$/.exec(mode)?.[1];
    const data = key === '/eal/heap_info' ? heap : pool ? (poolReplies(pool)[key] ?? replies[key] ?? null) : (replies[key] ?? null);
    socket.send(Buffer.from(JSON.stringify({ [key]: data })));
  }
  socket.close();
}

process.stdout.write('ready\n');
setTimeout(() => process.exit(0), 60000).unref();
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
let connections = 0;
for (;;) {
  const socket = await server.accept(1000);
  if (!socket) continue;
  if (mode === 'flaky' && connections++ % 2 === 1) socket.close();
  else void serve(socket);
}
