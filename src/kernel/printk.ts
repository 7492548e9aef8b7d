// The kernel log as the model writes it: the lines a real kernel would print, in order, and
// for lines the model cannot derive from its inputs, a record of what was left out and why.

export type LogLevel = 'info' | 'debug' | 'warn';

export type LogRecord = { readonly kind: 'line'; readonly level: LogLevel; readonly text: string } | { readonly kind: 'omitted'; readonly what: string; readonly why: string };

export class KernelLog {
  readonly records: LogRecord[] = [];

  /** pr_info / printk(KERN_INFO). */
  info(text: string): void {
    this.records.push({ kind: 'line', level: 'info', text });
  }

  /** printk(KERN_DEBUG): printed to the log buffer (dmesg shows it). */
  debug(text: string): void {
    this.records.push({ kind: 'line', level: 'debug', text });
  }

  warn(text: string): void {
    this.records.push({ kind: 'line', level: 'warn', text });
  }

  /** A line the kernel prints here but whose value the model's inputs do not determine. */
  omit(what: string, why: string): void {
    this.records.push({ kind: 'omitted', what, why });
  }

  lines(): string[] {
    const out: string[] = [];
    for (const r of this.records) if (r.kind === 'line') out.push(r.text);
    return out;
  }

  omissions(): { what: string; why: string }[] {
    const out: { what: string; why: string }[] = [];
    for (const r of this.records) if (r.kind === 'omitted') out.push({ what: r.what, why: r.why });
    return out;
  }
}

/** "%#018Lx": 0x followed by 16 hex digits. */
export function hex018(v: number): string {
  return '0x' + v.toString(16).padStart(16, '0');
}
