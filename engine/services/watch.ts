// Health of the embedded services while a campaign runs: every few seconds each one is asked
// whether it answers; one that does not is started again on the same data (PostgreSQL on its
// cluster and port, Temporal on its SQLite file and port), with a growing pause between tries.
// External services (DATABASE_URL, TEMPORAL_ADDRESS) are only watched: their outages are
// reported, not repaired. `status()` is one line for the progress display.
import { postgresState, startPostgres } from './postgres.js';
import { startTemporal } from './temporal.js';
import { portAccepts, sleep } from './util.js';
import type { Services } from './index.js';

interface Watched {
  name: 'PostgreSQL' | 'Temporal';
  embedded: boolean;
  /** host:port */
  address: () => string | undefined;
  restart: () => Promise<void>;
  downSince: number | null;
  restarts: number;
  nextTryAt: number;
  restarting: boolean;
}

export interface ServiceWatchOptions {
  intervalMs?: number;
  /** first pause before a restart is tried again; doubles up to maxBackoffMs */
  backoffMs?: number;
  maxBackoffMs?: number;
  log?: (m: string) => void;
}

export class ServiceWatch {
  private readonly watched: Watched[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly intervalMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(services: Services, private readonly o: ServiceWatchOptions = {}) {
    this.intervalMs = o.intervalMs ?? 2_000;
    this.backoffMs = o.backoffMs ?? 1_000;
    this.maxBackoffMs = o.maxBackoffMs ?? 30_000;
    const dir = services.campaignDir;
    const hostPort = (url: string): string | undefined => {
      try {
        const u = new URL(url);
        return `${u.hostname}:${u.port || '5432'}`;
      } catch {
        return undefined;
      }
    };
    this.watched.push({
      name: 'PostgreSQL',
      embedded: services.embeddedPostgres,
      address: () => (services.embeddedPostgres ? (postgresState(dir) ? `127.0.0.1:${postgresState(dir)!.port}` : undefined) : hostPort(services.databaseUrl)),
      restart: async () => void (await startPostgres(dir, o.log)),
      downSince: null,
      restarts: 0,
      nextTryAt: 0,
      restarting: false,
    });
    if (services.temporalAddress)
      this.watched.push({
        name: 'Temporal',
        embedded: services.embeddedTemporal,
        address: () => services.temporalAddress,
        restart: async () => void (await startTemporal(dir, o.log)),
        downSince: null,
        restarts: 0,
        nextTryAt: 0,
        restarting: false,
      });
  }

  start(): void {
    this.loop ??= (async () => {
      while (!this.stopped) {
        await this.checkOnce();
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.catch(() => undefined);
  }

  /** Restarts done so far, per service. */
  restarts(): Record<string, number> {
    return Object.fromEntries(this.watched.map((w) => [w.name, w.restarts]));
  }

  async checkOnce(): Promise<void> {
    for (const w of this.watched) {
      if (w.restarting) continue;
      const addr = w.address();
      const [host, port] = addr ? [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))] : ['', 0];
      const up = port > 0 && (await portAccepts(port, host || '127.0.0.1', 2_000));
      if (up) {
        if (w.downSince !== null) this.o.log?.(`${w.name} is back after ${((Date.now() - w.downSince) / 1000).toFixed(0)} s`);
        w.downSince = null;
        continue;
      }
      const now = Date.now();
      if (w.downSince === null) {
        w.downSince = now;
        w.nextTryAt = now;
        this.o.log?.(`${w.name} does not answer${w.embedded ? '; restarting it' : ' (external: waiting for it)'}`);
      }
      if (!w.embedded || this.stopped || now < w.nextTryAt) continue;
      const since = w.downSince;
      w.restarting = true;
      try {
        await w.restart();
        w.restarts++;
        this.o.log?.(`${w.name} restarted after ${((Date.now() - since) / 1000).toFixed(0)} s down`);
        w.downSince = null;
      } catch (e) {
        const waited = Date.now() - since;
        const pause = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** Math.min(10, Math.floor(waited / this.backoffMs)));
        w.nextTryAt = Date.now() + pause;
        this.o.log?.(`${w.name} restart failed (${(e as Error).message.split('\n')[0]}); next try in ${(pause / 1000).toFixed(0)} s`);
      } finally {
        w.restarting = false;
      }
    }
  }

  /** '' when all answer, else e.g. "PostgreSQL down 12 s, restarting" */
  status(): string {
    const now = Date.now();
    return this.watched
      .filter((w) => w.downSince !== null)
      .map((w) => `${w.name} down ${((now - w.downSince!) / 1000).toFixed(0)} s, ${w.embedded ? 'restarting' : 'waiting'}`)
      .join('; ');
  }
}
