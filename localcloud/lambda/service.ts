/**
 * The local cloud's AWS Lambda: the Lambda REST API (`/2015-03-31/functions...`) over warm worker-thread
 * containers (`container.ts`).
 *
 * Concurrency, as Lambda under a burst (limits in `limits.ts`): the invocations in flight are counted per
 * account (`concurrencyLimit`, default 1000, AWS's account quota) or, for a function with reserved
 * concurrency, against its own share (taken out of the account's pool). A synchronous invocation beyond
 * its pool is throttled at once: 429 `TooManyRequestsException` `Rate Exceeded.` with `Reason`
 * `ConcurrentInvocationLimitExceeded` (`ReservedFunctionConcurrentInvocationLimitExceeded`), which callers
 * (Step Functions' Retry on `Lambda.TooManyRequestsException`, the SDK's retry strategy) handle as on AWS.
 * Within the limit, an invocation that finds the function's containers (up to `maxContainersPerFunction`
 * worker threads) busy waits for one, in order: that wait stands for AWS's scale-out. Asynchronous
 * (Event) invocations are never refused for concurrency: they wait in the function's event queue and run
 * as concurrency frees up, as Lambda's internal queue retries throttled events (discarded, with a log
 * line, past the maximum event age).
 *
 * Init: a new container loads the handler module first (Lambda's Init phase). That phase has its own
 * limit (`initTimeoutSeconds`, 10 s like Lambda's on-demand init) and does not count toward the
 * function's `Timeout`, whose clock starts when the handler is called. The first invocation of a container
 * logs `Init Duration` in its REPORT line; an init that fails logs `INIT_REPORT ... Status: error` and is
 * re-run inside the invoke, which then answers the Node.js runtime's init error
 * (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`, `Runtime.UserCodeSyntaxError`, or the error
 * the module threw). An init that outlives its limit logs `INIT_REPORT ... Status: timeout`, and the init
 * is retried in a fresh container inside the invoke, under the function timeout, as Lambda does.
 * No container is started before the first invoke (Lambda does not pre-warm on-demand functions), and a
 * container idle for `idleContainerSeconds` (5 min) is ended, as Lambda reclaims idle environments: the
 * memory follows the load, and the next invoke is a cold start again.
 * Inits take init slots (`LAMBDA_LIMITS.concurrentInits`, one per CPU): a burst of cold starts queues for
 * them, and an invocation waiting for a container takes the first of its function that is free, a released
 * warm one or a new one (see `startContainer`).
 *
 * Timeouts: the function's `Timeout` terminates the container and the invoke answers
 * `{errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: <id> Error: Task timed out after N.NN seconds'}`
 * with `X-Amz-Function-Error: Unhandled`, what Lambda reports (and Step Functions sees) today.
 */

import { createHash, randomUUID } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { waitingForCapacity } from '../capacity';
import { Journal } from '../journal';
import type { AwsRequest, AwsResponse, Service } from '../types';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../types';
import { Container, type InvocationOutcome } from './container';
import { conflict, invalidParameter, LambdaApiError, notFound, tooManyRequests } from './errors';
import { LAMBDA_LIMITS } from './limits';
import type { RuntimeErrorPayload } from './worker-protocol';

export interface FunctionSpec {
  name: string;
  /** `file.export`, e.g. `index.handler`. */
  handler: string;
  runtime: string;
  /** Directory holding the function's code (the unzipped package). */
  codeDir: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  description?: string;
  role?: string;
  architectures?: string[];
  /** Reserved concurrency (`ReservedConcurrentExecutions`): the function's own share of the account's. */
  reservedConcurrency?: number;
}

export interface InvokeResult {
  statusCode: number;
  /** The response payload (JSON text), or the runtime's error payload when `functionError` is set. */
  payload: string;
  functionError?: 'Unhandled';
  /** Base64 of the last 4 KB of the invocation's log, when `logType: 'Tail'` was asked. */
  logTail?: string;
  executedVersion: '$LATEST';
  requestId: string;
}

/** The subset of Lambda's `FunctionConfiguration` the local cloud returns. */
export interface FunctionConfigurationLike {
  FunctionName: string;
  FunctionArn: string;
  Runtime: string;
  Role: string;
  Handler: string;
  CodeSize: number;
  Description: string;
  Timeout: number;
  MemorySize: number;
  LastModified: string;
  CodeSha256: string;
  Version: '$LATEST';
  Environment: { Variables: Record<string, string> };
  TracingConfig: { Mode: 'PassThrough' };
  State: 'Active';
  LastUpdateStatus: 'Successful';
  PackageType: 'Zip';
  Architectures: string[];
  EphemeralStorage: { Size: number };
  LoggingConfig: { LogFormat: 'Text'; LogGroup: string };
}

/** The local Lambda's concurrency figures (`GET /_localcloud/lambda`). */
export interface LambdaStats {
  /** The account's concurrency limit (`--lambda-concurrency`). */
  concurrencyLimit: number;
  /** Invocations in flight (running or waiting for a container). */
  inFlight: number;
  /** Event invocations waiting for concurrency. */
  queuedEvents: number;
  /** Synchronous invocations throttled (429) since the start: AWS's `Throttles` metric. */
  throttled: number;
  /** The same, per function that was throttled at least once. */
  throttledByFunction: Record<string, number>;
}

export interface LambdaServiceOptions {
  /** Where zipped code is unpacked (`<dataDir>/functions/<name>/<sha>`). */
  dataDir: string;
  /**
   * `--persist`: keep the functions created through the Lambda API (configuration in `lambda.*.jsonl`,
   * code unpacked in `<persistDir>/lambda/<name>/<sha>`, recorded relative to the directory, which can
   * move); call `restore()` after the deployment.
   */
  persistDir?: string;
  /** The edge URL, given to functions as `AWS_ENDPOINT_URL` so their SDK clients reach the local cloud. */
  endpoint: () => string;
  /** Worker-thread containers per function. @default 2 × os.availableParallelism(), at least 2 */
  maxContainersPerFunction?: number;
  /**
   * Concurrent executions of the account (all functions without reserved concurrency share what the
   * reserved ones leave); a synchronous invocation beyond it is throttled (429). @default 1000
   */
  concurrencyLimit?: number;
  /** Every log line a function writes (console, INIT_REPORT/START/END/REPORT). */
  onLog?: (functionName: string, line: string) => void;
  /**
   * The credentials a function runs with (its execution role's session, named after the function), or
   * undefined for the administrator's `test` credentials (IAM enforcement off, or a role the local cloud
   * does not know).
   */
  credentialsFor?: (
    roleArn: string | undefined,
    session: string,
  ) => { accessKeyId: string; secretAccessKey: string; sessionToken: string } | undefined;
  /** The Init phase limit (Lambda: 10 s for on-demand functions); tests shorten it. @default 10 */
  initTimeoutSeconds?: number;
  /**
   * A container idle this long is ended (as Lambda reclaims idle environments), its memory freed; the
   * next invocation starts a new one. @default LAMBDA_LIMITS.idleContainerSeconds (300)
   */
  idleContainerSeconds?: number;
}

type InitResult =
  | { status: 'ready'; durationMs: number }
  | { status: 'timeout'; durationMs: number }
  | { status: 'error'; durationMs: number; error: RuntimeErrorPayload; fatal: boolean };

interface Waiter {
  resolve: (container: Container) => void;
  reject: (error: Error) => void;
}

interface FunctionRecord {
  spec: FunctionSpec;
  config: FunctionConfigurationLike;
  containers: Container[];
  idle: Container[];
  queue: Waiter[];
  logStreamName: string;
  /** Invocations of this function in flight (running or waiting for a container). */
  inFlight: number;
  /** Event invocations waiting for concurrency, oldest first. */
  events: QueuedEvent[];
  /** Containers asked for and waiting for an init slot (not in `containers` yet). */
  starting: number;
  /** Synchronous invocations refused for concurrency (429) so far: AWS's `Throttles` metric. */
  throttled: number;
}

interface QueuedEvent {
  requestId: string;
  payload: string;
  queuedAt: number;
}

const FUNCTION_NAME =
  /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([a-zA-Z0-9_-]{1,64})(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** An asynchronous (Event) invocation's payload limit: 256 KiB. */
const MAX_EVENT_PAYLOAD_BYTES = 256 * 1024;
const TAIL_BYTES = 4096;
const NODE_RUNTIMES = /^nodejs\d+\.x$/;

/** Resolves a function name, partial ARN or full ARN (any account/region, as LocalStack does) to its name. */
export function functionNameOf(nameOrArn: string): { name: string; qualifier?: string } | undefined {
  const match = FUNCTION_NAME.exec(nameOrArn);
  if (!match?.[1]) return undefined;
  return match[2] ? { name: match[1], qualifier: match[2] } : { name: match[1] };
}

export class LambdaService implements Service {
  readonly name = 'lambda' as const;
  private readonly functions = new Map<string, FunctionRecord>();
  private readonly maxContainers: number;
  /** The account's concurrency limit. */
  readonly concurrencyLimit: number;
  private readonly initTimeoutMs: number;
  private readonly idleContainerMs: number;
  /** Ends idle containers (unref'd: never keeps the process alive). */
  private readonly reaper: NodeJS.Timeout;
  /** Invocations in flight of the functions without reserved concurrency. */
  private unreservedInFlight = 0;
  private closed = false;
  /** Init phases running at once (at most `initSlots`), and the container starts waiting for a slot. */
  private readonly initSlots = LAMBDA_LIMITS.concurrentInits();
  private initsRunning = 0;
  private readonly initQueue: Array<() => void> = [];
  /** `--persist`: the journal, and the functions created through the API it describes (by name). */
  private journal: Journal | undefined;
  private readonly created = new Map<string, SavedFunction>();

  constructor(private readonly opts: LambdaServiceOptions) {
    if (opts.persistDir) {
      const { journal, records } = Journal.open(opts.persistDir, 'lambda');
      this.journal = journal;
      for (const record of records) applyFunctionRecord(this.created, record);
    }
    this.maxContainers = opts.maxContainersPerFunction ?? LAMBDA_LIMITS.containersPerFunction();
    this.concurrencyLimit = opts.concurrencyLimit ?? LAMBDA_LIMITS.accountConcurrency;
    if (!Number.isInteger(this.concurrencyLimit) || this.concurrencyLimit < 1)
      throw new Error(`Lambda concurrency limit must be a positive integer, got ${this.concurrencyLimit}`);
    this.initTimeoutMs = (opts.initTimeoutSeconds ?? 10) * 1000;
    this.idleContainerMs = (opts.idleContainerSeconds ?? LAMBDA_LIMITS.idleContainerSeconds) * 1000;
    if (!(this.idleContainerMs > 0))
      throw new Error(`idleContainerSeconds must be positive, got ${opts.idleContainerSeconds}`);
    this.reaper = setInterval(() => this.reapIdle(), Math.min(this.idleContainerMs / 4, 30_000));
    this.reaper.unref();
  }

  /** Containers alive per function (idle or busy), for the console and tests. */
  containerCount(nameOrArn: string): number {
    return this.lookup(nameOrArn).containers.filter((c) => !c.dead).length;
  }

  /** Ends the containers that have been idle for `idleContainerSeconds` or longer. */
  reapIdle(now = Date.now()): void {
    for (const record of this.functions.values()) {
      const expired = record.idle.filter((c) => now - c.lastUsed >= this.idleContainerMs);
      if (expired.length === 0) continue;
      record.idle = record.idle.filter((c) => !expired.includes(c));
      record.containers = record.containers.filter((c) => !expired.includes(c));
      for (const container of expired) void container.terminate();
    }
  }

  functionArn(name: string): string {
    return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`;
  }

  listFunctions(): FunctionConfigurationLike[] {
    return [...this.functions.values()].map((f) => f.config);
  }

  getFunction(nameOrArn: string): FunctionConfigurationLike | undefined {
    const ref = functionNameOf(nameOrArn);
    return ref ? this.functions.get(ref.name)?.config : undefined;
  }

  async createFunction(
    spec: FunctionSpec,
    codeSha256?: string,
    codeSize?: number,
  ): Promise<FunctionConfigurationLike> {
    validateSpec(spec);
    if (this.functions.has(spec.name)) throw conflict(`Function already exist: ${spec.name}`);
    if (spec.reservedConcurrency !== undefined) {
      const reserved = this.reservedTotal() + spec.reservedConcurrency;
      if (reserved > this.concurrencyLimit)
        throw invalidParameter(
          `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0].`,
        );
    }
    const sha = codeSha256 ?? hashDirectory(spec.codeDir);
    spec = { ...spec, codeDir: this.stage(spec.name, spec.codeDir, sha) };
    const config: FunctionConfigurationLike = {
      FunctionName: spec.name,
      FunctionArn: this.functionArn(spec.name),
      Runtime: spec.runtime,
      Role: spec.role ?? `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/lambda-role`,
      Handler: spec.handler,
      CodeSize: codeSize ?? 0,
      Description: spec.description ?? '',
      Timeout: spec.timeoutSeconds,
      MemorySize: spec.memoryMb,
      LastModified: new Date().toISOString().replace('Z', '+0000'),
      CodeSha256: sha,
      Version: '$LATEST',
      Environment: { Variables: { ...spec.environment } },
      TracingConfig: { Mode: 'PassThrough' },
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      Architectures: spec.architectures ?? ['x86_64'],
      EphemeralStorage: { Size: 512 },
      LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${spec.name}` },
    };
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    this.functions.set(spec.name, {
      spec,
      config,
      containers: [],
      idle: [],
      queue: [],
      logStreamName: `${today}/[$LATEST]${randomUUID().replace(/-/g, '')}`,
      inFlight: 0,
      events: [],
      starting: 0,
      throttled: 0,
    });
    return config;
  }

  /**
   * Lambda runs `/var/task/index.js` as CommonJS unless the package itself says otherwise. A code
   * directory inside an ESM project (cdk.out under a `"type": "module"` package) would be loaded as ESM
   * by Node, so the package is staged in `dataDir` with a `{"type": "commonjs"}` marker when it has no
   * package.json of its own.
   */
  private stage(name: string, codeDir: string, sha: string): string {
    if (existsSync(path.join(codeDir, 'package.json'))) return codeDir;
    const staged = path.resolve(this.opts.dataDir, 'functions', name, sha.replace(/[/+=]/g, '_'));
    if (path.resolve(codeDir) !== staged) {
      rmSync(staged, { recursive: true, force: true });
      mkdirSync(path.dirname(staged), { recursive: true });
      cpSync(codeDir, staged, { recursive: true });
    }
    writeFileSync(path.join(staged, 'package.json'), '{"type":"commonjs"}\n');
    return staged;
  }

  /**
   * `--persist`: creates again the functions created through the API before the last stop (call once the
   * deployment is done: a function the assembly deployed under the same name is kept, as deployed). Their
   * code must still be where it was unpacked. The journal is then compacted. Returns how many came back.
   */
  async restore(): Promise<{ functions: number }> {
    const journal = this.journal;
    if (!journal) return { functions: 0 };
    let functions = 0;
    for (const [name, saved] of this.created) {
      if (this.functions.has(name)) {
        this.created.delete(name);
        continue;
      }
      const spec = { ...saved.spec, codeDir: this.persisted(saved.spec.codeDir) };
      if (!existsSync(spec.codeDir))
        throw new Error(
          `--persist: the code of function ${name} (created through the Lambda API) is gone from ${spec.codeDir}; restore it, or remove the function's records from ${this.opts.persistDir}/lambda.*.jsonl`,
        );
      const config = await this.createFunction(spec, saved.sha, saved.size);
      if (saved.modified) config.LastModified = saved.modified;
      functions++;
    }
    journal.compact([...this.created.values()].map((f) => ({ k: 'f', ...f })));
    return { functions };
  }

  /** `--persist`: a path recorded relative to the directory, resolved. */
  private persisted(relative: string): string {
    return path.resolve(this.opts.persistDir ?? '', relative);
  }

  async deleteFunction(nameOrArn: string): Promise<void> {
    const record = this.lookup(nameOrArn);
    this.functions.delete(record.spec.name);
    if (this.journal) {
      const deleted = { k: 'fd', name: record.spec.name };
      this.journal.append(deleted);
      const saved = this.created.get(record.spec.name);
      applyFunctionRecord(this.created, deleted);
      if (saved) rmSync(path.dirname(this.persisted(saved.spec.codeDir)), { recursive: true, force: true });
    }
    for (const waiter of record.queue) waiter.reject(notFound(record.config.FunctionArn));
    await Promise.all(record.containers.map((c) => c.terminate()));
  }

  /**
   * Invokes a function synchronously (RequestResponse). Function errors are results, not exceptions.
   * `functionName` may carry a qualifier (`name:$LATEST`, `arn...:function:name:$LATEST`); the local
   * cloud publishes no versions or aliases, so any other qualifier is not found.
   */
  async invoke(
    functionName: string,
    payload: string,
    options: { logType?: 'Tail'; clientContext?: unknown; requestId?: string } = {},
  ): Promise<InvokeResult> {
    const record = this.lookupInvoked(functionName);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      throw new LambdaApiError(
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
      );
    }
    this.admit(record);
    try {
      return await this.run(record, payload, options);
    } finally {
      this.leave(record);
    }
  }

  /** One admitted invocation: a container (waiting for one if all are busy), Init, the handler. */
  private async run(
    record: FunctionRecord,
    payload: string,
    options: { logType?: 'Tail'; clientContext?: unknown; requestId?: string },
  ): Promise<InvokeResult> {
    const requestId = options.requestId ?? randomUUID();
    const { spec } = record;
    const log: string[] = [];
    const emit = (line: string): void => {
      log.push(line);
      this.opts.onLog?.(spec.name, line);
    };
    const sink = (text: string): void => {
      for (const line of text.split('\n')) if (line.length > 0) emit(line);
    };
    let container = await this.acquire(record, sink);
    const timeoutMs = spec.timeoutSeconds * 1000;
    const timedOutError = {
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${requestId} Error: Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`,
    };
    // Init phase (cold container): its own limit, outside the function timeout.
    const init = await this.awaitInit(container);
    let initDuration: number | undefined;
    let initOutcome: InvocationOutcome | undefined;
    if (init !== 'warm') {
      initDuration = init.durationMs;
      if (init.status === 'timeout') {
        // Lambda retries a timed-out Init phase in a fresh environment during the invoke, under the
        // function timeout (the retried init counts toward it).
        emit(`INIT_REPORT Init Duration: ${init.durationMs.toFixed(2)} ms\tPhase: init\tStatus: timeout`);
        container = await this.replace(record, container, sink);
        initDuration = undefined;
      } else if (init.status === 'error') {
        emit(
          `INIT_REPORT Init Duration: ${init.durationMs.toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${init.error.errorType}`,
        );
        // The worker re-runs the failed init inside the invoke (and reports its error); a dead worker
        // cannot, so its init error is the invocation's result.
        if (init.fatal) {
          initOutcome = { ok: false, recycle: true, error: withRequestId(init.error, requestId) };
        }
      }
    }
    const started = performance.now();
    emit(`START RequestId: ${requestId} Version: $LATEST`);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<InvocationOutcome>((resolve) => {
      timer = setTimeout(() => {
        const outcome: InvocationOutcome = { ok: false, recycle: true, error: timedOutError };
        void container.terminate(outcome);
        resolve(outcome);
      }, timeoutMs);
    });
    let outcome: InvocationOutcome;
    try {
      outcome =
        initOutcome ??
        (await Promise.race([
          container.invoke(requestId, payload, Date.now() + timeoutMs, options.clientContext),
          timedOut,
        ]));
    } finally {
      clearTimeout(timer);
    }
    const durationMs = performance.now() - started;
    if (!outcome.ok && outcome.error.errorType === 'Sandbox.Timedout') {
      emit(
        `${new Date().toISOString()} ${requestId} Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`,
      );
    }
    emit(`END RequestId: ${requestId}`);
    const coldStart = initDuration === undefined ? '' : `\tInit Duration: ${initDuration.toFixed(2)} ms`;
    emit(
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\tMemory Size: ${spec.memoryMb} MB\tMax Memory Used: ${Math.round(process.memoryUsage.rss() / 1048576)} MB${coldStart}`,
    );
    this.release(record, container);
    const result: InvokeResult = outcome.ok
      ? { statusCode: 200, payload: outcome.payload, executedVersion: '$LATEST', requestId }
      : {
          statusCode: 200,
          payload: JSON.stringify(outcome.error),
          functionError: 'Unhandled',
          executedVersion: '$LATEST',
          requestId,
        };
    if (options.logType === 'Tail') result.logTail = tail(log);
    return result;
  }

  /**
   * Invocation type Event: throws at once when the function cannot be invoked or the event exceeds
   * 256 KiB (413, as Lambda answers before queueing), else queues the invocation and returns its
   * request id. It is never throttled: it waits in the function's event queue until concurrency is free
   * (Lambda's internal queue retries a throttled event). Its outcome is not the caller's: a failure to run
   * it is logged under the function.
   */
  invokeAsync(functionName: string, payload: string): { requestId: string } {
    const record = this.lookupInvoked(functionName);
    if (Buffer.byteLength(payload) > MAX_EVENT_PAYLOAD_BYTES) {
      throw new LambdaApiError(
        413,
        'RequestEntityTooLargeException',
        `Request must be smaller than ${MAX_EVENT_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
      );
    }
    const requestId = randomUUID();
    record.events.push({ requestId, payload, queuedAt: Date.now() });
    this.dispatchEvents();
    return { requestId };
  }

  /**
   * Invocations in flight and queued, and synchronous invocations throttled so far (AWS's `Throttles`
   * metric): the account's (all functions) and, when named, one function's.
   */
  concurrency(functionName?: string): { inFlight: number; queuedEvents: number; throttled: number } {
    const records = functionName ? [this.lookup(functionName)] : [...this.functions.values()];
    return {
      inFlight: records.reduce((sum, r) => sum + r.inFlight, 0),
      queuedEvents: records.reduce((sum, r) => sum + r.events.length, 0),
      throttled: records.reduce((sum, r) => sum + r.throttled, 0),
    };
  }

  /** The account's limit, what is in flight, and the throttles so far (served at `/_localcloud/lambda`). */
  stats(): LambdaStats {
    const throttledByFunction: Record<string, number> = {};
    for (const [name, record] of this.functions)
      if (record.throttled > 0) throttledByFunction[name] = record.throttled;
    return { concurrencyLimit: this.concurrencyLimit, ...this.concurrency(), throttledByFunction };
  }

  // ---------------------------------------------------------------------------------------------------
  // Concurrency
  // ---------------------------------------------------------------------------------------------------

  private reservedTotal(): number {
    let total = 0;
    for (const r of this.functions.values()) total += r.spec.reservedConcurrency ?? 0;
    return total;
  }

  /** Whether one more invocation of `record` fits in its pool (its reserved share, or the account's rest). */
  private hasCapacity(record: FunctionRecord): boolean {
    const reserved = record.spec.reservedConcurrency;
    if (reserved !== undefined) return record.inFlight < reserved;
    return this.unreservedInFlight < this.concurrencyLimit - this.reservedTotal();
  }

  /** Counts a synchronous invocation in, or throttles it at once (429) when its pool is full. */
  private admit(record: FunctionRecord): void {
    if (!this.hasCapacity(record)) {
      record.throttled++;
      throw tooManyRequests(
        record.spec.reservedConcurrency === undefined
          ? 'ConcurrentInvocationLimitExceeded'
          : 'ReservedFunctionConcurrentInvocationLimitExceeded',
      );
    }
    this.enter(record);
  }

  private enter(record: FunctionRecord): void {
    record.inFlight++;
    if (record.spec.reservedConcurrency === undefined) this.unreservedInFlight++;
  }

  private leave(record: FunctionRecord): void {
    record.inFlight--;
    if (record.spec.reservedConcurrency === undefined) this.unreservedInFlight--;
    this.dispatchEvents();
  }

  /** Runs queued Event invocations while their pools have room, oldest first per function. */
  private dispatchEvents(): void {
    if (this.closed) return;
    const maxAgeMs = LAMBDA_LIMITS.maxEventAgeSeconds * 1000;
    for (const record of this.functions.values()) {
      while (record.events.length > 0 && this.hasCapacity(record)) {
        const event = record.events.shift();
        if (!event) break;
        const { name } = record.spec;
        if (Date.now() - event.queuedAt > maxAgeMs) {
          this.opts.onLog?.(
            name,
            `Asynchronous invocation ${event.requestId} was discarded: older than the maximum event age (${LAMBDA_LIMITS.maxEventAgeSeconds} s)`,
          );
          continue;
        }
        this.enter(record);
        this.run(record, event.payload, { requestId: event.requestId })
          .catch((error: unknown) => {
            const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
            this.opts.onLog?.(name, `Asynchronous invocation ${event.requestId} was not run: ${reason}`);
          })
          .finally(() => this.leave(record));
      }
    }
  }

  /** Throws Invoke's error when the function (and qualifier) cannot be invoked. */
  assertInvocable(functionName: string): void {
    this.lookupInvoked(functionName);
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    try {
      return await this.route(req);
    } catch (error) {
      if (error instanceof LambdaApiError) return error.toResponse();
      const message = error instanceof Error ? error.message : String(error);
      return new LambdaApiError(500, 'ServiceException', message, 'Service').toResponse();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    this.journal?.close();
    this.journal = undefined;
    const records = [...this.functions.values()];
    this.functions.clear();
    for (const record of records) {
      record.events.length = 0;
      for (const waiter of record.queue) waiter.reject(new Error('Lambda service closed'));
    }
    await Promise.all(records.flatMap((r) => r.containers.map((c) => c.terminate())));
  }

  // ---------------------------------------------------------------------------------------------------
  // REST API
  // ---------------------------------------------------------------------------------------------------

  private async route(req: AwsRequest): Promise<AwsResponse> {
    const match = /^\/2015-03-31\/functions(?:\/([^/]+))?(?:\/(invocations|configuration|code))?\/?$/.exec(
      req.path,
    );
    if (!match) {
      return new LambdaApiError(
        404,
        'UnknownOperationException',
        `Unknown operation ${req.method} ${req.path}`,
      ).toResponse();
    }
    const name = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const sub = match[2];
    if (name === undefined) {
      if (req.method === 'GET') return this.apiList(req);
      if (req.method === 'POST') return this.apiCreate(req);
    } else if (sub === undefined) {
      if (req.method === 'GET') {
        const config = this.lookup(name).config;
        return json(200, {
          Configuration: config,
          Code: {
            RepositoryType: 'S3',
            Location: `${req.endpoint}/_localcloud/lambda/${config.FunctionName}/code`,
          },
          Tags: {},
        });
      }
      if (req.method === 'DELETE') {
        await this.deleteFunction(name);
        return { status: 204 };
      }
    } else if (sub === 'configuration' && req.method === 'GET') {
      return json(200, this.lookup(name).config);
    } else if (sub === 'invocations' && req.method === 'POST') {
      return this.apiInvoke(name, req);
    }
    return new LambdaApiError(
      405,
      'UnknownOperationException',
      `Unsupported ${req.method} ${req.path}`,
    ).toResponse();
  }

  private apiList(req: AwsRequest): AwsResponse {
    const all = this.listFunctions();
    const maxItems = Math.min(Number(req.query.get('MaxItems') ?? 50) || 50, 10_000);
    const start = Number(req.query.get('Marker') ?? 0) || 0;
    const page = all.slice(start, start + maxItems);
    const next = start + maxItems < all.length ? { NextMarker: String(start + maxItems) } : {};
    return json(200, { Functions: page, ...next });
  }

  private async apiCreate(req: AwsRequest): Promise<AwsResponse> {
    const body = parseBody(req.body);
    const name = stringField(body, 'FunctionName');
    const ref = functionNameOf(name);
    if (!ref || ref.qualifier)
      throw invalidParameter(
        `1 validation error detected: Value '${name}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern`,
      );
    const code = body.Code;
    if (!isRecord(code) || typeof code.ZipFile !== 'string') {
      throw invalidParameter(
        'Code.ZipFile is required: the local cloud deploys zip packages (S3 and image code are not supported)',
      );
    }
    if (this.functions.has(ref.name)) throw conflict(`Function already exist: ${ref.name}`);
    const zip = Buffer.from(code.ZipFile, 'base64');
    const sha = createHash('sha256').update(zip).digest('base64');
    // --persist: the code is kept in the directory (the function comes back at the next start).
    const codeDir = this.opts.persistDir
      ? path.join(this.opts.persistDir, 'lambda', ref.name, sha.replace(/[/+=]/g, '_'))
      : path.join(this.opts.dataDir, 'functions', ref.name, sha.replace(/[/+=]/g, '_'));
    unpack(zip, codeDir);
    const environment =
      isRecord(body.Environment) && isRecord(body.Environment.Variables) ? body.Environment.Variables : {};
    const spec: FunctionSpec = {
      name: ref.name,
      handler: stringField(body, 'Handler'),
      runtime: stringField(body, 'Runtime'),
      codeDir,
      environment: Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)])),
      timeoutSeconds: numberField(body, 'Timeout', 3),
      memoryMb: numberField(body, 'MemorySize', 128),
      description: typeof body.Description === 'string' ? body.Description : '',
      ...(typeof body.Role === 'string' ? { role: body.Role } : {}),
      ...(Array.isArray(body.Architectures) ? { architectures: body.Architectures.map(String) } : {}),
    };
    let config: FunctionConfigurationLike;
    try {
      config = await this.createFunction(spec, sha, zip.length);
    } catch (error) {
      if (this.opts.persistDir) rmSync(codeDir, { recursive: true, force: true });
      throw error;
    }
    if (this.journal) {
      const kept = { ...spec, codeDir: path.relative(this.opts.persistDir ?? '', codeDir) };
      const record = { k: 'f', spec: kept, sha, size: zip.length, modified: config.LastModified };
      this.journal.append(record);
      applyFunctionRecord(this.created, record);
    }
    return json(201, config);
  }

  private async apiInvoke(name: string, req: AwsRequest): Promise<AwsResponse> {
    const qualifier = req.query.get('Qualifier');
    const ref = functionNameOf(name);
    if (qualifier && ref?.qualifier && qualifier !== ref.qualifier)
      throw invalidParameter(
        'The derived qualifier from the function name does not match the specified qualifier.',
      );
    const invoked = qualifier && ref && !ref.qualifier ? `${name}:${qualifier}` : name;
    this.lookupInvoked(invoked);
    const type = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    const payload = req.body.length > 0 ? req.body.toString('utf8') : '{}';
    try {
      JSON.parse(payload);
    } catch {
      throw new LambdaApiError(
        400,
        'InvalidRequestContentException',
        'Could not parse request body into json: Unexpected character',
      );
    }
    if (type === 'DryRun') return { status: 204, headers: { 'x-amz-executed-version': '$LATEST' } };
    if (type === 'Event') {
      const { requestId } = this.invokeAsync(invoked, payload);
      return { status: 202, headers: { 'x-amz-executed-version': '$LATEST', 'x-amzn-requestid': requestId } };
    }
    if (type !== 'RequestResponse') {
      throw invalidParameter(
        `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      );
    }
    const logType = header(req, 'x-amz-log-type');
    const result = await this.invoke(invoked, payload, logType === 'Tail' ? { logType: 'Tail' } : {});
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amz-executed-version': result.executedVersion,
      'x-amzn-requestid': result.requestId,
    };
    if (result.functionError) headers['x-amz-function-error'] = result.functionError;
    if (result.logTail !== undefined) headers['x-amz-log-result'] = result.logTail;
    return { status: result.statusCode, headers, body: result.payload };
  }

  // ---------------------------------------------------------------------------------------------------
  // Pool
  // ---------------------------------------------------------------------------------------------------

  /**
   * The function an Invoke names. Invoke's not-found error names the qualified ARN (`...:$LATEST` when
   * no qualifier was given), unlike GetFunction's.
   */
  private lookupInvoked(nameOrArn: string): FunctionRecord {
    const ref = functionNameOf(nameOrArn);
    if (!ref) throw notFound(nameOrArn);
    const qualifier = ref.qualifier ?? '$LATEST';
    const record = this.functions.get(ref.name);
    if (!record || qualifier !== '$LATEST') throw notFound(`${this.functionArn(ref.name)}:${qualifier}`);
    return record;
  }

  private lookup(nameOrArn: string): FunctionRecord {
    const ref = functionNameOf(nameOrArn);
    const record = ref ? this.functions.get(ref.name) : undefined;
    if (!record) throw notFound(ref ? this.functionArn(ref.name) : nameOrArn);
    return record;
  }

  private acquire(record: FunctionRecord, onLog: (text: string) => void): Promise<Container> {
    if (this.closed) return Promise.reject(new Error('Lambda service closed'));
    record.containers = record.containers.filter((c) => !c.dead);
    record.idle = record.idle.filter((c) => !c.dead);
    // Most recently used first: the warmest container, like Lambda's routing.
    const idle = record.idle.pop();
    if (idle) {
      this.currentLog.set(idle, onLog);
      return Promise.resolve(idle);
    }
    // No idle container: wait for the first one of this function that is free, an idle one released by
    // another invocation or a new one (when the pool has room) once it may start its init.
    // The wait is the local pool's, not Lambda's (which scales out): it pauses the caller's Task timeout.
    return waitingForCapacity(
      new Promise<Container>((resolve, reject) => {
        record.queue.push({
          resolve: (container) => {
            this.currentLog.set(container, onLog);
            resolve(container);
          },
          reject,
        });
        if (record.containers.length + record.starting < this.maxContainers) this.startContainer(record);
      }),
    );
  }

  /**
   * A new container for the first invocation waiting for one, once an init slot is free. A burst of cold
   * starts (the first orders, every execution a `--persist` restart takes over) queues for the local
   * cloud's CPUs instead of starting all at once: N inits at once on C cores would each take ~N/C times
   * as long, past the 10 s init limit (and a timed-out init's work is thrown away), where on AWS each
   * environment has its own CPU. An invocation served by a released container meanwhile no longer needs
   * the new one: then it is not started.
   */
  private startContainer(record: FunctionRecord): void {
    record.starting++;
    this.spawnInSlot(
      record,
      () => {
        record.starting--;
        return record.queue.length > 0;
      },
      (container) => {
        if (container) record.queue.shift()?.resolve(container);
      },
    );
  }

  /**
   * Once an init slot is free: a new container of `record` (its init releasing the slot when over) if
   * `wanted()` still holds and the function is still deployed, else none (the slot is released at once).
   */
  private spawnInSlot(
    record: FunctionRecord,
    wanted: () => boolean,
    then: (container: Container | undefined) => void,
  ): void {
    this.withInitSlot(() => {
      if (!wanted() || this.closed || this.functions.get(record.spec.name) !== record) {
        this.nextInit();
        then(undefined);
        return;
      }
      const container = this.spawn(record);
      record.containers.push(container);
      void container.initialized.then(() => this.nextInit());
      then(container);
    });
  }

  /**
   * `--persist` restart: one warm container per function before the executions it takes over go on (the
   * killed process's containers are gone, where on AWS a take-over finds Lambda's environments as they
   * were). Inits go through the init slots; resolves once they ended.
   */
  prewarm(): Promise<void> {
    const warmOne = (record: FunctionRecord) =>
      new Promise<void>((resolve) => {
        this.spawnInSlot(
          record,
          () => true,
          (container) => {
            if (!container) return resolve();
            void container.initialized.then(() => {
              // Its first invocation still reports the init (Init Duration), as the cold start it was.
              if (!container.dead) this.release(record, container);
              resolve();
            });
          },
        );
      });
    return Promise.all(
      [...this.functions.values()].filter((r) => r.containers.length === 0).map(warmOne),
    ).then(() => undefined);
  }

  /** Runs `start` once an init slot is free; `start` calls `nextInit()` when its init is over. */
  private withInitSlot(start: () => void): void {
    if (this.initsRunning < this.initSlots) {
      this.initsRunning++;
      start();
    } else this.initQueue.push(start);
  }

  /** An init slot is free: the next container start waiting for one takes it. */
  private nextInit(): void {
    const next = this.initQueue.shift();
    if (next) next();
    else this.initsRunning--;
  }

  private readonly currentLog = new WeakMap<Container, (text: string) => void>();

  private release(record: FunctionRecord, container: Container): void {
    if (this.functions.get(record.spec.name) !== record) {
      void container.terminate();
      return;
    }
    let next: Container | undefined = container;
    if (container.dead) {
      record.containers = record.containers.filter((c) => c !== container);
      next = undefined;
    }
    if (!next) {
      // A recycled container: the first waiter gets a new one (through an init slot).
      if (
        record.queue.length > record.starting &&
        record.containers.length + record.starting < this.maxContainers
      )
        this.startContainer(record);
      return;
    }
    const waiter = record.queue.shift();
    if (waiter) waiter.resolve(next);
    else {
      next.lastUsed = Date.now();
      record.idle.push(next);
    }
  }

  /**
   * Waits for a container's Init phase under the init limit. `'warm'`: an earlier invocation already
   * reported this container's init (only the first invocation of a container is a cold start).
   */
  private async awaitInit(container: Container): Promise<'warm' | InitResult> {
    if (container.initReported) return 'warm';
    container.initReported = true;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<InitResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ status: 'timeout', durationMs: this.initTimeoutMs }),
        this.initTimeoutMs,
      );
    });
    try {
      return await Promise.race([
        container.initialized.then(
          (init): InitResult =>
            init.ok
              ? { status: 'ready', durationMs: init.durationMs }
              : { status: 'error', durationMs: init.durationMs, error: init.error, fatal: init.fatal },
        ),
        limit,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends `old` (a container that outlived the init limit) and gives its caller a fresh one. */
  private async replace(
    record: FunctionRecord,
    old: Container,
    onLog: (text: string) => void,
  ): Promise<Container> {
    await old.terminate();
    record.containers = record.containers.filter((c) => c !== old);
    const fresh = this.spawn(record);
    // The retried init runs inside the invoke, under the function timeout: not a separate cold start.
    fresh.initReported = true;
    record.containers.push(fresh);
    this.currentLog.set(fresh, onLog);
    return fresh;
  }

  private spawn(record: FunctionRecord): Container {
    const { spec } = record;
    let container: Container | undefined;
    container = new Container({
      codeDir: spec.codeDir,
      handler: spec.handler,
      functionName: spec.name,
      functionArn: record.config.FunctionArn,
      memoryMb: spec.memoryMb,
      logGroupName: `/aws/lambda/${spec.name}`,
      logStreamName: record.logStreamName,
      env: this.environmentOf(record),
      onLog: (text) => {
        const sink = container ? this.currentLog.get(container) : undefined;
        if (sink) sink(text);
        else for (const line of text.split('\n')) if (line) this.opts.onLog?.(spec.name, line);
      },
    });
    return container;
  }

  private environmentOf(record: FunctionRecord): Record<string, string> {
    const { spec } = record;
    const endpoint = this.opts.endpoint();
    const credentials = this.opts.credentialsFor?.(spec.role, spec.name);
    return {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: 'UTC',
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_LAMBDA_FUNCTION_NAME: spec.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: record.logStreamName,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT: spec.codeDir,
      LAMBDA_RUNTIME_DIR: spec.codeDir,
      _HANDLER: spec.handler,
      AWS_ACCESS_KEY_ID: credentials?.accessKeyId ?? 'test',
      AWS_SECRET_ACCESS_KEY: credentials?.secretAccessKey ?? 'test',
      AWS_SESSION_TOKEN: credentials?.sessionToken ?? 'test',
      AWS_ENDPOINT_URL: endpoint,
      // No X-Ray daemon here: the X-Ray SDK must not complain about a missing segment.
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      ...spec.environment,
    };
  }
}

// -----------------------------------------------------------------------------------------------------
// helpers
// -----------------------------------------------------------------------------------------------------

function validateSpec(spec: FunctionSpec): void {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name)) {
    throw invalidParameter(`Invalid function name '${spec.name}': 1-64 letters, digits, '-' or '_'`);
  }
  if (!NODE_RUNTIMES.test(spec.runtime)) {
    throw invalidParameter(
      `Runtime ${spec.runtime} is not supported by the local cloud (Node.js runtimes only: nodejsNN.x)`,
    );
  }
  if (!/^[^.]+(\/[^.]+)*\.[A-Za-z0-9_$.]+$/.test(spec.handler)) {
    throw invalidParameter(`Invalid handler '${spec.handler}': expected file.export, e.g. index.handler`);
  }
  if (!Number.isInteger(spec.timeoutSeconds) || spec.timeoutSeconds < 1 || spec.timeoutSeconds > 900) {
    throw invalidParameter(`Timeout ${spec.timeoutSeconds} must be an integer between 1 and 900 seconds`);
  }
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 128 || spec.memoryMb > 10_240) {
    throw invalidParameter(`MemorySize ${spec.memoryMb} must be an integer between 128 and 10240 MB`);
  }
}

/** `--persist`: a function created through the API, as its `f` record keeps it. */
interface SavedFunction {
  spec: FunctionSpec;
  sha: string;
  size: number;
  modified: string;
}

/**
 * Applies one `lambda.*.jsonl` record: `{k:'f', spec, sha, size, modified}` CreateFunction (the spec as
 * given, its code in the persist directory), `{k:'fd', name}` DeleteFunction. Others are skipped.
 */
function applyFunctionRecord(created: Map<string, SavedFunction>, raw: unknown): void {
  if (!isRecord(raw)) return;
  if (raw.k === 'fd' && typeof raw.name === 'string') created.delete(raw.name);
  if (raw.k === 'f' && isRecord(raw.spec) && typeof raw.spec.name === 'string')
    created.set(raw.spec.name, {
      spec: raw.spec as unknown as FunctionSpec,
      sha: String(raw.sha ?? ''),
      size: Number(raw.size ?? 0),
      modified: String(raw.modified ?? ''),
    });
}

function unpack(zip: Buffer, dir: string): void {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(new Uint8Array(zip));
  } catch (error) {
    throw invalidParameter(
      `Could not unzip uploaded file: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const root = path.resolve(dir);
  for (const [name, data] of Object.entries(files)) {
    const target = path.resolve(root, name);
    if (target !== root && !target.startsWith(`${root}${path.sep}`)) {
      throw invalidParameter(`Zip entry ${name} escapes the package root`);
    }
    if (name.endsWith('/')) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, data);
  }
}

function hashDirectory(dir: string): string {
  const hash = createHash('sha256');
  const walk = (current: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(current).sort();
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(current, entry);
      if (statSync(full).isDirectory()) walk(full);
      else hash.update(path.relative(dir, full)).update(readFileSync(full));
    }
  };
  walk(dir);
  return hash.digest('base64');
}

/** The runtime prefixes an environment-level error (exit, out of memory) with the request id. */
function withRequestId(error: RuntimeErrorPayload, requestId: string): RuntimeErrorPayload {
  return { ...error, errorMessage: `RequestId: ${requestId} ${error.errorMessage}` };
}

function tail(lines: string[]): string {
  const text = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  return text.subarray(Math.max(0, text.length - TAIL_BYTES)).toString('base64');
}

function json(status: number, body: unknown): AwsResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function header(req: AwsRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseBody(body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    throw invalidParameter('Request body is not valid JSON');
  }
  if (!isRecord(parsed)) throw invalidParameter('Request body must be a JSON object');
  return parsed;
}

function stringField(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value.length === 0)
    throw invalidParameter(`${key} is required (a non-empty string)`);
  return value;
}

function numberField(body: Record<string, unknown>, key: string, fallback: number): number {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number') throw invalidParameter(`${key} must be a number`);
  return value;
}
