// The mmsim lab: the physical map (canvas, zoomable pfn axis, zone and node spans as brackets),
// scenario playback with zoneinfo and lsmem, explore counterexamples as sequence diagrams, and
// the time driver's timelines. The model runs behind the local server (src/lab/api.ts).
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';

interface Snapshot {
  nodes: { nid: number; start: number; end: number; zones: { name: string; start: number; end: number; present: number }[] }[];
  sections: { start: number; end: number; present: boolean; online: boolean; nid: number }[];
  blocks: { id: number; start: number; end: number; state: string; zone: string }[];
  pgmaps: { name: string; start: number; end: number; first: number; initialisedTo: number; live: boolean; altmapEnd: number }[];
  memmap: { start: number; end: number; kind: string; reserved: boolean; zone: number; nid: number }[];
  pagesPerSection: number;
  zoneNames: string[];
}
interface Step {
  label: string;
  state: Snapshot;
  task?: number;
  name?: string;
  op?: string;
  held?: string[];
  zoneinfo?: string;
  lsmem?: string;
}
interface Loaded {
  title: string;
  steps: Step[];
  tasks: string[];
  violationStep: number | null;
  message: string | null;
  error: string | null;
}
interface Bracket {
  nid: number;
  zone: string;
  start: number;
  end: number;
  x0: number;
  x1: number;
}
interface LabHook {
  ready: boolean;
  mode: string;
  step: number;
  stepCount: number;
  view: { start: number; end: number; x0: number; width: number };
  zoneBrackets: Bracket[];
  pgmaps: { name: string; start: number; end: number; x0: number; x1: number }[];
  timelineShown: boolean;
}

declare global {
  interface Window {
    __mmsimLab: LabHook;
  }
}

const hook: LabHook = { ready: false, mode: '', step: 0, stepCount: 0, view: { start: 0, end: 1, x0: 0, width: 1 }, zoneBrackets: [], pgmaps: [], timelineShown: false };
window.__mmsimLab = hook;

const COLOURS: Record<string, string> = { initialized: '#2e8b57', poisoned: '#8e44ad', stale: '#a0522d', zeroed: '#bbbbbb', none: '#ffffff' };
const ZONE_COLOURS: Record<string, string> = { DMA: '#444', DMA32: '#666', Normal: '#1f77b4', Movable: '#ff7f0e', Device: '#d62728' };
const hex = (n: number): string => `0x${Math.round(n).toString(16)}`;

/** The map's pfn range: the machine's memory and pgmaps, with a margin. */
function extent(s: Snapshot): { start: number; end: number } {
  const xs = [...s.sections.filter((r) => r.present).flatMap((r) => [r.start, r.end]), ...s.pgmaps.flatMap((p) => [p.start, p.end])];
  if (!xs.length) return { start: 0, end: 1 };
  return { start: Math.min(...xs), end: Math.max(...xs) };
}

function MapView(props: { state: Snapshot; prev: Snapshot | null; focus: { start: number; end: number } | null }) {
  const { state, prev } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const [view, setView] = useState(() => props.focus ?? extent(state));
  const [hover, setHover] = useState<string>('');
  useEffect(() => setView(props.focus ?? extent(state)), [props.focus?.start, props.focus?.end]);
  const W = 1100;
  const x0 = 10;
  const width = W - 20;
  const X = (pfn: number): number => x0 + ((pfn - view.start) / (view.end - view.start)) * width;
  const brackets = useMemo(() => state.nodes.flatMap((n) => n.zones.map((z) => ({ nid: n.nid, zone: z.name, start: z.start, end: z.end }))), [state]);
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const g = c.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, c.width, c.height);
    // Zone brackets (rows by zone), node bracket on top.
    const zy = (i: number): number => 18 + i * 14;
    const drawn: Bracket[] = [];
    brackets.forEach((b) => {
      const row = Math.max(0, state.zoneNames.indexOf(b.zone));
      const a = X(b.start);
      const e = X(b.end);
      g.strokeStyle = ZONE_COLOURS[b.zone] ?? '#000';
      g.lineWidth = 2;
      g.beginPath();
      g.moveTo(a, zy(row) + 6);
      g.lineTo(a, zy(row));
      g.lineTo(e, zy(row));
      g.lineTo(e, zy(row) + 6);
      g.stroke();
      g.fillStyle = g.strokeStyle;
      g.font = '11px sans-serif';
      g.fillText(`node ${b.nid} ${b.zone}`, Math.max(x0, Math.min(a, x0 + width - 90)) + 2, zy(row) - 2);
      const was = prev?.nodes.find((n) => n.nid === b.nid)?.zones.find((z) => z.name === b.zone);
      if (prev && (!was || was.start !== b.start || was.end !== b.end)) {
        g.fillStyle = 'rgba(255,215,0,0.35)';
        g.fillRect(Math.min(a, was ? X(was.start) : a), zy(row) - 10, Math.abs(e - a) + 4, 18);
      }
      drawn.push({ ...b, x0: a, x1: e });
    });
    state.nodes.forEach((n) => {
      const a = X(n.start);
      const e = X(n.end);
      g.strokeStyle = '#000';
      g.lineWidth = 1;
      g.strokeRect(a, 4, e - a, 6);
    });
    // The memmap: one colour per run, millions of pages per pixel aggregated by the runs.
    const my = 110;
    for (const r of state.memmap) {
      if (r.end <= view.start || r.start >= view.end) continue;
      g.fillStyle = COLOURS[r.kind] ?? '#999';
      const a = X(Math.max(r.start, view.start));
      g.fillRect(a, my, Math.max(1, X(Math.min(r.end, view.end)) - a), 26);
      if (r.reserved) {
        g.fillStyle = 'rgba(0,0,0,0.25)';
        g.fillRect(a, my, Math.max(1, X(Math.min(r.end, view.end)) - a), 6);
      }
    }
    // Sections: present (outline), online (filled strip).
    for (const s of state.sections) {
      const a = X(s.start);
      g.strokeStyle = '#333';
      g.strokeRect(a, my + 30, X(s.end) - a, 8);
      if (s.present) {
        // Online sections green, present but offline ones grey.
        g.fillStyle = s.online ? '#9fd39f' : '#d0d0d0';
        g.fillRect(a, my + 30, X(s.end) - a, 8);
      }
    }
    // dev_pagemaps: altmap part and the data pages' progress.
    const pg: LabHook['pgmaps'] = [];
    for (const p of state.pgmaps) {
      const a = X(p.start);
      const e = X(p.end);
      g.fillStyle = 'rgba(214,39,40,0.15)';
      g.fillRect(a, my + 44, e - a, 14);
      g.fillStyle = '#ffbf00';
      g.fillRect(a, my + 44, X(p.altmapEnd) - a, 14);
      g.strokeStyle = '#d62728';
      g.strokeRect(a, my + 44, e - a, 14);
      g.fillStyle = '#000';
      g.fillText(p.name, a + 2, my + 72);
      pg.push({ name: p.name, start: p.start, end: p.end, x0: a, x1: e });
    }
    hook.view = { start: view.start, end: view.end, x0, width };
    hook.zoneBrackets = drawn;
    hook.pgmaps = pg;
  }, [state, view, prev]);
  const onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    const rect = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const at = view.start + ((e.clientX - rect.left - x0) / width) * (view.end - view.start);
    const k = e.deltaY > 0 ? 1.25 : 0.8;
    const span = Math.max(8, (view.end - view.start) * k);
    setView({ start: at - (at - view.start) * (span / (view.end - view.start)), end: at - (at - view.start) * (span / (view.end - view.start)) + span });
  };
  const drag = useRef<{ x: number; v: { start: number; end: number } } | null>(null);
  const onMove = (e: MouseEvent): void => {
    const rect = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const px = e.clientX - rect.left;
    if (drag.current) {
      const d = ((px - drag.current.x) / width) * (drag.current.v.end - drag.current.v.start);
      setView({ start: drag.current.v.start - d, end: drag.current.v.end - d });
      return;
    }
    const pfn = Math.floor(view.start + ((px - x0) / width) * (view.end - view.start));
    const sec = Math.floor(pfn / state.pagesPerSection);
    const run = state.memmap.find((r) => pfn >= r.start && pfn < r.end);
    const blk = state.blocks.find((b) => pfn >= b.start && pfn < b.end);
    const zones = state.nodes.flatMap((n) => n.zones.filter((z) => pfn >= z.start && pfn < z.end).map((z) => `node ${n.nid} ${z.name}`));
    const pgm = state.pgmaps.find((p) => pfn >= p.start && pfn < p.end);
    const flags = run ? (run.kind === 'initialized' ? `zone ${state.zoneNames[run.zone] ?? run.zone}, node ${run.nid}${run.reserved ? ', PG_reserved' : ''}` : run.kind) : 'no memmap';
    setHover(
      `pfn ${hex(pfn)} · section ${sec}${blk ? ` · memory${blk.id} (${blk.state})` : ''} · spanned by ${zones.join(', ') || 'no zone'}${pgm ? ` · pgmap ${pgm.name}` : ''} · struct page: ${flags}`,
    );
  };
  return (
    <div>
      <canvas
        ref={canvas}
        id="map"
        width={W}
        height={200}
        style={{ border: '1px solid #ccc', cursor: 'crosshair' }}
        onWheel={onWheel}
        onMouseMove={onMove}
        onMouseDown={(e) => (drag.current = { x: e.clientX - e.currentTarget.getBoundingClientRect().left, v: view })}
        onMouseUp={() => (drag.current = null)}
        onMouseLeave={() => (drag.current = null)}
      />
      <div id="hover" style={{ fontFamily: 'monospace', fontSize: '12px', minHeight: '16px' }}>
        {hover}
      </div>
      <div style={{ fontSize: '12px' }}>
        view {hex(view.start)}–{hex(view.end)} ({Math.round(view.end - view.start)} pages) · legend:{' '}
        {Object.entries(COLOURS)
          .filter(([k]) => k !== 'none')
          .map(([k, c]) => (
            <span key={k} style={{ marginRight: '8px' }}>
              <span style={{ background: c, display: 'inline-block', width: '10px', height: '10px' }} /> {k}
            </span>
          ))}
        <span style={{ marginRight: '8px' }}>▮ altmap (yellow) · dev_pagemap (red outline) · section online (green) / offline (grey) · PG_reserved (dark top strip)</span>
        <button onClick={() => setView(extent(state))}>fit</button>
      </div>
    </div>
  );
}

/** The counterexample as a sequence diagram: one lane per task, lock holds as bars, the violating step in red. */
function Sequence(props: { data: Loaded; step: number; go: (i: number) => void }) {
  const { data, step } = props;
  const lanes = data.tasks;
  const rowH = 14;
  const laneW = 330;
  const steps = data.steps.slice(1);
  return (
    <svg id="sequence" width={60 + lanes.length * laneW} height={30 + steps.length * rowH} style={{ fontFamily: 'monospace', fontSize: '11px' }}>
      {lanes.map((l, i) => (
        <text x={60 + i * laneW} y={14} font-weight="bold">
          {l}
        </text>
      ))}
      {steps.map((s, i) => {
        const y = 24 + i * rowH;
        const lane = s.task ?? 0;
        const bad = data.violationStep !== null && i + 1 === data.violationStep;
        return (
          <g key={i} onClick={() => props.go(i + 1)} style={{ cursor: 'pointer' }}>
            {i + 1 === step && <rect x={0} y={y - 10} width={60 + lanes.length * laneW} height={rowH} fill="#fff3b0" />}
            <text x={4} y={y}>
              {i + 1}
            </text>
            {(s.held ?? []).length > 0 && <rect x={44 + lane * laneW} y={y - 10} width={8} height={rowH} fill="#555" />}
            <text x={60 + lane * laneW} y={y} fill={bad ? '#c00' : '#000'} font-weight={bad ? 'bold' : 'normal'}>
              {s.op}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function App() {
  const params = new URLSearchParams(location.search);
  const [data, setData] = useState<Loaded | null>(null);
  const [step, setStep] = useState(0);
  const [tab, setTab] = useState<'map' | 'timeline'>('map');
  const [timeline, setTimeline] = useState<string>('');
  const [examples, setExamples] = useState<string[]>([]);
  const [error, setError] = useState<string>('');
  const [design, setDesign] = useState(params.get('design') ?? 'v5.3');
  const load = async (what: { scenario?: string; example?: string; file?: { name: string; text: string } }): Promise<void> => {
    setError('');
    hook.ready = false;
    let d: Loaded;
    if (what.scenario) {
      const r = (await (await fetch(`/api/trace?scenario=${what.scenario}&design=${design}`)).json()) as {
        error?: string;
        tasks: string[];
        steps: Step[];
        violationStep: number | null;
        message: string | null;
        invariant: string | null;
      };
      if (r.error) return setError(r.error);
      d = {
        title: `${what.scenario}, design ${design}${r.invariant ? `: ${r.invariant}` : ': no violation'}`,
        steps: r.steps.map((s, i) => ({ ...s, label: i ? `${i}. ${s.name}: ${s.op}` : 'start' })),
        tasks: r.tasks,
        violationStep: r.violationStep,
        message: r.message,
        error: null,
      };
      hook.mode = 'trace';
    } else {
      const r = what.example
        ? ((await (await fetch(`/api/example?name=${encodeURIComponent(what.example)}`)).json()) as { steps?: Step[]; error: string | null })
        : ((await (await fetch(`/api/scenario?name=${encodeURIComponent(what.file?.name ?? 'scenario.yaml')}`, { method: 'POST', body: what.file?.text ?? '' })).json()) as {
            steps?: Step[];
            error: string | null;
          });
      if (r.error) setError(r.error);
      // A refusal (413, 503, 504) is { error } alone, without steps.
      d = { title: what.example ?? what.file?.name ?? '', steps: r.steps ?? [], tasks: [], violationStep: null, message: null, error: r.error };
      hook.mode = 'scenario';
    }
    setData(d);
    setStep(0);
    hook.stepCount = d.steps.length - 1;
    hook.step = 0;
    hook.ready = true;
  };
  useEffect(() => {
    void fetch('/api/config')
      .then((r) => r.json())
      .then((c: { opening: string | null; examples: string[] }) => {
        setExamples(c.examples);
        const first = params.get('scenario') ?? c.opening ?? 'seed-2019';
        if (first.endsWith('.yaml')) void load({ example: first.split('/').pop() ?? first });
        else void load({ scenario: first });
      });
  }, []);
  const go = (i: number): void => {
    if (!data) return;
    const k = Math.max(0, Math.min(data.steps.length - 1, i));
    setStep(k);
    hook.step = k;
  };
  const showTimeline = async (): Promise<void> => {
    setTab('timeline');
    const r = (await (await fetch('/api/timeline?preset=seed-2019&designs=v4.19,v5.3,serialize')).json()) as { svg?: string; error?: string };
    if (r.error) setError(r.error);
    setTimeline(r.svg ?? '');
    hook.timelineShown = true;
  };
  const cur = data?.steps[step];
  const prev = step > 0 ? (data?.steps[step - 1]?.state ?? null) : null;
  // Counterexamples open on the namespaces (with a margin); scenarios on the whole machine.
  const focus = useMemo(() => {
    const s = data?.steps[0]?.state;
    if (!s) return null;
    const ps = data?.steps.flatMap((x) => x.state.pgmaps) ?? [];
    if (!data?.tasks.length || !ps.length) return extent(s);
    const a = Math.min(...ps.map((p) => p.start));
    const e = Math.max(...ps.map((p) => p.end));
    const pad = (e - a) * 0.15;
    return { start: Math.max(0, a - pad), end: e + pad };
  }, [data]);
  return (
    <div style={{ fontFamily: 'sans-serif', margin: '10px' }}>
      <h2 style={{ margin: '0 0 8px' }}>mmsim lab</h2>
      <div style={{ marginBottom: '8px' }}>
        <select id="design" value={design} onChange={(e) => setDesign(e.currentTarget.value)}>
          {['v4.19', 'v5.3', 'serialize', 'seqlock', 'no-shrink', '6.1', 'current'].map((d) => (
            <option key={d}>{d}</option>
          ))}
        </select>{' '}
        {['seed-2019', 'seed-2019-hotplug', 'seed-2019-subsection'].map((s) => (
          <button key={s} id={`open-${s}`} onClick={() => void load({ scenario: s })}>
            {s}
          </button>
        ))}{' '}
        <select id="example" onChange={(e) => void load({ example: e.currentTarget.value })}>
          <option>examples…</option>
          {examples.map((x) => (
            <option key={x}>{x}</option>
          ))}
        </select>{' '}
        <input
          id="file"
          type="file"
          accept=".yaml,.yml"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            if (f) void f.text().then((text) => load({ file: { name: f.name, text } }));
          }}
        />{' '}
        <button id="tab-map" onClick={() => setTab('map')}>
          map
        </button>
        <button id="tab-timeline" onClick={() => void showTimeline()}>
          timelines
        </button>
      </div>
      {error && (
        <div id="error" style={{ color: '#c00', fontFamily: 'monospace' }}>
          {error}
        </div>
      )}
      {tab === 'timeline' ? (
        <div id="timeline" dangerouslySetInnerHTML={{ __html: timeline }} />
      ) : (
        data &&
        cur && (
          <div>
            <div style={{ fontWeight: 'bold' }}>{data.title}</div>
            <MapView state={cur.state} prev={prev} focus={focus} />
            <div style={{ margin: '6px 0' }}>
              <button id="first" onClick={() => go(0)}>
                first
              </button>
              <button id="prev" onClick={() => go(step - 1)}>
                back
              </button>
              <button id="next" onClick={() => go(step + 1)}>
                step
              </button>
              <button id="last" onClick={() => go(data.steps.length - 1)}>
                last
              </button>{' '}
              <span id="step-label">{`step ${step} of ${data.steps.length - 1}: ${cur.label}`}</span>
              {data.message && step === data.violationStep && (
                <div id="violation" style={{ color: '#c00', fontFamily: 'monospace' }}>
                  {data.message}
                </div>
              )}
            </div>
            {data.tasks.length > 0 ? (
              <div style={{ maxHeight: '420px', overflow: 'auto', border: '1px solid #eee' }}>
                <Sequence data={data} step={step} go={go} />
              </div>
            ) : (
              <div style={{ display: 'flex', gap: '12px' }}>
                <pre id="zoneinfo" style={{ maxHeight: '400px', overflow: 'auto', fontSize: '11px', flex: 1 }}>
                  {cur.zoneinfo}
                </pre>
                <pre id="lsmem" style={{ maxHeight: '400px', overflow: 'auto', fontSize: '11px', flex: 1 }}>
                  {cur.lsmem}
                </pre>
              </div>
            )}
          </div>
        )
      )}
    </div>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
