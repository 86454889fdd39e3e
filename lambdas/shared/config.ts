/**
 * Environment configuration, read once per module and validated: a missing variable is an error that
 * names it, at the first invocation, instead of an `undefined` table name deep in an SDK call.
 */
import { ENV, TABLES, type TableId } from '../../lib/contract';

export type TableNames = Record<TableId, string>;

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`Environment variable ${name} is not set`);
  }
  return value;
}

/** The physical table names of `ids`, from their contract env vars (`TABLES[id].env`). */
export function tableNamesFromEnv<const T extends TableId>(
  ids: readonly T[],
  env: NodeJS.ProcessEnv = process.env,
): Pick<TableNames, T> {
  const missing = ids.map((id) => TABLES[id].env).filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ConfigurationError(`Environment variable(s) not set: ${missing.join(', ')}`);
  }
  return Object.fromEntries(ids.map((id) => [id, env[TABLES[id].env] as string])) as Pick<TableNames, T>;
}

/** `STEPSAGA_FAULTS=on` enables fault plans in saga input. Anything else (or unset) is off. */
export function faultsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[ENV.faults] === 'on';
}

/** Memoizes a config reader: the environment is read at the first call, once per module. */
export function once<T>(read: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    value ??= { v: read() };
    return value.v;
  };
}
