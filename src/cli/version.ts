// gzmem's version, in a module of its own so `gzmem --version` loads nothing else.
export const VERSION = '0.1.0';
