import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPENSATION_NAMES, COMPENSATION_OF, STATE_NAMES, STEP_NAMES } from '../../lib/contract';
import { TEST_ASSEMBLY_DIR } from '../../localcloud/assembly';
import { layoutGraph } from '../../localcloud/console/layout';
import {
  type AwsHistoryEvent,
  buildGraph,
  deriveStatuses,
  InvalidDefinitionError,
  statusLabel,
  toConsoleEvents,
} from '../../localcloud/console/model';
import { definitionFromTemplate } from '../../localcloud/console/template';

/** The real synthesized order saga (the project's global setup keeps the test assembly current). */
const TEMPLATE = path.resolve(TEST_ASSEMBLY_DIR, 'OrderSaga-dev.template.json');
const sagaDefinition = (): string => definitionFromTemplate(TEMPLATE);

/**
 * The saga's core shape, hand-made: the five steps with their Catch, the unwind and its DLQ states,
 * without the review wait and the cancel paths. The layout tests draw it: their column and level rules
 * are about this shape (the real definition's review branch sits beside the forward column).
 */
function coreDefinition(): string {
  const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
  const states: Record<string, unknown> = {
    [STATE_NAMES.hasPromo]: {
      Type: 'Choice',
      Choices: [{ Variable: '$.promoCode', IsPresent: true, Next: 'ReservePromo' }],
      Default: 'ReserveStock',
    },
  };
  const compensationChain = [...COMPENSATION_NAMES].reverse();
  STEP_NAMES.forEach((step, i) => {
    states[step] = {
      Type: 'Task',
      Resource: fn(step),
      ResultPath: `$.results.${step}`,
      Retry: [{ ErrorEquals: ['TransientError'], MaxAttempts: 3 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: `${step}Failed` }],
      Next: STEP_NAMES[i + 1] ?? STATE_NAMES.succeed,
    };
    states[`${step}Failed`] = { Type: 'Pass', Next: COMPENSATION_OF[step] };
  });
  compensationChain.forEach((comp, i) => {
    const after =
      comp === 'ReleaseStock' ? STATE_NAMES.hasPromoToRelease : (compensationChain[i + 1] ?? 'RecordFailure');
    states[comp] = {
      Type: 'Task',
      Resource: fn(comp),
      Catch: [
        ...(comp === 'RejectOrder'
          ? [{ ErrorEquals: ['OrderAlreadyConfirmed'], Next: STATE_NAMES.succeed }]
          : []),
        { ErrorEquals: ['States.ALL'], Next: `${comp}${STATE_NAMES.dlqSuffix}` },
      ],
      Next: after,
    };
    states[`${comp}${STATE_NAMES.dlqSuffix}`] = {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage',
      Next: after,
    };
  });
  states[STATE_NAMES.hasPromoToRelease] = {
    Type: 'Choice',
    Choices: [{ Variable: '$.promoCode', IsPresent: true, Next: 'ReleasePromo' }],
    Default: STATE_NAMES.recordFailure,
  };
  states[STATE_NAMES.recordFailure] = {
    Type: 'Task',
    Resource: fn('RecordFailure'),
    Next: STATE_NAMES.checkCompensations,
  };
  states[STATE_NAMES.checkCompensations] = {
    Type: 'Choice',
    Choices: [{ Variable: '$.deadLettered', IsPresent: true, Next: STATE_NAMES.failCompensation }],
    Default: STATE_NAMES.failOrder,
  };
  states[STATE_NAMES.succeed] = { Type: 'Succeed' };
  states[STATE_NAMES.failOrder] = { Type: 'Fail', Error: 'OrderFailed' };
  states[STATE_NAMES.failCompensation] = { Type: 'Fail', Error: 'CompensationFailed' };
  return JSON.stringify({ StartAt: STATE_NAMES.hasPromo, States: states });
}

/** Builds an AWS-shaped history (as `GetExecutionHistory` returns it) from a compact script. */
function history(script: Array<[type: string, details?: Record<string, unknown>]>): AwsHistoryEvent[] {
  const start = Date.parse('2026-11-22T10:00:00.000Z');
  return script.map(([type, details], i) => {
    const kind = /State(Entered|Exited)$/.exec(type)?.[0];
    const key = kind ? `s${kind.slice(1)}` : `${type[0]?.toLowerCase()}${type.slice(1)}`;
    return {
      id: i + 1,
      previousEventId: i,
      type,
      timestamp: new Date(start + i * 10),
      ...(details ? { [`${key}EventDetails`]: details } : {}),
    };
  });
}

const enter = (name: string, type = 'Task'): [string, Record<string, unknown>] => [
  `${type}StateEntered`,
  { name, input: '{}' },
];
const exit = (name: string, type = 'Task'): [string, Record<string, unknown>] => [
  `${type}StateExited`,
  { name, output: '{}' },
];
const lambdaOk = (name: string): Array<[string, Record<string, unknown>?]> => [
  enter(name),
  ['LambdaFunctionScheduled', { resource: name }],
  ['LambdaFunctionStarted'],
  ['LambdaFunctionSucceeded', { output: `{"step":"${name}"}` }],
  exit(name),
];

describe('console graph model (from the synthesized definition)', () => {
  const graph = buildGraph(sagaDefinition());
  const node = (id: string) => graph.nodes.find((n) => n.id === id);

  it('has one node per state with its shape type', () => {
    // Assess
    expect(graph.startAt).toBe(STATE_NAMES.hasPromo);
    expect(node(STATE_NAMES.hasPromo)?.type).toBe('Choice');
    for (const step of STEP_NAMES) expect(node(step)?.type).toBe('Task');
    expect(node('ChargePaymentFailed')?.type).toBe('Pass');
    expect(node(STATE_NAMES.succeed)?.type).toBe('Succeed');
    expect(node(STATE_NAMES.failOrder)?.type).toBe('Fail');
    expect(node(STATE_NAMES.failCompensation)?.type).toBe('Fail');
  });

  it('puts every forward step on the forward path and everything reached only via Catch on the compensation path', () => {
    // Assess
    for (const step of STEP_NAMES) expect(node(step)?.path).toBe('forward');
    for (const step of STEP_NAMES) expect(node(`${step}Failed`)?.path).toBe('compensation');
    for (const comp of COMPENSATION_NAMES) {
      expect(node(comp)?.path).toBe('compensation');
      expect(node(`${comp}${STATE_NAMES.dlqSuffix}`)?.path).toBe('compensation');
    }
    for (const id of [STATE_NAMES.recordFailure, STATE_NAMES.failOrder, STATE_NAMES.failCompensation])
      expect(node(id)?.path).toBe('compensation');
  });

  it('draws each forward Catch as a catch edge into the step’s Failed state, and Choice rules as labelled edges', () => {
    // Assess
    for (const step of STEP_NAMES) {
      const catches = graph.edges.filter((e) => e.from === step && e.kind === 'catch');
      expect(catches.map((e) => e.to)).toEqual([`${step}Failed`]);
      expect(catches[0]?.label).toBe('Catch');
    }
    const promo = graph.edges.find((e) => e.from === STATE_NAMES.hasPromo && e.kind === 'choice');
    expect(promo?.to).toBe('ReservePromo');
    expect(promo?.label).toContain('is present');
    expect(graph.edges.find((e) => e.from === STATE_NAMES.hasPromo && e.kind === 'default')?.to).toBe(
      'ReserveStock',
    );
  });

  it('rejects a definition whose transition names a missing state', () => {
    // Act
    const act = () => buildGraph({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } });
    // Assess
    expect(act).toThrow(InvalidDefinitionError);
    expect(act).toThrow(/Nowhere/);
  });

  it('lays out the forward block left of the compensation block, every state in a box', async () => {
    // Act
    const graph = buildGraph(coreDefinition());
    const layout = await layoutGraph(graph);
    // Assess
    expect(layout.nodes).toHaveLength(graph.nodes.length);
    const forward = layout.blocks.find((b) => b.path === 'forward')!;
    const compensation = layout.blocks.find((b) => b.path === 'compensation')!;
    expect(forward.x + forward.width).toBeLessThan(compensation.x);
    const box = (id: string) => layout.nodes.find((n) => n.id === id)!;
    expect(box('ChargePayment').x).toBeLessThan(compensation.x);
    expect(box('RefundPayment').x).toBeGreaterThanOrEqual(compensation.x);
    expect(box('ReserveStock').y).toBeLessThan(box('ChargePayment').y);
    expect(layout.edges).toHaveLength(graph.edges.length);
  });

  it('draws the forward path as one column and the unwind beside it, each Catch a horizontal hop to a state level with its step', async () => {
    // Act
    const graph = buildGraph(coreDefinition());
    const layout = await layoutGraph(graph);
    // Assess
    const box = (id: string) => layout.nodes.find((n) => n.id === id)!;
    const centre = (id: string) => box(id).x + box(id).width / 2;
    const forward = graph.nodes.filter((n) => n.path === 'forward').map((n) => n.id);
    for (const id of forward) expect(centre(id)).toBeCloseTo(centre(graph.startAt), 0);
    for (const step of STEP_NAMES) {
      // <Step>Failed and the step's own compensation sit level with the step, right of it
      const compensation = COMPENSATION_OF[step];
      expect(box(`${step}Failed`).y).toBe(box(step).y);
      expect(box(`${step}Failed`).x).toBeGreaterThan(box(step).x);
      if (compensation) {
        expect(box(compensation).y).toBe(box(step).y);
        const dlq = box(`${compensation}${STATE_NAMES.dlqSuffix}`);
        expect(dlq.y).toBe(box(compensation).y);
        expect(dlq.x).toBeGreaterThan(box(compensation).x);
      }
      const hop = layout.edges.find((e) => e.id === `${step}->${step}Failed#0`)!;
      expect(hop.points.map((p) => p.y)).toEqual([
        box(step).y + box(step).height / 2,
        box(step).y + box(step).height / 2,
      ]);
    }
    // the unwind runs bottom-up: a later step's compensation is lower
    expect(box('RefundPayment').y).toBeGreaterThan(box('ReleaseStock').y);
    // the states of one column share a column: the compensations of the Lambda steps line up
    const compensations = STEP_NAMES.map((s) => COMPENSATION_OF[s]).filter((c) => c && c !== 'ReleasePromo');
    for (const c of compensations) expect(centre(c!)).toBeCloseTo(centre(compensations[0]!), 0);
  });

  it('derives succeeded, caught, not reached and the taken Catch edge for "fail at ChargePayment"', () => {
    // Prepare
    const events = toConsoleEvents(
      history([
        ['ExecutionStarted', { input: '{}' }],
        enter(STATE_NAMES.hasPromo, 'Choice'),
        exit(STATE_NAMES.hasPromo, 'Choice'),
        ...lambdaOk('ReserveStock'),
        enter('ChargePayment'),
        ['LambdaFunctionScheduled'],
        ['LambdaFunctionStarted'],
        ['LambdaFunctionFailed', { error: 'InjectedFailure', cause: 'fault plan' }],
        exit('ChargePayment'),
        enter('ChargePaymentFailed', 'Pass'),
        exit('ChargePaymentFailed', 'Pass'),
        ...lambdaOk('RefundPayment'),
        ...lambdaOk('ReleaseStock'),
        enter(STATE_NAMES.failOrder, 'Fail'),
        ['ExecutionFailed', { error: 'OrderFailed' }],
      ]),
    );
    // Act
    const { states, takenEdges } = deriveStatuses(graph, events);
    // Assess
    expect(states.ReserveStock?.status).toBe('succeeded');
    expect(states.ChargePayment?.status).toBe('caught');
    expect(states.ChargePayment?.error).toBe('InjectedFailure');
    expect(states.ReleaseStock?.status).toBe('succeeded');
    expect(states.ConfirmOrder?.status).toBe('not-reached');
    expect(states[STATE_NAMES.failOrder]?.status).toBe('failed');
    expect(takenEdges).toContain('ChargePayment->ChargePaymentFailed#0');
    expect(events.find((e) => e.type === 'LambdaFunctionFailed')?.step).toBe('ChargePayment');
    expect(statusLabel(states.ChargePayment!)).toBe('↪ Caught');
  });

  it('counts retries within one visit and shows a running state as in progress', () => {
    // Prepare
    const events = toConsoleEvents(
      history([
        ['ExecutionStarted', { input: '{}' }],
        enter('ReserveStock'),
        ['LambdaFunctionScheduled'],
        ['LambdaFunctionFailed', { error: 'TransientError' }],
        ['LambdaFunctionScheduled'],
        ['LambdaFunctionFailed', { error: 'TransientError' }],
        ['LambdaFunctionScheduled'],
        ['LambdaFunctionSucceeded', { output: '{"total":3000}' }],
        exit('ReserveStock'),
        enter('ChargePayment'),
        ['LambdaFunctionScheduled'],
      ]),
    );
    // Act
    const { states } = deriveStatuses(graph, events);
    // Assess
    expect(states.ReserveStock).toMatchObject({ status: 'succeeded', retries: 2, output: '{}' });
    expect(statusLabel(states.ReserveStock!)).toBe('✓ Succeeded · ⟳ retried 2×');
    expect(states.ChargePayment?.status).toBe('in-progress');
    expect(states.BookDelivery?.status).toBe('not-reached');
  });

  it('marks a Task whose failure ended the execution as failed', () => {
    // Prepare
    const events = toConsoleEvents(
      history([
        ['ExecutionStarted'],
        enter('ReserveStock'),
        ['TaskScheduled'],
        ['TaskFailed', { error: 'States.Runtime', cause: 'boom' }],
        ['ExecutionFailed', { error: 'States.Runtime', cause: 'boom' }],
      ]),
    );
    // Act
    const { states } = deriveStatuses(graph, events);
    // Assess
    expect(states.ReserveStock).toMatchObject({ status: 'failed', error: 'States.Runtime', cause: 'boom' });
  });
});
