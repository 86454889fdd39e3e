/**
 * AWS Lambda's REST-JSON error responses: HTTP status, `x-amzn-ErrorType` header and a body
 * `{Type: 'User' | 'Service', message}`, which the AWS SDK v3 turns into the named exception.
 */
import type { AwsResponse } from '../types';
import type { ThrottleReason } from './limits';

export class LambdaApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
    readonly kind: 'User' | 'Service' = 'User',
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = errorType;
  }

  toResponse(): AwsResponse {
    return {
      status: this.status,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': this.errorType },
      body: JSON.stringify({ Type: this.kind, message: this.message, ...this.extra }),
    };
  }
}

export const notFound = (arn: string): LambdaApiError =>
  new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${arn}`);

export const invalidParameter = (message: string): LambdaApiError =>
  new LambdaApiError(400, 'InvalidParameterValueException', message);

export const conflict = (message: string): LambdaApiError =>
  new LambdaApiError(409, 'ResourceConflictException', message);

/** Lambda's throttle: 429 `TooManyRequestsException`, `Rate Exceeded.`, with the reason (limits.ts). */
export const tooManyRequests = (reason: ThrottleReason): LambdaApiError =>
  new LambdaApiError(429, 'TooManyRequestsException', 'Rate Exceeded.', 'User', { Reason: reason });
