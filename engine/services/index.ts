// The services a campaign needs: PostgreSQL (provenance store) and a Temporal server (durable
// execution). With DATABASE_URL / TEMPORAL_ADDRESS set those are used as they are; otherwise
// embedded ones are started (or reused) under the campaign directory.
import { resolve } from 'node:path';
import { postgresPid, startPostgres, stopPostgres } from './postgres.js';
import { startTemporal, stopTemporal, temporalPid } from './temporal.js';
import { withLock } from './util.js';

export { startPostgres, stopPostgres, postgresPid, postgresState } from './postgres.js';
export { startTemporal, stopTemporal, temporalPid, temporalBinary } from './temporal.js';

export interface Services {
  campaignDir: string;
  databaseUrl: string;
  temporalAddress: string;
  /** which services this call started (only those are stopped by `stop()`) */
  startedPostgres: boolean;
  startedTemporal: boolean;
  embeddedPostgres: boolean;
  embeddedTemporal: boolean;
  /** stop the services this call started */
  stop(): Promise<void>;
}

export function defaultCampaignDir(): string {
  return resolve(process.env['SOFTMODE_CAMPAIGN_DIR'] ?? '.campaigns/default');
}

export async function ensureServices(campaignDir: string, opts: { log?: (m: string) => void; temporal?: boolean } = {}): Promise<Services> {
  const dir = resolve(campaignDir);
  const log = opts.log ?? (() => undefined);
  const envDb = process.env['DATABASE_URL'];
  const envTemporal = process.env['TEMPORAL_ADDRESS'];
  const wantTemporal = opts.temporal ?? true;
  if (envDb && (envTemporal || !wantTemporal)) {
    // nothing embedded: no lock, no campaign directory needed
    return {
      campaignDir: dir,
      databaseUrl: envDb,
      temporalAddress: envTemporal ?? '',
      startedPostgres: false,
      startedTemporal: false,
      embeddedPostgres: false,
      embeddedTemporal: false,
      async stop() {},
    };
  }
  return withLock(resolve(dir, '.services.lock'), async () => {
    let databaseUrl = envDb ?? '';
    let startedPostgres = false;
    if (!envDb) {
      const h = await withStartRetries('PostgreSQL', () => startPostgres(dir, log), log);
      databaseUrl = h.url;
      startedPostgres = h.started;
    }
    let temporalAddress = envTemporal ?? '';
    let startedTemporal = false;
    if (!envTemporal && wantTemporal) {
      const h = await startTemporal(dir, log);
      temporalAddress = h.address;
      startedTemporal = h.started;
    }
    return {
      campaignDir: dir,
      databaseUrl,
      temporalAddress,
      startedPostgres,
      startedTemporal,
      embeddedPostgres: !envDb,
      embeddedTemporal: !envTemporal && wantTemporal,
      async stop() {
        if (startedTemporal) await stopTemporal(dir);
        if (startedPostgres) await stopPostgres(dir);
      },
    };
  });
}

/** A service killed while it starts is started again (twice at most) before the command gives up. */
async function withStartRetries<T>(what: string, start: () => Promise<T>, log: (m: string) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (e) {
      if (attempt >= 3) throw e;
      log(`${what} did not start (${(e as Error).message.split('\n')[0]}); trying again`);
    }
  }
}

/** Stop whatever embedded services of this campaign directory are running. */
export async function stopServices(campaignDir: string): Promise<{ postgres: boolean; temporal: boolean }> {
  const dir = resolve(campaignDir);
  const temporal = await stopTemporal(dir);
  const postgres = await stopPostgres(dir);
  return { postgres, temporal };
}

export function servicesRunning(campaignDir: string): { postgres?: number; temporal?: number } {
  const dir = resolve(campaignDir);
  const p = postgresPid(dir);
  const t = temporalPid(dir);
  return { ...(p ? { postgres: p } : {}), ...(t ? { temporal: t } : {}) };
}
