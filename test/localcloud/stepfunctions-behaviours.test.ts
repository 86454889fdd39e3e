import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StatesHarness, startStatesHarness } from '../support/states-harness';
import { pollUntil } from '../support/waiting';

let states: StatesHarness;

beforeAll(async () => {
  states = await startStatesHarness({ prefix: 'patch' });
});

afterAll(async () => {
  await states?.close();
});

const start = (definition: object, input: unknown) => states.start(definition, input);
const ended = (executionArn: string) => states.waitForEnd(executionArn, 20_000);
const history = (executionArn: string) => states.history(executionArn);

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) =>
  pollUntil(what, probe, { timeoutMs: 20_000, intervalMs: 20 });

/** Runs a definition to its end: the final description and the history's event types. */
async function run(definition: object, input: unknown = {}) {
  const { description: outcome, types, output } = await states.execute(definition, input, 20_000);
  return { outcome, types, output };
}

/** A single Pass state whose Parameters are evaluated over `input`. */
const passing = (parameters: object) => ({
  StartAt: 'Evaluate',
  States: { Evaluate: { Type: 'Pass', Parameters: parameters, End: true } },
});

const count = (types: string[], type: string) => types.filter((t) => t === type).length;

describe('intrinsic functions', () => {
  it('evaluate StringSplit, MathAdd, MathRandom, StringToJson and Format as AWS does', async () => {
    const { outcome, output } = await run(
      passing({
        'split.$': "States.StringSplit($.csv, ',.')",
        'onlyDelimiters.$': "States.StringSplit(',,,', ',')",
        'sum.$': 'States.MathAdd($.a, $.b)',
        'halves.$': 'States.MathAdd($.c, $.d)',
        'random.$': 'States.MathRandom($.low, $.high)',
        'blank.$': 'States.StringToJson($.blank)',
        'format.$': "States.Format('order {} has {}', $.order.id, $.order)",
      }),
      {
        csv: ',a,,b.c,',
        a: 1.49,
        b: 1.5,
        c: -2.5,
        d: 0.5,
        low: 12,
        high: 13,
        blank: '  ',
        order: { id: 'o-1', items: ['x', 'y'], paid: true },
      },
    );

    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual({
      split: ['a', 'b', 'c'],
      onlyDelimiters: [],
      sum: 3,
      halves: -1,
      random: 12,
      blank: null,
      format: 'order o-1 has {id=o-1, items=[x, y], paid=true}',
    });
  });

  it('keep backslashes and quotes from the input, and unescape only literals', async () => {
    const input = { text: 'say "hi" to C:\\temp' };

    const { outcome, output } = await run(
      passing({
        'json.$': 'States.JsonToString($)',
        'format.$': "States.Format('it\\'s \\{\\} (literal): {}', $.text)",
      }),
      input,
    );

    expect(outcome.status).toBe('SUCCEEDED');
    expect(JSON.parse(output.json)).toEqual(input);
    expect(output.format).toBe(`it's {} (literal): ${input.text}`);
  });

  it('fail StringToJson on text that is not JSON with States.Runtime, not a JavaScript error name', async () => {
    const { outcome } = await run(passing({ 'parsed.$': 'States.StringToJson($.text)' }), { text: '{oops' });

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.Runtime');
  });
});

describe('Choice Is* rules with false', () => {
  it.each([
    ['IsNull', 0],
    ['IsPresent', undefined],
    ['IsNumeric', 'seven'],
    ['IsString', 7],
    ['IsBoolean', 'true'],
    ['IsTimestamp', '2024-01-01'],
  ])('%s: false matches a value that fails the test (%j)', async (operator, value) => {
    const definition = {
      StartAt: 'Check',
      States: {
        Check: {
          Type: 'Choice',
          Choices: [{ Variable: '$.value', [operator]: false, Next: 'Matched' }],
          Default: 'NotMatched',
        },
        Matched: { Type: 'Succeed' },
        NotMatched: { Type: 'Fail', Error: 'NotMatched' },
      },
    };

    const { outcome } = await run(definition, value === undefined ? {} : { value });

    expect(outcome.status).toBe('SUCCEEDED');
  });
});

describe('JSONPath', () => {
  it('gives an indefinite path an array: [] when nothing matches, [x] for a single match', async () => {
    const { outcome, output } = await run(
      passing({
        'none.$': '$.missing[*]',
        'slice.$': '$.items[1:5]',
        'one.$': '$.single[*]',
        'deep.$': '$..id',
      }),
      { items: [], single: [[1, 2]], nested: { id: 'n' } },
    );

    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual({ none: [], slice: [], one: [[1, 2]], deep: ['n'] });
  });
});

describe('Fail state', () => {
  it('evaluates intrinsic functions in ErrorPath and CausePath', async () => {
    const definition = {
      StartAt: 'Reject',
      States: {
        Reject: {
          Type: 'Fail',
          ErrorPath: "States.Format('{}Error', $.kind)",
          CausePath: "States.Format('order {} rejected', $.orderId)",
        },
      },
    };

    const { outcome } = await run(definition, { kind: 'Payment', orderId: 'o-7' });

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'PaymentError', cause: 'order o-7 rejected' });
  });
});

describe('Wait state', () => {
  const waitUntil = {
    StartAt: 'Hold',
    States: { Hold: { Type: 'Wait', TimestampPath: '$.until', End: true } },
  };

  it('keeps waiting when the delay exceeds what one Node timer can hold (24.8 days)', async () => {
    // Prepare: 30 days ahead (an overflowing timer would fire at once and the execution would succeed).
    const until = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const executionArn = await start(waitUntil, { until });
    await waitFor('the Wait to start', async () =>
      (await history(executionArn)).some((event) => event.type === 'WaitStateEntered') ? true : undefined,
    );

    // Act
    await states.sfn.send(new StopExecutionCommand({ executionArn }));
    const outcome = await ended(executionArn);

    // Assess
    expect(outcome.status).toBe('ABORTED');
    expect((await history(executionArn)).map((event) => event.type)).not.toContain('WaitStateExited');
  });

  it('fails with States.Runtime when the delay is beyond what AWS accepts', async () => {
    const { outcome, types } = await run(waitUntil, { until: '2100-01-01T00:00:00Z' });

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(outcome.cause).toContain('Wait state delay is too long.');
    expect(types).not.toContain('WaitStateExited');
  });

  it.each([
    [-1, 'The SecondsPath parameter references a negative value: $.seconds == -1'],
    [1.5, 'The SecondsPath parameter cannot be parsed as a long value: $.seconds == 1.5'],
  ])('rejects SecondsPath %j with the AWS explanation', async (seconds, explanation) => {
    const definition = {
      StartAt: 'Hold',
      States: { Hold: { Type: 'Wait', SecondsPath: '$.seconds', End: true } },
    };

    const { outcome } = await run(definition, { seconds });

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(outcome.cause).toContain(explanation);
  });
});

describe('Map and Parallel', () => {
  it('starts no further item once an iteration has failed', async () => {
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          MaxConcurrency: 1,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'IsBad',
            States: {
              IsBad: {
                Type: 'Choice',
                Choices: [{ Variable: '$', StringEquals: 'bad', Next: 'Break' }],
                Default: 'Ok',
              },
              Break: { Type: 'Fail', Error: 'BadItem' },
              Ok: { Type: 'Pass', End: true },
            },
          },
          End: true,
        },
      },
    };

    const { outcome, types } = await run(definition, ['good', 'bad', 'good', 'good']);

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'BadItem' });
    expect(count(types, 'MapIterationStarted')).toBe(2);
    expect(count(types, 'MapIterationFailed')).toBe(1);
  });

  it('records every event of nested Map and Parallel states before the outer state exits', async () => {
    const mapOf = (processor: object) => ({
      Type: 'Map',
      MaxConcurrency: 1,
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...processor },
      End: true,
    });
    const definition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Outer',
              States: {
                Outer: mapOf({
                  StartAt: 'Inner',
                  States: {
                    Inner: mapOf({ StartAt: 'Touch', States: { Touch: { Type: 'Pass', End: true } } }),
                  },
                }),
              },
            },
          ],
          End: true,
        },
      },
    };

    const { outcome, types } = await run(definition, [
      [1, 2, 3],
      [4, 5, 6],
    ]);

    expect(outcome.status).toBe('SUCCEEDED');
    // 2 outer iterations + 2 x 3 inner ones, all recorded before the Parallel state exits.
    const beforeExit = types.slice(0, types.indexOf('ParallelStateExited'));
    expect(count(beforeExit, 'MapIterationSucceeded')).toBe(8);
    expect(count(beforeExit, 'MapStateExited')).toBe(3);
    expect(count(beforeExit, 'PassStateExited')).toBe(6);
  });

  it('rejects a MaxConcurrencyPath value that is not an integer with the AWS explanation', async () => {
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          MaxConcurrencyPath: '$.limit',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Touch',
            States: { Touch: { Type: 'Pass', End: true } },
          },
          ItemsPath: '$.items',
          End: true,
        },
      },
    };

    const { outcome } = await run(definition, { limit: 'many', items: [1] });

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(outcome.cause).toContain(
      'The MaxConcurrencyPath field refers to value "many" which is not a valid integer: $.limit',
    );
  });

  it('reads a MaxConcurrencyPath string holding an integer as that integer', async () => {
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          MaxConcurrencyPath: '$.limit',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Touch',
            States: { Touch: { Type: 'Pass', End: true } },
          },
          ItemsPath: '$.items',
          End: true,
        },
      },
    };

    const { outcome, output } = await run(definition, { limit: '1', items: [1, 2] });

    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual([1, 2]);
  });
});

describe('workflow variables (Assign, $name)', () => {
  it('evaluates every Assign field with the values from before the state, and sets them after its OutputPath', async () => {
    const definition = {
      StartAt: 'Ask',
      States: {
        Ask: {
          Type: 'Pass',
          Result: { question: 'life', answer: 42 },
          Assign: {
            question: 'none',
            'topic.$': '$.question',
            'answer.$': '$.answer',
            list: [null, '{% $x %}'],
          },
          Next: 'Swap',
        },
        Swap: {
          Type: 'Pass',
          InputPath: '$answer',
          Parameters: { 'from.$': '$', 'topic.$': '$topic', 'first.$': '$list[0]' },
          Assign: { answer: 'changed', 'previous.$': '$answer', 'sum.$': 'States.MathAdd($answer, 1)' },
          OutputPath: '$answer',
          Next: 'Report',
        },
        Report: {
          Type: 'Pass',
          Parameters: { 'answer.$': '$answer', 'previous.$': '$previous', 'sum.$': '$sum', 'output.$': '$' },
          End: true,
        },
      },
    };

    const { outcome, output } = await run(definition);

    expect(outcome.status).toBe('SUCCEEDED');
    // Swap's OutputPath read the answer from before Swap's own Assign.
    expect(output).toEqual({ answer: 'changed', previous: 42, sum: 43, output: 42 });
  });

  it('reads variables in Choice rules, ItemsPath, Wait, Fail and intrinsic arguments; Choice assigns per rule', async () => {
    const definition = {
      StartAt: 'Setup',
      States: {
        Setup: {
          Type: 'Pass',
          Assign: { items: [1, 2], limit: 2, seconds: 0, reason: 'too many', expected: 'x' },
          Next: 'Check',
        },
        Check: {
          Type: 'Choice',
          Choices: [
            {
              Variable: '$limit',
              NumericGreaterThanPath: '$items[1]',
              Assign: { verdict: 'rule' },
              Next: 'Wait',
            },
          ],
          Assign: { verdict: 'default' },
          Default: 'Wait',
        },
        Wait: { Type: 'Wait', SecondsPath: '$seconds', Next: 'Each' },
        Each: {
          Type: 'Map',
          ItemsPath: '$items',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Inner',
            States: {
              Inner: {
                Type: 'Pass',
                Parameters: { 'v.$': "States.Format('{}-{}', $, $verdict)" },
                End: true,
              },
            },
          },
          Next: 'Stop',
        },
        Stop: { Type: 'Fail', ErrorPath: '$verdict', CausePath: "States.Format('{}: {}', $reason, $limit)" },
      },
    };

    const { outcome } = await run(definition);

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'default', cause: 'too many: 2' });
  });

  it('lets Map iterations and Parallel branches read outer variables but keeps their own assignments inside', async () => {
    const definition = {
      StartAt: 'Setup',
      States: {
        Setup: { Type: 'Pass', Assign: { bias: 10, seen: 'outer' }, Next: 'Each' },
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrency: 1,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Remember',
            States: {
              Remember: { Type: 'Pass', Assign: { 'seen.$': '$' }, Next: 'Add' },
              Add: {
                Type: 'Pass',
                Parameters: { 'sum.$': 'States.MathAdd($, $bias)', 'seen.$': '$seen' },
                End: true,
              },
            },
          },
          Assign: { 'sums.$': '$[*].sum' },
          Next: 'Both',
        },
        Both: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Left',
              States: {
                Left: {
                  Type: 'Pass',
                  Assign: { seen: 'left' },
                  Parameters: { 'sums.$': '$sums' },
                  End: true,
                },
              },
            },
            {
              StartAt: 'Right',
              States: { Right: { Type: 'Pass', Parameters: { 'seen.$': '$seen' }, End: true } },
            },
          ],
          ResultSelector: { 'left.$': '$[0].sums', 'right.$': '$[1].seen' },
          Next: 'After',
        },
        After: { Type: 'Pass', Parameters: { 'branches.$': '$', 'seen.$': '$seen' }, End: true },
      },
    };

    const { outcome, output } = await run(definition, { items: [1, 2] });

    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual({ branches: { left: [11, 12], right: 'outer' }, seen: 'outer' });
  });

  it('assigns from the error output in a Catch, and fails with States.Runtime on a variable never assigned', async () => {
    const caught = {
      StartAt: 'Try',
      States: {
        Try: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Boom', States: { Boom: { Type: 'Fail', Error: 'Oops', Cause: 'it broke' } } },
          ],
          Catch: [{ ErrorEquals: ['States.ALL'], Assign: { 'failure.$': '$.Error' }, Next: 'Report' }],
          End: true,
        },
        Report: { Type: 'Pass', Parameters: { 'failure.$': '$failure' }, End: true },
      },
    };
    const unassigned = passing({ 'value.$': '$nobody' });

    const recovered = await run(caught);
    const failed = await run(unassigned);

    expect(recovered.output).toEqual({ failure: 'Oops' });
    expect(failed.outcome).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    // Not recorded by AWS for JSONPath (JSONata's "returned nothing (undefined)" is): worded as any path
    // that selects nothing.
    expect(failed.outcome.cause).toContain(
      "The JSONPath '$nobody' specified for the field 'value.$' could not be found in the input '{}'",
    );
  });

  it('leaves the merged objects of States.JsonMerge unchanged', async () => {
    const definition = {
      StartAt: 'Merge',
      States: {
        Merge: {
          Type: 'Pass',
          Parameters: { 'merged.$': 'States.JsonMerge($.a, $.b, false)' },
          ResultPath: '$.result',
          End: true,
        },
      },
    };

    const { output } = await run(definition, { a: { x: 1 }, b: { y: 2 } });

    expect(output).toEqual({ a: { x: 1 }, b: { y: 2 }, result: { merged: { x: 1, y: 2 } } });
  });
});

describe('paths that select nothing', () => {
  it('name the template key or Fail field, with the input, as AWS words it', async () => {
    const template = await run(passing({ 'total.$': '$.order.total' }), { order: {} });
    const failPath = await run(
      { StartAt: 'Reject', States: { Reject: { Type: 'Fail', Error: 'Rejected', CausePath: '$.reason' } } },
      { orderId: 'o-1' },
    );

    expect(template.outcome).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(template.outcome.cause).toContain(
      `The JSONPath '$.order.total' specified for the field 'total.$' could not be found in the input '{"order":{}}'`,
    );
    expect(failPath.outcome.cause).toContain(
      `The JSONPath '$.reason' specified for the field 'CausePath' could not be found in the input '{"orderId":"o-1"}'`,
    );
  });

  it('are an invalid path in InputPath, OutputPath and TimeoutSecondsPath, worded by Jayway JsonPath', async () => {
    const pass = (field: string, path: string) => ({
      StartAt: 'Select',
      States: { Select: { Type: 'Pass', [field]: path, End: true } },
    });
    const input = await run(pass('InputPath', '$.order.lines'), { order: {} });
    const output = await run(pass('OutputPath', '$.customer.address.city'), { order: {} });
    const timeout = await run(
      {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:000000000000:function:never-called',
            TimeoutSecondsPath: '$.limits.timeout',
            End: true,
          },
        },
      },
      { limits: {} },
    );

    expect(input.outcome.cause).toContain(
      "Invalid path '$.order.lines' : No results for path: $['order']['lines']",
    );
    expect(output.outcome.cause).toContain(
      "Invalid path '$.customer.address.city' : Missing property in path $['customer']",
    );
    expect(timeout.outcome).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(timeout.outcome.cause).toContain(
      "Invalid path '$.limits.timeout' : No results for path: $['limits']['timeout']",
    );
  });
});

describe('distributed Map', () => {
  const distributed = (fields: object, item: object = { Type: 'Pass', End: true }) => ({
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Item',
          States: { Item: item },
        },
        ...fields,
        End: true,
      },
    },
  });
  /** An item state that fails for the items whose `fail` is true. */
  const failingItem = {
    Type: 'Choice',
    Choices: [{ Variable: '$.fail', BooleanEquals: true, Next: 'Broken' }],
    Default: 'Fine',
  };
  const withFailures = (fields: object) => {
    const definition = distributed(fields, failingItem) as {
      States: { Each: { ItemProcessor: { States: Record<string, object> } } };
    };
    Object.assign(definition.States.Each.ItemProcessor.States, {
      Broken: { Type: 'Fail', Error: 'ItemBroken', Cause: 'bad item' },
      Fine: { Type: 'Pass', End: true },
    });
    return definition;
  };
  const items = (failing: number, total: number) =>
    Array.from({ length: total }, (_, i) => ({ id: i, fail: i < failing }));

  it('records a Map Run in the parent history and nothing of its items', async () => {
    const { outcome, types, output } = await run(distributed({ Label: 'Orders', MaxConcurrency: 2 }), {
      items: [1, 2, 3],
    });

    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual([1, 2, 3]);
    expect(types).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapRunStarted',
      'MapRunSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('tolerates item failures up to ToleratedFailureCount and ToleratedFailurePercentage', async () => {
    const byCount = await run(withFailures({ ToleratedFailureCountPath: '$.tolerated' }), {
      items: items(2, 4),
      tolerated: '2',
    });
    const byPercentage = await run(withFailures({ ToleratedFailurePercentage: 50.5 }), {
      items: items(2, 4),
    });

    expect(byCount.outcome.status).toBe('SUCCEEDED');
    expect(byCount.output[0]).toEqual({ Error: 'ItemBroken', Cause: 'bad item' });
    expect(byCount.output[3]).toEqual({ id: 3, fail: false });
    expect(byPercentage.outcome.status).toBe('SUCCEEDED');
  });

  it('fails with States.ExceedToleratedFailureThreshold beyond the tolerance, which Catch can handle', async () => {
    const untolerated = await run(withFailures({}), { items: items(1, 3) });
    const overCount = await run(withFailures({ ToleratedFailureCount: 1 }), { items: items(2, 3) });
    const caught = withFailures({
      ToleratedFailurePercentage: 10,
      Catch: [{ ErrorEquals: ['States.ExceedToleratedFailureThreshold'], Next: 'Handled' }],
    }) as { States: Record<string, object> };
    caught.States.Handled = { Type: 'Pass', End: true };
    const handled = await run(caught, { items: items(1, 3) });

    expect(untolerated.outcome).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
    });
    expect(untolerated.types).toContain('MapRunFailed');
    expect(untolerated.types).toContain('MapStateFailed');
    expect(overCount.outcome.error).toBe('States.ExceedToleratedFailureThreshold');
    expect(handled.outcome.status).toBe('SUCCEEDED');
    expect(handled.types).toContain('MapRunFailed');
  });

  it('rejects invalid tolerated failure values at run time with the AWS explanations', async () => {
    const cases: Array<[object, unknown, string]> = [
      [
        { ToleratedFailureCountPath: '$.t' },
        'many',
        'The ToleratedFailureCountPath field refers to value "many" which is not a valid integer: $.t',
      ],
      [{ ToleratedFailureCountPath: '$.t' }, -1, 'ToleratedFailureCount cannot be negative.'],
      [
        { ToleratedFailurePercentagePath: '$.t' },
        {},
        'The ToleratedFailurePercentagePath field refers to value "{}" which is not a valid float: $.t',
      ],
      [
        { ToleratedFailurePercentagePath: '$.t' },
        100.5,
        'ToleratedFailurePercentage must be between 0 and 100.',
      ],
    ];
    for (const [fields, tolerated, cause] of cases) {
      const { outcome, types } = await run(distributed(fields), { items: [1], t: tolerated });

      expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
      expect(outcome.cause).toContain(`(entered at the event id #2). ${cause}`);
      expect(types).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapStateStarted', 'ExecutionFailed']);
    }
  });

  it('refuses an ItemReader (S3) with an error naming it', async () => {
    const { outcome } = await run(
      distributed({
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject', Parameters: { Bucket: 'b', Key: 'k' } },
      }),
      { items: [] },
    );

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(outcome.cause).toContain('does not support ItemReader in a distributed Map');
  });
});
