// /proc/zoneinfo: a parser that keeps a file's exact layout (so printing a parsed file gives it
// back byte for byte), and the records mmsim prints for a booted machine (zoneinfo_show_print in
// mm/vmstat.c, per kernel layout in zoneinfo-layouts.ts).
import { formatZoneHeader } from './zoneinfo-layouts.js';

/** One "Node N, zone NAME" record: its header values and every line in order. */
export interface ZoneinfoRecord {
  readonly node: number;
  readonly zone: string;
  /** Every line of the record after the header, verbatim. */
  readonly lines: readonly string[];
}

export interface Zoneinfo {
  readonly records: readonly ZoneinfoRecord[];
  /** Whether the text ended with a newline. */
  readonly trailingNewline: boolean;
}

export class ZoneinfoParseError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

const HEADER = /^Node (\d+), zone +(\S+)$/;

export function parseZoneinfo(text: string): Zoneinfo {
  const trailingNewline = text.endsWith('\n');
  const raw = (trailingNewline ? text.slice(0, -1) : text).split('\n');
  const records: { node: number; zone: string; lines: string[] }[] = [];
  raw.forEach((line, i) => {
    const m = HEADER.exec(line);
    if (m) {
      // zoneinfo_show_print (mm/vmstat.c) prints pgdat->node_id, an int, with %d.
      const node = Number(m[1]);
      if (!(node <= 2 ** 31 - 1)) throw new ZoneinfoParseError(i + 1, 6, `expected a node id below 2^31 (the kernel prints an int), got ${(m[1] ?? '').slice(0, 24)}`);
      records.push({ node, zone: m[2] ?? '', lines: [] });
      return;
    }
    const cur = records[records.length - 1];
    if (!cur) throw new ZoneinfoParseError(i + 1, 1, 'expected "Node N, zone NAME" first');
    if (!/^ /.test(line)) throw new ZoneinfoParseError(i + 1, 1, 'expected an indented field line inside a zone record');
    cur.lines.push(line);
  });
  return { records, trailingNewline };
}

export function printZoneinfo(z: Zoneinfo): string {
  const out: string[] = [];
  for (const r of z.records) {
    // One push per line: a record's lines spread as arguments overflow the stack past ~100k lines
    // (a /proc/zoneinfo of thousands of CPUs has that many pageset lines).
    out.push(formatZoneHeader(r.node, r.zone));
    for (const line of r.lines) out.push(line);
  }
  return out.join('\n') + (z.trailingNewline ? '\n' : '');
}

/** The value of a field such as "spanned", "present", "managed" or "start_pfn:" in a record. */
export function zoneField(r: ZoneinfoRecord, name: string): number | null {
  for (const line of r.lines) {
    const m = /^\s+(?:pages )?([^\s:]+):?\s+(-?\d+)$/.exec(line);
    if (m && m[1] === name.replace(/:$/, '')) return Number(m[2]);
  }
  return null;
}
