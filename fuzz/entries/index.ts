// Every fuzzed entry point, in the order `npm run fuzz` runs them.
import type { FuzzEntry } from '../harness.js';
import { designEntry } from './design.js';
import { dmesgEntry } from './dmesg.js';
import { labEntry } from './lab.js';
import { labHttpEntry } from './lab-http.js';
import { machineEntry } from './machine.js';
import { memmapReaderEntry } from './memmap-reader.js';
import { replayEntry } from './replay.js';
import { scenarioEntry } from './scenario.js';
import { selftestEntry } from './selftest.js';
import { sysfsEntry } from './sysfs.js';
import { zoneinfoEntry } from './zoneinfo.js';

export const ENTRIES: readonly FuzzEntry[] = [dmesgEntry, machineEntry, scenarioEntry, zoneinfoEntry, sysfsEntry, designEntry, replayEntry, labEntry, labHttpEntry, memmapReaderEntry];

/** Entry points run only when named with --only: the harness's self-check. */
export const EXTRA_ENTRIES: readonly FuzzEntry[] = [selftestEntry];

export function entryByName(name: string): FuzzEntry | undefined {
  return [...ENTRIES, ...EXTRA_ENTRIES].find((e) => e.name === name);
}
