// A parser for the libconfig syntax of gazelle's lstack.conf: settings `name = value;` (or `:`),
// scalars (integers, floats, booleans, strings), arrays [...], lists (...) and groups {...};
// comments #, // and /* */. No library for it exists on npm; @include is refused.

import { ProtocolError } from '../errors.js';

export type ConfigValue = number | bigint | boolean | string | ConfigValue[] | ConfigGroup;
export interface ConfigGroup {
  [name: string]: ConfigValue;
}

export function parseLibconfig(text: string, where = 'config'): ConfigGroup {
  let i = 0;
  const fail = (what: string): never => {
    const line = text.slice(0, i).split('\n').length;
    throw new ProtocolError(`${where}:${line}: ${what}`);
  };
  const skip = () => {
    for (;;) {
      const c = text[i];
      if (c === undefined) return;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') i++;
      else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
        while (i < text.length && text[i] !== '\n') i++;
      } else if (c === '/' && text[i + 1] === '*') {
        const end = text.indexOf('*/', i + 2);
        if (end < 0) fail('unterminated comment');
        i = end + 2;
      } else return;
    }
  };
  const name = (): string => {
    const m = /^[A-Za-z*][-A-Za-z0-9_*]*/.exec(text.slice(i));
    if (!m) fail('expected a setting name');
    i += m![0].length;
    return m![0];
  };
  const string = (): string => {
    let out = '';
    // Adjacent string literals are one string.
    while (text[i] === '"') {
      i++;
      for (;;) {
        const c = text[i++];
        if (c === undefined) fail('unterminated string');
        if (c === '"') break;
        if (c === '\\') {
          const e = text[i++];
          if (e === 'n') out += '\n';
          else if (e === 't') out += '\t';
          else if (e === 'r') out += '\r';
          else if (e === 'f') out += '\f';
          else if (e === 'x') {
            out += String.fromCharCode(parseInt(text.slice(i, i + 2), 16));
            i += 2;
          } else out += e ?? '';
        } else out += c;
      }
      skip();
    }
    return out;
  };
  const scalar = (): ConfigValue => {
    if (text[i] === '"') return string();
    const m = /^(true|false|[-+]?(0[xX][0-9a-fA-F]+|\d+(\.\d*)?([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)(L{1,2})?)/i.exec(text.slice(i));
    if (!m) fail('expected a value');
    i += m![0].length;
    const t = m![1]!;
    if (/^true$/i.test(t)) return true;
    if (/^false$/i.test(t)) return false;
    const num = t.replace(/L+$/i, '');
    if (/^[-+]?0x/i.test(num)) return Number(BigInt(num.replace(/^\+/, '')));
    const n = Number(num);
    return Number.isSafeInteger(n) || !/^[-+]?\d+$/.test(num) ? n : BigInt(num);
  };
  const value = (): ConfigValue => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const g = settings('}');
      i++;
      return g;
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const items: ConfigValue[] = [];
      skip();
      while (text[i] !== close) {
        items.push(value());
        skip();
        if (text[i] === ',') {
          i++;
          skip();
        } else if (text[i] !== close) fail(`expected , or ${close}`);
      }
      i++;
      return items;
    }
    return scalar();
  };
  const settings = (end: string | undefined): ConfigGroup => {
    const group: ConfigGroup = {};
    for (;;) {
      skip();
      if (i >= text.length) {
        if (end !== undefined) fail(`expected ${end}`);
        return group;
      }
      if (text[i] === end) return group;
      if (text.startsWith('@include', i)) fail('@include is not supported');
      const key = name();
      skip();
      if (text[i] !== '=' && text[i] !== ':') fail(`expected = or : after ${key}`);
      i++;
      group[key] = value();
      skip();
      if (text[i] === ';' || text[i] === ',') i++;
    }
  };
  return settings(undefined);
}
