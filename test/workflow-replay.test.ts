// Replay of recorded campaign histories (test/fixtures/histories, recorded by record.ts there)
// against the current workflow code. Campaigns run for weeks and workers get upgraded under
// them: a change to workflows/ that would not replay an existing history deterministically
// must be guarded with `patched()` (engine.md). This test is what notices.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowBundle } from '../workers/index.js';
import { ensureBuilt } from './engine-harness.js';
import { REPO_ROOT } from './helpers.js';

const DIR = join(REPO_ROOT, 'test', 'fixtures', 'histories');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

interface Recorded {
  workflowId: string;
  workflowType: string;
  status: string;
  history: unknown;
}

describe('recorded histories replay on the current workflow code', () => {
  let bundle: { codePath: string };
  beforeAll(async () => {
    ensureBuilt();
    bundle = await workflowBundle();
  }, 180_000);

  it('has a campaign parent, completed structures and a rejected structure to replay', () => {
    const rec = FILES.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Recorded);
    expect(rec.filter((r) => r.workflowType === 'campaignWorkflow').length).toBeGreaterThanOrEqual(1);
    expect(rec.filter((r) => r.workflowType === 'structureWorkflow').length).toBeGreaterThanOrEqual(2);
    expect(rec.every((r) => r.status === 'COMPLETED')).toBe(true);
  });

  for (const f of FILES) {
    it(`${f} replays without a determinism violation`, async () => {
      const rec = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Recorded;
      // throws DeterminismViolationError (or another replay failure) when the code diverged
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: f }, rec.history /* CLI JSON: the SDK converts it itself */, rec.workflowId);
    }, 120_000);
  }
});
