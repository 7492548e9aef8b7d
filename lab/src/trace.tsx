// An explore counterexample as a sequence diagram: one lane per task, each step's operation in its
// task's lane, the locks the stepping task holds named beside it (a bar in its lane while it holds
// any), the violating step in red. The current step is highlighted and scrolled into view; every
// invariant the design breaks can be chosen, each with its own shortest schedule.
import { useEffect, useRef } from 'preact/hooks';
import type { Loaded } from './types';

export function ViolationPicker(props: { data: Loaded; choose: (i: number) => void }) {
  const { data } = props;
  if (data.kind !== 'trace') return null;
  if (!data.violations.length)
    return (
      <div id="violation-summary" class="verdict ok">
        no invariant broken under {data.design}: the tasks run one after the other below
      </div>
    );
  const v = data.violations[data.violation];
  return (
    <div id="violation-summary" class="verdict bad">
      <label>
        {data.violations.length} invariant{data.violations.length > 1 ? 's' : ''} broken under {data.design}:{' '}
        <select id="violation-select" value={String(data.violation)} onChange={(e) => props.choose(Number(e.currentTarget.value))}>
          {data.violations.map((x, i) => (
            <option key={x.invariant} value={String(i)}>
              {`${i + 1}. ${x.invariant} (${x.violationStep} steps)`}
            </option>
          ))}
        </select>
      </label>{' '}
      <span id="violation-name" class="mono">
        {v?.invariant}
      </span>
    </div>
  );
}

const ROW = 18;
const NUM_W = 40;
const LANE_W = 240;
const LOCKS_W = 575;
/** An operation cut to its lane (the whole of it in the row's tooltip). */
const cut = (t: string, n: number): string => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

export function Sequence(props: { data: Loaded; step: number; go: (i: number) => void }) {
  const { data, step } = props;
  const box = useRef<HTMLDivElement>(null);
  const lanes = data.tasks;
  const steps = data.steps.slice(1);
  const locksX = NUM_W + lanes.length * LANE_W + 8;
  const width = locksX + LOCKS_W;
  const rowY = (i: number): number => 14 + i * ROW;
  // The current step in view: scrolled to the middle of the box when it is outside it.
  useEffect(() => {
    const b = box.current;
    if (!b || step < 1) return;
    const top = rowY(step - 1) - 13;
    if (top < b.scrollTop || top + ROW > b.scrollTop + b.clientHeight) b.scrollTop = Math.max(0, top - b.clientHeight / 2);
  }, [step, data]);
  return (
    <section class="panel sequence" aria-label="counterexample">
      <svg class="seq-header" width={width} height={22}>
        <rect x={0} y={0} width={width} height={22} class="seq-head" />
        <text x={6} y={15} class="lane-name">
          #
        </text>
        {lanes.map((l, i) => (
          <text key={l} x={NUM_W + i * LANE_W} y={15} class="lane-name">
            {l}
          </text>
        ))}
        <text x={locksX} y={15} class="lane-name">
          locks held by the task that steps
        </text>
      </svg>
      <div ref={box} id="sequence-box" class="scroll sequence-box">
        <svg id="sequence" width={width} height={rowY(steps.length)}>
          {steps.map((s, i) => {
            const y = rowY(i);
            const lane = s.task ?? 0;
            const n = i + 1;
            const bad = data.violationStep !== null && n === data.violationStep;
            const held = s.held ?? [];
            return (
              <g key={i} id={`seq-step-${n}`} class={`seq-row${n === step ? ' current' : ''}${bad ? ' bad' : ''}`} data-step={n} onClick={() => props.go(n)}>
                <title>{`${n}. ${s.name ?? ''}: ${s.op ?? ''}${held.length ? ` [holds ${held.join(', ')}]` : ''}`}</title>
                <rect x={0} y={y - 13} width={width} height={ROW} class="seq-bg" />
                <text x={6} y={y} class="seq-num">
                  {n}
                </text>
                {held.length > 0 && <rect x={NUM_W + lane * LANE_W - 9} y={y - 13} width={5} height={ROW} class="lock-bar" />}
                <text x={NUM_W + lane * LANE_W} y={y} class="seq-op">
                  {cut(s.op ?? '', 33)}
                </text>
                <text x={locksX} y={y} class="seq-locks">
                  {cut(held.join(', '), 82)}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
    </section>
  );
}
