// Requests to the lab's API with a loading state: every request in flight is listed (what it
// computes and for how long) by the Loading bar in main.tsx, and an answer that is not JSON or no
// answer at all becomes `{ error }`, as the API's own refusals are.
import { useEffect, useState } from 'preact/hooks';
import { hook } from './types';

export interface Pending {
  readonly id: number;
  readonly label: string;
  readonly since: number;
}

let pending: Pending[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function changed(): void {
  hook.loading = pending.map((p) => p.label);
  for (const l of listeners) l();
}

/** GET or POST `url`, listed as `label` while it runs; the JSON answer, or `{ error }` for one that failed. */
export async function requestJson<T extends { error?: string | null }>(label: string, url: string, init?: RequestInit): Promise<T> {
  const p: Pending = { id: nextId++, label, since: performance.now() };
  pending = [...pending, p];
  changed();
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      return { error: `${label}: the server answered ${res.status} ${res.statusText}` } as T;
    }
  } catch (e) {
    return { error: `${label}: the lab server did not answer (${e instanceof Error ? e.message : String(e)}); is mmsim serve still running?` } as T;
  } finally {
    pending = pending.filter((x) => x !== p);
    changed();
  }
}

/** The requests in flight, re-rendered as they start and end and every half second while any runs (the elapsed time). */
export function usePending(): Pending[] {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = (): void => setTick((t) => t + 1);
    listeners.add(l);
    const timer = setInterval(() => pending.length && l(), 500);
    return () => {
      listeners.delete(l);
      clearInterval(timer);
    };
  }, []);
  return pending;
}
