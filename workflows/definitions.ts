// The contract between workflows/, activities/ and the clients (engine, CLI, tests): activity
// signatures, signals, queries and input types. Deterministic, dependency-free (bundled into the
// workflow sandbox). Everything that crosses Temporal is an id, a sha256 ref or a small scalar:
// arrays never travel in history.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface ActivityTimeoutsMs {
  startToCloseMs: number;
  heartbeatMs: number;
}

/** Timeouts and bounded retry policy the workflows give their activities (from config/engine.ts). */
export interface ActivityPolicy {
  timeouts: { relax: ActivityTimeoutsMs; forces: ActivityTimeoutsMs; light: ActivityTimeoutsMs };
  retry: { maximumAttempts: number; initialIntervalMs: number; backoffCoefficient: number; maximumIntervalMs: number; faultAttempts?: number; infrastructureOutageMaxMs?: number };
}

export interface TaskQueues {
  inference: string;
  light: string;
}

export interface InFlight {
  id: number;
  generation: number;
}

export interface CampaignInput {
  campaignId: number;
  partition: number;
  partitions: number;
  window: number;
  windowMax: number;
  pageSize: number;
  historyLengthCap: number;
  reconcileEveryMs: number;
  policy: ActivityPolicy;
  queues: TaskQueues;
  /** carried across continue-as-new */
  cursor: number;
  inFlight: InFlight[];
  paused: boolean;
  /** continue-as-new generations so far (diagnostics) */
  runs: number;
  /** totals carried across runs (diagnostics) */
  started: number;
  finished: number;
  /**
   * Early stop (run --until-ci): stop scheduling new structures once the 95 % Wilson interval of
   * the campaign's stable rate under `preset` is narrower than ±halfWidth; running ones finish.
   */
  untilCi?: { halfWidth: number; preset: string };
  /** carried across continue-as-new: this parent has stopped scheduling (early stop) */
  stopped?: boolean;
}

/** What the early-stop check saw (the whole campaign, every partition). */
export interface EarlyStopCheck {
  stop: boolean;
  n: number;
  stable: number;
  lo: number;
  hi: number;
}

export interface StructureInput {
  campaignId: number;
  itemId: number;
  generation: number;
  /** parent to notify on completion (stable across the parent's continue-as-new) */
  parentWorkflowId: string;
  policy: ActivityPolicy;
  queues: TaskQueues;
}

export type StructureOutcome =
  | { status: 'done'; label: string }
  | { status: 'rejected'; errorClass: string }
  | { status: 'failed'; errorClass: string }
  | { status: 'cancelled' };

export interface CampaignProgress {
  campaignId: number;
  partition: number;
  cursor: number;
  inFlight: number;
  window: number;
  paused: boolean;
  cancelled: boolean;
  exhausted: boolean;
  runs: number;
  started: number;
  finished: number;
  historyLength: number;
  /** stopped scheduling early (run --until-ci) */
  stopped: boolean;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal('cancel');
export const setConcurrencySignal = defineSignal<[number]>('setConcurrency');
export const itemDoneSignal = defineSignal<[number]>('itemDone');
export const progressQuery = defineQuery<CampaignProgress>('progress');

export function campaignWorkflowId(campaignId: number, partition: number): string {
  return `softmode-campaign-${campaignId}-p${partition}`;
}

export function structureWorkflowId(campaignId: number, itemId: number, generation: number): string {
  return `softmode-c${campaignId}-i${itemId}-g${generation}`;
}

// ---- activities (implemented in activities/, scheduled by the workflows) ----

export interface ItemCtx {
  campaignId: number;
  itemId: number;
  generation: number;
}

export interface RelaxRef {
  relaxKey: string;
  /** false when the relaxation did not reach a usable minimum (a scientific outcome) */
  usable: boolean;
  status: string;
}

export interface DisplaceRef {
  displaceKey: string;
  /** number of `forces` activities to fan out */
  batches: number;
}

export interface RecordRefs {
  structureRef: string;
  validateKey: string;
  relaxKey: string;
  displaceKey: string | null;
  forcesKeys: string[];
  phononKey: string | null;
  classifyKey: string | null;
}

export interface LightActivities {
  beginItem(ctx: ItemCtx): Promise<{ structureRef: string }>;
  validateStep(ctx: ItemCtx, structureRef: string): Promise<{ validateKey: string }>;
  displaceStep(ctx: ItemCtx, relaxKey: string): Promise<DisplaceRef>;
  phononStep(ctx: ItemCtx, displaceKey: string, forcesKeys: string[]): Promise<{ phononKey: string }>;
  classifyStep(ctx: ItemCtx, phononKey: string, relaxKey: string): Promise<{ classifyKey: string; label: string }>;
  recordStep(ctx: ItemCtx, refs: RecordRefs): Promise<{ label: string }>;
  finishItem(ctx: ItemCtx, status: 'failed' | 'rejected' | 'cancelled', errorClass: string, message: string): Promise<void>;
  nextItems(campaignId: number, partition: number, afterId: number, limit: number): Promise<InFlight[]>;
  terminalItems(ids: number[]): Promise<number[]>;
  cancelRemaining(campaignId: number, partition: number): Promise<number>;
  /** the campaign's stable rate and interval now; records the stop (once) when it is narrow enough */
  earlyStopCheck(campaignId: number, halfWidth: number, preset: string): Promise<EarlyStopCheck>;
}

export interface InferenceActivities {
  relaxStep(ctx: ItemCtx, structureRef: string, validateKey: string): Promise<RelaxRef>;
  forcesStep(ctx: ItemCtx, displaceKey: string, batch: number): Promise<{ forcesKey: string }>;
}
