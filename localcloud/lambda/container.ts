/**
 * One warm Lambda execution environment: a `worker_threads` Worker running `runtime-worker.mjs` with the
 * function's environment. It loads the handler as soon as it starts (the Init phase, reported through
 * `initialized`) and then serves one invocation at a time. The pool (`service.ts`) times the init and
 * each invocation separately, terminates the container on timeout and replaces it after a crash, so a
 * misbehaving handler never takes the local cloud down.
 */
import { Worker } from 'node:worker_threads';
import type { InvokeMessage, RuntimeErrorPayload, WorkerData, WorkerMessage } from './worker-protocol';

export type InvocationOutcome =
  | { ok: true; payload: string }
  | { ok: false; error: RuntimeErrorPayload; recycle: boolean };

/** How the Init phase (worker start + handler module load) ended. */
export type InitOutcome =
  | { ok: true; durationMs: number }
  /** `fatal`: the worker is gone (it exited or crashed during init); otherwise it can re-run the init. */
  | { ok: false; durationMs: number; error: RuntimeErrorPayload; fatal: boolean };

/** What the worker gets as `workerData`, plus its environment and where its log text goes. */
export interface ContainerOptions extends WorkerData {
  env: Record<string, string>;
  onLog: (text: string) => void;
}

const WORKER_URL = new URL('./runtime-worker.mjs', import.meta.url);

/**
 * `STEPSAGA_CPU_PROF_DIR=DIR`: every container writes a V8 CPU profile of its thread to DIR when it ends
 * (`--cpu-prof`; the main thread's comes from `node --cpu-prof`), see docs/performance.md.
 */
const PROFILE_DIR = process.env.STEPSAGA_CPU_PROF_DIR;
const WORKER_EXEC_ARGV = PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [];

interface InFlight {
  requestId: string;
  resolve: (outcome: InvocationOutcome) => void;
}

export class Container {
  private readonly worker: Worker;
  private inFlight: InFlight | undefined;
  private exited = false;
  /** Set when the container must not serve again (crashed, timed out, exited). */
  dead = false;
  lastUsed = Date.now();
  /** Settles once, when the Init phase ends (never rejects). */
  readonly initialized: Promise<InitOutcome>;
  /** Whether an invocation has already reported this container's init (`Init Duration` on cold starts). */
  initReported = false;
  private settleInit: (outcome: InitOutcome) => void = () => undefined;
  private readonly spawnedAt = performance.now();

  constructor(private readonly options: ContainerOptions) {
    this.initialized = new Promise<InitOutcome>((resolve) => {
      let settled = false;
      this.settleInit = (outcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
    });
    this.worker = new Worker(WORKER_URL, {
      workerData: {
        codeDir: options.codeDir,
        handler: options.handler,
        functionName: options.functionName,
        functionArn: options.functionArn,
        memoryMb: options.memoryMb,
        logGroupName: options.logGroupName,
        logStreamName: options.logStreamName,
      } satisfies WorkerData,
      env: options.env,
      execArgv: WORKER_EXEC_ARGV,
      stdout: false,
      stderr: false,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(options.memoryMb, 128) },
    });
    this.worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    this.worker.on('error', (error: Error) => {
      // An error escaping the worker (e.g. out of memory): report it for the invocation in flight.
      const errorType = /out of memory/i.test(error.message) ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
      this.failInit({ errorType, errorMessage: `Error: ${error.message}` });
      this.finish({
        ok: false,
        recycle: true,
        error: {
          errorType,
          errorMessage: `RequestId: ${this.inFlight?.requestId ?? ''} Error: ${error.message}`,
        },
      });
    });
    this.worker.on('exit', (code: number) => {
      this.exited = true;
      this.dead = true;
      const requestId = this.inFlight?.requestId ?? '';
      this.failInit({
        errorType: 'Runtime.ExitError',
        errorMessage: `Error: Runtime exited with error: exit status ${code}`,
      });
      this.finish({
        ok: false,
        recycle: true,
        error: {
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code}`,
        },
      });
    });
  }

  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  invoke(
    requestId: string,
    payload: string,
    deadline: number,
    clientContext?: unknown,
  ): Promise<InvocationOutcome> {
    if (this.inFlight) throw new Error('container is busy');
    return new Promise<InvocationOutcome>((resolve) => {
      this.inFlight = { requestId, resolve };
      this.lastUsed = Date.now();
      this.worker.postMessage({
        type: 'invoke',
        requestId,
        payload,
        deadline,
        clientContext,
      } satisfies InvokeMessage);
    });
  }

  /** Stops the worker (timeouts, shutdown). Any invocation in flight gets `outcome`. */
  async terminate(outcome?: InvocationOutcome): Promise<void> {
    this.dead = true;
    if (outcome) this.finish(outcome);
    if (!this.exited) await this.worker.terminate();
  }

  private get initDurationMs(): number {
    return performance.now() - this.spawnedAt;
  }

  private failInit(error: RuntimeErrorPayload): void {
    this.settleInit({ ok: false, fatal: true, durationMs: this.initDurationMs, error });
  }

  private finish(outcome: InvocationOutcome): void {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    if (outcome.ok === false && outcome.recycle) this.dead = true;
    inFlight?.resolve(outcome);
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'init':
        this.settleInit(
          message.ok
            ? { ok: true, durationMs: this.initDurationMs }
            : { ok: false, fatal: false, durationMs: this.initDurationMs, error: message.error },
        );
        return;
      case 'log':
        this.options.onLog(message.text);
        return;
      case 'result':
        if (message.requestId !== this.inFlight?.requestId) return;
        this.finish(
          message.ok
            ? { ok: true, payload: message.payload }
            : { ok: false, error: message.error, recycle: false },
        );
        return;
      case 'fatal':
        this.finish({ ok: false, error: message.error, recycle: true });
        return;
      default:
        return;
    }
  }
}
