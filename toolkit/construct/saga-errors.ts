/**
 * The error names the saga toolkit retries: the step engine's `TransientError` and Lambda's own transient
 * failures. No CDK import here, so the handlers' bundles can use the names too.
 */

/** Lambda's throttling error as Step Functions reports it (retried by `Saga.THROTTLE_RETRY`). */
export const THROTTLE_ERRORS = ['Lambda.TooManyRequestsException'] as const;

/** Errors a forward step retries (with backoff and full jitter). Never business errors, never States.ALL. */
export const TRANSIENT_ERRORS = [
  'TransientError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;
