// Playback: the step controls (buttons and the arrow keys), the step's label and, for a scenario,
// /proc/zoneinfo and lsmem after the step, the zones that changed at this step first and marked.
import { useEffect } from 'preact/hooks';
import type { Loaded, Step } from './types';

export function Controls(props: { data: Loaded; step: number; go: (i: number) => void }) {
  const { data, step, go } = props;
  const last = data.steps.length - 1;
  const cur = data.steps[step];
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
      if (e.key === 'ArrowRight') go(step + 1);
      else if (e.key === 'ArrowLeft') go(step - 1);
      else if (e.key === 'Home') go(0);
      else if (e.key === 'End') go(last);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [step, last, go]);
  return (
    <div class="controls">
      <button id="first" onClick={() => go(0)} disabled={step === 0} title="first step (Home)">
        ◀◀ first
      </button>
      <button id="prev" onClick={() => go(step - 1)} disabled={step === 0} title="back (←)">
        ◀ back
      </button>
      <button id="next" onClick={() => go(step + 1)} disabled={step === last} title="step (→)">
        step ▶
      </button>
      <button id="last" onClick={() => go(last)} disabled={step === last} title="last step (End)">
        last ▶▶
      </button>
      <input id="step-slider" type="range" min={0} max={last} value={step} onInput={(e) => go(Number(e.currentTarget.value))} aria-label="step" />
      <span id="step-label" class="step-label">{`step ${step} of ${last}: ${cur?.label ?? ''}`}</span>
    </div>
  );
}

/** zoneinfo cut into its zones: the lines before the first zone, then one block per "Node N, zone NAME". */
export function zoneBlocks(text: string): { preamble: string; zones: { name: string; text: string }[] } {
  const lines = text.split('\n');
  const pre: string[] = [];
  const zones: { name: string; lines: string[] }[] = [];
  for (const line of lines) {
    const m = /^Node (\d+), zone\s+(\S+)/.exec(line);
    if (m) zones.push({ name: `Node ${m[1]}, zone ${m[2]}`, lines: [line] });
    else if (zones.length) (zones[zones.length - 1] as { lines: string[] }).lines.push(line);
    else pre.push(line);
  }
  return { preamble: pre.join('\n'), zones: zones.map((z) => ({ name: z.name, text: z.lines.join('\n').replace(/\n+$/, '') })) };
}

/** zoneinfo after the step: the zones whose lines differ from the step before come first, marked "changed". */
export function Zoneinfo(props: { text: string; prev: string | null }) {
  const now = zoneBlocks(props.text);
  const before = props.prev === null ? null : new Map(zoneBlocks(props.prev).zones.map((z) => [z.name, z.text]));
  const changed = (name: string, text: string): boolean => before !== null && before.get(name) !== text;
  const order = [...now.zones.filter((z) => changed(z.name, z.text)), ...now.zones.filter((z) => !changed(z.name, z.text))];
  const n = order.filter((z) => changed(z.name, z.text)).length;
  return (
    <div class="view-panel">
      <h3>
        /proc/zoneinfo <span class="note">{before === null ? 'at boot' : n ? `${n} zone${n > 1 ? 's' : ''} changed at this step, shown first` : 'no zone changed at this step'}</span>
      </h3>
      <div id="zoneinfo" class="scroll">
        {order.map((z) => (
          <details key={z.name} class={`zone-block${changed(z.name, z.text) ? ' changed' : ''}`} data-zone={z.name} open={changed(z.name, z.text) || before === null || n === 0}>
            <summary>
              {z.name}
              {changed(z.name, z.text) && <span class="badge">changed</span>}
            </summary>
            {changed(z.name, z.text) ? (
              <>
                <pre class="changed-lines">
                  <Marked text={z.text} before={before?.get(z.name) ?? ''} />
                </pre>
                <details class="all-lines">
                  <summary>all {z.text.split('\n').length} lines</summary>
                  <pre>{z.text}</pre>
                </details>
              </>
            ) : (
              <pre>{z.text}</pre>
            )}
          </details>
        ))}
      </div>
    </div>
  );
}

/** A changed zone's lines that are not among its lines before, marked (the rest fold under "all lines"). */
function Marked(props: { text: string; before: string }) {
  const was = new Set(props.before.split('\n'));
  return (
    <>
      {props.text
        .split('\n')
        .filter((line) => !was.has(line))
        .map((line, i) => (
          <mark key={i} class="line-changed">
            {`${line}\n`}
          </mark>
        ))}
    </>
  );
}

/** A scenario step's text views: zoneinfo and lsmem. */
export function ScenarioViews(props: { cur: Step; prev: Step | null }) {
  return (
    <div class="views">
      <Zoneinfo text={props.cur.zoneinfo ?? ''} prev={props.prev?.zoneinfo ?? null} />
      <div class="view-panel">
        <h3>lsmem</h3>
        <pre id="lsmem" class="scroll">
          {props.cur.lsmem}
        </pre>
      </div>
    </div>
  );
}
