// Activity implementations. Every science step is idempotent and content-addressed (engine
// rule 1): its key is sha256(input refs + params + model checkpoint sha256 + cache version); a
// step whose key is stored returns the stored result (a "hit", counted) and nothing is
// recomputed. CPU-heavy work runs in compute threads (compute/pool.ts) so the activity keeps
// heartbeating. Errors say whose fault (toFailure): an invalid structure → non-retryable
// ApplicationFailure typed with its code, details ['input'] (the structure is rejected); a bad
// setting, a corrupt model or a missing step → non-retryable under its class name (the item
// fails); infrastructure and bugs → retried (bounded retries with backoff, set by the workflow),
// a bug's stack kept in the attempt record; scientific outcomes (no convergence, imaginary
// modes) are results.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { TemporalFailure } from '@temporalio/common';
import { defaultPolicy } from '../config/engine.js';
import { WorkerMismatchError } from '../core/errors.js';
import { wilson } from '../core/math/stats.js';
import { type ItemStatus, type PrunedPayload, Store, isPrunedPayload, stepKey } from '../store/index.js';
import type { EarlyStopCheck, InFlight } from '../workflows/definitions.js';
import type { ComputePool } from './compute/pool.js';
import { type Job, errorKind } from './compute/jobs.js';
import { type PotentialSpec, workerIdentity } from '../pipeline/potentials.js';
import type { ClassifyOut, DisplaceOut, ForcesOut, PhononOut, RelaxOut, StructureJson, ValidateOut } from '../pipeline/steps.js';
import { type CampaignSettings, type StepName, assertWorkerMatches, checkedSettings, modelNames, settingsForModel, stepKeyOf, stepKeyParams, stepModelSha256 } from '../pipeline/settings.js';
import type { DisplaceRef, InferenceActivities, ItemCtx, LightActivities, RecordRefs, RelaxRef } from '../workflows/definitions.js';

export type { InferenceActivities, LightActivities } from '../workflows/definitions.js';

export interface ActivityDeps {
  store: Store;
  pool: ComputePool;
  /**
   * Threads for the jobs that evaluate the potential (relax, forces); default: `pool`. Kept apart
   * from the light jobs' threads so only these hold model sessions: each compute thread loads its
   * own, and a relax landing on a thread that ran only phonons would load them again.
   */
  inferencePool?: ComputePool;
  host: string;
  codeSha: string;
}

interface DisplacePayload extends DisplaceOut {
  /** the relaxed unit cell the supercell was built from */
  unitCell: StructureJson;
  batchSize: number;
  batches: number;
}

/**
 * Turn what a step threw into what Temporal should do with it (the structure workflow marks an
 * item rejected only for a non-retryable failure with details ['input']; every other failure
 * that ends the item is failed, under the ApplicationFailure's type):
 * - StructureError → non-retryable, type = its code, details ['input']: rejected;
 * - UsageError, ModelIntegrityError, StepNotAvailableError → non-retryable, type = the class
 *   name (`retry-failed --error-class ModelIntegrityError`): failed;
 * - InfrastructureError (and system/PostgreSQL connection and disk faults) → retryable;
 * - anything else is a bug → retryable, type = its name (e.g. RangeError), stack kept.
 * Temporal's own failures (cancellation, an ApplicationFailure thrown on purpose) pass through.
 */
export function toFailure(e: unknown): unknown {
  if (e instanceof TemporalFailure) return e;
  if (e instanceof WorkerMismatchError) return ApplicationFailure.create({ message: e.message, type: 'WorkerMismatchError', nonRetryable: true, details: ['worker_mismatch'], cause: e });
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  switch (errorKind(e)) {
    case 'structure':
      return ApplicationFailure.create({ message: err.message, type: String(code), nonRetryable: true, details: ['input'] });
    case 'usage':
      return ApplicationFailure.create({ message: err.message, type: 'UsageError', nonRetryable: true, details: ['usage', code ?? null], cause: err });
    case 'model_integrity':
      return ApplicationFailure.create({ message: err.message, type: 'ModelIntegrityError', nonRetryable: true, details: ['model_integrity', code ?? null], cause: err });
    case 'step_not_available':
      return ApplicationFailure.create({ message: err.message, type: 'StepNotAvailableError', nonRetryable: true, details: ['step_not_available'], cause: err });
    case 'infrastructure':
      return ApplicationFailure.create({ message: err.message, type: 'InfrastructureError', nonRetryable: false, details: ['infrastructure'], cause: err });
    case 'bug':
      // ApplicationFailure.fromError keeps the stack; the type is the error's own name
      return ApplicationFailure.fromError(err, { type: err.name || 'Error', nonRetryable: false });
  }
}

export function createActivities(deps: ActivityDeps): LightActivities & InferenceActivities {
  const { store, pool, host, codeSha } = deps;
  const inferencePool = deps.inferencePool ?? pool;
  const settingsCache = new Map<number, CampaignSettings>();

  async function settingsOf(campaignId: number): Promise<CampaignSettings> {
    let s = settingsCache.get(campaignId);
    if (!s) {
      const c = await store.getCampaign(campaignId);
      if (!c) throw ApplicationFailure.create({ message: `campaign ${campaignId} does not exist`, type: 'no_campaign', nonRetryable: true });
      try {
        s = checkedSettings(c.config, c.name);
      } catch (e) {
        throw ApplicationFailure.create({ message: (e as Error).message, type: 'settings_version', nonRetryable: true });
      }
      settingsCache.set(campaignId, s);
    }
    return s;
  }

  // multi-model campaigns: the item's model (campaign_items.model_index), read once per item
  const itemModels = new Map<number, number>();
  /**
   * The settings an item computes with: the campaign's, with the item's model as `potential`
   * (relax and forces keys, the worker's model check, the result's provenance). Validation and
   * the model-free steps read the campaign's settings: one key for every model.
   */
  async function itemSettingsOf(ctx: ItemCtx): Promise<CampaignSettings> {
    const s = await settingsOf(ctx.campaignId);
    if (!s.models || s.models.length < 2) return s;
    let m = itemModels.get(ctx.itemId);
    if (m === undefined) {
      m = await store.itemModelIndex(ctx.itemId);
      if (m === undefined) throw ApplicationFailure.create({ message: `item ${ctx.itemId} does not exist`, type: 'no_item', nonRetryable: true });
      if (itemModels.size >= 100_000) itemModels.clear();
      itemModels.set(ctx.itemId, m);
    }
    return settingsForModel(s, m);
  }

  function attemptNo(): number {
    try {
      return Context.current().info.attempt;
    } catch {
      return 1;
    }
  }

  // Attempts that could not be written (the store was what failed) wait here and are written
  // with the next attempt that can be: every attempt, those during an outage too, ends up recorded.
  const unrecorded: Parameters<Store['recordAttempt']>[0][] = [];
  async function safeRecordAttempt(a: Parameters<Store['recordAttempt']>[0]): Promise<void> {
    unrecorded.push(a);
    try {
      while (unrecorded.length > 0) {
        await store.recordAttempt(unrecorded[0]!);
        unrecorded.shift();
      }
    } catch {
      // still unreachable: kept (bounded) for the next try
      if (unrecorded.length > 10_000) unrecorded.splice(0, unrecorded.length - 10_000);
    }
  }

  /**
   * The cause decides how long a retryable failure is retried (Temporal's own cap is off): an
   * infrastructure outage until `infrastructureOutageMaxMs` after the first attempt, a program
   * fault `faultAttempts` times; then it is final (non-retryable) and the item is failed.
   */
  function bounded(e: unknown, campaignId: number | null): unknown {
    const f = toFailure(e);
    if (!(f instanceof ApplicationFailure) || f.nonRetryable) return f;
    let info;
    try {
      info = Context.current().info;
    } catch {
      return f;
    }
    const retry = (campaignId !== null ? settingsCache.get(campaignId)?.policy.retry : undefined) ?? defaultPolicy().retry;
    if (f.type === 'InfrastructureError') {
      const outageMs = Date.now() - info.scheduledTimestampMs;
      if (outageMs <= (retry.infrastructureOutageMaxMs ?? Infinity)) return f;
      return ApplicationFailure.create({ message: `still failing after ${(outageMs / 60_000).toFixed(0)} min of retries: ${f.message}`, type: 'InfrastructureError', nonRetryable: true, details: f.details ?? [], cause: f });
    }
    if (info.attempt < (retry.faultAttempts ?? 6)) return f;
    return ApplicationFailure.create({ message: f.message, type: f.type ?? 'Error', nonRetryable: true, details: [`fault after ${info.attempt} attempts`], cause: f });
  }

  /** Every activity: its failure bounded by cause (above), keyed by the campaign it serves. */
  function guarded<T extends object>(acts: T): T {
    const out: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(acts)) {
      out[name] = async (...args: unknown[]) => {
        try {
          return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        } catch (e) {
          const a0 = args[0];
          const campaignId = typeof a0 === 'number' ? a0 : a0 && typeof a0 === 'object' && 'campaignId' in a0 ? Number((a0 as ItemCtx).campaignId) : null;
          throw bounded(e, campaignId);
        }
      };
    }
    return out as T;
  }

  /** Keep the activity alive while `work` runs in a compute thread. */
  /**
   * Keep the activity alive while `work` runs in a compute thread. The heartbeat also counts how
   * often this computation was started: a worker that dies in it (out of memory, a native crash)
   * throws nothing, and Temporal would retry it without end, so after `faultAttempts` starts
   * that never finished the step fails for good (WorkerCrashLoop), naming the likely cause.
   */
  async function withHeartbeat<T>(work: (signal: AbortSignal | undefined, beat: (details: Record<string, unknown>) => void) => Promise<T>, details: () => Record<string, unknown> | undefined = () => undefined): Promise<T> {
    let ctx: Context | undefined;
    try {
      ctx = Context.current();
    } catch {
      ctx = undefined;
    }
    const prev = Number((ctx?.info.heartbeatDetails as { computeStarts?: unknown } | undefined)?.computeStarts ?? 0) || 0;
    const limit = defaultPolicy().retry.faultAttempts;
    if (ctx && prev >= limit)
      throw ApplicationFailure.create({
        message: `this computation was started ${prev} times and never finished: the worker died in it each time (out of memory? see the worker's log)`,
        type: 'WorkerCrashLoop',
        nonRetryable: true,
      });
    const starts = prev + 1;
    const beat = (d: Record<string, unknown> = {}): void => ctx?.heartbeat({ ...d, computeStarts: starts });
    beat(details() ?? {});
    const timer = ctx ? setInterval(() => beat(details() ?? {}), 1000) : undefined;
    try {
      return await work(ctx?.cancellationSignal, beat);
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  /**
   * The content-addressed step runner: stored → served (counted); else computed, stored,
   * and its use by this item recorded.
   */
  async function step<T>(
    ctx: ItemCtx,
    name: StepName,
    inputRefs: string[],
    s: CampaignSettings,
    compute: () => Promise<{ payload: T; modelMs: number }>,
    extraParams: Record<string, unknown> = {},
  ): Promise<{ key: string; payload: T; served: boolean }> {
    assertWorkerMatches(s, name, workerIdentity());
    const params = { ...stepKeyParams(s, name), ...extraParams };
    const modelSha256 = stepModelSha256(s, name);
    const key = stepKeyOf(s, name, inputRefs, extraParams);
    const use = { itemId: ctx.itemId, generation: ctx.generation };
    // the clock is read BEFORE the lookup: a result stored by another attempt after this read is
    // an overlap (two attempts raced), one stored before it would have been served; reading it
    // after the lookup counted a race as a recomputation (a flaky CI failure)
    const startedAt = await store.now();
    if (unrecorded.length === 0) {
      // lookup, use and attempt in one commit
      const hit = await store.serveStep<T>(key, use, { step: name, activityAttempt: attemptNo(), host });
      if (hit) return { key, payload: hit.payload, served: true };
    } else {
      const hit = await store.getStep<T>(key, use);
      if (hit) {
        await safeRecordAttempt({ itemId: ctx.itemId, generation: ctx.generation, step: name, activityAttempt: attemptNo(), outcome: 'served', host, durationMs: 0 });
        return { key, payload: hit.payload, served: true };
      }
    }
    const t0 = performance.now();
    let out: { payload: T; modelMs: number };
    try {
      out = await compute();
    } catch (e) {
      const f = toFailure(e);
      const input = f instanceof ApplicationFailure && f.nonRetryable && f.details?.[0] === 'input';
      // a bug keeps its stack in the attempt record (the stack's first line is "Name: message")
      const bug = !(e instanceof TemporalFailure) && errorKind(e) === 'bug';
      await safeRecordAttempt({
        itemId: ctx.itemId,
        generation: ctx.generation,
        step: name,
        activityAttempt: attemptNo(),
        outcome: input ? 'rejected' : 'fault',
        errorClass: f instanceof ApplicationFailure ? (f.type ?? 'Error') : e instanceof Error ? e.name : 'Error',
        errorMessage: e instanceof Error ? (bug && e.stack ? e.stack : e.message) : String(e),
        host,
        durationMs: performance.now() - t0,
      });
      throw f;
    }
    const durationMs = performance.now() - t0;
    const stored = { key, step: name, cacheVersion: s.cacheVersions[name], inputRefs, params, modelName: modelSha256 ? s.potential.model : null, modelSha256, codeSha, host, durationMs, modelMs: out.modelMs, payload: out.payload, startedAt };
    if (unrecorded.length === 0) {
      // result, use and attempt in one commit (each commit waits for a WAL flush)
      await store.putComputedStep(stored, use, attemptNo());
    } else {
      // attempts from an outage are still waiting: written first, in order
      await store.putStep(stored, use);
      await safeRecordAttempt({ itemId: ctx.itemId, generation: ctx.generation, step: name, activityAttempt: attemptNo(), outcome: 'computed', host, durationMs });
    }
    return { key, payload: out.payload, served: false };
  }

  async function input<T>(key: string, what: string): Promise<T> {
    const s = await store.peekStep<T>(key);
    if (!s) throw new Error(`stored ${what} ${key} is missing`);
    return s.payload;
  }

  async function structureOf(hash: string): Promise<StructureJson> {
    const s = await store.getStructureByRef(hash);
    if (!s) throw ApplicationFailure.create({ message: `structure ${hash} is not in the store`, type: 'no_structure', nonRetryable: true });
    return s.structure as StructureJson;
  }

  /** Exactly the potential the campaign's settings name: one onnxruntime thread per inference slot. */
  function potentialSpec(s: CampaignSettings): PotentialSpec {
    return { model: s.potential.model, precision: s.potential.precision, threads: 1, expect: { checkpointSha256: s.potential.checkpointSha256, architecture: s.potential.architecture, precision: s.potential.precision } };
  }

  function compute<T>(job: Job, opts: { onCheckpoint?: (s: unknown) => void; signal?: AbortSignal | undefined } = {}): Promise<T> {
    return (job.kind === 'relax' || job.kind === 'forces' ? inferencePool : pool).run<T>(job, { ...(opts.onCheckpoint ? { onCheckpoint: opts.onCheckpoint } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  const light: LightActivities = {
    async beginItem(ctx) {
      const item = await store.getItem(ctx.itemId);
      if (!item || item.structure_id === null) throw ApplicationFailure.create({ message: `item ${ctx.itemId} has no structure`, type: 'no_structure', nonRetryable: true });
      const st = await store.getStructure(item.structure_id);
      if (!st) throw ApplicationFailure.create({ message: `structure ${item.structure_id} missing`, type: 'no_structure', nonRetryable: true });
      let wf = `item-${ctx.itemId}`;
      let run: string | null = null;
      try {
        const info = Context.current().info;
        wf = info.workflowExecution?.workflowId ?? wf;
        run = info.workflowExecution?.runId ?? null;
      } catch {
        // called outside an activity (unit tests)
      }
      await store.markItemRunning(ctx.itemId, ctx.generation, wf, run, host);
      return { structureRef: st.geometry_sha256 };
    },

    async validateStep(ctx, structureRef) {
      const s = await settingsOf(ctx.campaignId);
      const structure = await structureOf(structureRef);
      const r = await step<ValidateOut>(ctx, 'validate', [structureRef], s, async () => ({
        payload: await withHeartbeat((signal) => compute<ValidateOut>({ kind: 'validate', structure, params: s.validate }, { signal })),
        modelMs: 0,
      }));
      return { validateKey: r.key };
    },

    async displaceStep(ctx, relaxKey): Promise<DisplaceRef> {
      const s = await settingsOf(ctx.campaignId);
      const { batchSize, maxBatches } = s.forcesBatching;
      const r = await step<DisplacePayload>(ctx, 'displace', [relaxKey], s, async () => {
        const relaxed = await input<RelaxOut>(relaxKey, 'relaxation');
        const d = await withHeartbeat((signal) => compute<DisplaceOut>({ kind: 'displace', structure: relaxed.structure, params: s.displace }, { signal }));
        const n = d.displacements.length;
        const size = Math.max(batchSize, Math.ceil(n / maxBatches));
        return { payload: { ...d, unitCell: relaxed.structure, batchSize: size, batches: Math.ceil(n / size) }, modelMs: 0 };
      });
      return { displaceKey: r.key, batches: r.payload.batches };
    },

    async phononStep(ctx, displaceKey, forcesKeys) {
      const s = await settingsOf(ctx.campaignId);
      const r = await step<PhononOut>(ctx, 'phonons', [displaceKey, ...forcesKeys], s, async () => {
        const d = await input<DisplacePayload>(displaceKey, 'displacements');
        const forces: number[][][] = [];
        for (const k of forcesKeys) {
          const f = await input<ForcesOut | PrunedPayload>(k, 'forces');
          // pruned by another campaign's phonons after this item's forces step was served (a race)
          if (isPrunedPayload(f)) throw new Error(`stored forces ${k} were pruned after they were served; retry-failed recomputes them`);
          forces.push(...f.forces);
        }
        const out = await withHeartbeat((signal) => compute<PhononOut>({ kind: 'phonons', structure: d.unitCell, displace: d, forces, params: s.phonons }, { signal }));
        return { payload: out, modelMs: 0 };
      });
      // the forces have served their purpose: their payloads go (rows and provenance stay)
      if (s.storage?.pruneConsumedForces) await store.pruneStepPayloads(forcesKeys, 'forces', `consumed by phonons ${r.key}`);
      return { phononKey: r.key };
    },

    async classifyStep(ctx, phononKey, _relaxKey) {
      const s = await settingsOf(ctx.campaignId);
      const r = await step<ClassifyOut>(ctx, 'classify', [phononKey], s, async () => {
        const ph = await input<PhononOut>(phononKey, 'phonons');
        return { payload: await withHeartbeat((signal) => compute<ClassifyOut>({ kind: 'classify', phonons: ph, preset: s.classify.preset, rules: s.classify.rules }, { signal })), modelMs: 0 };
      });
      return { classifyKey: r.key, label: r.payload.label };
    },

    async recordStep(ctx, refs: RecordRefs) {
      const s = await itemSettingsOf(ctx);
      const c = await store.getCampaign(ctx.campaignId);
      const item = await store.getItem(ctx.itemId);
      if (!c || !item || item.structure_id === null) throw new Error(`item ${ctx.itemId} vanished`);
      const relax = await input<RelaxOut>(refs.relaxKey, 'relaxation');
      const cls = refs.classifyKey ? await input<ClassifyOut>(refs.classifyKey, 'classification') : undefined;
      const disp = refs.displaceKey ? await input<DisplacePayload>(refs.displaceKey, 'displacements') : undefined;
      const label = cls ? cls.label : 'relaxation_failed';
      const natoms = relax.structure.numbers.length;
      await store.putResult({
        campaignItemId: ctx.itemId,
        campaignId: ctx.campaignId,
        structureId: item.structure_id,
        generation: ctx.generation,
        preset: s.preset,
        label,
        labels: cls ? cls.labels : { [s.preset]: 'relaxation_failed' },
        minFreqThz: cls?.minFreqThz ?? null,
        minFreqQ: cls?.minFreqQ ?? null,
        minFreqBand: cls?.minFreqBand ?? null,
        minFreqWhere: cls?.minFreqWhere ?? null,
        nImaginary: cls?.nImaginary ?? null,
        maxFreqThz: cls?.maxFreqThz ?? null,
        spacegroupInitial: relax.spacegroupBefore,
        spacegroupRelaxed: relax.spacegroupAfter,
        energyInitialEv: relax.energyInitial,
        energyRelaxedEv: relax.energy,
        energyPerAtomEv: relax.energy === null ? null : relax.energy / natoms,
        relaxStatus: relax.status,
        relaxSteps: relax.steps,
        supercell: disp ? disp.supercellMatrix.flat() : null,
        nDisplacements: disp ? disp.displacements.length : null,
        modelName: s.potential.model,
        modelSha256: s.potential.checkpointSha256,
        modelPrecision: s.potential.precision,
        relaxPrecision: relax.trajectoryPrecision,
        codeSha: c.code_sha,
        configSha256: c.config_sha256,
        relaxKey: refs.relaxKey,
        phononKey: refs.phononKey,
        classifyKey: refs.classifyKey,
        host,
      });
      await store.finishItem(ctx.itemId, ctx.generation, 'done');
      return { label };
    },

    async finishItem(ctx, status, errorClass, message) {
      await store.finishItem(ctx.itemId, ctx.generation, status as ItemStatus, { errorClass, message: message.slice(0, 4000) });
    },

    async nextItems(campaignId, partition, afterId, limit): Promise<InFlight[]> {
      return store.pendingItemsPage(campaignId, partition, afterId, limit);
    },

    async terminalItems(ids) {
      return store.terminalAmong(ids);
    },

    async cancelRemaining(campaignId, partition) {
      return store.cancelPending(campaignId, partition);
    },

    async earlyStopCheck(campaignId, halfWidth, preset): Promise<EarlyStopCheck> {
      const cs = await settingsOf(campaignId);
      if (cs.models && cs.models.length > 1) return multiModelEarlyStop(campaignId, halfWidth, preset, modelNames(cs));
      const { stable, n } = await store.stableCounts(campaignId, preset);
      const w = wilson(stable, n);
      // both sides of the interval within ±halfWidth of the estimate (Wilson is asymmetric)
      const narrow = n > 0 && w.hi - w.p < halfWidth && w.p - w.lo < halfWidth;
      if (narrow) {
        await store.recordEarlyStop(campaignId, { reason: 'interval_reached', preset, halfWidth, n, stable, rate: w.p, lo: w.lo, hi: w.hi, at: new Date().toISOString() });
      }
      return { stop: narrow, n, stable, lo: w.lo, hi: w.hi };
    },
  };

  /**
   * Early stop of a multi-model campaign: each model's stable rate is its own estimate, so
   * scheduling stops once every model's interval is narrow enough; the record (and the check's
   * numbers) are those of the model with the widest interval, every model's listed beside.
   */
  async function multiModelEarlyStop(campaignId: number, halfWidth: number, preset: string, names: string[]): Promise<EarlyStopCheck> {
    const counts = await store.stableCountsByModel(campaignId, preset);
    const per = names.map((model, i) => {
      const c = counts.get(i) ?? { stable: 0, n: 0 };
      const w = wilson(c.stable, c.n);
      return { model, n: c.n, stable: c.stable, rate: w.p, lo: w.lo, hi: w.hi, narrow: c.n > 0 && w.hi - w.p < halfWidth && w.p - w.lo < halfWidth, width: c.n > 0 ? Math.max(w.hi - w.p, w.p - w.lo) : Infinity };
    });
    const worst = per.reduce((a, b) => (b.width > a.width ? b : a));
    const narrow = per.every((x) => x.narrow);
    if (narrow) {
      await store.recordEarlyStop(campaignId, {
        reason: 'interval_reached',
        preset,
        halfWidth,
        n: worst.n,
        stable: worst.stable,
        rate: worst.rate,
        lo: worst.lo,
        hi: worst.hi,
        at: new Date().toISOString(),
        models: per.map(({ model, n, stable, rate, lo, hi }) => ({ model, n, stable, rate, lo, hi })),
      });
    }
    return { stop: narrow, n: worst.n, stable: worst.stable, lo: worst.lo, hi: worst.hi };
  }

  const inference: InferenceActivities = {
    async relaxStep(ctx, structureRef, validateKey): Promise<RelaxRef> {
      const s = await itemSettingsOf(ctx);
      let resumed = false;
      const r = await step<RelaxOut>(ctx, 'relax', [structureRef], s, async () => {
        const structure = await structureOf(structureRef);
        const actx = Context.current();
        // a retry after a crash resumes from the last optimizer state the previous attempt
        // heartbeated (core/relax guarantees the same trajectory as an uninterrupted run)
        const hb = actx.info.heartbeatDetails as { checkpoint?: unknown } | undefined;
        const resumeFrom = hb?.checkpoint ?? null;
        resumed = resumeFrom !== null;
        if (resumed) await safeRecordAttempt({ itemId: ctx.itemId, generation: ctx.generation, step: 'relax', activityAttempt: attemptNo(), outcome: 'resumed', host });
        let latest: unknown = resumeFrom;
        const out = await withHeartbeat(
          (signal, beat) =>
            compute<RelaxOut>(
              { kind: 'relax', structure, potential: potentialSpec(s), protocol: s.relax.protocol, resumeFrom, checkpointEvery: s.relaxCheckpointEvery },
              {
                signal,
                onCheckpoint: (state) => {
                  latest = state;
                  beat({ checkpoint: state });
                },
              },
            ),
          () => (latest === null ? undefined : { checkpoint: latest }),
        );
        return { payload: { ...out, resumed }, modelMs: out.modelMs };
      });
      void validateKey; // ordering only: validation must have passed
      return { relaxKey: r.key, usable: r.payload.usable, status: r.payload.status };
    },

    async forcesStep(ctx, displaceKey, batch) {
      const s = await itemSettingsOf(ctx);
      const computeForces = async (): Promise<{ payload: ForcesOut; modelMs: number }> => {
        const d = await input<DisplacePayload>(displaceKey, 'displacements');
        const slice = d.displacements.slice(batch * d.batchSize, (batch + 1) * d.batchSize);
        if (slice.length === 0) throw ApplicationFailure.create({ message: `forces batch ${batch} is out of range`, type: 'bad_batch', nonRetryable: true });
        const out = await withHeartbeat((signal) => compute<ForcesOut>({ kind: 'forces', supercell: d.supercell, displacements: slice, potential: potentialSpec(s) }, { signal }));
        return { payload: out, modelMs: out.modelMs };
      };
      const r = await step<ForcesOut | PrunedPayload>(ctx, 'forces', [displaceKey], s, computeForces, { batch });
      // pruned after the phonons made from them were stored: served as they are (the phonons
      // step is served too) unless these settings' phonons are not stored, then computed again
      if (r.served && isPrunedPayload(r.payload)) {
        const d = await input<DisplacePayload>(displaceKey, 'displacements');
        const all = Array.from({ length: d.batches }, (_, b) => stepKeyOf(s, 'forces', [displaceKey], { batch: b }));
        if (!(await store.hasStep(stepKeyOf(s, 'phonons', [displaceKey, ...all])))) {
          const t0 = performance.now();
          await store.restorePrunedStep(r.key, (await computeForces()).payload);
          await safeRecordAttempt({ itemId: ctx.itemId, generation: ctx.generation, step: 'forces', activityAttempt: attemptNo(), outcome: 'computed', host, durationMs: performance.now() - t0 });
        }
      }
      return { forcesKey: r.key };
    },
  };

  return { ...guarded(light), ...guarded(inference) };
}

/** Split the activity object by task queue (a worker registers only what its queue serves). */
export function lightActivities(all: LightActivities & InferenceActivities): LightActivities {
  const { relaxStep: _r, forcesStep: _f, ...rest } = all;
  return rest;
}

export function inferenceActivities(all: LightActivities & InferenceActivities): InferenceActivities {
  return { relaxStep: all.relaxStep, forcesStep: all.forcesStep };
}
