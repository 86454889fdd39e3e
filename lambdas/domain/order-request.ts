/**
 * `POST /orders` request validation: a strict zod schema (unknown fields are errors), every problem
 * reported with the field it concerns, and the canonical request hash that makes the POST idempotent.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import {
  COMPENSATION_NAMES,
  FAULT_MODE_PATTERN,
  type OrderSagaInput,
  STATE_NAMES,
  STEP_NAMES,
} from '../../lib/contract';

export const ORDER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_ITEMS = 50;
export const MAX_QUANTITY = 1000;

export interface FieldError {
  field: string;
  message: string;
}

/** A request the API refuses: 400 (or 413), with one entry per bad field. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly statusCode: 400 | 404 | 409 | 413 | 503,
    message: string,
    readonly errors: FieldError[] = [],
    /** A stable machine-readable name of the refusal (e.g. `AlreadyConfirmed`). */
    readonly code?: string,
  ) {
    super(message);
  }
}

const identifier = (what: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? `${what} is required` : `${what} must be a string`) })
    .check(
      z.minLength(1, `${what} must not be empty`),
      z.maxLength(128, `${what} must be at most 128 characters`),
    );

const operationNames = [...STEP_NAMES, ...COMPENSATION_NAMES, STATE_NAMES.recordFailure] as [
  string,
  ...string[],
];

// zod/mini keeps the Api bundle small; every message is explicit, so no locale is needed.
const orderRequestSchema = z.strictObject({
  orderId: z.optional(
    z
      .string({ error: 'orderId must be a string' })
      .check(z.regex(ORDER_ID_PATTERN, 'orderId must be 1-64 characters of A-Z, a-z, 0-9, _ or -')),
  ),
  customerId: identifier('customerId'),
  items: z
    .array(
      z.strictObject({
        sku: identifier('sku'),
        quantity: z
          .int({
            error: (i) =>
              typeof i.input === 'number' ? 'quantity must be a whole number' : 'quantity must be a number',
          })
          .check(
            z.minimum(1, 'quantity must be at least 1'),
            z.maximum(MAX_QUANTITY, `quantity must be at most ${MAX_QUANTITY}`),
          ),
      }),
      { error: (i) => (i.input === undefined ? 'items is required' : 'items must be an array') },
    )
    .check(
      z.minLength(1, 'items must contain at least 1 item'),
      z.maxLength(MAX_ITEMS, `items must contain at most ${MAX_ITEMS} items`),
      z.superRefine((items, ctx) => {
        const seen = new Set<string>();
        items.forEach((item, index) => {
          if (seen.has(item.sku)) {
            ctx.addIssue({
              code: 'custom',
              path: [index, 'sku'],
              message: `duplicate sku ${item.sku}: merge the lines`,
            });
          }
          seen.add(item.sku);
        });
      }),
    ),
  promoCode: z.optional(
    z
      .string({ error: 'promoCode must be a string' })
      .check(
        z.minLength(1, 'promoCode must not be empty'),
        z.maxLength(64, 'promoCode must be at most 64 characters'),
      ),
  ),
  deliverySlot: identifier('deliverySlot'),
  faults: z.optional(
    z.record(z.string(), z.unknown(), { error: 'faults must be an object' }).check(
      z.superRefine((faults, ctx) => {
        for (const [operation, mode] of Object.entries(faults)) {
          if (!operationNames.includes(operation)) {
            ctx.addIssue({
              code: 'custom',
              path: [operation],
              message: `unknown operation ${operation}; expected one of ${operationNames.join(', ')}`,
            });
          } else if (typeof mode !== 'string' || !FAULT_MODE_PATTERN.test(mode)) {
            ctx.addIssue({
              code: 'custom',
              path: [operation],
              message: 'fault mode must be fail, transient:N, timeout, crash-after-commit or duplicate',
            });
          }
        }
      }),
    ),
  ),
});

export type OrderRequest = z.infer<typeof orderRequestSchema>;

/** `items[0].quantity` from a zod path. */
export function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (name, key) =>
      typeof key === 'number' ? `${name}[${key}]` : name ? `${name}.${String(key)}` : String(key),
    '',
  );
}

function fieldErrors(error: { issues: z.core.$ZodIssue[] }): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: fieldName([...issue.path, key]), message: `unknown field ${key}` }))
      : [{ field: fieldName(issue.path) || '(body)', message: issue.message }],
  );
}

export interface ParsedOrderRequest {
  input: OrderSagaInput;
  /** sha256 of the canonical body: same order again → same hash. */
  requestHash: string;
}

function header(
  headers: Record<string, string | undefined> | null | undefined,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** JSON with sorted object keys, so equal requests hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface RawRequest {
  body: string | null;
  isBase64Encoded?: boolean;
  headers?: Record<string, string | undefined> | null;
}

/** Validates a `POST /orders` request. Throws `RequestError` (400/413) naming every bad field. */
export function parseOrderRequest(
  request: RawRequest,
  options: { faultsEnabled: boolean },
): ParsedOrderRequest {
  const body =
    request.body && request.isBase64Encoded
      ? Buffer.from(request.body, 'base64').toString('utf8')
      : request.body;
  if (body === null || body === undefined || body.trim() === '') {
    throw new RequestError(400, 'Request body is required: a JSON order', [
      { field: '(body)', message: 'body is empty' },
    ]);
  }
  const size = Buffer.byteLength(body, 'utf8');
  if (size > MAX_BODY_BYTES) {
    throw new RequestError(413, `Request body is ${size} bytes; the limit is ${MAX_BODY_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new RequestError(400, `Request body is not valid JSON: ${(error as Error).message}`, [
      { field: '(body)', message: 'not valid JSON' },
    ]);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new RequestError(400, 'Request body must be a JSON object', [
      {
        field: '(body)',
        message: `expected an object, got ${Array.isArray(json) ? 'an array' : typeof json}`,
      },
    ]);
  }
  const parsed = orderRequestSchema.safeParse(json);
  const errors = parsed.success ? [] : fieldErrors(parsed.error);
  if (!options.faultsEnabled && 'faults' in json) {
    errors.push({ field: 'faults', message: 'fault injection is not enabled in this deployment' });
  }
  const idempotencyKey = header(request.headers, 'Idempotency-Key');
  if (idempotencyKey !== undefined && !ORDER_ID_PATTERN.test(idempotencyKey)) {
    errors.push({
      field: 'Idempotency-Key',
      message: 'Idempotency-Key must be 1-64 characters of A-Z, a-z, 0-9, _ or -',
    });
  }
  const bodyOrderId = parsed.success ? parsed.data.orderId : undefined;
  if (idempotencyKey !== undefined && bodyOrderId !== undefined && idempotencyKey !== bodyOrderId) {
    errors.push({
      field: 'orderId',
      message: 'orderId differs from the Idempotency-Key header: send one, or the same',
    });
  }
  if (!parsed.success || errors.length > 0) {
    const fields = [...new Set(errors.map((e) => e.field))].join(', ');
    throw new RequestError(400, `Invalid order: ${fields}`, errors);
  }
  const { orderId: _ignored, ...order } = parsed.data;
  const input: OrderSagaInput = {
    orderId: bodyOrderId ?? idempotencyKey ?? randomUUID(),
    customerId: order.customerId,
    items: order.items,
    ...(order.promoCode !== undefined ? { promoCode: order.promoCode } : {}),
    deliverySlot: order.deliverySlot,
    ...(order.faults !== undefined ? { faults: order.faults as OrderSagaInput['faults'] } : {}),
  };
  const requestHash = createHash('sha256').update(canonicalJson(order)).digest('hex');
  return { input, requestHash };
}
