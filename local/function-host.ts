// Hosts one bundled Lambda function in its own worker thread with its own environment, the way one
// Lambda execution environment runs it: one invocation at a time (others wait their turn), a
// timeout after which the environment is thrown away and a fresh one starts, and the function's
// stdout/stderr (Powertools' JSON logs and EMF metrics) written to its own log file.
import { createWriteStream, type WriteStream } from 'node:fs';
import { Worker } from 'node:worker_threads';

const WORKER_FILE = new URL('./handler-worker.mjs', import.meta.url);

export interface FunctionSpec {
  readonly name: string;
  /** Absolute path of the bundle's module file. */
  readonly module: string;
  readonly exportName: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly memoryMb: number;
  readonly region: string;
  readonly accountId: string;
  /** Shared clock offset (local/clock.ts). */
  readonly clock: SharedArrayBuffer;
  readonly logFile: string;
}

/** The function threw, timed out or failed to start (Lambda's "Unhandled" function error). */
export class FunctionError extends Error {
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    message: string,
  ) {
    super(`${functionName}: ${errorType}: ${message}`);
    this.name = 'FunctionError';
  }
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class FunctionHost {
  readonly spec: FunctionSpec;
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly log: WriteStream;
  private tail: Promise<unknown> = Promise.resolve();
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;
  /** Invocations started and failed, for the banner and tests. */
  invocations = 0;
  errors = 0;

  constructor(spec: FunctionSpec) {
    this.spec = spec;
    this.log = createWriteStream(spec.logFile, { flags: 'a' });
  }

  /** Starts the execution environment (a cold start) and waits until the bundle has loaded. */
  start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(WORKER_FILE, {
      env: { ...this.spec.environment },
      stdout: true,
      stderr: true,
      workerData: {
        clock: this.spec.clock,
        module: this.spec.module,
        exportName: this.spec.exportName,
        functionName: this.spec.name,
        memoryMb: this.spec.memoryMb,
        timeoutMs: this.spec.timeoutMs,
        region: this.spec.region,
        accountId: this.spec.accountId,
      },
    });
    this.worker = worker;
    worker.stdout.pipe(this.log, { end: false });
    worker.stderr.pipe(this.log, { end: false });
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'init-error')
          reject(new FunctionError(this.spec.name, 'Runtime.InitError', message.error.message));
        else if (message.type === 'result') this.settle(message);
      });
      worker.on('error', (error) => {
        reject(error);
        this.failAll(new FunctionError(this.spec.name, 'Runtime.ExitError', error.message));
        this.discard(worker);
      });
      worker.on('exit', (code) => {
        reject(new FunctionError(this.spec.name, 'Runtime.ExitError', `exited with code ${code}`));
        this.failAll(new FunctionError(this.spec.name, 'Runtime.ExitError', `exited with code ${code}`));
        this.discard(worker);
      });
    });
    return this.ready;
  }

  /** Invokes the handler with `event` (queued behind any running invocation) and answers its result. */
  invoke(event: unknown): Promise<unknown> {
    const run = this.tail.then(
      () => this.invokeNow(event),
      () => this.invokeNow(event),
    );
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async invokeNow(event: unknown): Promise<unknown> {
    if (this.stopped)
      throw new FunctionError(this.spec.name, 'Runtime.Stopped', 'the local runtime is stopping');
    await this.start();
    const worker = this.worker;
    if (!worker) throw new FunctionError(this.spec.name, 'Runtime.ExitError', 'no execution environment');
    this.invocations++;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.errors++;
        reject(
          new FunctionError(this.spec.name, 'Sandbox.Timedout', `timed out after ${this.spec.timeoutMs} ms`),
        );
        // Lambda discards an environment whose invocation timed out.
        this.discard(worker);
        void worker.terminate();
      }, this.spec.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ type: 'invoke', id, event });
    });
  }

  private settle(message: ResultMessage): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.error) {
      this.errors++;
      pending.reject(new FunctionError(this.spec.name, message.error.name, message.error.message));
    } else pending.resolve(message.result);
  }

  private failAll(error: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(error);
    }
  }

  private discard(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.ready = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new FunctionError(this.spec.name, 'Runtime.Stopped', 'the local runtime is stopping'));
    if (worker) await worker.terminate();
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

type ResultMessage = {
  type: 'result';
  id: number;
  result?: unknown;
  error?: { name: string; message: string };
};
type WorkerMessage =
  | { type: 'ready' }
  | { type: 'init-error'; error: { name: string; message: string } }
  | ResultMessage;
