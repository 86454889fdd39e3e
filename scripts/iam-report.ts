/**
 * `npm run iam-report`: the minimal-privilege report. Reads an IAM decision log (`npm start -- --iam-log
 * FILE`, or `STEPSAGA_IAM_LOG=FILE` around any test run) and lists, per role of the stack, every granted
 * action × resource that no call exercised, and every denial. Without a file it runs the e2e suite with a
 * fresh log first (`.stepsaga/iam-e2e.jsonl`).
 *
 *   npm run iam-report                 # run the e2e suite, then report
 *   npm run iam-report -- FILE         # report on a log of an earlier run
 *   npm run iam-report -- FILE --json  # the same, as JSON
 *
 * Exit code 1 when a denial was logged or a grant outside the allow-list below was never exercised.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DecisionRecord, GrantsRecord } from '../localcloud/iam/enforcer';
import { wildcardMatch } from '../localcloud/iam/policy';

/** One grant the report may find never exercised, and why the stack still needs it. */
export interface AllowListEntry {
  role: string;
  action: string;
  resource: string;
  why: string;
}

/** The justified allow-list: scripts/iam-allow-list.json (one reason per entry). */
export const ALLOW_LIST_FILE = path.join(import.meta.dirname, 'iam-allow-list.json');

export function readAllowList(file = ALLOW_LIST_FILE): AllowListEntry[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { entries?: unknown };
  if (!Array.isArray(parsed.entries)) throw new Error(`${file}: expected {"entries": [...]}`);
  return parsed.entries.map((entry: Record<string, unknown>, i: number) => {
    for (const key of ['role', 'action', 'resource', 'why'])
      if (typeof entry[key] !== 'string' || (entry[key] as string).trim() === '')
        throw new Error(`${file}: entries[${i}].${key} must be a non-empty string`);
    return entry as unknown as AllowListEntry;
  });
}

/** The index of the allow-list entry that covers a role's grant, or -1. */
export function allowListEntryOf(
  logicalId: string,
  grant: { action: string; resource: string },
  allowList: readonly AllowListEntry[],
): number {
  return allowList.findIndex(
    (a) =>
      wildcardMatch(a.role, logicalId) &&
      wildcardMatch(a.action, grant.action, true) &&
      wildcardMatch(a.resource, grant.resource),
  );
}

export interface RoleReport {
  role: string;
  /** The role's stack (absent for a principal the stack does not declare). */
  stackName?: string;
  logicalId: string;
  grants: number;
  exercised: number;
  allowListed: Array<{ action: string; resource: string; why: string; entry: number }>;
  unexercised: Array<{ action: string; resource: string; policy: string; sid?: string }>;
  denials: Array<{ action: string; resource: string; decision: string; count: number }>;
}

export function buildReport(
  lines: Array<DecisionRecord | GrantsRecord>,
  allowList: readonly AllowListEntry[] = readAllowList(),
): RoleReport[] {
  const grantsByRole = new Map<string, GrantsRecord>();
  for (const line of lines) if (line.type === 'grants') grantsByRole.set(line.role, line);
  const exercised = new Set<string>();
  const denials = new Map<string, Map<string, RoleReport['denials'][number]>>();
  for (const line of lines) {
    if (line.type !== 'decision') continue;
    const who = line.role ?? line.principal;
    if (line.decision === 'allow' && line.role && line.matched?.kind === 'identity') {
      const m = line.matched;
      exercised.add(
        `${line.role} ${m.policy} ${m.index} ${m.actionPattern ?? ''} ${m.resourcePattern ?? '*'}`,
      );
    } else if (line.decision !== 'allow') {
      const byRole = denials.get(who) ?? new Map();
      const key = `${line.action} ${line.resource} ${line.decision}`;
      const entry = byRole.get(key) ?? {
        action: line.action,
        resource: line.resource,
        decision: line.decision,
        count: 0,
      };
      entry.count++;
      byRole.set(key, entry);
      denials.set(who, byRole);
    }
  }
  const reports: RoleReport[] = [];
  for (const [role, record] of grantsByRole) {
    const report: RoleReport = {
      role,
      stackName: record.stackName,
      logicalId: record.logicalId,
      grants: record.grants.length,
      exercised: 0,
      allowListed: [],
      unexercised: [],
      denials: [...(denials.get(role)?.values() ?? [])],
    };
    for (const grant of record.grants) {
      if (exercised.has(`${role} ${grant.policy} ${grant.index} ${grant.action} ${grant.resource}`)) {
        report.exercised++;
        continue;
      }
      const entry = allowListEntryOf(record.logicalId, grant, allowList);
      const allowed = allowList[entry];
      if (allowed)
        report.allowListed.push({ action: grant.action, resource: grant.resource, why: allowed.why, entry });
      else
        report.unexercised.push({
          action: grant.action,
          resource: grant.resource,
          policy: grant.policy,
          ...(grant.sid ? { sid: grant.sid } : {}),
        });
    }
    reports.push(report);
  }
  // Denials of roles without grants (a role the stack does not declare policies for).
  for (const [role, byRole] of denials)
    if (!grantsByRole.has(role))
      reports.push({
        role,
        logicalId: role.split('/').pop() ?? role,
        grants: 0,
        exercised: 0,
        allowListed: [],
        unexercised: [],
        denials: [...byRole.values()],
      });
  const name = (r: RoleReport) => `${r.stackName ?? ''} ${r.logicalId}`;
  return reports.sort((a, b) => name(a).localeCompare(name(b)));
}

export function readLog(file: string): Array<DecisionRecord | GrantsRecord> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as DecisionRecord | GrantsRecord);
}

export function formatReport(reports: RoleReport[]): string {
  const out: string[] = [];
  const short = (resource: string) => resource.replace(/^arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d*:/, '');
  for (const r of reports) {
    out.push(
      `${r.stackName ? `${r.stackName} ` : ''}${r.logicalId}: ${r.grants} grants, ${r.exercised} exercised, ${r.allowListed.length} allow-listed, ${r.unexercised.length} never exercised, ${r.denials.reduce((n, d) => n + d.count, 0)} denials`,
    );
    for (const u of r.unexercised)
      out.push(`  never exercised: ${u.action} on ${short(u.resource)} (${u.sid ?? u.policy})`);
    for (const d of r.denials)
      out.push(`  denied ×${d.count}: ${d.action} on ${short(d.resource)} (${d.decision})`);
  }
  const unexercised = reports.reduce((n, r) => n + r.unexercised.length, 0);
  const denied = reports.reduce((n, r) => n + r.denials.length, 0);
  out.push(
    `\n${reports.length} roles; ${unexercised} grant${unexercised === 1 ? '' : 's'} never exercised outside the allow-list; ${denied} distinct denial${denied === 1 ? '' : 's'}`,
  );
  return out.join('\n');
}

function main(argv: string[]): number {
  const json = argv.includes('--json');
  let file = argv.find((a) => !a.startsWith('--'));
  if (!file) {
    file = path.resolve('.stepsaga/iam-e2e.jsonl');
    mkdirSync(path.dirname(file), { recursive: true });
    rmSync(file, { force: true });
    process.stderr.write(`running the e2e suite with IAM decisions logged to ${file}...\n`);
    const run = spawnSync('npx', ['vitest', 'run', '--project', 'e2e'], {
      stdio: 'inherit',
      env: { ...process.env, STEPSAGA_IAM_LOG: file, STEPSAGA_IAM: 'on' },
    });
    if (run.status !== 0) process.stderr.write(`the e2e suite exited with ${run.status}: reporting anyway\n`);
  }
  if (!existsSync(file)) {
    process.stderr.write(`no IAM log at ${file}\n`);
    return 2;
  }
  const reports = buildReport(readLog(file));
  process.stdout.write(`${json ? JSON.stringify(reports, null, 2) : formatReport(reports)}\n`);
  const failing = reports.some((r) => r.unexercised.length > 0 || r.denials.length > 0);
  return failing ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href)
  process.exit(main(process.argv.slice(2)));
