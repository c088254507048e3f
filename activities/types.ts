// Activity signatures, shared with the workflows (type-only import there). Everything that
// crosses Temporal is an id, a sha256 ref or a small scalar: arrays never travel in history.
import type { InFlight } from '../workflows/definitions.js';

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
}

export interface InferenceActivities {
  relaxStep(ctx: ItemCtx, structureRef: string, validateKey: string): Promise<RelaxRef>;
  forcesStep(ctx: ItemCtx, displaceKey: string, batch: number): Promise<{ forcesKey: string }>;
}
