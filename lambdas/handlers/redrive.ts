/**
 * Redrive function: replays the DLQ's failed compensations and unrecorded outcomes (lambdas/domain/redrive.ts)
 * by invoking the functions named in env COMPENSATION_FUNCTIONS, and returns the report.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { DEAD_LETTER_STEPS, type DeadLetterStep, ENV } from '../../lib/contract';
import { type InvokePort, type RedriveReport, redriveDeadLetters } from '../domain/redrive';
import { dynamoDb } from '../shared/clients/dynamodb';
import { lambda } from '../shared/clients/lambda';
import { sqs } from '../shared/clients/sqs';
import { ConfigurationError, once, requireEnv, tableNamesFromEnv } from '../shared/config';
import { bindLogContext, countOrder, logger, OrderMetric, traced } from '../shared/observability';

/** `{ "<CompensationName or RecordFailure>": "<function name>" }`: what redrive may replay, and with what. */
export function parseCompensationFunctions(json: string): Partial<Record<DeadLetterStep, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ConfigurationError(`${ENV.compensationFunctions} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigurationError(`${ENV.compensationFunctions} must be a JSON object of function names`);
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  const bad = entries.filter(
    ([k, v]) => !DEAD_LETTER_STEPS.includes(k as DeadLetterStep) || typeof v !== 'string',
  );
  if (bad.length > 0) {
    throw new ConfigurationError(
      `${ENV.compensationFunctions} has bad entries: ${bad.map(([k]) => k).join(', ')}`,
    );
  }
  return Object.fromEntries(entries) as Partial<Record<DeadLetterStep, string>>;
}

const config = once(() => ({
  ordersTable: tableNamesFromEnv(['Orders']).Orders,
  dlqUrl: requireEnv(ENV.dlqUrl),
  compensationFunctions: parseCompensationFunctions(requireEnv(ENV.compensationFunctions)),
}));

/** RequestResponse invoke through the Lambda SDK; a `FunctionError` is a failure. */
export const sdkInvoke: InvokePort = async (functionName, event) => {
  const out = await lambda().send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    }),
  );
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) {
    try {
      const error = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      return { ok: false, error: error.errorType ?? out.FunctionError, cause: error.errorMessage ?? text };
    } catch {
      return { ok: false, error: out.FunctionError, cause: text };
    }
  }
  return { ok: true, result: text ? (JSON.parse(text) as unknown) : undefined };
};

/** `{ "orderId": "..." }` scopes the run to one order's dead letters; anything else redrives them all. */
export function orderIdOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || !('orderId' in event)) return undefined;
  const { orderId } = event as { orderId: unknown };
  return typeof orderId === 'string' && orderId !== '' ? orderId : undefined;
}

export const handler = async (event: unknown, context?: Context): Promise<RedriveReport> => {
  const orderId = orderIdOf(event);
  bindLogContext({ operation: 'Redrive', ...(orderId ? { orderId } : {}) });
  if (context) logger.addContext(context);
  const { ordersTable, dlqUrl, compensationFunctions } = config();
  const report = await traced('Redrive', {}, () =>
    redriveDeadLetters({
      sqs: sqs(),
      dlqUrl,
      doc: dynamoDb(),
      ordersTable,
      invoke: async (functionName, event) => {
        logger.info('Replaying compensation', {
          functionName,
          orderId: event.saga.orderId,
          executionArn: event.context.executionArn,
        });
        return sdkInvoke(functionName, event);
      },
      compensationFunctions,
      remainingMs: context?.getRemainingTimeInMillis?.bind(context),
      onOrderCancelled: () => countOrder(OrderMetric.cancelled),
      ...(orderId ? { orderId } : {}),
    }),
  );
  logger.info('Redrive finished', {
    processed: report.processed,
    succeeded: report.succeeded.length,
    failed: report.failed.length,
    skipped: report.skipped.length,
    remaining: report.remaining,
  });
  return report;
};
