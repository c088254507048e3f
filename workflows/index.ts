// Workflows (deterministic code only: no I/O, no clocks, no randomness; everything that touches
// the world is an activity). Bundled by the Temporal worker from this file.
//
// campaignWorkflow: one per partition of a campaign; a sliding window of ≤ windowMax structure
// workflows, item ids read in pages from PostgreSQL by an activity, continue-as-new with a
// cursor when the server suggests it (or at a history-length cap).
// structureWorkflow: validate → relax → displace → forces (fan-out) → phonons → classify → record.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { InferenceActivities, ItemCtx, LightActivities } from './definitions.js';
import {
  type ActivityPolicy,
  type ActivityTimeoutsMs,
  type CampaignInput,
  type CampaignProgress,
  type InFlight,
  type StructureInput,
  type StructureOutcome,
  cancelSignal,
  itemDoneSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  setConcurrencySignal,
  structureWorkflowId,
} from './definitions.js';

export * from './definitions.js';

function activityOptions(taskQueue: string, t: ActivityTimeoutsMs, policy: ActivityPolicy) {
  return {
    taskQueue,
    startToCloseTimeout: t.startToCloseMs,
    ...(t.heartbeatMs > 0 ? { heartbeatTimeout: t.heartbeatMs } : {}),
    retry: {
      maximumAttempts: policy.retry.maximumAttempts,
      initialInterval: policy.retry.initialIntervalMs,
      backoffCoefficient: policy.retry.backoffCoefficient,
      maximumInterval: policy.retry.maximumIntervalMs,
    },
  };
}

/** The error class and message of a failed activity (the innermost ApplicationFailure). */
function describeFailure(e: unknown): { errorClass: string; message: string; invalidInput: boolean } {
  let cur: unknown = e;
  while (cur instanceof ActivityFailure && cur.cause) cur = cur.cause;
  if (cur instanceof ApplicationFailure)
    return { errorClass: cur.type ?? 'Error', message: cur.message, invalidInput: Boolean(cur.nonRetryable) && cur.details?.[0] === 'input' };
  if (cur instanceof Error) return { errorClass: cur.name || 'Error', message: cur.message, invalidInput: false };
  return { errorClass: 'Error', message: String(cur), invalidInput: false };
}

export async function structureWorkflow(input: StructureInput): Promise<StructureOutcome> {
  const { policy, queues } = input;
  const light = proxyActivities<LightActivities>(activityOptions(queues.light, policy.timeouts.light, policy));
  const relax = proxyActivities<InferenceActivities>(activityOptions(queues.inference, policy.timeouts.relax, policy));
  const forces = proxyActivities<InferenceActivities>(activityOptions(queues.inference, policy.timeouts.forces, policy));
  const ctx: ItemCtx = { campaignId: input.campaignId, itemId: input.itemId, generation: input.generation };

  let outcome: StructureOutcome;
  try {
    const { structureRef } = await light.beginItem(ctx);
    const { validateKey } = await light.validateStep(ctx, structureRef);
    const r = await relax.relaxStep(ctx, structureRef, validateKey);
    let displaceKey: string | null = null;
    let forcesKeys: string[] = [];
    let phononKey: string | null = null;
    let classifyKey: string | null = null;
    if (r.usable) {
      const d = await light.displaceStep(ctx, r.relaxKey);
      displaceKey = d.displaceKey;
      const batches: Promise<{ forcesKey: string }>[] = [];
      for (let b = 0; b < d.batches; b++) batches.push(forces.forcesStep(ctx, d.displaceKey, b));
      forcesKeys = (await Promise.all(batches)).map((x) => x.forcesKey);
      phononKey = (await light.phononStep(ctx, d.displaceKey, forcesKeys)).phononKey;
    }
    if (phononKey) classifyKey = (await light.classifyStep(ctx, phononKey, r.relaxKey)).classifyKey;
    const rec = await light.recordStep(ctx, { structureRef, validateKey, relaxKey: r.relaxKey, displaceKey, forcesKeys, phononKey, classifyKey });
    outcome = { status: 'done', label: rec.label };
  } catch (e) {
    if (isCancellation(e)) {
      await CancellationScope.nonCancellable(() => light.finishItem(ctx, 'cancelled', 'cancelled', 'campaign cancelled'));
      outcome = { status: 'cancelled' };
    } else {
      const f = describeFailure(e);
      // invalid input is non-retryable and typed (engine rule 3): the structure is rejected;
      // anything else that exhausted its retries is a fault: failed, eligible for retry-failed
      const status = f.invalidInput ? 'rejected' : 'failed';
      await light.finishItem(ctx, status, f.errorClass, f.message);
      outcome = { status, errorClass: f.errorClass };
    }
  }
  try {
    await getExternalWorkflowHandle(input.parentWorkflowId).signal(itemDoneSignal, input.itemId);
  } catch {
    // the parent is gone (cancelled or finished): nothing to tell; it reconciles from the DB
  }
  return outcome;
}

export async function campaignWorkflow(input: CampaignInput): Promise<CampaignProgress> {
  const light = proxyActivities<LightActivities>(activityOptions(input.queues.light, input.policy.timeouts.light, input.policy));
  const inFlight = new Map<number, number>(input.inFlight.map((x) => [x.id, x.generation]));
  let cursor = input.cursor;
  let window = input.window;
  let paused = input.paused;
  let cancelled = false;
  let exhausted = false;
  let stopped = input.stopped ?? false;
  // early stop: the campaign-wide interval is checked again after ~1 % more structures finished
  let nextCheckAt = 0;
  let started = input.started;
  let finished = input.finished;
  const doneQueue: number[] = [];
  let buffer: InFlight[] = [];
  const me = workflowInfo().workflowId;

  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));
  setHandler(cancelSignal, () => void (cancelled = true));
  setHandler(setConcurrencySignal, (n: number) => {
    if (Number.isFinite(n)) window = Math.max(1, Math.min(input.windowMax, Math.floor(n)));
  });
  setHandler(itemDoneSignal, (id: number) => void doneQueue.push(id));
  const progress = (): CampaignProgress => ({
    campaignId: input.campaignId,
    partition: input.partition,
    cursor,
    inFlight: inFlight.size,
    window,
    paused,
    cancelled,
    exhausted,
    stopped,
    runs: input.runs,
    started,
    finished,
    historyLength: workflowInfo().historyLength,
  });
  setHandler(progressQuery, progress);

  const drainDone = () => {
    while (doneQueue.length) {
      const id = doneQueue.shift()!;
      if (inFlight.delete(id)) finished++;
    }
  };

  for (;;) {
    drainDone();
    if (cancelled) {
      // cancel running children; each marks its item cancelled; then the rest of the partition
      await CancellationScope.nonCancellable(async () => {
        for (const [id, gen] of inFlight) {
          try {
            await getExternalWorkflowHandle(structureWorkflowId(input.campaignId, id, gen)).cancel();
          } catch {
            // already closed
          }
        }
        await light.cancelRemaining(input.campaignId, input.partition);
      });
      return progress();
    }

    if (input.untilCi && !stopped && !paused && finished >= nextCheckAt && inFlight.size < window) {
      const c = await light.earlyStopCheck(input.campaignId, input.untilCi.halfWidth, input.untilCi.preset);
      if (c.stop) stopped = true;
      nextCheckAt = finished + Math.max(1, Math.floor(finished / 100));
    }

    while (!paused && !stopped && inFlight.size < window) {
      if (buffer.length === 0 && !exhausted) {
        buffer = await light.nextItems(input.campaignId, input.partition, cursor, input.pageSize);
        if (buffer.length === 0) exhausted = true;
      }
      const next = buffer.shift();
      if (!next) break;
      if (inFlight.has(next.id)) continue;
      try {
        await startChild(structureWorkflow, {
          workflowId: structureWorkflowId(input.campaignId, next.id, next.generation),
          taskQueue: input.queues.light,
          // children outlive this run (continue-as-new) and report back by signal
          parentClosePolicy: ParentClosePolicy.ABANDON,
          args: [
            {
              campaignId: input.campaignId,
              itemId: next.id,
              generation: next.generation,
              parentWorkflowId: me,
              policy: input.policy,
              queues: input.queues,
            },
          ],
        });
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        // started by an earlier run and still going: it will signal us when done
      }
      inFlight.set(next.id, next.generation);
      cursor = Math.max(cursor, next.id);
      started++;
    }

    // stopped early: no new children; done once the running ones have reported
    if (stopped && inFlight.size === 0) return progress();

    if (exhausted && inFlight.size === 0 && !paused) {
      // items reset by retry-failed while we ran sit behind the cursor: rescan once from 0
      const again = await light.nextItems(input.campaignId, input.partition, 0, input.pageSize);
      if (again.length === 0) return progress();
      cursor = 0;
      exhausted = false;
      buffer = [];
      continue;
    }

    const woke = await condition(() => doneQueue.length > 0 || cancelled || (!paused && !stopped && inFlight.size < window && !(exhausted && buffer.length === 0)), input.reconcileEveryMs);
    if (!woke && inFlight.size > 0) {
      // no news for a while: ask the store which in-flight items are finished (a lost signal,
      // or a child that ended without reaching us) so the window never clogs
      const ids = [...inFlight.keys()];
      for (const id of await light.terminalItems(ids)) if (inFlight.delete(id)) finished++;
    }

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= input.historyLengthCap) {
      drainDone();
      await continueAsNew<typeof campaignWorkflow>({
        ...input,
        cursor,
        window,
        paused,
        inFlight: [...inFlight].map(([id, generation]) => ({ id, generation })),
        stopped,
        runs: input.runs + 1,
        started,
        finished,
      });
    }
  }
}
