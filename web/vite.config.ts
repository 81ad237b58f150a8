// Builds the dashboard (this folder is the Vite root) into dist/web/, which `gzmem serve` serves.
// `vite` (dev) proxies the API to a running `gzmem serve`: GZMEM_API=http://127.0.0.1:<port>.

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const api = process.env.GZMEM_API ?? 'http://127.0.0.1:9465';

export default defineConfig({
  // The config file's own folder, whatever the working directory.
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Relative asset URLs: the page works wherever serve mounts it.
  base: './',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': api, '/metrics': api },
  },
});
