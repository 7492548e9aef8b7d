// Sizes and addresses as the kernel command line and mmsim's YAML write them: 4096, 0x1000,
// 128M, 64G, 3T (memparse: K/M/G/T/P/E suffixes, binary units).

const UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50, E: 2 ** 60 };

/** memparse: a number (decimal or 0x hex) with an optional K/M/G/T/P/E suffix; null if malformed. */
export function memparse(s: string): number | null {
  const m = /^(0x[0-9a-fA-F]+|\d+)([KMGTPEkmgtpe])?(?:i?B)?$/.exec(s.trim());
  if (!m || m[1] === undefined) return null;
  const n = m[1].startsWith('0x') ? parseInt(m[1].slice(2), 16) : parseInt(m[1], 10);
  const unit = m[2] ? (UNITS[m[2].toUpperCase()] ?? 1) : 1;
  const v = n * unit;
  return Number.isSafeInteger(v) ? v : null;
}

/** Parse an "0x..." hex address of a dmesg line. */
export function parseHexAddr(s: string): number | null {
  if (!/^0x[0-9a-fA-F]+$/.test(s)) return null;
  const v = parseInt(s.slice(2), 16);
  return Number.isSafeInteger(v) ? v : null;
}
