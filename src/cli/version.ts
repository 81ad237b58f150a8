// gzmem's version, as package.json gives it (bin/gzmem.js answers `--version` from there; a test keeps the two equal).
export const VERSION = '0.1.0';
