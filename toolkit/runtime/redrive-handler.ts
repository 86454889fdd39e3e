/**
 * The redrive function of a saga: replays its DLQ (./redrive.ts) by invoking the functions named in env
 * `COMPENSATION_FUNCTIONS` (set by `Saga.grantRedrive`), and returns the report. `{ "<id field>": "..." }`
 * as the event scopes the run to one saga's dead letters.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { lambda } from './clients/lambda';
import { sqs } from './clients/sqs';
import { once, REDRIVE_ENV, requireEnv } from './config';
import { ConfigurationError } from './errors';
import { bindLogContext, logger, traced } from './observability';
import { type InvokePort, type RedriveApp, type RedriveReport, redriveDeadLetters } from './redrive';

/** `{ "<step>": "<function name>" }` for the steps in `steps`; anything else is a `ConfigurationError`. */
export function parseCompensationFunctions(json: string, steps: readonly string[]): Record<string, string> {
  const name = REDRIVE_ENV.compensationFunctions;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ConfigurationError(`${name} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigurationError(`${name} must be a JSON object of function names`);
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  const bad = entries.filter(([k, v]) => !steps.includes(k) || typeof v !== 'string');
  if (bad.length > 0) {
    throw new ConfigurationError(`${name} has bad entries: ${bad.map(([k]) => k).join(', ')}`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

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

/** The value of `field` in the event when it is a non-empty string. */
export function scopeOf(event: unknown, field: string): string | undefined {
  if (typeof event !== 'object' || event === null || !(field in event)) return undefined;
  const value = (event as Record<string, unknown>)[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function createRedriveHandler(
  app: () => RedriveApp,
): (event: unknown, context?: Context) => Promise<RedriveReport> {
  const config = once(() => {
    const options = app();
    return {
      ...options,
      dlqUrl: requireEnv(REDRIVE_ENV.dlqUrl),
      compensationFunctions: parseCompensationFunctions(
        requireEnv(REDRIVE_ENV.compensationFunctions),
        options.steps,
      ),
    };
  });
  return async (event, context) => {
    const options = config();
    const sagaId = scopeOf(event, options.idField);
    bindLogContext({ operation: 'Redrive', ...(sagaId ? { [options.idField]: sagaId } : {}) });
    if (context) logger.addContext(context);
    const report = await traced('Redrive', {}, () =>
      redriveDeadLetters({
        ...options,
        sqs: sqs(),
        invoke: async (functionName, event) => {
          logger.info('Replaying compensation', {
            functionName,
            [options.idField]: event.saga[options.idField],
            executionArn: event.context.executionArn,
          });
          return sdkInvoke(functionName, event);
        },
        remainingMs: context?.getRemainingTimeInMillis?.bind(context),
        ...(sagaId ? { sagaId } : {}),
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
}
