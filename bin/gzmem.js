#!/usr/bin/env node
// Runs the bundled CLI (npm run build makes dist/bin/). `--version` alone is answered without loading
// the command-line parser: it is what scripts and health checks call most.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { VERSION } = await import('../dist/bin/version.js');
  process.stdout.write(`${VERSION}\n`);
} else {
  await import('../dist/bin/main.js');
}
