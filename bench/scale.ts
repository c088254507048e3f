// npm run bench:scale → bench/results/scale.json
//
// A campaign of N distinct structures (default 10^4; `--structures N` for a smaller measured run)
// with the classical pair potential through the real engine: embedded Temporal dev server +
// PostgreSQL, one worker process serving both queues, the CLI orchestrating. Then, when the
// CHGNet model is available, a CHGNet campaign of ≥ 50 structures for the share of wall time
// spent outside model evaluation.
//
// Structures: the built-in example crystals with their lattice constants scaled by distinct
// factors (1 + k·1e-4), so every one is a distinct input (no step is served from the store).
// The CHGNet campaign can instead take the N smallest MatterGen structures of ../shared
// (`--chgnet-inputs mattergen`: the compare:reference set, the workload softmode is built for);
// each workload's share is kept under outside_model_share_by_workload.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ensureServices, stopServices, temporalPid, postgresPid } from '../engine/services/index.js';
import { REPO_ROOT } from '../engine/services/util.js';
import { writePoscar } from '../core/structure/io/index.js';
import { makeStructure } from '../core/structure/structure.js';
import { exampleStructures } from '../examples/structures.js';
import { selectStructures } from './compare-reference.js';
import { potentialFor } from '../pipeline/potentials.js';
import { Store } from '../store/index.js';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';

interface Args {
  structures: number;
  chgnet: number;
  slots: number;
  keep: boolean;
  /** skip the classical campaign: measure only the CHGNet one and merge into scale.json */
  onlyChgnet: boolean;
  /** the CHGNet campaign's structures: rescaled textbook crystals, or the smallest MatterGen ones */
  chgnetInputs: 'textbook' | 'mattergen';
}

const OPTIONS = {
  structures: { kind: 'int', min: 0, default: 10_000, help: 'structures of the classical (Lennard-Jones) campaign (default 10000)' },
  chgnet: { kind: 'int', min: 0, default: 50, help: 'structures of the CHGNet campaign (default 50; 0 keeps the one measured earlier)' },
  slots: { kind: 'positive-int', default: cpus().length, help: 'worker slots (default: cores)' },
  keep: { kind: 'boolean', help: 'keep the campaign directory' },
  'only-chgnet': { kind: 'boolean', help: 'measure only the CHGNet campaign and merge into scale.json' },
  'chgnet-inputs': { kind: 'string', default: 'textbook', help: "the CHGNet campaign's structures: textbook (rescaled example crystals, default) or mattergen (the N smallest MatterGen structures of ../shared, as compare:reference)" },
} as const satisfies OptionsSpec;

function readArgs(): Args & { argv: readonly string[] } {
  const { values: v, argv } = parseProcessArgs('bench:scale', OPTIONS);
  const inputs = v['chgnet-inputs'];
  if (inputs !== 'textbook' && inputs !== 'mattergen') throw new Error(`--chgnet-inputs: textbook or mattergen, not '${inputs}'`);
  return { structures: v.structures, chgnet: v.chgnet, slots: v.slots, keep: v.keep, onlyChgnet: v['only-chgnet'], chgnetInputs: inputs, argv };
}

function peakRssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Peak RSS of a process and its descendants, summed (an upper bound of the tree's peak): `softmode
 * worker` is a supervisor whose child process runs the workers and their compute threads.
 */
function treePeakRssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // pid (comm) state ppid …: comm may hold spaces, so split after its closing parenthesis
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // exited while listing
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    total += peakRssMb(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total || null;
}

/** The n smallest MatterGen structures (compare:reference's selection), copied into dir. */
function copyMattergenInputs(dir: string, n: number): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const picked = selectStructures(n, Infinity);
  if (picked.length < n) throw new Error(`--chgnet-inputs mattergen: ${picked.length} MatterGen structures readable in ../shared, ${n} asked`);
  for (const p of picked) copyFileSync(p.path, join(dir, basename(p.path)));
}

function writeInputs(dir: string, n: number): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const base = exampleStructures();
  for (let k = 0; k < n; k++) {
    const s = base[k % base.length]!;
    const f = 1 + (Math.floor(k / base.length) + 1) * 1e-4;
    const t = makeStructure({ name: `${s.name}-${k}`, lattice: s.lattice.map((r) => r.map((x) => x * f)), frac: s.frac, numbers: s.numbers });
    // spread over sub-directories (10^4 files in one directory is slow to list)
    const sub = join(dir, String(Math.floor(k / 1000)).padStart(3, '0'));
    if (k % 1000 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `s${String(k).padStart(6, '0')}.vasp`), writePoscar(t));
  }
}

function cliProc(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [join(REPO_ROOT, 'dist', 'cli', 'main.js'), ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

function waitExit(p: ChildProcess): Promise<{ code: number | null; stdout: string }> {
  return new Promise((res) => {
    let out = '';
    p.stdout?.on('data', (d) => (out += d));
    p.on('close', (code) => res({ code, stdout: out }));
  });
}

interface CampaignMeasure {
  structures: number;
  done: number;
  failed: number;
  rejected: number;
  wallSeconds: number;
  stepComputeMs: number;
  modelMs: number;
  /** per step: results computed, Σ step wall time, Σ time inside the potential (ms) */
  steps: { step: string; n: number; duration_ms: number; model_ms: number }[];
  /** launch of `softmode run` → first step started, last step finished → exit (s); null where unknown */
  startupSeconds: number | null;
  tailSeconds: number | null;
  workerPeakRssMb: number | null;
  maxHistoryEvents: { structure: number; campaign: number };
  campaignRuns: number;
  activities: Record<string, ActivityTiming>;
  /** median time of one committed single-row insert on the campaign's PostgreSQL, after the run */
  commitMs: number;
}

async function measureCampaign(dir: string, name: string, model: string, n: number, slots: number, supercell: string, withActivityTimings = false, source: Args['chgnetInputs'] = 'textbook'): Promise<CampaignMeasure> {
  const inputs = join(dir, `inputs-${name}`);
  if (source === 'mattergen') copyMattergenInputs(inputs, n);
  else writeInputs(inputs, n);
  const svc = await ensureServices(dir);
  const env = { TEMPORAL_ADDRESS: svc.temporalAddress, DATABASE_URL: svc.databaseUrl };
  const worker = cliProc(['worker', '--queue', 'all', '--inference-slots', String(slots), '--light-slots', String(slots)], env);
  const workerExit = waitExit(worker);
  const t0 = Date.now();
  const launchedAt = new Date(t0);
  const run = cliProc(['run', inputs, '--model', model, '--supercell', supercell, '--no-workers', '--keep-services', '--name', name, '--window', '200', '--json'], env);
  const r = await waitExit(run);
  const wallSeconds = (Date.now() - t0) / 1000;
  const exitedAt = new Date();
  const workerPeakRssMb = treePeakRssMb(worker.pid);
  worker.kill('SIGTERM');
  await workerExit;
  if (r.code !== 0 && r.code !== 1) throw new Error(`campaign ${name} exited with ${r.code}`);
  const store = new Store(svc.databaseUrl);
  const c = (await store.getCampaign(name))!;
  const p = await store.progress(c.id);
  const timings = await store.stepTimings(c.id);
  const commitMs = await store.commitLatencyMs();
  await store.close();
  const connection = await Connection.connect({ address: svc.temporalAddress });
  const client = new Client({ connection });
  let maxStructure = 0;
  let maxCampaign = 0;
  let campaignRuns = 0;
  const activities: Record<string, ActivityTiming> = {};
  for await (const w of client.workflow.list({ query: `WorkflowType = 'structureWorkflow'` })) {
    maxStructure = Math.max(maxStructure, w.historyLength);
    if (withActivityTimings) addActivityTimings(activities, await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory());
  }
  for await (const w of client.workflow.list({ query: `WorkflowType = 'campaignWorkflow'` })) {
    maxCampaign = Math.max(maxCampaign, w.historyLength);
    campaignRuns++;
  }
  await connection.close();
  return {
    structures: p.total,
    done: p.done,
    failed: p.failed,
    rejected: p.rejected,
    wallSeconds,
    stepComputeMs: timings.reduce((a, t) => a + t.duration_ms, 0),
    modelMs: timings.reduce((a, t) => a + t.model_ms, 0),
    steps: timings.map(({ step, n, duration_ms, model_ms }) => ({ step, n, duration_ms, model_ms })),
    startupSeconds: timings.length ? (Math.min(...timings.map((t) => t.first_start.getTime())) - launchedAt.getTime()) / 1000 : null,
    tailSeconds: timings.length ? (exitedAt.getTime() - Math.max(...timings.map((t) => t.last_end.getTime()))) / 1000 : null,
    workerPeakRssMb,
    maxHistoryEvents: { structure: maxStructure, campaign: maxCampaign },
    campaignRuns,
    activities,
    commitMs,
  };
}

/** Per activity type, from the structure workflows' histories: count, Σ scheduled→started (queue wait) and Σ started→closed (the activity's run on a slot, its DB work and compute-thread hand-off included). */
interface ActivityTiming {
  n: number;
  schedule_to_start_s: number;
  start_to_close_s: number;
}

function addActivityTimings(out: Record<string, ActivityTiming>, history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>): void {
  const seconds = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number => Number(t?.seconds ?? 0) + (t?.nanos ?? 0) / 1e9;
  const scheduled = new Map<string, { type: string; at: number; startedAt?: number }>();
  for (const e of history.events ?? []) {
    const at = seconds(e.eventTime);
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const sch = scheduled.get(String(started.scheduledEventId));
      if (sch) sch.startedAt = at;
    }
    const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (closed) {
      const sch = scheduled.get(String(closed.scheduledEventId));
      if (!sch || sch.startedAt === undefined) continue;
      const t = (out[sch.type] ??= { n: 0, schedule_to_start_s: 0, start_to_close_s: 0 });
      t.n++;
      t.schedule_to_start_s += sch.startedAt - sch.at;
      t.start_to_close_s += at - sch.startedAt;
    }
  }
}

async function main(): Promise<void> {
  const a = readArgs();
  const dir = join(REPO_ROOT, '.campaigns', 'bench-scale');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const resultPath = join(REPO_ROOT, 'bench', 'results', 'scale.json');
  const previous: Record<string, unknown> = existsSync(resultPath) ? (JSON.parse(readFileSync(resultPath, 'utf8')) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = a.onlyChgnet ? previous : {};
  if (!a.onlyChgnet && a.chgnet === 0) {
    // `--chgnet 0` measures only the classical campaign: keep the CHGNet campaign measured earlier
    for (const [k, v] of Object.entries(previous)) if (k.startsWith('chgnet_') || k === 'outside_model_share') out[k] = v;
  }
  const loadSamples: number[] = [];
  const loadTimer = setInterval(() => loadSamples.push(loadavg()[0]!), 30_000);
  loadTimer.unref();
  try {
    if (!a.onlyChgnet) {
    const m = await measureCampaign(dir, 'scale-classical', 'lennard-jones', a.structures, a.slots, '2');
    const slotMs = m.wallSeconds * 1000 * a.slots;
    const svc = await ensureServices(dir);
    const store = new Store(svc.databaseUrl);
    const dbBytes = await store.dbSizeBytes();
    await store.close();
    Object.assign(out, {
      structures: m.structures,
      structures_requested_by_issue: 10_000,
      structures_done: m.done,
      structures_failed: m.failed,
      structures_rejected: m.rejected,
      model: 'lennard-jones',
      wall_seconds: m.wallSeconds,
      structures_per_hour: (m.done / m.wallSeconds) * 3600,
      overhead_ms_per_structure: (slotMs - m.stepComputeMs) / Math.max(1, m.done),
      step_compute_ms_per_structure: m.stepComputeMs / Math.max(1, m.done),
      max_history_events: Math.max(m.maxHistoryEvents.structure, m.maxHistoryEvents.campaign),
      max_history_events_structure_workflow: m.maxHistoryEvents.structure,
      max_history_events_campaign_run: m.maxHistoryEvents.campaign,
      campaign_workflow_runs: m.campaignRuns,
      worker_peak_rss_mb: m.workerPeakRssMb,
      server_peak_rss_mb: peakRssMb(temporalPid(dir)),
      postgres_postmaster_peak_rss_mb: peakRssMb(postgresPid(dir)),
      db_mb: dbBytes / 2 ** 20,
      outside_model_share_classical: 1 - m.modelMs / slotMs,
      slots: a.slots,
      cores: cpus().length,
      // other work on this 2-core machine inflates the overhead figure; the 1-min load average says how much
      load_average_1min: loadSamples.length ? { mean: loadSamples.reduce((x, y) => x + y, 0) / loadSamples.length, max: Math.max(...loadSamples), samples: loadSamples.length } : null,
    });
    }
    let chgnet: Awaited<ReturnType<typeof potentialFor>> | undefined;
    try {
      chgnet = await potentialFor({ model: 'chgnet-0.3.0', threads: 1 });
    } catch (e) {
      out['outside_model_share'] = null;
      out['outside_model_share_note'] = `CHGNet not available in this build (${(e as Error).message}); no CHGNet campaign measured`;
    }
    if (chgnet && a.chgnet > 0) {
      const c = await measureCampaign(dir, 'scale-chgnet', 'chgnet-0.3.0', a.chgnet, a.slots, 'phononbench', true, a.chgnetInputs);
      const cslot = c.wallSeconds * 1000 * a.slots;
      delete out['outside_model_share_note'];
      const share = 1 - c.modelMs / cslot;
      // the once-per-campaign costs (worker and CLI start, ingest, the last result's way back)
      // taken out: what a long campaign's slots lose per structure
      const fixedMs = ((c.startupSeconds ?? 0) + (c.tailSeconds ?? 0)) * 1000 * a.slots;
      const measured: Record<string, unknown> = {
        outside_model_share: share,
        outside_model_share_without_startup_and_tail: 1 - c.modelMs / (cslot - fixedMs),
        chgnet_worker_peak_rss_mb: c.workerPeakRssMb,
        chgnet_inputs: a.chgnetInputs === 'mattergen' ? `the ${c.structures} smallest MatterGen structures of ../shared/data/structures/mattergen (compare:reference's selection)` : `${c.structures} rescaled textbook crystals (examples/structures.ts)`,
        chgnet_supercell: 'phononbench (2×2×2 of the input primitive cell)',
        chgnet_failed: c.failed,
        chgnet_structures: c.structures,
        chgnet_done: c.done,
        chgnet_wall_seconds: c.wallSeconds,
        chgnet_model_ms: c.modelMs,
        chgnet_structures_per_hour: (c.done / c.wallSeconds) * 3600,
        // where the inference-slot time outside the model goes. relax and forces run on the
        // inference slots; validate, displace, phonons and classify on the light slots, which
        // share the same cores (on this 2-core machine their CPU time is taken from the
        // inference slots, so inference-slot time not in a step is mostly light-step compute)
        chgnet_slot_time_breakdown: (() => {
          const inference = c.steps.filter((t) => t.step === 'relax' || t.step === 'forces');
          const light = c.steps.filter((t) => t.step !== 'relax' && t.step !== 'forces');
          const sum = (xs: typeof c.steps, f: (t: (typeof c.steps)[number]) => number) => xs.reduce((acc, t) => acc + f(t), 0) / 1000;
          return {
            inference_slot_s: cslot / 1000,
            model_s: c.modelMs / 1000,
            inference_steps_outside_model_s: Object.fromEntries(inference.map((t) => [t.step, (t.duration_ms - t.model_ms) / 1000])),
            inference_slot_s_outside_inference_steps: cslot / 1000 - sum(inference, (t) => t.duration_ms),
            light_steps_s: Object.fromEntries(light.map((t) => [t.step, t.duration_ms / 1000])),
            light_steps_total_s: sum(light, (t) => t.duration_ms),
            // the inference activities' time on their slots (from the workflow histories): what is
            // left of the slot time is idle (no activity running: polling, scheduling gaps, startup, tail)
            inference_activities_s: Object.fromEntries(Object.entries(c.activities).filter(([k]) => k === 'relaxStep' || k === 'forcesStep').map(([k, v]) => [k, v.start_to_close_s])),
            inference_slot_idle_s: cslot / 1000 - Object.entries(c.activities).filter(([k]) => k === 'relaxStep' || k === 'forcesStep').reduce((acc, [, v]) => acc + v.start_to_close_s, 0),
            activities: c.activities,
            // each separate commit of an activity waits this long (a computed step is one commit,
            // store.putComputedStep; a served one too, store.serveStep)
            postgres_commit_ms: c.commitMs,
            startup_s: c.startupSeconds,
            tail_s: c.tailSeconds,
            steps: c.steps,
            note: 'inference_slot_s = wall × inference slots (the denominator of outside_model_share); light steps run on separate light slots on the same cores; startup: launch of softmode run (ingest, workflow start, model load) to the first step start; tail: last step end to exit',
          };
        })(),
      };
      const stamp = new Date().toISOString();
      const cmd = `npm run bench:scale -- ${a.argv.join(' ')}`.trim();
      // the textbook campaign keeps its top-level keys (the issue's first measurement, the worst
      // case: ~0.8 s of model time per structure); other workloads get their own object
      if (a.chgnetInputs === 'textbook') Object.assign(out, measured);
      else out[`chgnet_${a.chgnetInputs}`] = { ...measured, measured_at: stamp, command: cmd };
      const byWorkload = (out['outside_model_share_by_workload'] ?? {}) as Record<string, unknown>;
      if (!byWorkload['textbook'] && typeof previous['outside_model_share'] === 'number') {
        byWorkload['textbook'] = { outside_model_share: previous['outside_model_share'], structures: previous['chgnet_structures'], wall_s: previous['chgnet_wall_seconds'], measured_at: previous['chgnet_measured_at'], command: previous['chgnet_command'] };
      }
      byWorkload[a.chgnetInputs] = { outside_model_share: share, outside_model_share_without_startup_and_tail: measured['outside_model_share_without_startup_and_tail'], startup_s: c.startupSeconds, tail_s: c.tailSeconds, structures: c.structures, wall_s: c.wallSeconds, measured_at: stamp, command: cmd };
      out['outside_model_share_by_workload'] = byWorkload;
    }
    out['definitions'] = {
      overhead_ms_per_structure: '(wall time × worker slots − Σ step compute time) / structures done: slot time per structure not spent inside a step computation (Temporal scheduling, DB I/O, queueing)',
      outside_model_share: '1 − (time inside potential evaluation) / (wall time × worker slots), CHGNet campaign',
      outside_model_share_without_startup_and_tail: 'the same with (startup + tail) × slots taken out of the slot time: startup = launch of softmode run (worker start beside it, ingest, workflow starts) to the first step, tail = last step to exit; once per campaign, so a long campaign approaches this figure',
      server_peak_rss_mb: 'VmHWM of the Temporal dev server process',
      worker_peak_rss_mb: 'VmHWM of the softmode worker process tree (its supervisor and the worker process with its compute threads), summed',
      max_history_events: 'largest historyLength over every structure workflow and every campaign-parent run',
    };
    const stamp = new Date().toISOString();
    const cmd = `npm run bench:scale -- ${a.argv.join(' ')}`.trim();
    if (a.onlyChgnet) {
      if (a.chgnetInputs === 'textbook') out['chgnet_measured_at'] = stamp;
      if (a.chgnetInputs === 'textbook') out['chgnet_command'] = cmd;
    } else {
      out['measured_at'] = stamp;
      out['command'] = cmd;
    }
  } finally {
    if (!a.keep) await stopServices(dir);
  }
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(resultPath, JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(out, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
