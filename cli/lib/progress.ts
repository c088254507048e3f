// The progress line: done / failed / rejected, rate, ETA, and the running stability rate with
// its 95 % Wilson interval.
import type { Progress } from '../../store/index.js';
import { wilson } from '../../engine/campaign.js';

function dur(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${(s / 86400).toFixed(1)}d`;
}

export function stabilityLine(p: Progress): string {
  const n = p.stable + p.unstable + p.relaxationFailed;
  if (n === 0) return 'stable: --';
  const w = wilson(p.stable, n);
  return `stable ${(100 * w.p).toFixed(1)}% [95% CI ${(100 * w.lo).toFixed(1)}–${(100 * w.hi).toFixed(1)}%] of ${n}`;
}

export function progressLine(p: Progress, width = 24): string {
  const finished = p.done + p.failed + p.rejected + p.cancelled;
  const frac = p.total ? finished / p.total : 1;
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const rate = p.recentDone / p.windowSeconds; // items/s over the recent window
  const remaining = p.pending + p.running;
  const eta = rate > 0 ? remaining / rate : Infinity;
  return (
    `[${bar}] ${finished}/${p.total}  done ${p.done}  failed ${p.failed}  rejected ${p.rejected}` +
    (p.cancelled ? `  cancelled ${p.cancelled}` : '') +
    `  running ${p.running}  ${(rate * 3600).toFixed(0)}/h  ETA ${remaining === 0 ? '0s' : dur(eta)}  ${stabilityLine(p)}`
  );
}

/** Writes the line in place on a terminal, or one line every `everyMs` otherwise. */
export class ProgressPrinter {
  private last = 0;
  private lastText = '';
  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 10_000,
  ) {}
  update(text: string, force = false): void {
    if (this.out.isTTY) {
      const cols = this.out.columns || 160;
      this.out.write('\r' + text.slice(0, cols - 1).padEnd(Math.min(cols - 1, this.lastText.length)));
      this.lastText = text;
      return;
    }
    const now = Date.now();
    if (force || now - this.last >= this.everyMs) {
      if (text !== this.lastText || force) this.out.write(text + '\n');
      this.last = now;
      this.lastText = text;
    }
  }
  end(): void {
    if (this.out.isTTY && this.lastText) this.out.write('\n');
  }
}
