/** The order saga's table names, from their contract env vars (`TABLES[id].env`). */

import { TABLES, type TableId } from '../../lib/contract';
import { requireEnvs } from '../../toolkit/runtime/config';

export type TableNames = Record<TableId, string>;

/** The physical table names of `ids`; a missing variable is a `ConfigurationError` naming it. */
export function tableNamesFromEnv<const T extends TableId>(
  ids: readonly T[],
  env: NodeJS.ProcessEnv = process.env,
): Pick<TableNames, T> {
  return requireEnvs(Object.fromEntries(ids.map((id) => [id, TABLES[id].env])) as Record<T, string>, env);
}
