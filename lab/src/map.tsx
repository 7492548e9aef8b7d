// The physical map: a canvas over a pfn range (wheel zooms down to single pages, drag pans, hover
// decodes the pfn), with the node and zone spans as brackets above the memmap, the sections and the
// dev_pagemaps below it, a pfn and physical-address axis under it and a legend drawn from the same
// colours. At each step the view fits what changed (the pfns whose zone span, section, memory block,
// pgmap or struct page differ from the step before); each load starts on its home view.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { hex, hook, type PfnRange, type Snapshot } from './types';

/** One colour per thing drawn: the canvas and the legend both read these. */
export const COLOURS = {
  memmap: { initialized: '#009e73', poisoned: '#cc79a7', stale: '#d55e00', zeroed: '#b8b8b8' } as Record<string, string>,
  zones: { DMA: '#555555', DMA32: '#7a7a7a', Normal: '#0072b2', Movable: '#e69f00', Device: '#c0392b' } as Record<string, string>,
  reserved: '#3b3b3b',
  sectionOnline: '#56b4e9',
  sectionOffline: '#dcdcdc',
  sectionOutline: '#4a4a4a',
  altmap: '#f0e442',
  pgmap: '#c0392b',
  changed: 'rgba(255, 196, 0, 0.22)',
  node: '#222222',
};

const W = 1100;
const X0 = 84;
const WIDTH = W - X0 - 12;
const H = 196;
/** Rows of the canvas (y of each band's top). */
const ROWS = { node: 6, zones: 34, memmap: 104, sections: 136, pgmaps: 152 };

/** The map's whole pfn range: the machine's present sections and its pgmaps. */
export function extent(s: Snapshot): PfnRange {
  const xs = [...s.sections.filter((r) => r.present).flatMap((r) => [r.start, r.end]), ...s.pgmaps.flatMap((p) => [p.start, p.end])];
  if (!xs.length) return { start: 0, end: 1 };
  return { start: Math.min(...xs), end: Math.max(...xs) };
}

/** Where two lists of runs differ by `key` (a pfn in no run: '-'), as merged ranges. */
function diffRuns<T extends PfnRange>(a: readonly T[], b: readonly T[], key: (r: T) => string): PfnRange[] {
  const xs = [...new Set([...a, ...b].flatMap((r) => [r.start, r.end]))].sort((p, q) => p - q);
  const at = (l: readonly T[], x: number): string => {
    const r = l.find((q) => x >= q.start && x < q.end);
    return r ? key(r) : '-';
  };
  const out: PfnRange[] = [];
  for (let i = 0; i + 1 < xs.length; i++) {
    const x = xs[i];
    const y = xs[i + 1];
    if (at(a, x) === at(b, x)) continue;
    const last = out[out.length - 1];
    if (last && last.end === x) last.end = y;
    else out.push({ start: x, end: y });
  }
  return out;
}

/** Where one span became another: its ends that moved, or all of it when it appeared or went. */
function spanDiff(a: PfnRange | undefined, b: PfnRange | undefined): PfnRange[] {
  if (!a && !b) return [];
  if (!a || !b) return [(a ?? b) as PfnRange];
  const out: PfnRange[] = [];
  if (a.start !== b.start) out.push({ start: Math.min(a.start, b.start), end: Math.max(a.start, b.start) });
  if (a.end !== b.end) out.push({ start: Math.min(a.end, b.end), end: Math.max(a.end, b.end) });
  return out;
}

/** The pfns that changed from `prev` to `cur` (node and zone spans, sections, memory blocks, pgmaps, struct pages), as one range; null if none did. */
export function changedRange(prev: Snapshot, cur: Snapshot): PfnRange | null {
  const zones = (s: Snapshot): Map<string, PfnRange> =>
    new Map(
      s.nodes.flatMap((n): [string, PfnRange][] => [
        [`node ${n.nid}`, { start: n.start, end: n.end }],
        ...n.zones.map((z): [string, PfnRange] => [`${n.nid} ${z.name}`, { start: z.start, end: z.end }]),
      ]),
    );
  const za = zones(prev);
  const zb = zones(cur);
  const pa = new Map(prev.pgmaps.map((p) => [p.name, p]));
  const pb = new Map(cur.pgmaps.map((p) => [p.name, p]));
  const parts: PfnRange[] = [
    ...[...new Set([...za.keys(), ...zb.keys()])].flatMap((k) => spanDiff(za.get(k), zb.get(k))),
    ...[...new Set([...pa.keys(), ...pb.keys()])].flatMap((k) => {
      const a = pa.get(k);
      const b = pb.get(k);
      if (a && b && a.start === b.start && a.end === b.end && a.live === b.live && a.altmapEnd === b.altmapEnd) return [];
      return [a, b].filter((p): p is NonNullable<typeof p> => p !== undefined);
    }),
    ...diffRuns(prev.sections, cur.sections, (r) => `${r.present} ${r.online} ${r.nid}`),
    ...diffRuns(prev.blocks, cur.blocks, (r) => `${r.id} ${r.state} ${r.zone}`),
    ...diffRuns(prev.memmap, cur.memmap, (r) => `${r.kind} ${r.reserved} ${r.zone} ${r.nid}`),
  ];
  if (!parts.length) return null;
  return { start: Math.min(...parts.map((p) => p.start)), end: Math.max(...parts.map((p) => p.end)) };
}

/** A changed range as the view shows it: an eighth of its length (at least 8 pages) either side. */
export function fitTo(r: PfnRange): PfnRange {
  const pad = Math.max((r.end - r.start) / 8, 8);
  return { start: r.start - pad, end: r.end + pad };
}

const KiB = 1024;
/** A byte count as a size (4 GiB, 1.5 MiB). */
function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= KiB && i < units.length - 1) {
    v /= KiB;
    i++;
  }
  return `${+v.toFixed(2)} ${units[i]}`;
}

/** The axis under the map: pfns and physical addresses (pfn × page size) at both ends of the view and at power-of-two ticks between. */
function Axis(props: { view: PfnRange; pageBytes: number }) {
  const { view, pageBytes } = props;
  const span = Math.max(1, view.end - view.start);
  const X = (pfn: number): number => X0 + ((pfn - view.start) / span) * WIDTH;
  const step = 2 ** Math.ceil(Math.log2(span / 6));
  const ticks: number[] = [];
  for (let t = Math.ceil(view.start / step) * step; t < view.end && ticks.length < 20; t += step) if (X(t) - X0 > 120 && X0 + WIDTH - X(t) > 120) ticks.push(t);
  const a = Math.round(view.start);
  const e = Math.round(view.end);
  return (
    <svg id="axis" width={W} height={44} role="img" aria-label={`pfn ${hex(a)} to ${hex(e)}`}>
      <line x1={X0} y1={2} x2={X0 + WIDTH} y2={2} class="axis-line" />
      <text x={4} y={17} class="axis-title">
        pfn
      </text>
      <text x={4} y={35} class="axis-title">
        phys addr
      </text>
      {[a, ...ticks, e].map((t, i) => {
        const x = i === 0 ? X0 : i > ticks.length ? X0 + WIDTH : X(t);
        const anchor = i === 0 ? 'start' : i > ticks.length ? 'end' : 'middle';
        const cls = i === 0 ? 'axis-start' : i > ticks.length ? 'axis-end' : 'axis-tick';
        return (
          <g key={`${i}-${t}`} class={cls} data-pfn={t}>
            <title>{`pfn ${hex(t)}: ${size(t * pageBytes)}`}</title>
            <line x1={x} y1={2} x2={x} y2={7} class="axis-line" />
            <text x={x} y={19} text-anchor={anchor} class="pfn">
              {hex(t)}
            </text>
            <text x={x} y={36} text-anchor={anchor} class="phys">
              {hex(t * pageBytes)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** The legend: each swatch in the colour the map draws it. */
function Legend() {
  const items: [string, string, string][] = [
    ...Object.entries(COLOURS.memmap).map(([k, c]): [string, string, string] => [`memmap-${k}`, c, `struct page ${k}`]),
    ['reserved', COLOURS.reserved, 'PG_reserved (top strip)'],
    ['section-online', COLOURS.sectionOnline, 'section online'],
    ['section-offline', COLOURS.sectionOffline, 'section present, offline'],
    ...Object.entries(COLOURS.zones).map(([k, c]): [string, string, string] => [`zone-${k}`, c, `zone ${k}`]),
    ['altmap', COLOURS.altmap, 'altmap (vmemmap in the device)'],
    ['pgmap', COLOURS.pgmap, 'dev_pagemap'],
    ['changed', COLOURS.changed, 'changed at this step'],
  ];
  return (
    <ul id="legend" class="legend">
      {items.map(([k, c, label]) => (
        <li key={k} data-key={k}>
          <span class="swatch" data-colour={c} style={{ background: c }} />
          {label}
        </li>
      ))}
    </ul>
  );
}

export function MapView(props: { state: Snapshot; prev: Snapshot | null; home: PfnRange; loadId: number; step: number }) {
  const { state, prev } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const [follow, setFollow] = useState(true);
  const [hover, setHover] = useState<string>('');
  const changed = useMemo(() => (prev ? changedRange(prev, state) : null), [prev, state]);
  hook.changed = changed;
  // A load starts on its home view; each step fits what changed (a step that changed nothing keeps the view).
  // Worked out while rendering (not in an effect), so the commit that shows a step already draws its view.
  const key = `${props.loadId}:${props.step}`;
  const shown = useRef<{ key: string; view: PfnRange }>({ key, view: props.home });
  if (shown.current.key !== key) {
    const v = props.step === 0 ? props.home : follow && changed ? fitTo(changed) : shown.current.view;
    shown.current = { key, view: v };
  }
  const view = shown.current.view;
  const [, redraw] = useState(0);
  const setView = (v: PfnRange): void => {
    shown.current = { key, view: v };
    redraw((n) => n + 1);
  };
  const X = (pfn: number): number => X0 + ((pfn - view.start) / (view.end - view.start)) * WIDTH;
  const brackets = useMemo(() => state.nodes.flatMap((n) => n.zones.map((z) => ({ nid: n.nid, zone: z.name, start: z.start, end: z.end }))), [state]);
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const g = c.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, c.width, c.height);
    g.font = '12px system-ui, sans-serif';
    g.fillStyle = '#555';
    for (const [label, y] of [
      ['node', ROWS.node + 10],
      ['zones', ROWS.zones + 4],
      ['memmap', ROWS.memmap + 17],
      ['sections', ROWS.sections + 9],
      ['pgmaps', ROWS.pgmaps + 11],
    ] as const)
      g.fillText(label, 4, y);
    g.save();
    g.beginPath();
    g.rect(X0, 0, WIDTH, H);
    g.clip();
    if (changed) {
      g.fillStyle = COLOURS.changed;
      const a = X(changed.start);
      g.fillRect(a, 0, Math.max(2, X(changed.end) - a), H);
    }
    // Node spans on top, zone brackets in rows by zone index.
    const inView = (r: PfnRange): boolean => r.end > view.start && r.start < view.end;
    for (const n of state.nodes) {
      if (!inView(n)) continue;
      const a = X(n.start);
      g.strokeStyle = COLOURS.node;
      g.lineWidth = 1;
      g.strokeRect(a, ROWS.node, X(n.end) - a, 12);
      g.fillStyle = COLOURS.node;
      g.fillText(`node ${n.nid}`, Math.max(X0, a) + 4, ROWS.node + 10);
    }
    const zy = (i: number): number => ROWS.zones + i * 13;
    const drawn: typeof hook.zoneBrackets = [];
    for (const b of brackets) {
      if (!inView(b)) continue;
      const row = Math.max(0, state.zoneNames.indexOf(b.zone));
      const a = X(b.start);
      const e = X(b.end);
      g.strokeStyle = COLOURS.zones[b.zone] ?? '#000';
      g.lineWidth = 2;
      g.beginPath();
      g.moveTo(a, zy(row) + 6);
      g.lineTo(a, zy(row));
      g.lineTo(e, zy(row));
      g.lineTo(e, zy(row) + 6);
      g.stroke();
      g.fillStyle = g.strokeStyle;
      g.fillText(`${b.zone} (node ${b.nid})`, Math.max(X0, Math.min(a, X0 + WIDTH - 120)) + 3, zy(row) - 2);
    }
    for (const b of brackets) drawn.push({ ...b, x0: X(b.start), x1: X(b.end) });
    // The memmap: one colour per run of page states.
    for (const r of state.memmap) {
      if (r.end <= view.start || r.start >= view.end) continue;
      const a = X(Math.max(r.start, view.start));
      const w = Math.max(1, X(Math.min(r.end, view.end)) - a);
      g.fillStyle = COLOURS.memmap[r.kind] ?? '#999';
      g.fillRect(a, ROWS.memmap, w, 26);
      if (r.reserved) {
        g.fillStyle = COLOURS.reserved;
        g.fillRect(a, ROWS.memmap, w, 5);
      }
    }
    // Sections: present ones filled (online or offline), every one outlined.
    for (const s of state.sections) {
      if (s.end <= view.start || s.start >= view.end) continue;
      const a = X(s.start);
      if (s.present) {
        g.fillStyle = s.online ? COLOURS.sectionOnline : COLOURS.sectionOffline;
        g.fillRect(a, ROWS.sections, X(s.end) - a, 10);
      }
      g.strokeStyle = COLOURS.sectionOutline;
      g.lineWidth = 1;
      g.strokeRect(a, ROWS.sections, X(s.end) - a, 10);
    }
    // dev_pagemaps: the altmap part and the outline.
    const pg: typeof hook.pgmaps = [];
    for (const p of state.pgmaps) {
      pg.push({ name: p.name, start: p.start, end: p.end, x0: X(p.start), x1: X(p.end) });
      if (!inView(p)) continue;
      const a = X(p.start);
      const e = X(p.end);
      g.fillStyle = COLOURS.altmap;
      g.fillRect(a, ROWS.pgmaps, X(p.altmapEnd) - a, 14);
      g.strokeStyle = COLOURS.pgmap;
      g.lineWidth = 2;
      g.strokeRect(a, ROWS.pgmaps, e - a, 14);
      g.fillStyle = '#222';
      g.fillText(`${p.name}${p.live ? '' : ' (released)'}`, Math.max(X0, a) + 3, ROWS.pgmaps + 30);
    }
    g.restore();
    hook.view = { start: view.start, end: view.end, x0: X0, width: WIDTH };
    hook.zoneBrackets = drawn;
    hook.pgmaps = pg;
  }, [state, view, changed]);
  const onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    const rect = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const at = view.start + ((e.clientX - rect.left - X0) / WIDTH) * (view.end - view.start);
    const span = Math.max(8, (view.end - view.start) * (e.deltaY > 0 ? 1.25 : 0.8));
    const start = at - (at - view.start) * (span / (view.end - view.start));
    setView({ start, end: start + span });
  };
  const drag = useRef<{ x: number; v: PfnRange } | null>(null);
  const onMove = (e: MouseEvent): void => {
    const rect = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const px = e.clientX - rect.left;
    if (drag.current) {
      const d = ((px - drag.current.x) / WIDTH) * (drag.current.v.end - drag.current.v.start);
      setView({ start: drag.current.v.start - d, end: drag.current.v.end - d });
      return;
    }
    const pfn = Math.floor(view.start + ((px - X0) / WIDTH) * (view.end - view.start));
    const sec = Math.floor(pfn / state.pagesPerSection);
    const run = state.memmap.find((r) => pfn >= r.start && pfn < r.end);
    const blk = state.blocks.find((b) => pfn >= b.start && pfn < b.end);
    const zones = state.nodes.flatMap((n) => n.zones.filter((z) => pfn >= z.start && pfn < z.end).map((z) => `node ${n.nid} ${z.name}`));
    const pgm = state.pgmaps.find((p) => pfn >= p.start && pfn < p.end);
    const flags = run ? (run.kind === 'initialized' ? `zone ${state.zoneNames[run.zone] ?? run.zone}, node ${run.nid}${run.reserved ? ', PG_reserved' : ''}` : run.kind) : 'no memmap';
    setHover(
      `pfn ${hex(pfn)} (phys ${hex(pfn * state.pageBytes)}) · section ${sec}${blk ? ` · memory${blk.id} (${blk.state})` : ''} · spanned by ${zones.join(', ') || 'no zone'}${pgm ? ` · pgmap ${pgm.name}` : ''} · struct page: ${flags}`,
    );
  };
  return (
    <section class="panel map-panel" aria-label="physical map">
      <canvas
        ref={canvas}
        id="map"
        width={W}
        height={H}
        onWheel={onWheel}
        onMouseMove={onMove}
        onMouseDown={(e) => (drag.current = { x: e.clientX - e.currentTarget.getBoundingClientRect().left, v: view })}
        onMouseUp={() => (drag.current = null)}
        onMouseLeave={() => (drag.current = null)}
      />
      <Axis view={view} pageBytes={state.pageBytes} />
      <div id="hover" class="mono hover">
        {hover || 'hover the map to decode a pfn; wheel zooms, drag pans'}
      </div>
      <div class="map-tools">
        <span id="view-range">
          view {hex(view.start)}–{hex(view.end)} ({Math.round(view.end - view.start).toLocaleString('en')} pages)
        </span>
        <span id="changed-range">{changed ? `changed at this step: ${hex(changed.start)}–${hex(changed.end)}` : 'nothing changed at this step'}</span>
        <label>
          <input id="follow" type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> fit what changes
        </label>
        <button id="fit" onClick={() => setView(extent(state))}>
          whole machine
        </button>
      </div>
      <Legend />
    </section>
  );
}
