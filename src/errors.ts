// User-facing errors. The CLI prints `message` as a single line and exits with code 2;
// anything else that escapes is a bug in mmsim and is reported as such.

/**
 * `s` with every control character (C0, DEL, C1 and the Unicode line and paragraph separators)
 * written as JSON writes it (\n, \t, \u001b, ...), so that text quoted from an input (a key, a
 * path, a kernel string) can never break a message over several lines.
 */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what this escapes
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** A string from an input, quoted for a message: JSON's quoting, control characters escaped. */
export function quote(s: string): string {
  return oneLine(JSON.stringify(s));
}

export class InputError extends Error {
  constructor(message: string) {
    super(oneLine(message));
    this.name = 'InputError';
  }
}
