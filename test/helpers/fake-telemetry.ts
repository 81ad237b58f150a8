// A fake DPDK telemetry server for failure tests, run as its own process:
//   node --import tsx fake-telemetry.ts <socket path> <mode>
// modes: malformed (garbage reply), exit-after-N (process exits on the Nth command), silent (never replies).
// Prints "ready" once listening.

import { SeqpacketServer, type SeqpacketSocket } from 'node-unix-socket';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const [path, mode = 'malformed'] = process.argv.slice(2);
if (!path) throw new Error('usage: fake-telemetry.ts <socket path> <mode>');
mkdirSync(dirname(path), { recursive: true });
const server = new SeqpacketServer();
let commands = 0;
server.on('connection', (socket: SeqpacketSocket) => {
  socket.write(Buffer.from(JSON.stringify({ version: 'DPDK 22.11.11', pid: process.pid, max_output_len: 16384 })));
  socket.on('data', (buf: Buffer) => {
    const cmd = buf.toString();
    commands++;
    const exitAfter = /^exit-after-(\d+)$/.exec(mode);
    if (exitAfter && commands >= Number(exitAfter[1])) process.exit(0);
    if (mode === 'silent') return;
    if (mode === 'malformed' && cmd === '/eal/params') {
      socket.write(Buffer.from('{"/eal/params": [unterminated'));
      return;
    }
    const key = cmd.split(',')[0]!;
    const replies: Record<string, unknown> = { '/eal/params': ['fake', '--file-prefix', 'fake'], '/eal/heap_list': [0], '/eal/memzone_list': [], '/mempool/list': [], '/ethdev/list': [] };
    const data = key === '/eal/heap_info'
      ? { Head_id: 0, Name: 'socket_0', Heap_size: 2097152, Free_size: 0, Alloc_size: 2097152, Greatest_free_size: 0, Alloc_count: 1, Free_count: 0 }
      : (replies[key] ?? null);
    socket.write(Buffer.from(JSON.stringify({ [key]: data })));
  });
});
server.listen(path);
process.stdout.write('ready\n');
setTimeout(() => process.exit(0), 60000).unref();
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
