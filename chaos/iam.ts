/**
 * The IAM check of a chaos run on a local cloud: the enforcer's decisions and denials before and after the
 * run (`GET /_localcloud/iam`). Every denial during the run is an invariant violation: the stack's roles
 * must be sufficient for everything the saga does, faults and compensations included.
 */
import { describeDenial, type IamSummary } from '../localcloud/iam/enforcer';
import { readLocalCloudPage } from './observe';

/** Decisions and denials of one run (absent from a report whose target is not a local cloud). */
export interface IamCounts {
  enabled: boolean;
  decisions: number;
  denials: number;
}

/** A local cloud's IAM summary; undefined for a target that is not a local cloud (AWS, LocalStack). */
export function readIam(endpoint: string | undefined): Promise<IamSummary | undefined> {
  return readLocalCloudPage<IamSummary>(endpoint, 'iam');
}

/** Two stretches of one run (before a `--kill-at` kill, and after the restart) as one. */
export function iamAcross(
  ...parts: Array<ReturnType<typeof iamDuring>>
): { counts: IamCounts; violations: string[] } | undefined {
  const seen = parts.filter((p) => p !== undefined);
  if (seen.length === 0) return undefined;
  return {
    counts: {
      enabled: seen.every((p) => p.counts.enabled),
      decisions: seen.reduce((n, p) => n + p.counts.decisions, 0),
      denials: seen.reduce((n, p) => n + p.counts.denials, 0),
    },
    violations: seen.flatMap((p) => p.violations),
  };
}

/**
 * What happened between two summaries of one process (`before` undefined: since it started). A summary
 * with fewer decisions than `before` is another process (a restart): counted from its start.
 */
export function iamDuring(
  before: IamSummary | undefined,
  after: IamSummary | undefined,
): { counts: IamCounts; violations: string[] } | undefined {
  if (!after) return undefined;
  const from =
    before && after.decisions >= before.decisions ? before : { decisions: 0, denials: 0, denied: [] };
  const counts = {
    enabled: after.enabled,
    decisions: after.decisions - from.decisions,
    denials: after.denials - from.denials,
  };
  const denied = after.denied.slice(from.denied.length).map((d) => `IAM denied ${describeDenial(d)}`);
  const unlisted = counts.denials - denied.length;
  return {
    counts,
    violations: [
      ...denied,
      ...(unlisted > 0 ? [`… ${unlisted} more IAM denials (npm start -- --iam-log FILE)`] : []),
    ],
  };
}

/** `IAM: N decisions, M denials`. */
export function formatIam(iam: IamCounts | undefined): string {
  if (!iam) return 'IAM: not observed (the target is not a local cloud)';
  if (!iam.enabled) return 'IAM: not enforced on this local cloud (--iam off)';
  return `IAM: ${iam.decisions} decisions, ${iam.denials} denials${iam.denials > 0 ? ' (each one an invariant violation)' : ''}`;
}
