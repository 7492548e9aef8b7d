// The zone and node links that boot writes into struct pages, as ordered range writes (the
// run-length view of __init_single_page's set_page_links over memmap_init, init_unavailable_range
// and zero_resv_unavail). A later write wins; a pfn no step wrote has no defined zone.
import type { Sparse } from './sparse.js';
import type { Nid, Pfn } from '../units.js';

export interface LinkWrite {
  readonly start: Pfn;
  readonly end: Pfn;
  readonly zoneIdx: number;
  readonly nid: Nid;
  /** What wrote it: 'init' (memmap_init_range), 'hole' (init_unavailable_range), 'zeroed'. */
  readonly kind: 'init' | 'hole' | 'zeroed';
}

export class MemmapLinks {
  readonly writes: LinkWrite[] = [];

  constructor(
    private readonly sparse: Sparse,
    /** What an unwritten valid pfn reads: zone 0 where the memmap was allocated zeroed, else null. */
    private readonly unwritten: number | null,
  ) {}

  write(w: LinkWrite): void {
    if (w.end > w.start) this.writes.push(w);
  }

  /** The zone and node links of pfn's struct page as boot left them, or null where undefined. */
  linkAt(pfn: Pfn): { zoneIdx: number; nid: Nid } | null {
    if (!this.sparse.pfnValid(pfn)) return null;
    for (let i = this.writes.length - 1; i >= 0; i--) {
      const w = this.writes[i];
      if (w && w.start <= pfn && pfn < w.end) return { zoneIdx: w.zoneIdx, nid: w.nid };
    }
    return this.unwritten === null ? null : { zoneIdx: this.unwritten, nid: 0 };
  }
}
