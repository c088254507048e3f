// Signals, queries and input types shared by the workflows and the clients (CLI, tests).
// Deterministic, dependency-free (bundled into the workflow sandbox).
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface ActivityTimeoutsMs {
  startToCloseMs: number;
  heartbeatMs: number;
}

/** Timeouts and bounded retry policy the workflows give their activities (from config/engine.ts). */
export interface ActivityPolicy {
  timeouts: { relax: ActivityTimeoutsMs; forces: ActivityTimeoutsMs; light: ActivityTimeoutsMs };
  retry: { maximumAttempts: number; initialIntervalMs: number; backoffCoefficient: number; maximumIntervalMs: number };
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
