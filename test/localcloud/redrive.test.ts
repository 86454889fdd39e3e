/**
 * RedriveExecution on the local Step Functions service, through the stock SDK over real HTTP. AWS has no
 * recording of a redrive in the conformance sources: these follow the API reference and the developer
 * guide ("Redriving executions"): a FAILED, ABORTED or TIMED_OUT Standard execution continues from the
 * state that did not succeed, with the same input, definition and ARN; succeeded states do not run again;
 * in a Parallel or inline Map only the branches and iterations that did not succeed run again.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fnArn, ROLE, type StatesHarness, startStatesHarness } from '../support/states-harness';

let states: StatesHarness;
let flags: string;

/** A function that fails until the file named by `event.flag` exists, then returns `{ok: event.id}`. */
const UNTIL_FLAG = `
const fs = require('node:fs');
exports.handler = async (event) => {
  if (!fs.existsSync(event.flag)) {
    const error = new Error('not yet: ' + event.id);
    error.name = 'NotYet';
    throw error;
  }
  return { ok: event.id };
};`;

beforeAll(async () => {
  states = await startStatesHarness({ prefix: 'redrive' });
  await states.addFunction('until-flag', UNTIL_FLAG);
  flags = mkdtempSync(path.join(os.tmpdir(), 'redrive-flags-'));
});

afterAll(async () => {
  await states?.close();
  if (flags) rmSync(flags, { recursive: true, force: true });
});

let flagCount = 0;
/** A flag file path (absent until `raise`). */
function newFlag(): { path: string; raise: () => void } {
  flagCount += 1;
  const file = path.join(flags, `flag-${flagCount}`);
  return { path: file, raise: () => writeFileSync(file, 'up') };
}

const task = (next: string | undefined, parameters: object) => ({
  Type: 'Task',
  Resource: fnArn('until-flag'),
  Parameters: parameters,
  ...(next ? { Next: next } : { End: true }),
});

const redrive = (executionArn: string, clientToken?: string) =>
  states.sfn.send(new RedriveExecutionCommand({ executionArn, ...(clientToken ? { clientToken } : {}) }));
const describe_ = (executionArn: string) => states.sfn.send(new DescribeExecutionCommand({ executionArn }));
/** How many times the history entered the state `name`. */
const entered = (events: Awaited<ReturnType<StatesHarness['history']>>, name: string) =>
  events.filter((e) => e.type?.endsWith('StateEntered') && e.stateEnteredEventDetails?.name === name).length;

describe('RedriveExecution', () => {
  it('continues a failed execution from the state that failed, with its input and variables, without running the succeeded states again', async () => {
    // Prepare: Prepare (Pass, assigns a variable) → Work (fails until the flag exists) → Done.
    const flag = newFlag();
    const definition = {
      StartAt: 'Prepare',
      States: {
        Prepare: {
          Type: 'Pass',
          Assign: { who: 'prepared' },
          Result: { id: 'one' },
          ResultPath: '$.job',
          Next: 'Work',
        },
        Work: task('Done', { 'id.$': '$.job.id', 'flag.$': '$.flag' }),
        Done: { Type: 'Pass', Parameters: { 'result.$': '$', 'who.$': '$who' }, End: true },
      },
    };
    const executionArn = await states.start(definition, { flag: flag.path });
    const failed = await states.waitForEnd(executionArn);
    expect(failed).toMatchObject({
      status: 'FAILED',
      error: 'NotYet',
      redriveStatus: 'REDRIVABLE',
      redriveCount: 0,
    });

    // Act
    flag.raise();
    const answer = await redrive(executionArn);
    const after = await states.waitForEnd(executionArn);
    const events = await states.history(executionArn);

    // Assess: same ARN, SUCCEEDED with the variable assigned before the failure, Prepare entered once.
    expect(answer.redriveDate).toBeInstanceOf(Date);
    expect(after).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, redriveStatus: 'NOT_REDRIVABLE' });
    expect(after.redriveStatusReason).toBe('Execution is SUCCEEDED and cannot be redriven.');
    expect(after.redriveDate).toBeInstanceOf(Date);
    expect(after.error).toBeUndefined();
    expect(JSON.parse(after.output ?? 'null')).toEqual({
      result: { ok: 'one' },
      who: 'prepared',
    });
    const types = events.map((e) => e.type ?? '');
    expect(entered(events, 'Prepare')).toBe(1);
    expect(entered(events, 'Work')).toBe(2);
    const redriven = types.indexOf('ExecutionRedriven');
    expect(types.slice(redriven - 1, redriven + 2)).toEqual([
      'ExecutionFailed',
      'ExecutionRedriven',
      'TaskStateEntered',
    ]);
    expect(events[redriven]?.executionRedrivenEventDetails).toEqual({ redriveCount: 1 });
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    // Event ids go on from the first run's.
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
  });

  it('runs again only the Parallel branches that did not succeed', async () => {
    // Prepare: branch 0 succeeds at once, branch 1 fails until its flag exists.
    const flag = newFlag();
    const definition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          End: true,
          Branches: [
            { StartAt: 'Quick', States: { Quick: { Type: 'Pass', Result: 'quick', End: true } } },
            { StartAt: 'Slow', States: { Slow: task(undefined, { id: 'slow', 'flag.$': '$.flag' }) } },
          ],
        },
      },
    };
    const executionArn = await states.start(definition, { flag: flag.path });
    expect((await states.waitForEnd(executionArn)).status).toBe('FAILED');

    // Act
    flag.raise();
    await redrive(executionArn);
    const after = await states.waitForEnd(executionArn);
    const events = await states.history(executionArn);

    // Assess
    expect(after.status).toBe('SUCCEEDED');
    expect(JSON.parse(after.output ?? 'null')).toEqual(['quick', { ok: 'slow' }]);
    expect(entered(events, 'Quick')).toBe(1);
    expect(entered(events, 'Slow')).toBe(2);
  });

  it('runs again only the Map iterations that did not succeed', async () => {
    // Prepare: three items; the second fails until its flag exists.
    const flag = newFlag();
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrency: 1,
          ItemProcessor: {
            StartAt: 'Item',
            States: { Item: task(undefined, { 'id.$': '$.id', 'flag.$': '$.flag' }) },
          },
          End: true,
        },
      },
    };
    const ready = path.join(flags, 'always');
    if (!existsSync(ready)) writeFileSync(ready, 'up');
    const input = {
      items: [
        { id: 'a', flag: ready },
        { id: 'b', flag: flag.path },
        { id: 'c', flag: ready },
      ],
    };
    const executionArn = await states.start(definition, input);
    expect((await states.waitForEnd(executionArn)).status).toBe('FAILED');
    const before = (await states.history(executionArn)).filter(
      (e) => e.type === 'MapIterationStarted',
    ).length;

    // Act
    flag.raise();
    await redrive(executionArn);
    const after = await states.waitForEnd(executionArn);
    const events = await states.history(executionArn);

    // Assess: the Map stopped at the failed item (MaxConcurrency 1): item 'c' had not started, so the
    // redrive runs 'b' and 'c'; 'a' keeps its first result.
    expect(after.status).toBe('SUCCEEDED');
    expect(JSON.parse(after.output ?? 'null')).toEqual([{ ok: 'a' }, { ok: 'b' }, { ok: 'c' }]);
    const started = events
      .filter((e) => e.type === 'MapIterationStarted')
      .map((e) => e.mapIterationStartedEventDetails?.index);
    expect(before).toBe(2);
    expect(started).toEqual([0, 1, 1, 2]);
  });

  it('continues a stopped (ABORTED) execution at the state it was in', async () => {
    // Prepare: a long Wait, stopped.
    const definition = {
      StartAt: 'First',
      States: {
        First: { Type: 'Pass', Result: 1, ResultPath: '$.first', Next: 'Hold' },
        Hold: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'Last' },
        Last: { Type: 'Pass', End: true },
      },
    };
    const machine = await states.createMachine(definition);
    const { executionArn = '' } = await states.sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine, input: JSON.stringify({ seconds: 3600 }) }),
    );
    await states.sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Paused', cause: 'by an operator' }),
    );
    const stopped = await states.waitForEnd(executionArn);
    expect(stopped).toMatchObject({ status: 'ABORTED', redriveStatus: 'REDRIVABLE' });

    // Act: redrive, then stop again (the Wait is an hour): it is waiting in Hold, not in First.
    await redrive(executionArn);
    const running = await describe_(executionArn);
    await states.sfn.send(new StopExecutionCommand({ executionArn }));
    await states.waitForEnd(executionArn);
    const events = await states.history(executionArn);

    // Assess
    expect(running).toMatchObject({ status: 'RUNNING', redriveCount: 1, redriveStatus: 'NOT_REDRIVABLE' });
    expect(running.redriveStatusReason).toBe('Execution is RUNNING and cannot be redriven.');
    const types = events.map((e) => e.type ?? '');
    expect(entered(events, 'First')).toBe(1);
    expect(entered(events, 'Hold')).toBe(2);
    expect(types.filter((t) => t === 'ExecutionAborted')).toHaveLength(2);
  });

  it('answers the same clientToken with the same redrive, and lists the redrive count', async () => {
    // Prepare
    const flag = newFlag();
    const executionArn = await states.start(
      { StartAt: 'Work', States: { Work: task(undefined, { id: 'x', 'flag.$': '$.flag' }) } },
      { flag: flag.path },
    );
    await states.waitForEnd(executionArn);
    flag.raise();

    // Act
    const first = await redrive(executionArn, 'token-1');
    const again = await redrive(executionArn, 'token-1');
    const after = await states.waitForEnd(executionArn);
    const machineArn = after.stateMachineArn ?? '';
    const listed = await states.sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn }));

    // Assess
    expect(again.redriveDate).toEqual(first.redriveDate);
    expect(after).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    expect(listed.executions?.[0]).toMatchObject({ executionArn, redriveCount: 1 });
    expect(listed.executions?.[0]?.redriveDate).toBeInstanceOf(Date);
  });

  it('refuses a running or succeeded execution, an unknown one and an Express one', async () => {
    // Prepare
    const succeeded = await states.execute({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    const waiting = await states.start(
      { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 3600, End: true } } },
      {},
    );
    const { stateMachineArn: expressArn = '' } = await states.sfn.send(
      new CreateStateMachineCommand({
        name: 'redrive-express',
        type: 'EXPRESS',
        roleArn: ROLE,
        definition: JSON.stringify({ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'E' } } }),
      }),
    );
    const { executionArn: expressExecution = '' } = await states.sfn.send(
      new StartExecutionCommand({ stateMachineArn: expressArn }),
    );
    const unknown = `${succeeded.executionArn.slice(0, succeeded.executionArn.lastIndexOf(':'))}:nobody`;

    // Act
    const refusals = await Promise.all(
      [succeeded.executionArn, waiting, unknown, expressExecution].map((arn) =>
        redrive(arn).then(
          () => undefined,
          (error: Error) => ({ name: error.name, message: error.message }),
        ),
      ),
    );
    await states.sfn.send(new StopExecutionCommand({ executionArn: waiting }));

    // Assess
    expect(refusals).toEqual([
      { name: 'ExecutionNotRedrivable', message: 'Execution is SUCCEEDED and cannot be redriven.' },
      { name: 'ExecutionNotRedrivable', message: 'Execution is RUNNING and cannot be redriven.' },
      { name: 'ExecutionDoesNotExist', message: `Execution Does Not Exist: '${unknown}'` },
      { name: 'InvalidArn', message: "Invalid Arn: 'Resource type not valid in this context: express'" },
    ]);
  });
});
