/**
 * One chaos run against a target: put the scenario's dataset, record the starting totals, POST every
 * order with its fault plan, wait for every execution to end, redrive the DLQ until it is empty or stops
 * making progress, then check the invariants. Used by `npm run chaos` and by the e2e tests.
 */
import { InvokeCommand, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { ChaosTarget } from '../client/target';
import {
  CANCEL_REASONS,
  type CancelReason,
  COMPENSATION_NAMES,
  type OrderRecord,
  STATE_NAMES,
  STEP_NAMES,
  type StepName,
} from '../lib/contract';
import type { IamSummary } from '../localcloud/iam/enforcer';
import type { LambdaStats } from '../localcloud/lambda/service';
import { type ActorOptions, act, callApi } from './actors';
import { formatIam, type IamCounts, iamAcross, iamDuring, readIam } from './iam';
import {
  checkInvariants,
  type ExecutionObservation,
  INVARIANTS,
  type InvariantReport,
  type InvariantResult,
} from './invariants';
import {
  type Clients,
  clientsFor,
  dlqDepth,
  filterFor,
  invokeRedrive,
  mapLimit,
  peekDeadLetters,
  putDataset,
  readBusiness,
  readExecutions,
  readFinal,
  readLambdaStats,
  scanAll,
  throttledStates,
} from './observe';
import {
  type ActionObservation,
  DEFAULT_REVIEW_THRESHOLD,
  type FaultKind,
  generateScenario,
  type PlannedSaga,
  type ScenarioOptions,
} from './plan';

export interface ChaosOptions extends ScenarioOptions {
  /** Orders in flight at once (POSTs; executions then run on their own). Default 16. */
  concurrency?: number;
  /** Give up waiting for executions after this long. Default 10 minutes. */
  settleTimeoutMs?: number;
  /** At most this many redrive invocations. Default 20. */
  maxRedriveRounds?: number;
  /**
   * Before the run, invoke every step function this many times at once with an empty event (refused as
   * invalid input, no effect), so the run does not start with a storm of cold starts. Default 0. Useful on
   * the local cloud, where a container's start-up counts toward the function timeout (on AWS the init
   * phase has its own limit).
   */
  warmUp?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /**
   * A crash in the middle (`--kill-at`): once `afterPosted` orders were posted, `crash()` runs (the
   * caller kills the target with SIGKILL and starts it again on its persisted state) while the other
   * POSTs go on. A POST that got no answer (or a 5xx) meanwhile is sent again once the target is back,
   * as a client would (the API is idempotent by orderId); everything else is checked as usual.
   */
  interrupt?: { afterPosted: number; crash: () => Promise<void> };
  /**
   * An API call answered 5xx (API Gateway's answer when Lambda throttles the Api function: under a burst,
   * or a fast machine filling the account's 1000) is sent again with backoff for up to 2 minutes, as a
   * client would (the API is idempotent by orderId); the report counts those retries, and on a local
   * cloud more retries than Lambda throttles is a violation of `api` (a 5xx nothing explains). Default
   * true; false: any 5xx is a violation.
   */
  retryServerErrors?: boolean;
}

export type Outcome = 'confirmed' | 'cancelled' | 'needs-attention' | 'redriven' | 'pending' | 'missing';

export interface ChaosReport {
  seed: number;
  sagas: number;
  namespace: string;
  target: string;
  concurrency: number;
  outcomes: Record<Outcome, number>;
  /** Cancelled (and redriven) orders by the step that failed. */
  cancelledByStep: Partial<Record<StepName, number>>;
  /** Cancelled (and redriven, and needs-attention) orders cancelled by someone, by reason. */
  cancelledByReason: Partial<Record<CancelReason, number>>;
  /** What the actors did: cancels by answer, review decisions, operator stops and resumes. */
  actions: {
    cancelsAccepted: number;
    /** Cancels refused because the order was already confirmed (409 AlreadyConfirmed). */
    cancelsTooLate: number;
    /** Confirmed orders a reviewer approved. */
    approvedConfirmed: number;
    /** Executions an operator stopped (ABORTED) and POST resume redrove (202). */
    resumed: number;
    /** Stops that came after the execution had ended or its order had its outcome (resume: 409). */
    resumeRefused: number;
  };
  /** Outcomes per fault kind. */
  byKind: Partial<Record<FaultKind, Partial<Record<Outcome, number>>>>;
  dlq: { beforeRedrive: number; afterRedrive: number; redriveRounds: number };
  timings: {
    submitMs: number;
    settleMs: number;
    redriveMs: number;
    checkMs: number;
    totalMs: number;
    /** Sagas per second from the first POST to the last terminal execution. */
    sagasPerSecond: number;
  };
  /**
   * Lambda throttles during the run (from the warm-up's end), on a local cloud (`/_localcloud/lambda`);
   * undefined on other targets. After a kill -9 (`interrupt`), counted from the restart.
   */
  lambda?: {
    concurrencyLimit: number;
    throttled: number;
    throttledByFunction: Record<string, number>;
    sinceRestart: boolean;
  };
  /** API calls sent again after a 5xx (`retryServerErrors`). */
  apiRetries: number;
  invariants: InvariantReport;
  /**
   * The local cloud's IAM decisions and denials during the run (`GET /_localcloud/iam`, before and after);
   * absent when the target is not a local cloud. Each denial is a violation of the `iam` invariant.
   */
  iam?: IamCounts;
  violations: number;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

async function listStatuses(
  target: ChaosTarget,
  clients: ReturnType<typeof clientsFor>,
  names: ReadonlySet<string>,
) {
  const statuses = new Map<string, string>();
  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: target.outputs.StateMachineArn,
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const e of page.executions ?? [])
      if (e.name && e.status && names.has(e.name)) statuses.set(e.name, e.status);
    nextToken = page.nextToken;
  } while (nextToken);
  return statuses;
}

/**
 * Polls until every execution in `names` exists and is terminal, or the deadline passes. Returns how many
 * are terminal.
 */
export async function waitForExecutions(
  target: ChaosTarget,
  clients: Clients,
  names: ReadonlySet<string>,
  options: { timeoutMs: number; log?: (line: string) => void; onPoll?: () => Promise<void> },
): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  let lastLog = Date.now();
  for (;;) {
    await options.onPoll?.();
    const statuses = await listStatuses(target, clients, names);
    const done = [...statuses.values()].filter((s) => TERMINAL.has(s)).length;
    if (statuses.size >= names.size && done === statuses.size) return done;
    if (Date.now() > deadline) {
      options.log?.(`  deadline: ${done}/${names.size} executions terminal, ${statuses.size} started`);
      return done;
    }
    if (Date.now() - lastLog > 5_000) {
      options.log?.(`  ${done}/${names.size} executions terminal`);
      lastLog = Date.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Invokes every saga step function (and the Api function) `width` times at once with `{}` (an invalid event: no effect). */
export async function warmUp(
  clients: Clients,
  width: number,
  log: (line: string) => void = () => {},
): Promise<void> {
  const started = performance.now();
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await clients.lambda.send(
      new ListFunctionsCommand({ ...(marker ? { Marker: marker } : {}) }),
    );
    for (const fn of page.Functions ?? []) if (fn.FunctionName) names.push(fn.FunctionName);
    marker = page.NextMarker;
  } while (marker);
  const steps = new Set<string>([...STEP_NAMES, ...COMPENSATION_NAMES, STATE_NAMES.recordFailure, 'Api']);
  const targets = names.filter((name) => [...steps].some((step) => name.includes(step)));
  const calls = targets.flatMap((name) => Array.from({ length: width }, () => name));
  await mapLimit(calls, Math.max(width, 1) * 2, async (name) => {
    await clients.lambda
      .send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{}') }))
      .catch(() => undefined);
  });
  log(`  warmed ${targets.length} functions × ${width} in ${Math.round(performance.now() - started)} ms`);
}

/** Outcome of one order, from its read-model status and its execution. */
export function outcomeOf(
  order: OrderRecord | undefined,
  execution: ExecutionObservation | undefined,
): Outcome {
  if (!order) return 'missing';
  switch (order.status) {
    case 'CONFIRMED':
      return 'confirmed';
    case 'NEEDS_ATTENTION':
      return 'needs-attention';
    case 'CANCELLED':
      return execution?.error === 'CompensationFailed' ? 'redriven' : 'cancelled';
    default:
      return 'pending';
  }
}

async function submit(
  target: ChaosTarget,
  saga: PlannedSaga,
  retry: Pick<ActorOptions, 'outage' | 'retryServerErrors'>,
): Promise<{ accepted: boolean; executionArn?: string; problems: string[] }> {
  const body = JSON.stringify(saga.input);
  // A network-level failure is recorded as a refused POST (status 0), not a crash of the run; during a
  // crash (`interrupt`), no answer or a 5xx is sent again once the target is back (a few times); under a
  // burst (`retryServerErrors`), a 5xx is sent again with backoff.
  const post = () => callApi(target, 'POST', 'orders', body, retry);
  const responses = await Promise.all(saga.postTwice ? [post(), post()] : [post()]);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const response of responses) {
    let orderId: unknown;
    let executionArn: unknown;
    try {
      const parsed = JSON.parse(response.body) as Record<string, unknown>;
      orderId = parsed.orderId;
      executionArn = parsed.executionArn;
    } catch {
      // reported below
    }
    if (response.status !== 202 && response.status !== 200) {
      problems.push(
        `order ${saga.input.orderId} (saga #${saga.index}): POST → ${response.status} ${response.body.slice(0, 300)}`,
      );
    } else if (orderId !== saga.input.orderId) {
      problems.push(
        `order ${saga.input.orderId} (saga #${saga.index}): POST answered orderId ${String(orderId)}`,
      );
    } else {
      seen.add(String(executionArn));
    }
  }
  if (seen.size > 1)
    problems.push(
      `order ${saga.input.orderId} (saga #${saga.index}): repeated POST started ${seen.size} executions`,
    );
  const [executionArn] = seen;
  return { accepted: seen.size > 0, ...(executionArn ? { executionArn } : {}), problems };
}

export async function runChaos(target: ChaosTarget, options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const concurrency = options.concurrency ?? 16;
  const clients = clientsFor(target);
  const began = performance.now();
  const iamBefore = await readIam(target.aws.endpoint);
  try {
    const scenario = generateScenario(options);
    const filter = filterFor(scenario.dataset);
    const orderIds = scenario.sagas.map((s) => s.input.orderId);
    const names = new Set(orderIds);

    await putDataset(clients, target, scenario.dataset);
    if (options.warmUp) await warmUp(clients, options.warmUp, log);
    const start = await readBusiness(clients, target, filter);
    const lambdaBefore = await readLambdaStats(target);
    log(
      `chaos: seed ${scenario.seed}, ${scenario.sagas.length} sagas, namespace ${scenario.namespace}, target ${target.name}`,
    );

    // Submit.
    const submitStart = performance.now();
    let posted = 0;
    let down: Promise<void> | undefined;
    let crashed: Promise<void> | undefined;
    // The killed process's IAM decisions die with it: read them just before the kill, so the denials of
    // the whole run are checked (before the kill against the start, after it from the restart's zero).
    let iamAtKill: IamSummary | undefined;
    const crashAfterReadingIam = async () => {
      iamAtKill = await readIam(target.aws.endpoint);
      await interrupt?.crash();
    };
    const interrupt = options.interrupt;
    const outage = interrupt ? () => down : undefined;
    let apiRetries = 0;
    const retry: Pick<ActorOptions, 'outage' | 'retryServerErrors'> = {
      ...(outage ? { outage } : {}),
      ...(options.retryServerErrors !== false
        ? { retryServerErrors: { forMs: 120_000, onRetry: () => apiRetries++ } }
        : {}),
    };
    // The customers, reviewers and operators of the `cancel`, `review` and `abort-resume` sagas act in
    // the background from the moment their saga is accepted; the settle waits for every one of them.
    const actors: Array<Promise<ActionObservation>> = [];
    const submissions = await mapLimit(scenario.sagas, concurrency, async (saga) => {
      const result = await submit(target, saga, retry);
      if (saga.action && result.accepted && result.executionArn) {
        actors.push(
          act(target, clients, { ...saga, action: saga.action }, result.executionArn, {
            deadlineMs: options.settleTimeoutMs ?? 600_000,
            ...retry,
          }),
        );
      }
      posted++;
      if (interrupt && !crashed && posted >= interrupt.afterPosted) {
        log(`  crash after ${posted} orders posted`);
        crashed = crashAfterReadingIam();
        down = crashed.finally(() => {
          down = undefined;
        });
      }
      if (posted % 100 === 0) log(`  posted ${posted}/${scenario.sagas.length}`);
      return result;
    });
    if (interrupt && !crashed) {
      log(`  crash after all ${posted} orders were posted`);
      crashed = crashAfterReadingIam();
    }
    await crashed;
    const problems = submissions.flatMap((s) => s.problems);
    // Wait only for the executions the API said it started (a refused POST is already a violation).
    const started = new Set(
      scenario.sagas.filter((_, i) => submissions[i]?.accepted).map((s) => s.input.orderId),
    );
    const submitMs = performance.now() - submitStart;

    // Settle: every actor done (a stopped execution is resumed before it counts as ended), then every
    // execution terminal (or the deadline).
    const settleStart = performance.now();
    const actions = await Promise.all(actors);
    log(`  ${actions.length} actors done (cancels, reviews, aborts and resumes)`);
    await waitForExecutions(target, clients, started, { timeoutMs: options.settleTimeoutMs ?? 600_000, log });
    const settledAt = performance.now();
    const settleMs = settledAt - settleStart;
    const ordersBeforeRedrive = (
      await scanAll<OrderRecord>(clients.doc, target.outputs.OrdersTableName)
    ).filter((o) => names.has(o.orderId));
    // Every DLQ message, read without consuming it. A receive can come back empty while messages exist,
    // so the peek is repeated until it saw as many as the queue holds.
    const depthAtSettle = await dlqDepth(clients, target);
    let deadLettersBeforeRedrive = await peekDeadLetters(clients, target);
    for (let attempt = 1; deadLettersBeforeRedrive.length < depthAtSettle && attempt < 5; attempt++) {
      log(`  peeked ${deadLettersBeforeRedrive.length} of ${depthAtSettle} DLQ messages: again`);
      deadLettersBeforeRedrive = await peekDeadLetters(clients, target);
    }
    log(`  settled: ${deadLettersBeforeRedrive.length} DLQ messages before redrive`);

    // Redrive until the DLQ is empty or stops shrinking.
    const redriveStart = performance.now();
    const beforeRedrive = await dlqDepth(clients, target);
    let depth = beforeRedrive;
    let rounds = 0;
    let stalled = 0;
    while (depth > 0 && rounds < (options.maxRedriveRounds ?? 20) && stalled < 2) {
      rounds++;
      try {
        await invokeRedrive(clients, target);
      } catch (error) {
        log(`  redrive round ${rounds}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const next = await dlqDepth(clients, target);
      stalled = next < depth ? 0 : stalled + 1;
      log(`  redrive round ${rounds}: DLQ ${depth} → ${next}`);
      depth = next;
    }
    const redriveMs = performance.now() - redriveStart;
    const lambdaAfter = await readLambdaStats(target);
    // Orders whose RetryCount-keyed fault sat in a throttled Task (InvariantInput.throttleShifted); only
    // looked for when Lambda throttled (or nobody counted: another target).
    const throttleShifted = new Set<string>();
    if (
      lambdaAfter === undefined ||
      throttlesDuring(lambdaBefore, lambdaAfter, interrupt !== undefined).throttled > 0
    ) {
      const keyed = scenario.sagas.flatMap((saga, i) => {
        const arn = submissions[i]?.executionArn;
        const faulted = Object.entries(saga.input.faults ?? {})
          .filter(([, mode]) => mode === 'crash-after-commit' || mode?.startsWith('transient:'))
          .map(([operation]) => operation);
        return arn && faulted.length > 0 ? [{ orderId: saga.input.orderId, arn, faulted }] : [];
      });
      await mapLimit(keyed, 8, async ({ orderId, arn, faulted }) => {
        const throttled = await throttledStates(clients, arn);
        if (faulted.some((operation) => throttled.has(operation))) throttleShifted.add(orderId);
      });
    }

    // Check.
    const checkStart = performance.now();
    const [final, executions, deadLetters] = await Promise.all([
      readFinal(clients, target, filter),
      readExecutions(clients, target, names),
      peekDeadLetters(clients, target),
    ]);
    const invariants = checkInvariants({
      start,
      final,
      executions,
      deadLetters,
      orderIds,
      plans: scenario.sagas,
      ordersBeforeRedrive,
      deadLettersBeforeRedrive,
      actions,
      reviewThreshold: options.reviewThreshold ?? DEFAULT_REVIEW_THRESHOLD,
      throttleShifted,
    });
    const lambda = lambdaAfter
      ? throttlesDuring(lambdaBefore, lambdaAfter, interrupt !== undefined)
      : undefined;
    if (lambda && apiRetries > lambda.throttled)
      problems.push(
        `${apiRetries} API calls were answered 5xx and sent again, but Lambda throttled only ${lambda.throttled} invocations: a server error nothing explains`,
      );
    const api: InvariantResult = {
      id: 'api',
      description: INVARIANTS.api,
      checked: scenario.sagas.length,
      violations: problems,
    };
    invariants.results.unshift(api);
    invariants.violations += problems.length;
    const iamNow = await readIam(target.aws.endpoint);
    const iam = crashed
      ? iamAcross(iamDuring(iamBefore, iamAtKill), iamDuring(undefined, iamNow))
      : iamDuring(iamBefore, iamNow);
    if (iam) {
      invariants.results.push({
        id: 'iam',
        description: INVARIANTS.iam,
        checked: iam.counts.decisions,
        violations: iam.violations,
      });
      invariants.violations += iam.violations.length;
    }
    const checkMs = performance.now() - checkStart;

    // Outcomes.
    const orders = new Map(final.orders.map((o) => [o.orderId, o]));
    const byExecution = new Map(executions.map((e) => [e.name, e]));
    const outcomes: Record<Outcome, number> = {
      confirmed: 0,
      cancelled: 0,
      'needs-attention': 0,
      redriven: 0,
      pending: 0,
      missing: 0,
    };
    const cancelledByStep: Partial<Record<StepName, number>> = {};
    const cancelledByReason: Partial<Record<CancelReason, number>> = {};
    const actionCounts: ChaosReport['actions'] = {
      cancelsAccepted: 0,
      cancelsTooLate: 0,
      approvedConfirmed: 0,
      resumed: 0,
      resumeRefused: 0,
    };
    for (const seen of actions) {
      const { action, answer } = seen;
      const isCancel = action.kind === 'cancel' || (action.kind === 'review' && action.choice === 'cancel');
      if (isCancel && answer?.status === 202) actionCounts.cancelsAccepted++;
      if (isCancel && answer?.code === 'AlreadyConfirmed') actionCounts.cancelsTooLate++;
      if (action.kind === 'abort' && answer?.status === 202) actionCounts.resumed++;
      if (action.kind === 'abort' && answer?.status === 409) actionCounts.resumeRefused++;
    }
    const byKind: ChaosReport['byKind'] = {};
    for (const saga of scenario.sagas) {
      const order = orders.get(saga.input.orderId);
      const outcome = outcomeOf(order, byExecution.get(saga.input.orderId));
      outcomes[outcome]++;
      const kind = byKind[saga.kind] ?? {};
      kind[outcome] = (kind[outcome] ?? 0) + 1;
      byKind[saga.kind] = kind;
      if (
        (outcome === 'cancelled' || outcome === 'redriven' || outcome === 'needs-attention') &&
        order?.failedStep
      ) {
        cancelledByStep[order.failedStep] = (cancelledByStep[order.failedStep] ?? 0) + 1;
      }
      const reason = CANCEL_REASONS.find((r) => r === order?.reason);
      if (reason) cancelledByReason[reason] = (cancelledByReason[reason] ?? 0) + 1;
      if (outcome === 'confirmed' && order?.reviewDecision === 'approve') actionCounts.approvedConfirmed++;
    }
    const totalMs = performance.now() - began;
    return {
      seed: scenario.seed,
      sagas: scenario.sagas.length,
      namespace: scenario.namespace,
      target: target.name,
      concurrency,
      outcomes,
      cancelledByStep,
      cancelledByReason,
      actions: actionCounts,
      byKind,
      dlq: { beforeRedrive, afterRedrive: depth, redriveRounds: rounds },
      timings: {
        submitMs: Math.round(submitMs),
        settleMs: Math.round(settleMs),
        redriveMs: Math.round(redriveMs),
        checkMs: Math.round(checkMs),
        totalMs: Math.round(totalMs),
        sagasPerSecond: Number((scenario.sagas.length / ((settledAt - submitStart) / 1000)).toFixed(1)),
      },
      ...(lambda ? { lambda } : {}),
      apiRetries,
      invariants,
      ...(iam ? { iam: iam.counts } : {}),
      violations: invariants.violations,
    };
  } finally {
    clients.destroy();
  }
}

/** The throttles between two readings of the local Lambda's figures (`after` alone after a restart). */
function throttlesDuring(
  before: LambdaStats | undefined,
  after: LambdaStats,
  restarted: boolean,
): NonNullable<ChaosReport['lambda']> {
  const base = restarted ? undefined : before;
  const throttledByFunction: Record<string, number> = {};
  for (const [name, n] of Object.entries(after.throttledByFunction)) {
    const during = n - (base?.throttledByFunction[name] ?? 0);
    if (during > 0) throttledByFunction[name] = during;
  }
  return {
    concurrencyLimit: after.concurrencyLimit,
    throttled: after.throttled - (base?.throttled ?? 0),
    throttledByFunction,
    sinceRestart: restarted,
  };
}

/** The human-readable report; its last line is `invariant violations: V`. */
export function formatReport(report: ChaosReport, maxViolationsShown = 50): string {
  const lines: string[] = [];
  lines.push(
    `chaos run: seed ${report.seed}, ${report.sagas} sagas, concurrency ${report.concurrency}, target ${report.target}, namespace ${report.namespace}`,
  );
  lines.push('', 'invariants:');
  for (const r of report.invariants.results) {
    lines.push(
      `  ${r.violations.length === 0 ? 'ok  ' : 'FAIL'} ${r.description} (${r.checked} checked, ${r.violations.length} violations)`,
    );
    for (const v of r.violations.slice(0, maxViolationsShown)) lines.push(`         - ${v}`);
    if (r.violations.length > maxViolationsShown)
      lines.push(`         … ${r.violations.length - maxViolationsShown} more (use --json)`);
  }
  lines.push('', 'outcomes:');
  const o = report.outcomes;
  const a = report.actions;
  const byStep = Object.values(report.cancelledByStep).reduce((sum, n) => sum + n, 0);
  lines.push('  | outcome | sagas |', '  | --- | ---: |');
  lines.push(`  | confirmed | ${o.confirmed} |`);
  lines.push(`  | … approved by a reviewer | ${a.approvedConfirmed} |`);
  lines.push(`  | … a cancel refused, already confirmed (409 AlreadyConfirmed) | ${a.cancelsTooLate} |`);
  lines.push(`  | cancelled (redriven ones included) | ${o.cancelled + o.redriven} |`);
  lines.push(`  | … by a step's error (incl. redriven) | ${byStep} |`);
  for (const [step, n] of Object.entries(report.cancelledByStep)) lines.push(`  | … … at ${step} | ${n} |`);
  for (const reason of CANCEL_REASONS)
    lines.push(`  | … ${reason} | ${report.cancelledByReason[reason] ?? 0} |`);
  lines.push(`  | needs attention (DLQ, not redriven) | ${o['needs-attention']} |`);
  lines.push(`  | redriven (CompensationFailed → CANCELLED) | ${o.redriven} |`);
  lines.push(`  | resumed (stopped by an operator, POST resume → 202) | ${a.resumed} |`);
  if (a.resumeRefused > 0)
    lines.push(`  | … stopped after its outcome (POST resume → 409) | ${a.resumeRefused} |`);
  if (o.pending > 0) lines.push(`  | still pending | ${o.pending} |`);
  if (o.missing > 0) lines.push(`  | missing | ${o.missing} |`);
  lines.push('', 'by fault kind:');
  for (const [kind, counts] of Object.entries(report.byKind)) {
    lines.push(
      `  ${kind.padEnd(20)} ${Object.entries(counts)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
  }
  const t = report.timings;
  const throttles = report.lambda;
  lines.push('', `Lambda throttles: ${throttleLine(report)}`);
  if (throttles)
    for (const [name, n] of Object.entries(throttles.throttledByFunction).sort(([, a], [, b]) => b - a))
      lines.push(`  ${name} ${n}`);
  if (report.apiRetries > 0) lines.push(`API calls sent again after a 5xx: ${report.apiRetries}`);
  const shifted = report.invariants.shiftedByThrottles ?? [];
  if (shifted.length > 0) {
    lines.push(
      `plan deviations explained by throttles (a fault keyed on RetryCount in a throttled Task): ${shifted.length}`,
    );
    for (const line of shifted.slice(0, maxViolationsShown)) lines.push(`  - ${line}`);
  }
  lines.push(
    '',
    `DLQ depth: ${report.dlq.beforeRedrive} before redrive, ${report.dlq.afterRedrive} after (${report.dlq.redriveRounds} redrive rounds)`,
    `timings: submit ${t.submitMs} ms, settle ${t.settleMs} ms, redrive ${t.redriveMs} ms, check ${t.checkMs} ms, total ${t.totalMs} ms; ${t.sagasPerSecond} sagas/s`,
    formatIam(report.iam),
    `invariant violations: ${report.violations}`,
  );
  return lines.join('\n');
}

function throttleLine(report: ChaosReport): string {
  const throttles = report.lambda;
  if (!throttles)
    return `not counted on target ${report.target} (see the AWS/Lambda Throttles metric in CloudWatch)`;
  return `${throttles.throttled} (concurrency limit ${throttles.concurrencyLimit}${throttles.sinceRestart ? ', counted from the restart' : ''})`;
}
