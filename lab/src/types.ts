// The lab page's data: what the API (src/lab/api.ts) answers, and the state hook the browser tests read.

/** The state of a machine as the map draws it (pfns; ranges half-open). */
export interface Snapshot {
  nodes: { nid: number; start: number; end: number; zones: { name: string; start: number; end: number; present: number }[] }[];
  sections: { start: number; end: number; present: boolean; online: boolean; nid: number }[];
  blocks: { id: number; start: number; end: number; state: string; zone: string }[];
  pgmaps: { name: string; start: number; end: number; first: number; initialisedTo: number; live: boolean; altmapEnd: number }[];
  memmap: { start: number; end: number; kind: string; reserved: boolean; zone: number; nid: number }[];
  pagesPerSection: number;
  pageBytes: number;
  zoneNames: string[];
}

/** One step of a scenario (zoneinfo, lsmem) or of a counterexample (task, op, locks held). */
export interface Step {
  label: string;
  state: Snapshot;
  task?: number;
  name?: string;
  op?: string;
  held?: string[];
  zoneinfo?: string;
  lsmem?: string;
}

/** One invariant a design breaks, with its shortest schedule replayed. */
export interface Violation {
  invariant: string;
  message: string;
  violationStep: number;
  steps: Step[];
}

/** What the page shows: a scenario played step by step, or a counterexample of a built-in scenario. */
export interface Loaded {
  kind: 'scenario' | 'trace';
  title: string;
  /** The built-in scenario and design of a trace. */
  scenario: string;
  design: string;
  tasks: string[];
  /** A trace's violations (empty when the design breaks none), and the one shown. */
  violations: Violation[];
  violation: number;
  steps: Step[];
  violationStep: number | null;
  message: string | null;
}

export interface PfnRange {
  start: number;
  end: number;
}

/** The page's state for the browser tests (test/lab.test.ts): nothing here is drawn from it. */
export interface LabHook {
  ready: boolean;
  mode: string;
  /** Each load done so far (a test waits for the next). */
  loads: number;
  step: number;
  stepCount: number;
  view: { start: number; end: number; x0: number; width: number };
  /** The pfns that changed at this step (null at a load or when nothing did). */
  changed: PfnRange | null;
  zoneBrackets: { nid: number; zone: string; start: number; end: number; x0: number; x1: number }[];
  pgmaps: { name: string; start: number; end: number; x0: number; x1: number }[];
  timelineShown: boolean;
  /** The requests in flight, as the loading bar names them. */
  loading: string[];
}

declare global {
  interface Window {
    __mmsimLab: LabHook;
  }
}

export const hook: LabHook = {
  ready: false,
  mode: '',
  loads: 0,
  step: 0,
  stepCount: 0,
  view: { start: 0, end: 1, x0: 0, width: 1 },
  changed: null,
  zoneBrackets: [],
  pgmaps: [],
  timelineShown: false,
  loading: [],
};
window.__mmsimLab = hook;

/** A pfn as the kernel prints it. */
export const hex = (n: number): string => `0x${Math.round(n).toString(16)}`;
