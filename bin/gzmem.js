#!/usr/bin/env node
// Runs the bundled CLI (npm run build makes dist/bin/). CommonJS (bin/package.json), so that
// `--version` alone, which scripts and health checks call most, is answered before Node sets up its
// ES module loader (8 ms of a 30 ms start); every other command loads the ES module bundle.
'use strict';
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  import('../dist/bin/main.js');
}
