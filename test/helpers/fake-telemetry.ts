// A fake DPDK telemetry server for failure tests, run as its own process:
//   node --import tsx fake-telemetry.ts <socket path> <mode>
// modes: malformed (garbage reply), exit-after-N (process exits on the Nth command), silent (never replies).
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

async function serve(socket: SeqpacketSocket): Promise<void> {
  socket.send(Buffer.from(JSON.stringify({ version: 'DPDK 22.11.11', pid: process.pid, max_output_len: 16384 })));
  for (;;) {
    const got = await socket.receive(60000);
    if (typeof got === 'string') break;
    const cmd = got.toString();
    commands++;
    const exitAfter = /^exit-after-(\d+)$/.exec(mode);
    if (exitAfter && commands >= Number(exitAfter[1])) process.exit(0);
    if (mode === 'silent') continue;
    if (mode === 'malformed' && cmd === '/eal/params') {
      socket.send(Buffer.from('{"/eal/params": [unterminated'));
      continue;
    }
    const key = cmd.split(',')[0]!;
    socket.send(Buffer.from(JSON.stringify({ [key]: key === '/eal/heap_info' ? heap : (replies[key] ?? null) })));
  }
  socket.close();
}

process.stdout.write('ready\n');
setTimeout(() => process.exit(0), 60000).unref();
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
for (;;) {
  const socket = await server.accept(1000);
  if (socket) void serve(socket);
}
