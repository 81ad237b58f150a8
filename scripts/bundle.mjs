// Bundles the CLI into dist/bin/ with esbuild: one entry file and a chunk per lazily loaded
// command, so a one-shot command reads a handful of files instead of resolving some sixty ES
// modules. Native addons (koffi, better-sqlite3) stay in node_modules, where they find their binaries.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry a content hash: old ones would pile up.
rmSync('dist/bin', { recursive: true, force: true });

await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: ['koffi', 'better-sqlite3'],
  // Bundled CommonJS packages (commander, cli-table3, prom-client) call require() for Node's modules.
  banner: { js: "import { createRequire as gzmemCreateRequire } from 'node:module'; const require = gzmemCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
