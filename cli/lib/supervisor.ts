// Keeps in-process workers running: a worker set that fails (Temporal server gone, connection
// lost) is shut down and started again after a pause, until stop() is called.
import { type QueueName, type WorkerSet, startWorkers } from '../../workers/index.js';

export interface SupervisorOptions {
  temporalAddress: string;
  databaseUrl: string;
  queues: readonly QueueName[];
  inferenceSlots?: number;
  lightSlots?: number;
  log?: (m: string) => void;
  restartDelayMs?: number;
}

export class WorkerSupervisor {
  private stopping = false;
  private current: WorkerSet | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  restarts = 0;

  constructor(private readonly o: SupervisorOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        this.current = await startWorkers({
          temporalAddress: this.o.temporalAddress,
          databaseUrl: this.o.databaseUrl,
          queues: this.o.queues,
          ...(this.o.inferenceSlots !== undefined ? { inferenceSlots: this.o.inferenceSlots } : {}),
          ...(this.o.lightSlots !== undefined ? { lightSlots: this.o.lightSlots } : {}),
          ...(this.o.log ? { log: this.o.log } : {}),
        });
        if (this.stopping) break;
        await this.current.done;
        if (!this.stopping) this.o.log?.('workers stopped unexpectedly; restarting');
      } catch (e) {
        if (!this.stopping) this.o.log?.(`workers failed: ${(e as Error).message}; restarting`);
      } finally {
        const c = this.current;
        this.current = undefined;
        await c?.shutdown().catch(() => undefined);
      }
      if (this.stopping) break;
      this.restarts++;
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, this.o.restartDelayMs ?? 2000);
      });
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.current?.shutdown().catch(() => undefined);
    await this.loop?.catch(() => undefined);
  }
}
