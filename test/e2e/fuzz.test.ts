/**
 * Hostile input, generated with fast-check from a fixed seed: thousands of malformed `POST /orders` bodies
 * and odd `GET /orders/{id}` paths. Every one must be refused with a 4xx whose body names what is wrong,
 * never a 5xx, and nothing may change: the tables are equal before and after, no execution starts, the DLQ
 * is untouched. Then malformed AWS API calls to the local cloud's edge: AWS-style errors, and it keeps
 * serving.
 */
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Clients, clientsFor, dlqDepth, mapLimit, readExecutions, scanAll } from '../../chaos/observe';
import { warmUp } from '../../chaos/run';
import type { ApiRequest, ChaosTarget } from '../../client/target';
import { OUTPUTS } from '../../lib/contract';
import { chaosTarget, startTarget, type Target } from '../support/target';

const SEED = 20_261_122;
const POST_RUNS = 1_600;
const GET_RUNS = 600;

let target: Target;
let chaos: ChaosTarget;
let clients: Clients;

beforeAll(async () => {
  target = await startTarget();
  chaos = chaosTarget(target);
  clients = clientsFor(chaos);
  if (target.name === 'local') await warmUp(clients, 8);
}, 300_000);

afterAll(async () => {
  clients?.destroy();
  await target?.close();
});

/** Everything observable that a request could change. */
async function observeState() {
  const tables = OUTPUTS.filter((o) => o.endsWith('TableName'));
  const scans = await Promise.all(
    tables.map((t) => scanAll<Record<string, unknown>>(clients.doc, chaos.outputs[t])),
  );
  const sorted = scans.map((items) => items.map((i) => JSON.stringify(i, replacer)).sort());
  return {
    tables: Object.fromEntries(tables.map((t, i) => [t, sorted[i]])),
    executions: (await readExecutions(clients, chaos)).length,
    dlq: await dlqDepth(clients, chaos),
  };
}

function replacer(_key: string, value: unknown) {
  return value instanceof Set ? [...value].sort() : value;
}

const FIELD_OR_REASON =
  /customerId|items|quantity|sku|deliverySlot|promoCode|orderId|faults|body|field|json|not found|unknown|missing|required|invalid|expected|must|too (large|long|big)|limit|bytes|method|path|resource|authenticat|allowed/i;

/** A 4xx body names a field or a reason: some string in it matches {@link FIELD_OR_REASON}. */
function namesWhatIsWrong(body: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return FIELD_OR_REASON.test(body);
  }
  const strings: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') strings.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(parsed);
  return strings.some((s) => FIELD_OR_REASON.test(s));
}

// ---- Generators. Every POST body carries at least one definite defect, so none may be accepted.

const base = () => ({
  orderId: `fuzz-${Math.random().toString(36).slice(2, 10)}`,
  customerId: 'customer-1',
  items: [{ sku: 'SKU-1', quantity: 1 }] as unknown[],
  deliverySlot: '2026-12-01T10',
});
type Body = Record<string, unknown>;

const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);
const badQuantity = fc.oneof(
  fc.integer({ max: 0 }),
  fc.integer({ min: 1_001 }),
  fc.constantFrom(1.5, 0.1, 999.999, 1e9, 2 ** 53, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 1e-300),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((d) => !Number.isInteger(d) || d < 1 || d > 1_000),
  fc.constantFrom('1', '', 'one', '1e3', true, null, [], {}),
);
const hostileString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    '\u202e',
    'a\nb',
    '💥'.repeat(50),
    '../../etc/passwd',
    '<script>',
    "' OR 1=1 --",
    '\ud800',
  ),
);

/** A mutation that makes a valid body definitely invalid. */
const defect: fc.Arbitrary<[string, (b: Body) => void]> = fc.oneof(
  fc.constantFrom('customerId', 'items', 'deliverySlot').map((f): [string, (b: Body) => void] => [
    `missing ${f}`,
    (b) => {
      delete b[f];
    },
  ]),
  fc
    .tuple(fc.constantFrom('customerId', 'items', 'deliverySlot', 'promoCode', 'orderId'), wrongType)
    .map(([f, v]): [string, (b: Body) => void] => [
      `wrong type ${f}`,
      (b) => void Object.assign(b, { [f]: v }),
    ]),
  badQuantity.map((q): [string, (b: Body) => void] => [
    `bad quantity`,
    (b) => void Object.assign(b, { items: [{ sku: 'SKU-1', quantity: q }] }),
  ]),
  fc.constant<[string, (b: Body) => void]>(['empty items', (b) => void Object.assign(b, { items: [] })]),
  fc.integer({ min: 51, max: 400 }).map((n): [string, (b: Body) => void] => [
    'too many items',
    (b) =>
      void Object.assign(b, {
        items: Array.from({ length: n }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 })),
      }),
  ]),
  fc.constant<[string, (b: Body) => void]>([
    'duplicate sku',
    (b) =>
      void Object.assign(b, {
        items: [
          { sku: 'SKU-1', quantity: 1 },
          { sku: 'SKU-1', quantity: 2 },
        ],
      }),
  ]),
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 12 }), hostileString)
    .map(([k, v]): [string, (b: Body) => void] => [
      'unknown field',
      (b) => void Object.assign(b, { [`x_${k}`]: v }),
    ]),
  fc
    .tuple(wrongType, hostileString)
    .map(([v, k]): [string, (b: Body) => void] => [
      'unknown item field',
      (b) => void Object.assign(b, { items: [{ sku: 'SKU-1', quantity: 1, [`x${k}`]: v }] }),
    ]),
  hostileString.map((s): [string, (b: Body) => void] => [
    `hostile orderId`,
    (b) => void Object.assign(b, { orderId: `${s}/x y` }),
  ]),
  fc
    .integer({ min: 65, max: 300 })
    .map((n): [string, (b: Body) => void] => [
      'long orderId',
      (b) => void Object.assign(b, { orderId: 'o'.repeat(n) }),
    ]),
  fc
    .integer({ min: 129, max: 5_000 })
    .map((n): [string, (b: Body) => void] => [
      'long customerId',
      (b) => void Object.assign(b, { customerId: 'c'.repeat(n) }),
    ]),
  fc
    .oneof(
      fc.constant({ Nope: 'fail' }),
      fc.constant({ ChargePayment: 'explode' }),
      fc.constant({ ChargePayment: 'transient:-1' }),
      fc.constant('fail'),
    )
    .map((f): [string, (b: Body) => void] => ['bad faults', (b) => void Object.assign(b, { faults: f })]),
  fc.integer({ min: 2, max: 60 }).map((depth): [string, (b: Body) => void] => {
    let nested: unknown = { sku: 'SKU-1', quantity: 1 };
    for (let i = 0; i < depth; i++) nested = [nested];
    return ['deep nesting', (b) => void Object.assign(b, { items: nested })];
  }),
);

/** Decoration that must not rescue an invalid body: extra hostile strings in valid-looking places. */
const decoration = fc.option(
  hostileString.map((s) => (b: Body) => void Object.assign(b, { promoCode: s || 'x' })),
  { nil: undefined },
);

interface Case {
  category: string;
  request: ApiRequest;
}

const postCase: fc.Arbitrary<Case> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.array(defect, { minLength: 1, maxLength: 3 }), decoration)
      .map(([defects, decorate]) => {
        const body = base();
        decorate?.(body);
        for (const [, apply] of defects) apply(body);
        return {
          category: defects[0]![0],
          request: { method: 'POST', path: 'orders', body: JSON.stringify(body) },
        };
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          '',
          ' ',
          '{',
          '}',
          '[',
          'null',
          'true',
          '42',
          '"order"',
          '[]',
          '{"items": [}',
          "{'customerId': 'a'}",
          '{"customerId":"a",}',
          '{"quantity": NaN}',
          '\u0000',
          '\ufeff{}',
          '{"a":1}{"b":2}',
        ),
        fc.string({ maxLength: 200 }).filter((s) => {
          try {
            JSON.parse(s);
            return false;
          } catch {
            return true;
          }
        }),
      )
      .map((body) => ({ category: 'invalid JSON', request: { method: 'POST', path: 'orders', body } })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        // Duplicate keys: the last value wins in JSON.parse, and it is invalid.
        '{"customerId":"customer-1","items":[{"sku":"SKU-1","quantity":1}],"deliverySlot":"2026-12-01T10","items":"again"}',
        '{"customerId":"customer-1","customerId":7,"items":[{"sku":"SKU-1","quantity":1}],"deliverySlot":"2026-12-01T10"}',
        '{"customerId":"customer-1","items":[{"sku":"SKU-1","quantity":1,"quantity":0}],"deliverySlot":"2026-12-01T10"}',
        '{"customerId":"customer-1","items":[{"sku":"SKU-1","quantity":1}],"deliverySlot":"2026-12-01T10","deliverySlot":null}',
      )
      .map((body) => ({ category: 'duplicate keys', request: { method: 'POST', path: 'orders', body } })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('customerId', 'padding', 'items').map((where) => {
      const big = 'x'.repeat(1024 * 1024);
      const body = base() as Body;
      if (where === 'items')
        body.items = Array.from({ length: 40_000 }, () => ({ sku: 'SKU-1', quantity: 0 }));
      else body[where] = big;
      return {
        category: '1 MB body',
        request: { method: 'POST', path: 'orders', body: JSON.stringify(body) },
      };
    }),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((depth) => ({
      category: 'deep JSON',
      request: { method: 'POST', path: 'orders', body: `${'['.repeat(depth)}${']'.repeat(depth)}` },
    })),
  },
);

const oddId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }).map((s) => encodeURIComponent(s)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom(
    '%00',
    '..%2F..%2Fetc',
    '%2F',
    '%20',
    'a%0Ab',
    'x'.repeat(65),
    'x'.repeat(5_000),
    '*',
    '%E2%80%AE',
  ),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/).map((s) => `nope-${s}`.slice(0, 64)),
);
const getCase: fc.Arbitrary<Case> = fc.oneof(
  {
    weight: 4,
    arbitrary: oddId.map((id) => ({
      category: 'GET unknown or odd id',
      request: { method: 'GET', path: `orders/${id}` },
    })),
  },
  {
    weight: 2,
    arbitrary: oddId.map((id) => ({
      category: 'GET history of odd id',
      request: { method: 'GET', path: `orders/${id}/history` },
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('PUT', 'DELETE', 'PATCH', 'POST', 'GET'),
        fc.constantFrom(
          'orders/x',
          'orders/x/history',
          'orders',
          'orders/',
          'orders//history',
          'orders/a/b/c',
          'nope',
          'ORDERS',
          'orders/x/history/y',
        ),
      )
      .filter(
        ([m, p]) =>
          !(m === 'POST' && p === 'orders') &&
          !(m === 'GET' && /^orders\/x(\/history)?$/.test(p) === false && p === 'orders'),
      )
      .map(([method, path]) => ({
        category: 'odd method or path',
        request: { method, path, ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }) },
      })),
  },
);

interface Failure {
  category: string;
  request: string;
  status: number;
  body: string;
}

describe('hostile input to the order API', () => {
  it(`refuses ${POST_RUNS + GET_RUNS}+ generated requests with a 4xx naming what is wrong; no 5xx, no state change`, async () => {
    const cases = [
      ...fc.sample(postCase, { seed: SEED, numRuns: POST_RUNS }),
      ...fc.sample(getCase, { seed: SEED + 1, numRuns: GET_RUNS }),
    ];
    const before = await observeState();

    const failures: Failure[] = [];
    const counts = new Map<string, { total: number; byStatus: Map<number, number> }>();
    await mapLimit(cases, 8, async ({ category, request }) => {
      const response = await chaos.api(request);
      const c = counts.get(category) ?? { total: 0, byStatus: new Map() };
      c.total++;
      c.byStatus.set(response.status, (c.byStatus.get(response.status) ?? 0) + 1);
      counts.set(category, c);
      const is4xx = response.status >= 400 && response.status < 500;
      if (!is4xx || !namesWhatIsWrong(response.body)) {
        failures.push({
          category,
          request: `${request.method} ${request.path} ${(request.body ?? '').slice(0, 200)}`,
          status: response.status,
          body: response.body.slice(0, 300),
        });
      }
    });

    const after = await observeState();
    const lines = [...counts].sort().map(
      ([k, c]) =>
        `  ${k.padEnd(26)} ${String(c.total).padStart(5)}  ${[...c.byStatus]
          .sort()
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}`,
    );
    process.stdout.write(
      `fuzz (seed ${SEED}): ${cases.length} requests, ${failures.length} failures\n${lines.join('\n')}\n`,
    );
    expect(cases.length).toBeGreaterThanOrEqual(2_000);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(after).toEqual(before);
  }, 600_000);
});

describe('malformed AWS API calls to the local cloud edge', () => {
  const call = (headers: Record<string, string>, body: string | Uint8Array<ArrayBuffer>, path = '/') =>
    fetch(new URL(path, chaos.aws.endpoint), { method: 'POST', headers, body });
  const scope = (service: string) =>
    `AWS4-HMAC-SHA256 Credential=local/20261122/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;

  const cases: Array<[string, () => Promise<Response>, RegExp]> = [
    [
      'unknown Step Functions operation',
      () =>
        call(
          {
            'x-amz-target': 'AWSStepFunctions.Explode',
            'content-type': 'application/x-amz-json-1.0',
            authorization: scope('states'),
          },
          '{}',
        ),
      /UnknownOperation|InvalidAction/,
    ],
    [
      'bad JSON to DynamoDB',
      () =>
        call(
          {
            'x-amz-target': 'DynamoDB_20120810.GetItem',
            'content-type': 'application/x-amz-json-1.0',
            authorization: scope('dynamodb'),
          },
          '{"TableName": ',
        ),
      /Serialization|Validation/,
    ],
    [
      'bad JSON to Step Functions',
      () =>
        call(
          {
            'x-amz-target': 'AWSStepFunctions.StartExecution',
            'content-type': 'application/x-amz-json-1.0',
            authorization: scope('states'),
          },
          'not json',
        ),
      /Serialization|Validation/,
    ],
    [
      'wrong types to StartExecution',
      () =>
        call(
          {
            'x-amz-target': 'AWSStepFunctions.StartExecution',
            'content-type': 'application/x-amz-json-1.0',
            authorization: scope('states'),
          },
          '{"stateMachineArn": 42, "input": {"a": 1}}',
        ),
      /Validation|InvalidArn|Serialization/,
    ],
    [
      'missing auth header and target',
      () => call({ 'content-type': 'application/json' }, '{}'),
      /MissingAuthenticationToken|IncompleteSignature|Authenticat/,
    ],
    [
      'huge payload',
      () =>
        call(
          {
            'x-amz-target': 'DynamoDB_20120810.PutItem',
            'content-type': 'application/x-amz-json-1.0',
            authorization: scope('dynamodb'),
          },
          new Uint8Array(11 * 1024 * 1024).fill(0x61),
        ),
      /TooLarge|RequestEntity|Validation/,
    ],
    [
      'unknown table',
      () =>
        call(
          {
            'x-amz-target': 'DynamoDB_20120810.GetItem',
            'content-type': 'application/x-amz-json-1.0',
            authorization: scope('dynamodb'),
          },
          '{"TableName":"no-such-table","Key":{"k":{"S":"x"}}}',
        ),
      /ResourceNotFound/,
    ],
    [
      'unknown function',
      () =>
        fetch(new URL('/2015-03-31/functions/no-such-function/invocations', chaos.aws.endpoint), {
          method: 'POST',
          headers: { authorization: scope('lambda') },
          body: '{}',
        }),
      /ResourceNotFound/,
    ],
  ];

  it.each(cases)('%s → an AWS-style 4xx error, and the runtime keeps serving', async (_label, send, type) => {
    const response = await send();
    const body = await response.text();
    expect(response.status, body).toBeGreaterThanOrEqual(400);
    expect(response.status, body).toBeLessThan(500);
    expect(`${response.headers.get('x-amzn-errortype') ?? ''} ${body}`).toMatch(type);

    const machines = await clients.sfn.send(new ListStateMachinesCommand({}));
    expect(machines.stateMachines?.length).toBeGreaterThan(0);
    const order = await chaos.api({ method: 'GET', path: 'orders/still-serving' });
    expect(order.status).toBe(404);
  });
});
