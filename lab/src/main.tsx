// The mmsim lab: the page's frame. It loads what the toolbar asks for (a built-in scenario's explore
// counterexample under the chosen design, an example, the scenario file given to `mmsim serve FILE`
// or one opened with the file picker), shows every request in flight with its elapsed time, keeps a
// one-line error banner (file:line:col for a scenario file) until the next load, and lays out the
// views: the physical map (map.tsx), the playback controls with zoneinfo and lsmem (playback.tsx),
// the counterexample's sequence diagram (trace.tsx) and the timelines (timelines.tsx). The model
// runs behind the local server (src/lab/api.ts); nothing here computes the kernel's state.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import './style.css';
import { requestJson, usePending } from './client';
import { extent, MapView } from './map';
import { Controls, ScenarioViews } from './playback';
import { Sequence, ViolationPicker } from './trace';
import { Timelines } from './timelines';
import { hook, type Loaded, type PfnRange, type Step, type Violation } from './types';

interface Config {
  opening: string | null;
  examples: string[];
  designs: string[];
  file: string | null;
  userDesign: { name: string; file: string; summary: string } | null;
  error?: string | null;
}
interface TraceAnswer {
  error?: string | null;
  scenario: string;
  design: string;
  tasks: string[];
  invariant: string | null;
  message: string | null;
  violationStep: number | null;
  steps: Step[];
  violations: Violation[];
}
interface ScenarioAnswer {
  error?: string | null;
  steps?: Step[];
}

/** What a load opens. */
type Source = { kind: 'trace'; scenario: string; design: string } | { kind: 'example'; name: string } | { kind: 'file'; name: string } | { kind: 'upload'; name: string; text: string };

const BUILTIN = ['seed-2019', 'seed-2019-hotplug', 'seed-2019-subsection', 'seed-2019-map-mem'];
const FALLBACK_DESIGNS = ['v4.19', 'v5.3', 'serialize', 'seqlock', 'no-shrink', '6.1', 'current'];
const traceLabels = (steps: Step[]): Step[] => steps.map((s, i) => ({ ...s, label: i ? `${i}. ${s.name}: ${s.op}` : 'start' }));

function Loading() {
  const pending = usePending();
  if (!pending.length) return <div id="loading" class="loading idle" aria-live="polite" />;
  const now = performance.now();
  return (
    <div id="loading" class="loading" role="status" aria-live="polite">
      {pending.map((p) => (
        <div key={p.id} class="loading-row" data-label={p.label}>
          <progress /> <span class="loading-label">{p.label}</span> <span class="elapsed">{((now - p.since) / 1000).toFixed(1)} s</span>
        </div>
      ))}
    </div>
  );
}

function App() {
  const params = new URLSearchParams(location.search);
  const [config, setConfig] = useState<Config | null>(null);
  const [data, setData] = useState<Loaded | null>(null);
  const [loadId, setLoadId] = useState(0);
  const [step, setStep] = useState(0);
  const [tab, setTab] = useState<'map' | 'timeline'>('map');
  const [error, setError] = useState<string>('');
  const [design, setDesign] = useState(params.get('design') ?? 'v5.3');
  const [scenario, setScenario] = useState(BUILTIN.includes(params.get('scenario') ?? '') ? (params.get('scenario') as string) : 'seed-2019');
  const latest = useRef(0);
  const loadedPending = useRef(false);

  const load = async (src: Source): Promise<void> => {
    const token = ++latest.current;
    setError('');
    hook.ready = false;
    let d: Loaded | null;
    let err: string | null | undefined;
    if (src.kind === 'trace') {
      setScenario(src.scenario);
      setDesign(src.design);
      const r = await requestJson<TraceAnswer>(
        `exploring ${src.scenario} under ${src.design} (every interleaving)`,
        `/api/trace?scenario=${encodeURIComponent(src.scenario)}&design=${encodeURIComponent(src.design)}`,
      );
      err = r.error;
      d =
        r.error || !r.steps
          ? null
          : {
              kind: 'trace',
              title: `${src.scenario} under ${src.design}: ${r.invariant ? `${r.violations.length} invariant${r.violations.length > 1 ? 's' : ''} broken` : 'no violation'}`,
              scenario: src.scenario,
              design: src.design,
              tasks: r.tasks,
              violations: r.violations.map((v) => ({ ...v, steps: traceLabels(v.steps) })),
              violation: 0,
              steps: traceLabels(r.steps),
              violationStep: r.violationStep,
              message: r.message,
            };
    } else {
      const url = src.kind === 'example' ? `/api/example?name=${encodeURIComponent(src.name)}` : src.kind === 'file' ? '/api/file' : `/api/scenario?name=${encodeURIComponent(src.name)}`;
      const r = await requestJson<ScenarioAnswer>(`playing ${src.name}`, url, src.kind === 'upload' ? { method: 'POST', body: src.text } : undefined);
      err = r.error;
      // A refusal (404, 413, 503, 504) is { error } alone; a scenario that fails keeps the steps it played.
      const steps = r.steps ?? [];
      d = steps.length ? { kind: 'scenario', title: src.name, scenario: '', design: '', tasks: [], violations: [], violation: 0, steps, violationStep: null, message: null } : null;
    }
    if (token !== latest.current) return;
    if (err) setError(err);
    setData(d);
    setStep(0);
    setLoadId((n) => n + 1);
    hook.mode = src.kind === 'trace' ? 'trace' : 'scenario';
    hook.stepCount = d ? d.steps.length - 1 : 0;
    loadedPending.current = true;
  };
  // The hook says a load (or a step) is shown once it is committed and the map has drawn it.
  useEffect(() => {
    hook.step = step;
    if (!loadedPending.current) return;
    loadedPending.current = false;
    hook.loads++;
    hook.ready = true;
  }, [loadId, step]);

  useEffect(() => {
    void requestJson<Config>('loading the lab', '/api/config').then((c) => {
      if (c.error) return setError(c.error);
      setConfig(c);
      const asked = params.get('scenario');
      const d = params.get('design') ?? c.userDesign?.name ?? 'v5.3';
      if (asked) void load(asked.endsWith('.yaml') ? { kind: 'example', name: asked.split('/').pop() ?? asked } : { kind: 'trace', scenario: asked, design: d });
      else if (c.file) void load({ kind: 'file', name: c.file });
      else if (c.opening?.endsWith('.yaml')) void load({ kind: 'example', name: c.opening.split('/').pop() ?? c.opening });
      else void load({ kind: 'trace', scenario: c.opening ?? 'seed-2019', design: d });
    });
  }, []);

  const go = (i: number): void => {
    if (!data) return;
    const k = Math.max(0, Math.min(data.steps.length - 1, i));
    setStep(k);
  };
  const chooseViolation = (i: number): void => {
    if (!data) return;
    const v = data.violations[i];
    if (!v) return;
    setData({ ...data, violation: i, steps: v.steps, violationStep: v.violationStep, message: v.message });
    setStep(0);
    setLoadId((n) => n + 1);
    hook.stepCount = v.steps.length - 1;
  };

  const cur = data?.steps[step];
  const prev = step > 0 ? (data?.steps[step - 1] ?? null) : null;
  // A counterexample opens on its namespaces (with a margin); a scenario on the whole machine.
  const home = useMemo((): PfnRange => {
    const s = data?.steps[0]?.state;
    if (!s) return { start: 0, end: 1 };
    const ps = data.steps.flatMap((x) => x.state.pgmaps);
    if (data.kind !== 'trace' || !ps.length) return extent(s);
    const a = Math.min(...ps.map((p) => p.start));
    const e = Math.max(...ps.map((p) => p.end));
    const pad = (e - a) * 0.15;
    return { start: Math.max(0, a - pad), end: e + pad };
  }, [data]);
  const designs = config?.designs ?? FALLBACK_DESIGNS;
  const timelineDesigns = useMemo(() => {
    const base = (params.get('timeline') ?? 'v4.19,v5.3,serialize').split(',').filter(Boolean);
    return [...new Set([...base, design])];
  }, [design]);

  return (
    <div class="app">
      <header class="top">
        <h1>
          mmsim lab <span class="subtitle">the physical memory model, step by step</span>
        </h1>
        <nav class="toolbar" aria-label="open">
          <span class="group">
            <span class="group-label">built-in</span>
            {BUILTIN.map((s) => (
              <button key={s} id={`open-${s}`} class={data?.kind === 'trace' && scenario === s ? 'active' : ''} onClick={() => void load({ kind: 'trace', scenario: s, design })}>
                {s}
              </button>
            ))}
          </span>
          <label class="group">
            <span class="group-label">design</span>
            <select id="design" value={design} onChange={(e) => void load({ kind: 'trace', scenario, design: e.currentTarget.value })}>
              {designs.map((d) => (
                <option key={d} value={d} title={d === config?.userDesign?.name ? `${config.userDesign.file}: ${config.userDesign.summary}` : undefined}>
                  {d === config?.userDesign?.name ? `${d} (file)` : d}
                </option>
              ))}
            </select>
          </label>
          <label class="group">
            <span class="group-label">example</span>
            <select id="example" value="" onChange={(e) => e.currentTarget.value && void load({ kind: 'example', name: e.currentTarget.value })}>
              <option value="">examples…</option>
              {(config?.examples ?? []).map((x) => (
                <option key={x} value={x}>
                  {x}
                </option>
              ))}
            </select>
          </label>
          {config?.file && (
            <button id="open-file" onClick={() => void load({ kind: 'file', name: config.file as string })}>
              {config.file}
            </button>
          )}
          <label class="group file-pick">
            <span class="group-label">open file</span>
            <input
              id="file"
              type="file"
              accept=".yaml,.yml,.mjs,.js"
              onChange={(e) => {
                const input = e.currentTarget;
                const f = input.files?.[0];
                if (!f) return;
                input.value = '';
                if (/\.m?js$/.test(f.name)) {
                  // A design file is JavaScript: the server runs one only from its own command line, never one sent by a page.
                  setError(`${f.name}: a design file is code that mmsim runs, so the lab loads one only from its command line: mmsim serve ${f.name}`);
                  return;
                }
                void f.text().then((text) => load({ kind: 'upload', name: f.name, text }));
              }}
            />
          </label>
          <span class="group tabs" role="tablist">
            <button id="tab-map" role="tab" aria-selected={tab === 'map'} class={tab === 'map' ? 'active' : ''} onClick={() => setTab('map')}>
              map
            </button>
            <button id="tab-timeline" role="tab" aria-selected={tab === 'timeline'} class={tab === 'timeline' ? 'active' : ''} onClick={() => setTab('timeline')}>
              timelines
            </button>
          </span>
        </nav>
      </header>
      <Loading />
      {error && (
        <div id="error" class="banner" role="alert">
          <span id="error-message" class="mono">
            {error}
          </span>
          <button class="dismiss" onClick={() => setError('')} aria-label="dismiss">
            ×
          </button>
        </div>
      )}
      {tab === 'timeline' ? (
        <Timelines preset={params.get('preset') ?? 'seed-2019'} scenario={scenario} designs={timelineDesigns} onError={setError} />
      ) : data && cur ? (
        <main>
          <h2 id="title" class="title">
            {data.title}
          </h2>
          <ViolationPicker data={data} choose={chooseViolation} />
          <Controls data={data} step={step} go={go} />
          {data.message && step === data.violationStep && (
            <div id="violation" class="violation mono">
              {data.message}
            </div>
          )}
          <MapView state={cur.state} prev={prev?.state ?? null} home={home} loadId={loadId} step={step} />
          {data.kind === 'trace' ? <Sequence data={data} step={step} go={go} /> : <ScenarioViews cur={cur} prev={prev} />}
        </main>
      ) : (
        <p class="empty">{hook.ready ? 'Nothing to show: open a built-in scenario, an example or a scenario file.' : 'Loading…'}</p>
      )}
    </div>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
