/**
 * Redrive of dead-lettered compensations: the DLQ consumer of any saga built with the `Saga` construct.
 *
 * A compensation that exhausted its retries left a dead letter (`{<id>, step, error, cause, executionArn,
 * input, resume?}`, written by the construct's `<Compensation>ToDLQ` state). Once the outage is over,
 * redrive replays each one: it invokes the compensation's function with `{saga: input without faults,
 * context}`. Compensations are idempotent, so a replay of one that in fact went through is a no-op.
 * Succeeded → the message is deleted. Failed again → the message stays (it reappears after its visibility
 * timeout).
 *
 * A message from a pivot guard (a compensation with `succeedOnErrors`) carries `resume`: the guard could
 * not decide whether the pivot committed, so the state machine stopped the unwind there. If the guard now
 * fails with one of `pivotErrors`, the pivot committed and nothing is undone (the message is settled). If it
 * succeeds, the rest of the unwind runs here, one after the other; a compensation that fails is parked on the DLQ as a
 * message of its own.
 *
 * What the saga's own data needs around a replay (an app that keeps a status per saga: skip a saga still
 * unwinding, write the outcome) comes in through {@link RedriveHooks}.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { REDRIVE_ENV } from './config';
import type { StepEvent } from './step-event';

export type InvokeOutcome = { ok: true; result?: unknown } | { ok: false; error: string; cause?: string };

/** Invokes a function synchronously (RequestResponse). The Lambda SDK in production; in-process in tests. */
export type InvokePort = (
  functionName: string,
  event: StepEvent<Record<string, unknown>>,
) => Promise<InvokeOutcome>;

/** A parsed dead letter. `sagaId` is the value of the message's id field. */
export interface DeadLetter {
  sagaId: string;
  step: string;
  error?: string;
  cause?: string;
  executionArn: string;
  input: Record<string, unknown>;
  resume?: string[];
}

/** What to do with a dead letter before replaying it. */
export type Triage =
  | { action: 'replay' }
  /** Leave it on the DLQ (tried again at the end of the run, then left for the next run). */
  | { action: 'hold'; detail: string }
  /** Nothing to replay any more: delete it. */
  | { action: 'settle'; detail: string };

/** How a replay ended: the pivot had committed, or the compensation (and any resumed unwind) ran. */
export interface Settled {
  pivotKept: boolean;
  /** Resumed compensations that failed again (each parked as a message of its own). */
  parkedAgain: string[];
}

export interface RedriveHooks {
  /** Before a replay. @default replay */
  triage?(letter: DeadLetter): Promise<Triage>;
  /** After a successful replay, before the message is deleted: records it and returns the report's detail. */
  settled?(letter: DeadLetter, settled: Settled): Promise<string>;
  /** A resumed compensation failed again and is parked on the DLQ. */
  parked?(letter: DeadLetter, step: string): Promise<void>;
  /** Whether a resumed compensation applies to this saga (a step skipped by its `runWhen` did not run). */
  applies?(letter: DeadLetter, step: string): boolean;
}

export interface RedriveOptions {
  sqs: SQSClient;
  dlqUrl: string;
  invoke: InvokePort;
  /** The dead letter's id field (the `Saga` construct's `correlationIdField`). */
  idField: string;
  /** Step name → function name: what redrive may replay, and with what. */
  compensationFunctions: Record<string, string>;
  /** The step names a dead letter may carry. */
  steps: readonly string[];
  /** The schema of a dead letter's `input` (the execution's state). @default any object */
  inputSchema?: z.ZodMiniType;
  /** Error names meaning "the pivot committed: keep the saga, undo nothing" (`succeedOnErrors`). */
  pivotErrors?: readonly string[];
  hooks?: RedriveHooks;
  /**
   * Milliseconds left for this run. Checked before every message (one replay can take a compensation's
   * whole timeout): below `reserveMs`, redrive stops, hands the received messages it did not reach back
   * to the queue and reports them as remaining.
   */
  remainingMs?: () => number;
  reserveMs?: number;
  /** How long a received message stays invisible (a failure reappears after it). Default 30 s. */
  visibilityTimeoutSeconds?: number;
  /** Only this saga's dead letters: the others are received, left untouched and handed back at the end. */
  sagaId?: string;
}

/** What a saga adds to the generic run: its dead letters' shape and its hooks. */
export type RedriveApp = Pick<RedriveOptions, 'idField' | 'steps' | 'inputSchema' | 'pivotErrors' | 'hooks'>;

/** One message of the run; the saga's id is under the id field. */
export type RedriveEntry = { messageId: string; step?: string; detail?: string } & Record<
  string,
  string | undefined
>;

export interface RedriveReport<E extends RedriveEntry = RedriveEntry> {
  processed: number;
  succeeded: E[];
  failed: E[];
  skipped: E[];
  /** Messages left on the DLQ by this run (failed and skipped), plus any not reached in time. */
  remaining: number;
}

const nonEmpty = () => z.string().check(z.minLength(1));

export function parseDeadLetter(options: RedriveOptions, body: string | undefined): DeadLetter {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    throw new Error('malformed message: body is not JSON');
  }
  const step = z.enum(options.steps as [string, ...string[]]);
  const schema = z.looseObject({
    [options.idField]: nonEmpty(),
    step,
    error: z.optional(z.string()),
    cause: z.optional(z.string()),
    executionArn: nonEmpty(),
    input: options.inputSchema ?? z.looseObject({}),
    resume: z.optional(z.array(step)),
  });
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))].join(', ');
    throw new Error(`malformed message: bad or missing ${fields}`);
  }
  const { [options.idField]: sagaId, ...letter } = parsed.data as Record<string, unknown>;
  return { ...(letter as Omit<DeadLetter, 'sagaId'>), sagaId: sagaId as string };
}

/** The saga state replayed to the compensation: the outage is over, so no injected faults. */
export function replayInput(letter: DeadLetter): Record<string, unknown> {
  const { faults: _faults, compensationError: _error, ...input } = letter.input;
  return input;
}

/** `base`, and what a resumed unwind did: the report's detail of a settled replay. */
export function describeSettled(base: string, letter: DeadLetter, settled: Settled): string {
  if (settled.parkedAgain.length > 0) {
    return `${base}; resumed the unwind, parked again: ${settled.parkedAgain.join(', ')}`;
  }
  return `${base}${letter.resume?.length ? '; resumed the unwind' : ''}`;
}

async function invokeCompensation(
  options: RedriveOptions,
  letter: DeadLetter,
  step: string,
): Promise<InvokeOutcome> {
  const functionName = options.compensationFunctions[step];
  if (!functionName) {
    return {
      ok: false,
      error: 'NotConfigured',
      cause: `no function configured for ${step} in ${REDRIVE_ENV.compensationFunctions}`,
    };
  }
  try {
    return await options.invoke(functionName, {
      saga: replayInput(letter),
      context: { executionArn: letter.executionArn, retryCount: 0 },
    });
  } catch (error) {
    return { ok: false, error: (error as Error).name, cause: (error as Error).message };
  }
}

/**
 * Runs the rest of an unwind that a pivot guard stopped. Each compensation is idempotent (a step that
 * never ran gets a tombstone). Returns the compensations that failed again (each parked as its own message).
 */
async function resumeUnwind(options: RedriveOptions, letter: DeadLetter): Promise<string[]> {
  const failed: string[] = [];
  for (const step of letter.resume ?? []) {
    if (options.hooks?.applies && !options.hooks.applies(letter, step)) continue;
    const outcome = await invokeCompensation(options, letter, step);
    if (outcome.ok) continue;
    failed.push(step);
    const parked = {
      [options.idField]: letter.sagaId,
      step,
      error: outcome.error,
      ...(outcome.cause ? { cause: outcome.cause } : {}),
      executionArn: letter.executionArn,
      input: letter.input,
    };
    await options.hooks?.parked?.(letter, step);
    await options.sqs.send(
      new SendMessageCommand({ QueueUrl: options.dlqUrl, MessageBody: JSON.stringify(parked) }),
    );
  }
  return failed;
}

/** `held-back`: left on the DLQ by the triage (it may go later in this run). */
type RedriveResult = 'done' | 'held-back';

const failureDetail = (outcome: { error: string; cause?: string }) =>
  outcome.cause ? `${outcome.error}: ${outcome.cause}` : outcome.error;

async function redriveOne(
  options: RedriveOptions,
  message: Message,
  report: RedriveReport,
): Promise<RedriveResult> {
  const messageId = message.MessageId ?? '?';
  let letter: DeadLetter;
  try {
    letter = parseDeadLetter(options, message.Body);
  } catch (error) {
    report.failed.push({ messageId, detail: (error as Error).message });
    return 'done';
  }
  const entry: RedriveEntry = { messageId, [options.idField]: letter.sagaId, step: letter.step };
  const deleteMessage = () =>
    options.sqs.send(
      new DeleteMessageCommand({ QueueUrl: options.dlqUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  const triage = (await options.hooks?.triage?.(letter)) ?? { action: 'replay' };
  if (triage.action === 'hold') {
    report.skipped.push({ ...entry, detail: triage.detail });
    return 'held-back';
  }
  if (triage.action === 'settle') {
    await deleteMessage();
    report.succeeded.push({ ...entry, detail: triage.detail });
    return 'done';
  }
  const outcome = await invokeCompensation(options, letter, letter.step);
  const pivotKept = !outcome.ok && !!letter.resume && (options.pivotErrors ?? []).includes(outcome.error);
  if (!outcome.ok && !pivotKept) {
    report.failed.push({ ...entry, detail: failureDetail(outcome) });
    return 'done';
  }
  const settled: Settled = { pivotKept, parkedAgain: pivotKept ? [] : await resumeUnwind(options, letter) };
  const detail = options.hooks?.settled
    ? await options.hooks.settled(letter, settled)
    : pivotKept
      ? 'the pivot had committed, nothing undone'
      : describeSettled('compensated', letter, settled);
  await deleteMessage();
  report.succeeded.push({ ...entry, detail });
  return 'done';
}

/** Visible again now rather than after the visibility timeout. Resolves to whether SQS took it. */
function release(options: RedriveOptions, message: Message): Promise<boolean> {
  return options.sqs
    .send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: options.dlqUrl,
        ReceiptHandle: message.ReceiptHandle ?? '',
        VisibilityTimeout: 0,
      }),
    )
    .then(
      () => true,
      () => false,
    );
}

/** The saga id of a DLQ message, or undefined if its body is not a dead letter. */
function sagaIdOf(options: RedriveOptions, message: Message): string | undefined {
  try {
    return parseDeadLetter(options, message.Body).sagaId;
  } catch {
    return undefined;
  }
}

/** Replays the DLQ until it is empty (or time runs short). */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveReport> {
  const report: RedriveReport = { processed: 0, succeeded: [], failed: [], skipped: [], remaining: 0 };
  const reserveMs = options.reserveMs ?? 10_000;
  const seen = new Set<string>();
  const heldBack: Message[] = [];
  const others: Message[] = [];
  let outOfTime = false;
  let notReached = 0;
  const timeIsShort = () => options.remainingMs !== undefined && options.remainingMs() < reserveMs;
  receiving: for (;;) {
    if (timeIsShort()) {
      outOfTime = true;
      break;
    }
    const batch = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: options.visibilityTimeoutSeconds ?? 30,
      }),
    );
    const messages = (batch.Messages ?? []).filter((m) => !seen.has(m.MessageId ?? ''));
    if (messages.length === 0) break;
    for (const [index, message] of messages.entries()) {
      if (timeIsShort()) {
        outOfTime = true;
        // The next run (or consumer) gets them, and the queue count below includes them; one still in
        // flight is counted here.
        const released = await Promise.all(messages.slice(index).map((m) => release(options, m)));
        notReached += released.filter((ok) => !ok).length;
        break receiving;
      }
      seen.add(message.MessageId ?? '');
      if (options.sagaId !== undefined && sagaIdOf(options, message) !== options.sagaId) {
        others.push(message);
        continue;
      }
      report.processed++;
      if ((await redriveOne(options, message, report)) === 'held-back') heldBack.push(message);
    }
  }
  // A message held back can go now if this run changed what its triage looked at (for example a saga's
  // outcome written by a message met later in the queue). Replays are idempotent, so a message whose
  // visibility lapsed meanwhile and that another consumer also replays costs nothing.
  for (const message of heldBack) {
    if (timeIsShort()) {
      outOfTime = true;
      break;
    }
    const triage = await options.hooks?.triage?.(parseDeadLetter(options, message.Body));
    if (triage?.action === 'hold') continue;
    report.skipped = report.skipped.filter((entry) => entry.messageId !== message.MessageId);
    await redriveOne(options, message, report);
  }
  // Another saga's letters stay in the queue, visible again now.
  await Promise.all(others.map((m) => release(options, m)));
  report.remaining = report.failed.length + report.skipped.length + notReached;
  if (outOfTime) {
    const attributes = await options.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: options.dlqUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    report.remaining += Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  return report;
}
