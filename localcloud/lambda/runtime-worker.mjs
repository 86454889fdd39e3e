// @ts-check
// The Lambda "container": one worker thread that loads a function's handler once (warm start) and runs
// one invocation at a time, the way a Lambda execution environment does.
//
// Plain JavaScript on purpose: the worker must start in any host (tsx, vitest, plain node) without a
// TypeScript loader, with empty execArgv. The parent (`service.ts`) owns timeouts and recycling.
// tsc still checks this file (`@ts-check`, JSDoc types); the messages in both directions and the
// workerData are the types of `worker-protocol.ts`, shared with `container.ts`.
/** @import { InvokeMessage, RuntimeErrorPayload, WorkerData, WorkerMessage } from './worker-protocol' */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';

const { codeDir, handler, functionName, functionArn, memoryMb, logGroupName, logStreamName } =
  /** @type {WorkerData} */ (workerData);
if (!parentPort) throw new Error('runtime-worker.mjs runs only as a worker thread (it has no parentPort)');
const port = parentPort;
/** @param {WorkerMessage} message */
const post = (message) => port.postMessage(message);

/** @type {string | undefined} */
let currentRequestId;

// ------------------------------------------------------------------ log capture
// Everything the function writes (console, Powertools' own Console on process.stdout, raw writes) reaches
// the parent as text, like CloudWatch Logs would receive it.
/** @param {string} text */
const send = (text) => post({ type: 'log', text });
for (const stream of [process.stdout, process.stderr]) {
  /**
   * @param {string | Uint8Array} chunk
   * @param {BufferEncoding | ((error?: Error | null) => void)} [encoding]
   * @param {(error?: Error | null) => void} [callback]
   */
  const write = (chunk, encoding, callback) => {
    send(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') done();
    return true;
  };
  stream.write = /** @type {typeof stream.write} */ (write);
}
// The Node.js runtime prefixes console output with the timestamp, request id and level.
/** @type {Record<'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace', string>} */
const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
for (const [method, level] of /** @type {[keyof typeof levels, string][]} */ (Object.entries(levels))) {
  /** @param {unknown[]} args */
  console[method] = (...args) => {
    const text = format(...args).replace(/\n/g, '\r');
    process.stdout.write(
      `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${text}\n`,
    );
  };
}

// ------------------------------------------------------------------ error shapes (Node.js runtime)
const RUNTIME_FILE = path.basename(new URL(import.meta.url).pathname);
/**
 * @param {unknown} error
 * @param {string} [errorTypeOverride]
 * @returns {RuntimeErrorPayload}
 */
function toRuntimeError(error, errorTypeOverride) {
  if (error instanceof Error) {
    return {
      errorType: errorTypeOverride ?? error.name ?? 'Error',
      errorMessage:
        errorTypeOverride === 'Runtime.UnhandledPromiseRejection'
          ? `${error.name}: ${error.message}`
          : error.message,
      // The runtime's own frames are not the function's: drop them, as Lambda's trace shows user code.
      trace:
        typeof error.stack === 'string'
          ? error.stack
              .split('\n')
              .filter((line) => !line.includes(RUNTIME_FILE) && !line.includes('new Promise (<anonymous>)'))
          : [],
    };
  }
  if (error !== null && typeof error === 'object') {
    return { errorType: errorTypeOverride ?? 'object', errorMessage: JSON.stringify(error), trace: [] };
  }
  return { errorType: errorTypeOverride ?? typeof error, errorMessage: String(error), trace: [] };
}

class RuntimeError extends Error {
  /**
   * @param {string} errorType
   * @param {string} errorMessage
   */
  constructor(errorType, errorMessage) {
    super(errorMessage);
    this.name = errorType;
  }
}

// ------------------------------------------------------------------ handler loading (once per container)
/**
 * @typedef {object} LambdaContext
 * @property {boolean} callbackWaitsForEmptyEventLoop
 * @property {string} functionName
 * @property {string} functionVersion
 * @property {string} invokedFunctionArn
 * @property {string} memoryLimitInMB
 * @property {string} awsRequestId
 * @property {string} logGroupName
 * @property {string} logStreamName
 * @property {unknown} identity
 * @property {unknown} clientContext
 * @property {() => number} getRemainingTimeInMillis
 * @property {((error: unknown, result?: unknown) => void) | undefined} done
 * @property {((result: unknown) => void) | undefined} succeed
 * @property {((error: unknown) => void) | undefined} fail
 */
/** @typedef {(error: unknown, result?: unknown) => void} HandlerCallback */
/** @typedef {(event: unknown, context: LambdaContext, callback: HandlerCallback) => unknown} Handler */

/**
 * `value[key]` for any value, as `value?.[key]` reads it (user modules have any shape).
 * @param {unknown} value
 * @param {string} key
 * @returns {unknown}
 */
const member = (value, key) =>
  value === null || value === undefined ? undefined : /** @type {Record<string, unknown>} */ (value)[key];

/** @type {Promise<Handler> | undefined} */
let handlerPromise;
/** @returns {Promise<Handler>} */
async function loadHandler() {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0)
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${handler}: expected file.export`);
  const modulePath = handler.slice(0, dot);
  const exportPath = handler.slice(dot + 1);
  const base = path.resolve(codeDir, modulePath);
  if (!base.startsWith(path.resolve(codeDir))) {
    throw new RuntimeError(
      'Runtime.MalformedHandlerName',
      `Bad handler ${handler}: outside the code directory`,
    );
  }
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((candidate) => existsSync(candidate));
  if (!file) {
    throw new RuntimeError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${path.basename(modulePath)}'\nRequire stack:\n- /var/runtime/index.mjs`,
    );
  }
  /** @type {unknown} */
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new RuntimeError('Runtime.UserCodeSyntaxError', `${error.name}: ${error.message}`);
    throw error;
  }
  let fn = mod;
  for (const part of exportPath.split('.'))
    fn = member(fn, part) ?? (fn === mod ? member(member(mod, 'default'), part) : undefined);
  if (typeof fn !== 'function') {
    throw new RuntimeError(
      'Runtime.HandlerNotFound',
      `${path.basename(modulePath)}.${exportPath} is undefined or not exported`,
    );
  }
  return /** @type {Handler} */ (fn);
}

/** @returns {Promise<Handler>} */
function getHandler() {
  if (!handlerPromise) {
    handlerPromise = loadHandler();
    // An init failure is retried by the next invocation, as Lambda re-runs the init phase.
    handlerPromise.catch(() => {
      handlerPromise = undefined;
    });
  }
  return handlerPromise;
}

/**
 * @param {InvokeMessage} message
 * @returns {LambdaContext}
 */
function lambdaContext(message) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: message.requestId,
    logGroupName,
    logStreamName,
    identity: message.identity,
    clientContext: message.clientContext,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    // Legacy context methods still offered by the Node.js runtime.
    done: undefined,
    succeed: undefined,
    fail: undefined,
  };
}

/**
 * @param {unknown} value
 * @returns {value is PromiseLike<unknown>}
 */
const isThenable = (value) => Boolean(value) && typeof member(value, 'then') === 'function';

/**
 * @param {Handler} fn
 * @param {unknown} event
 * @param {LambdaContext} context
 * @returns {Promise<unknown>}
 */
function callHandler(fn, event, context) {
  return new Promise((resolve, reject) => {
    /** @type {HandlerCallback} */
    const callback = (error, result) =>
      error !== undefined && error !== null ? reject(error) : resolve(result);
    context.done = callback;
    context.succeed = (result) => resolve(result);
    context.fail = (error) => reject(error ?? new Error('handled'));
    let returned;
    try {
      returned = fn(event, context, callback);
    } catch (error) {
      reject(error);
      return;
    }
    if (isThenable(returned)) returned.then(resolve, reject);
    else if (fn.length < 3) resolve(returned);
  });
}

/**
 * @param {unknown} result
 * @returns {string}
 */
function serialize(result) {
  if (result === undefined) return 'null';
  return JSON.stringify(result);
}

port.on('message', async (/** @type {InvokeMessage} */ message) => {
  if (message?.type !== 'invoke') return;
  currentRequestId = message.requestId;
  try {
    const fn = await getHandler();
    /** @type {unknown} */
    let event;
    try {
      event = JSON.parse(message.payload);
    } catch {
      event = message.payload;
    }
    const result = await callHandler(fn, event, lambdaContext(message));
    let payload;
    try {
      payload = serialize(result);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RuntimeError('Runtime.MarshalError', `Unable to stringify response body: ${reason}`);
    }
    post({ type: 'result', requestId: message.requestId, ok: true, payload });
  } catch (error) {
    post({
      type: 'result',
      requestId: message.requestId,
      ok: false,
      error: toRuntimeError(error),
    });
  }
});

// A crash outside the handler's promise (a throw in a timer, an unhandled rejection) ends this container
// after reporting the error for the invocation in flight, as the Node.js runtime does.
process.on('uncaughtException', (error) => {
  post({ type: 'fatal', requestId: currentRequestId, error: toRuntimeError(error) });
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  post({
    type: 'fatal',
    requestId: currentRequestId,
    error: toRuntimeError(reason, 'Runtime.UnhandledPromiseRejection'),
  });
  process.exit(1);
});

// ------------------------------------------------------------------ init phase
// Load the handler as soon as the container starts, before any invoke (Lambda's Init phase), and tell the
// parent how it went: the parent times the init under its own limit and starts the function timeout only
// once the handler is ready. A failed init is re-run by the next invoke (`getHandler`), inside that
// invoke's timeout, as Lambda retries a failed Init phase during the Invoke phase.
getHandler().then(
  () => post({ type: 'init', ok: true }),
  (error) => post({ type: 'init', ok: false, error: toRuntimeError(error) }),
);
