// Engine (orchestration) parameters. Numerical science parameters live in the other
// config/<area>.ts files; this one holds what the durable engine needs: queue names, windows,
// timeouts, retry policy, batch sizes. Stored with every campaign (provenance, rule 2).
import { availableParallelism } from 'node:os';

export interface RetryConfig {
  /**
   * Temporal's attempt cap, set out of reach (10^6 attempts at ≤ 1 min apart: ~2 years) because
   * the activities bound retries themselves by cause:
   * a program fault after `faultAttempts`, an infrastructure outage (store or server away)
   * after `infrastructureOutageMaxMs` since the first attempt. Invalid input is never retried.
   */
  maximumAttempts: number;
  /** attempts of a step that fails with a program fault before the item is marked failed */
  faultAttempts: number;
  /** how long an activity keeps retrying while PostgreSQL or a service is unreachable, ms */
  infrastructureOutageMaxMs: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

export interface ActivityTimeouts {
  startToCloseMs: number;
  /** 0 = no heartbeat expected */
  heartbeatMs: number;
}

export interface EngineConfig {
  version: string;
  taskQueues: { inference: string; light: string };
  /** structure workflows in flight per campaign partition (Temporal: keep ≤ 500 pending children) */
  windowDefault: number;
  windowMax: number;
  /** items per partition parent before another parent is used */
  partitionSize: number;
  /** ids fetched from PostgreSQL per page by the campaign parent */
  pageSize: number;
  /** the parent continues-as-new at this history length even if the server has not suggested it */
  historyLengthCap: number;
  /** parent re-checks in-flight items against PostgreSQL this often (guards against lost signals) */
  reconcileEveryMs: number;
  /** displaced supercells evaluated per `forces` activity */
  forcesBatchSize: number;
  /** upper bound on `forces` activities per structure (keeps history < 4,096 events) */
  forcesMaxBatches: number;
  timeouts: {
    relax: ActivityTimeouts;
    forces: ActivityTimeouts;
    light: ActivityTimeouts;
  };
  retry: RetryConfig;
  /** FIRE steps between relaxation checkpoints (sent as heartbeat details; resumed on retry) */
  relaxCheckpointEverySteps: number;
  /**
   * `softmode run`: once the store says every structure is finished, how long to keep the
   * workers up for the partition parents to take in their last children and complete
   */
  parentCloseWaitMs: number;
  /**
   * Multi-model campaigns (run --model a,b): items are added model-major in blocks of this many
   * structures (block 1 under model a, then under model b, then block 2 …), so the inference
   * queue serves one model's structures back to back (each compute thread keeps using the
   * session it has loaded) while every model's results still grow together over a long campaign.
   */
  modelBlockStructures: number;
  /**
   * Models (each with its trajectory-precision sibling) a compute thread keeps loaded; the least
   * recently used is released when another is needed. A host limit, overridden per worker by
   * $SOFTMODE_MAX_LOADED_MODELS.
   */
  maxLoadedModelsPerThread: number;
}


export const ENGINE_DEFAULTS: Readonly<EngineConfig> = Object.freeze({
  version: 'engine-4',
  taskQueues: Object.freeze({ inference: 'inference', light: 'light' }),
  windowDefault: 200,
  windowMax: 500,
  partitionSize: 25_000,
  pageSize: 500,
  historyLengthCap: 3_000,
  reconcileEveryMs: 30_000,
  // 8, not 4: half the forces activities (their rows and history events were ~28 KB of a
  // MatterGen structure's ~111 KB, bench/results/storage.json); runs inside one are still packed
  // and streamed by OnnxPotential.evaluate, so memory does not grow with it
  forcesBatchSize: 8,
  forcesMaxBatches: 64,
  timeouts: Object.freeze({
    relax: Object.freeze({ startToCloseMs: 6 * 3600_000, heartbeatMs: 60_000 }),
    forces: Object.freeze({ startToCloseMs: 2 * 3600_000, heartbeatMs: 60_000 }),
    light: Object.freeze({ startToCloseMs: 30 * 60_000, heartbeatMs: 60_000 }),
  }),
  // an outage of hours is waited out (a month-long campaign must not fail for a restart)
  retry: Object.freeze({ maximumAttempts: 1_000_000, faultAttempts: 6, infrastructureOutageMaxMs: 12 * 3600_000, initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 60_000 }),
  relaxCheckpointEverySteps: 5,
  parentCloseWaitMs: 120_000,
  modelBlockStructures: 500,
  maxLoadedModelsPerThread: 2,
}) as Readonly<EngineConfig>;

/**
 * Concurrent activity slots of a worker process: inference = cores, light = max(2, cores). A
 * function of the host, so not part of the config snapshot a campaign freezes (functions are
 * left out of it): the same campaign has the same settings sha256 on every machine.
 */
export function defaultSlots(): { inference: number; light: number } {
  const cores = Math.max(1, availableParallelism());
  return { inference: cores, light: Math.max(2, cores) };
}

/** Timeouts/retries a workflow uses; a campaign may override them (tests use short heartbeats). */
export interface ActivityPolicy {
  timeouts: EngineConfig['timeouts'];
  retry: RetryConfig;
}

export function defaultPolicy(): ActivityPolicy {
  return { timeouts: structuredClone(ENGINE_DEFAULTS.timeouts) as EngineConfig['timeouts'], retry: { ...ENGINE_DEFAULTS.retry } };
}
