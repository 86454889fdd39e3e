/**
 * Environment configuration, read once per module and validated: a missing variable is an error that
 * names it, at the first invocation, instead of an `undefined` table name deep in an SDK call.
 */
import { ConfigurationError } from './errors';

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`Environment variable ${name} is not set`);
  }
  return value;
}

/** The values of the environment variables `names` (by key), each required: names every missing one. */
export function requireEnvs<const K extends string>(
  names: Record<K, string>,
  env: NodeJS.ProcessEnv = process.env,
): Record<K, string> {
  const missing = Object.values<string>(names).filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ConfigurationError(`Environment variable(s) not set: ${missing.join(', ')}`);
  }
  return Object.fromEntries(
    Object.entries<string>(names).map(([key, name]) => [key, env[name] as string]),
  ) as Record<K, string>;
}

/** The environment of a redrive function (`Saga.grantRedrive` sets both). */
export const REDRIVE_ENV = {
  dlqUrl: 'DLQ_URL',
  /** JSON `{ "<step>": "<function name>" }`: what redrive may replay, and with what. */
  compensationFunctions: 'COMPENSATION_FUNCTIONS',
} as const;

/** Memoizes a config reader: the environment is read at the first call, once per module. */
export function once<T>(read: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    value ??= { v: read() };
    return value.v;
  };
}
