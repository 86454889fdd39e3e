/**
 * The messages between a Lambda container (`container.ts`, main thread) and its worker thread
 * (`runtime-worker.mjs`), defined once for both ends. Types only: the worker is plain JavaScript (it must
 * start without a TypeScript loader) and reads these through JSDoc (`@import`), so tsc checks both sides
 * against the same shapes while the worker loads nothing at run time.
 */

/** An error as the Node.js Lambda runtime reports it (`errorType`, `errorMessage`, `trace`). */
export interface RuntimeErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** The worker's `workerData`: which handler to load and what its Lambda context says. */
export interface WorkerData {
  codeDir: string;
  /** `file.export` (or `file.a.b`), relative to `codeDir`. */
  handler: string;
  functionName: string;
  functionArn: string;
  memoryMb: number;
  logGroupName: string;
  logStreamName: string;
}

/** Container -> worker: run one invocation. */
export interface InvokeMessage {
  type: 'invoke';
  requestId: string;
  /** The event as JSON text (not JSON: handed to the handler as the string). */
  payload: string;
  /** Epoch ms when the invocation times out (`context.getRemainingTimeInMillis`). */
  deadline: number;
  clientContext?: unknown;
  /** `context.identity`; the container sends none today, so handlers see `undefined`, as without Cognito. */
  identity?: unknown;
}

/** Worker -> container. `init` comes once, at start; `fatal` means the worker must be recycled. */
export type WorkerMessage =
  | { type: 'init'; ok: true }
  | { type: 'init'; ok: false; error: RuntimeErrorPayload }
  | { type: 'log'; text: string }
  | { type: 'result'; requestId: string; ok: true; payload: string }
  | { type: 'result'; requestId: string; ok: false; error: RuntimeErrorPayload }
  | { type: 'fatal'; requestId?: string; error: RuntimeErrorPayload };
