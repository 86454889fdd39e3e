/**
 * Types of the vendored `runner.mjs` (the shared conformance kit), which tsc does not check itself: it stays
 * byte-close to the kit so that an update can be diffed (README.md, "Type checking"). These declarations
 * are ours: the case format and the adapter contract as the runner's header and matching rules describe
 * them, and the three functions `adapter.mjs` and `teststate.mjs` use. Update them with the runner.
 */

/** A declarative Lambda behaviour (`lambdas` of a case), implemented by the adapter's generated handler. */
export interface LambdaBehaviour {
  returnsInput?: boolean;
  returns?: unknown;
  throws?: { name: string; message: string };
  /** Sleep first, then behave as `then` (default: return the input). */
  sleepSeconds?: number;
  /** Throw `throws` for the first `throwsTimes` invocations, then behave as `then`. */
  throwsTimes?: number;
  then?: LambdaBehaviour;
}

/** A DynamoDB table a case needs, fresh: its key schema (attribute types default to `S`). */
export interface TableSpec {
  hashKey: string;
  hashKeyType?: 'S' | 'N' | 'B';
  rangeKey?: string;
  rangeKeyType?: 'S' | 'N' | 'B';
}

/** The queues (by URL) and tables (by name) a case needs, fresh. */
export interface Services {
  sqs?: { queues?: string[] };
  dynamodb?: { tables?: Record<string, TableSpec> };
}

/** What the case expects, as AWS recorded it; `null`/absent error or cause: AWS reported none. */
export interface Expected {
  status: string;
  output?: unknown;
  error?: string | null;
  cause?: string | null;
}

/** The part of a case that `compareCase` reads. */
export interface CaseRules {
  expected: Expected;
  /** Paths holding JSON text on both sides, compared decoded. */
  jsonStrings?: string[];
  /** Paths not compared but required present (a trailing `?`: optional). */
  ignore?: string[];
  /** The ordered history event types. */
  events?: string[];
  features?: string[];
}

/** One execution case of a corpus. */
export interface Case extends CaseRules {
  id: string;
  definition: unknown;
  input?: unknown;
  lambdas?: Record<string, LambdaBehaviour>;
  services?: Services | null;
  source?: unknown;
  notes?: string;
}

/** The adapter's `run(definition, input, lambdas, ctx)` context. */
export interface CaseContext {
  id?: string;
  services?: Services | null;
  features?: string[];
}

/** What an adapter's `run` resolves to (`events` compared only when present). */
export interface AdapterResult {
  status: string | undefined;
  output?: unknown;
  error?: string;
  cause?: string;
  events?: string[];
}

export interface RunnerOptions {
  corpus: string;
  only: Set<string> | null;
  concurrency: number;
  verbose: boolean;
  adapter?: string;
}

export function parseArgs(argv: string[]): RunnerOptions;

/** The differences between what the case expects and what the adapter returned (empty: the case passes). */
export function compareCase(c: CaseRules, result: unknown): string[];

/** Runs `check` over the cases, prints `PASS`/`FAIL` lines; resolves to the number of failed cases. */
export function runCases<C extends { id: string }>(
  cases: C[],
  check: (c: C) => Promise<{ diffs: string[]; result: unknown }>,
  options?: { concurrency?: number; verbose?: boolean; timeoutMs?: number },
): Promise<number>;
