// JSON as ndctl and daxctl print it: json-c's JSON_C_TO_STRING_PRETTY (two-space indent, no
// space after ':') and ndctl's util/json.c serializers (display_size for -u sizes, hex strings).

/** A value printed as its text (a serializer's output), not JSON-encoded. */
export class Raw {
  constructor(readonly text: string) {}
}

export type JsonC = string | number | boolean | Raw | JsonC[] | { readonly [k: string]: JsonC | undefined };

/** json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY). */
export function jsonc(v: JsonC, indent = 0): string {
  const pad = (n: number): string => ' '.repeat(n);
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[\n' + pad(indent) + ']';
    return '[\n' + v.map((x) => pad(indent + 2) + jsonc(x, indent + 2)).join(',\n') + '\n' + pad(indent) + ']';
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v).filter((e): e is [string, JsonC] => e[1] !== undefined);
    if (entries.length === 0) return '{\n' + pad(indent) + '}';
    return '{\n' + entries.map(([k, x]) => `${pad(indent + 2)}${JSON.stringify(k)}:${jsonc(x, indent + 2)}`).join(',\n') + '\n' + pad(indent) + '}';
  }
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

const SZ_1K = 1024;
const SZ_1M = 2 ** 20;
const SZ_1G = 2 ** 30;
const SZ_1T = 2 ** 40;

/** Integer division of a safe non-negative integer, exactly (BigInt for products past 2^53). */
function div(a: bigint, b: bigint): bigint {
  return a / b;
}

/**
 * ndctl util/json.c display_size: below 5000 KiB the number; else centi-MiB (below 2 GiB),
 * centi-GiB (below 2 TiB) or centi-TiB rounded half up, with the SI figure in parentheses.
 */
export function displaySize(bytes: number): Raw {
  if (bytes < 5000 * SZ_1K) return new Raw(String(bytes));
  const b = BigInt(bytes);
  const fmt = (c: bigint): string => `${c / 100n}.${(c % 100n).toString().padStart(2, '0')}`;
  let iec: string;
  let si: string;
  if (bytes < 2 * SZ_1G) {
    iec = `${fmt((div(b * 200n, BigInt(SZ_1M)) + 1n) / 2n)} MiB`;
    si = `${fmt((div(b, 1000000n / 200n) + 1n) / 2n)} MB`;
  } else if (bytes < 2 * SZ_1T) {
    iec = `${fmt((div(b * 200n, BigInt(SZ_1G)) + 1n) / 2n)} GiB`;
    si = `${fmt((div(b, 1000000000n / 200n) + 1n) / 2n)} GB`;
  } else {
    iec = `${fmt((div(b * 200n, BigInt(SZ_1T)) + 1n) / 2n)} TiB`;
    si = `${fmt((div(b, 1000000000000n / 200n) + 1n) / 2n)} TB`;
  }
  return new Raw(`"${iec} (${si})"`);
}

/** A size as ndctl prints it: human with -u, else the number. */
export function size(bytes: number, human: boolean): JsonC {
  return human ? displaySize(bytes) : bytes;
}

/**
 * util_json_object_hex (util/json.c, v81): a u64 printed as hex ("0x…", "0" for zero) only with
 * -u (UTIL_JSON_HUMAN), else as its decimal number. value: a number or a "0x…" string (past 2^53).
 */
export function hexField(value: number | string, human: boolean): JsonC {
  const n = BigInt(value);
  return human ? (n === 0n ? '0' : `0x${n.toString(16)}`) : new Raw(n.toString());
}

/** util_json_object_hex's -u form: "0x…", "0" for zero. */
export function hex(n: number): string {
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}
