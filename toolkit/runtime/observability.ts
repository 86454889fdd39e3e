/**
 * Powertools Logger, Metrics and Tracer, created once per module (one set per function bundle).
 * The AWS SDK clients live in `clients/` (one file per service, so each bundle carries only the SDKs its
 * function uses), created once at first use and captured by this Tracer.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'stepsaga';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'StepSaga',
});
export const tracer = new Tracer({ serviceName });
// Powertools asks for IGNORE_ERROR via the environment, but in a bundle the X-Ray SDK has already read it:
// apply it explicitly, so invocations without an active trace (local cloud, tracing off) log no errors.
tracer.provider.setContextMissingStrategy(
  process.env.AWS_XRAY_CONTEXT_MISSING === 'RUNTIME_ERROR' ? 'RUNTIME_ERROR' : 'IGNORE_ERROR',
);

/** Counts one occurrence of the business metric `name` and flushes it (one EMF line per invocation). */
export function countMetric(name: string): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}

/**
 * Puts `keys` (the saga's id, `executionArn`, the operation) on every log line of this invocation
 * (temporary keys: the next invocation starts clean).
 */
export function bindLogContext(keys: Record<string, unknown>): void {
  logger.resetKeys();
  logger.appendKeys(keys);
}

/**
 * Runs `fn` in a `## <name>` subsegment annotated with `annotations` (the Powertools handler pattern,
 * without middy). A no-op wrapper when tracing is off or the invocation has no active trace.
 */
export async function traced<T>(
  name: string,
  annotations: Record<string, string>,
  fn: () => Promise<T>,
): Promise<T> {
  const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
  if (!parent) return fn();
  const subsegment = parent.addNewSubsegment(`## ${name}`);
  tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  for (const [key, value] of Object.entries(annotations)) tracer.putAnnotation(key, value);
  try {
    return await fn();
  } catch (error) {
    tracer.addErrorAsMetadata(error as Error);
    throw error;
  } finally {
    subsegment.close();
    tracer.setSegment(parent);
  }
}
