// The time driver's timelines: the designs side by side on one simulated clock (the server's SVG),
// each design's total time and its verdict (explore over every interleaving of the built-in scenario
// shown: an invariant broken or none) beside it, and a legend of the phases drawn.
import { useEffect, useState } from 'preact/hooks';
import { requestJson } from './client';
import { hook } from './types';

interface TimelineAnswer {
  svg?: string;
  totals?: { design: string; totalMs: number }[];
  phases?: { phase: string; colour: string }[];
  locked?: boolean;
  error?: string | null;
}
interface VerdictAnswer {
  verdict?: 'ok' | 'violation';
  invariants?: string[];
  interleavings?: number;
  error?: string | null;
}

export function Timelines(props: { preset: string; scenario: string; designs: string[]; onError: (e: string) => void }) {
  const { preset, scenario, designs } = props;
  const [t, setT] = useState<TimelineAnswer | null>(null);
  const [verdicts, setVerdicts] = useState<Record<string, VerdictAnswer>>({});
  const key = `${preset}:${scenario}:${designs.join(',')}`;
  useEffect(() => {
    let live = true;
    setT(null);
    setVerdicts({});
    hook.timelineShown = false;
    void requestJson<TimelineAnswer>(`timing ${preset} under ${designs.join(', ')}`, `/api/timeline?preset=${encodeURIComponent(preset)}&designs=${designs.map(encodeURIComponent).join(',')}`).then(
      (r) => {
        if (!live) return;
        if (r.error) props.onError(r.error);
        setT(r);
        hook.timelineShown = true;
      },
    );
    // One verdict per design, each its own request (an explore each: v5.3's takes seconds).
    for (const d of designs)
      void requestJson<VerdictAnswer>(`exploring ${scenario} under ${d} for its verdict`, `/api/verdict?scenario=${encodeURIComponent(scenario)}&design=${encodeURIComponent(d)}`).then((r) => {
        if (live) setVerdicts((v) => ({ ...v, [d]: r }));
      });
    return () => {
      live = false;
    };
  }, [key]);
  return (
    <section class="panel" aria-label="timelines">
      <h3>
        Timelines: the {preset} machine on one simulated clock <span class="note">verdict: explore over every interleaving of the built-in scenario {scenario}</span>
      </h3>
      <table id="timeline-designs" class="designs">
        <thead>
          <tr>
            <th>design</th>
            <th>total time</th>
            <th>verdict</th>
          </tr>
        </thead>
        <tbody>
          {designs.map((d) => {
            const total = t?.totals?.find((x) => x.design === d);
            const v = verdicts[d];
            const cls = !v ? 'pending' : v.error ? 'error' : v.verdict === 'ok' ? 'ok' : 'bad';
            return (
              <tr key={d} data-design={d}>
                <td class="mono">{d}</td>
                <td class="mono">{total ? `${(total.totalMs / 1000).toFixed(2)} s` : '…'}</td>
                <td class={`verdict-cell ${cls}`} data-verdict={v?.verdict ?? ''}>
                  {!v
                    ? 'exploring…'
                    : v.error
                      ? v.error
                      : v.verdict === 'ok'
                        ? `ok: no invariant broken (${v.interleavings} interleavings)`
                        : `violation: ${(v.invariants ?? []).join(', ')} (${v.interleavings} interleavings)`}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {t?.phases && (
        <ul id="phase-legend" class="legend">
          {t.phases.map((p) => (
            <li key={p.phase} data-phase={p.phase}>
              <span class="swatch" data-colour={p.colour} style={{ background: p.colour }} />
              {p.phase}
            </li>
          ))}
          {t.locked && (
            <li data-phase="lock held">
              <span class="swatch hatched" /> lock held (hatched)
            </li>
          )}
        </ul>
      )}
      <div id="timeline" dangerouslySetInnerHTML={{ __html: t?.svg ?? '' }} />
    </section>
  );
}
