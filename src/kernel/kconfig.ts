// A reader for a kernel build's `.config` (the file scripts/kconfig/confdata.c writes): one
// symbol per line as `CONFIG_NAME=value` with value y, m, a decimal or 0x-hex number or a
// double-quoted string (with \" and \\ escapes), and `# CONFIG_NAME is not set` for n. Other
// lines starting with '#' are comments; blank lines are skipped.
import { InputError } from '../errors.js';

const NAME = /^[A-Za-z0-9_]+/;
const NOT_SET = /^# (CONFIG_[A-Za-z0-9_]+) is not set\s*$/;

/**
 * Models conf_read_simple (scripts/kconfig/confdata.c) for a user-supplied .config; it returns
 * raw values ('y', 'm', 'n' for "is not set", the number as written, the unquoted string) and
 * does not check them against any Kconfig type. A later line for the same symbol wins.
 */
export function parseKconfig(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const lineNo = i + 1;
    const fail: (col: number, what: string) => never = (col, what) => {
      throw new InputError(`${file}:${lineNo}:${col}: expected ${what}`);
    };
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = NOT_SET.exec(line);
      if (m && m[1]) out.set(m[1], 'n');
      continue;
    }
    if (!line.startsWith('CONFIG_')) fail(1, `CONFIG_<NAME>=<value>, '# CONFIG_<NAME> is not set' or a '#' comment`);
    const name = NAME.exec(line)?.[0] ?? '';
    if (name === 'CONFIG_') fail(8, 'a symbol name after CONFIG_');
    let col = name.length; // 0-based index of the next character
    if (line[col] !== '=') fail(col + 1, `'=' after ${name}`);
    col++;
    const rest = line.slice(col);
    let value: string;
    if (rest.startsWith('"')) {
      let s = '';
      let j = 1;
      let closed = false;
      while (j < rest.length) {
        const c = rest[j];
        if (c === '\\') {
          const next = rest[j + 1];
          if (next === undefined) fail(col + j + 2, 'a character after \\');
          s += next;
          j += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          j++;
          break;
        }
        s += c;
        j++;
      }
      if (!closed) fail(col + rest.length + 1, "a closing '\"'");
      if (rest.slice(j).trim() !== '') fail(col + j + 1, "end of line after the closing '\"'");
      value = s;
    } else {
      const v = rest.trimEnd();
      if (v === '') fail(col + 1, `a value (y, m, a number or a "string") for ${name}`);
      if (!/^(y|m|n|-?[0-9]+|0[xX][0-9A-Fa-f]+)$/.test(v)) {
        fail(col + 1, `y, m, a decimal or 0x number, or a "string" for ${name}, not '${v}'`);
      }
      value = v;
    }
    out.set(name, value);
  }
  return out;
}

/** True if the symbol is set to y (built in). Models IS_BUILTIN(); m counts as not set here. */
export function kconfigEnabled(kconfig: ReadonlyMap<string, string>, name: string): boolean {
  return kconfig.get(name) === 'y';
}

/** The symbol's integer value (decimal or 0x-hex), or `fallback` if it is absent or not a number. */
export function kconfigInt(kconfig: ReadonlyMap<string, string>, name: string, fallback: number): number {
  const v = kconfig.get(name);
  if (v === undefined) return fallback;
  if (/^-?[0-9]+$/.test(v)) return Number.parseInt(v, 10);
  if (/^0[xX][0-9A-Fa-f]+$/.test(v)) return Number.parseInt(v.slice(2), 16);
  return fallback;
}
