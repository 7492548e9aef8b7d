// A replay file: what `mmsim explore --json` prints, read back by `mmsim explore --replay FILE`.
// Checked against a schema before anything in it is used; an error names the file, the line and
// column of the value (found by a small JSON scanner that never recurses) and what was expected.
import { z } from 'zod';
import { InputError } from '../errors.js';
import { WALKERS } from '../kernel/walkers.js';

const violationSchema = z.looseObject({
  invariant: z.string(),
  message: z.string(),
  /** Task numbers, one per step; whether each names a task of the scenario that can run there is checked on replay. */
  schedule: z.array(z.number().int().min(0)),
});

const replaySchema = z.looseObject({
  scenario: z.string().min(1),
  design: z.string().min(1),
  design_file: z.string().min(1).optional(),
  config: z.string().optional(),
  walkers: z.array(z.enum(WALKERS)).optional(),
  /** The command that reruns the search (printed as the trace's replay line). */
  replay: z.string().optional(),
  violations: z.array(violationSchema),
});

export type ReplayFile = z.infer<typeof replaySchema>;

/** Parse and check a replay file's text; `file` names it in errors. */
export function parseReplay(file: string, text: string): ReplayFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec(e instanceof Error ? e.message : '');
    const where = at ? lineCol(text, Number(at[1])) : '';
    throw new InputError(`${file}${where}: not JSON; expected the output of mmsim explore --json saved to a file`);
  }
  const r = replaySchema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = (issue?.path ?? []).filter((k): k is string | number => typeof k !== 'symbol');
  const where = replayPosition(text, path);
  const name = path.length ? `${path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}: `.replace(/^\./, '') : '';
  throw new InputError(`${file}${where}: ${name}${issue?.message ?? 'invalid'}; expected the output of mmsim explore --json`);
}

/** ":line:col" of the value at `path` in a replay file's text, or "" where it cannot be found. */
export function replayPosition(text: string, path: readonly (string | number)[]): string {
  // A key that is missing points at the object that lacks it.
  for (let n = path.length; n >= 0; n--) {
    const offset = locate(text, path.slice(0, n));
    if (offset !== null) return lineCol(text, offset);
  }
  return '';
}

/** ":line:col" of an offset in a text. */
function lineCol(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `:${line}:${offset - lineStart + 1}`;
}

/** The offset of the value at `path` in a JSON text (which JSON.parse accepted), or null. */
function locate(text: string, path: readonly (string | number)[]): number | null {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const skipString = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  // One value, nested ones included, without recursion (a deeply nested file cannot overflow the stack).
  const skipValue = (): void => {
    let depth = 0;
    do {
      ws();
      const c = text[i];
      if (c === '"') skipString();
      else if (c === '{' || c === '[') {
        depth++;
        i++;
      } else if (c === '}' || c === ']') {
        depth--;
        i++;
      } else if (c === ',' || c === ':') i++;
      else while (i < text.length && !',:]} \t\n\r'.includes(text[i] as string)) i++;
    } while (depth > 0 && i < text.length);
  };
  for (const key of path) {
    ws();
    if (typeof key === 'number') {
      if (text[i] !== '[') return null;
      i++;
      for (let k = 0; k < key; k++) {
        skipValue();
        ws();
        if (text[i] !== ',') return null;
        i++;
      }
      continue;
    }
    if (text[i] !== '{') return null;
    i++;
    for (;;) {
      ws();
      if (text[i] !== '"') return null;
      const s = i;
      skipString();
      const name: unknown = JSON.parse(text.slice(s, i));
      ws();
      if (text[i] !== ':') return null;
      i++;
      if (name === key) break;
      skipValue();
      ws();
      if (text[i] !== ',') return null;
      i++;
    }
  }
  ws();
  return i;
}
