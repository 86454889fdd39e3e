/**
 * The app config: what an app adds to the local cloud, defined here and provided by the app (its
 * `stepsaga.config.ts`, default export, found at the working directory's root or named with `--config`).
 *
 * The local cloud imports nothing of the app: without a config it deploys and serves any synthesized CDK
 * app, and the console shows the state machine, executions, history and DLQ from the stack outputs. What
 * is app-specific (demo data for empty tables, the console's start form, data panels and item actions)
 * comes from the config's hooks, one entry per saga so that one app can bring several.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Outputs } from './outputs';

/** The default config file, looked up in the working directory. */
export const DEFAULT_CONFIG_FILE = 'stepsaga.config.ts';

/** How a hook reaches the local cloud: like any AWS client, through the edge. */
export interface PluginContext {
  /** The edge URL: pass it as the SDK `endpoint`. */
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Every deployed stack's outputs (flat), plus `Endpoint`, `ConsoleUrl`, `ApiUrl`. */
  outputs: Outputs;
  /** `outputs[name]`, or a {@link PluginError} 503 naming the output when it is not deployed (yet). */
  output(name: string): string;
}

/** An error a hook throws to answer the console's caller with this status and message (e.g. 400). */
export class PluginError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PluginError';
  }
}

/** What seeding did: items written per table, and the tables left alone because they held data. */
export interface SeedReport {
  counts: Record<string, number>;
  /** Tables that already had items (a `--persist`ed directory): never overwritten. */
  kept: string[];
}

/** A response a console hook passes through as it is (e.g. the app API's own status and body). */
export interface HookResponse<Body = unknown> {
  status: number;
  body: Body;
}

/**
 * The console's per-saga extras (the console API's routes, `localcloud/console/api.ts`). Each route
 * answers 404 naming the hook when the saga has none. The type parameters are the app's own JSON: what
 * its `choices` and `data` hooks answer and what its `item` hook's body is, which its browser module
 * (`web`) reads.
 */
export interface ConsoleExtension<Choices = unknown, Data = unknown> {
  /** `GET /_console/api/choices`'s `app`: what the start form offers (customers, items...). */
  choices?(ctx: PluginContext): Promise<Choices>;
  /** `GET /_console/api/data`: the data panels (table items), filtered by the query (e.g. a status). */
  data?(ctx: PluginContext, query: URLSearchParams): Promise<Data>;
  /** `POST /_console/api/start`: start one saga from the start form's JSON body. */
  start?(ctx: PluginContext, body: unknown): Promise<HookResponse>;
  /** `GET /_console/api/item?id=`: the business item behind an execution (named like the execution). */
  item?(ctx: PluginContext, id: string): Promise<HookResponse>;
  /** A cheap change mark of the item (status and last change): the live stream re-reads `item` when it moves. */
  itemMark?(ctx: PluginContext, id: string): Promise<string>;
  /** The item actions the page may post (`POST /_console/api/items/{id}/{action}`). */
  actions?: readonly string[];
  /** Runs one of {@link actions} on an item with the JSON body the page sent. */
  action?(ctx: PluginContext, id: string, action: string, body: unknown): Promise<HookResponse>;
  /**
   * The absolute path of the saga's browser module: its default export is a `WebExtension`
   * (`localcloud/console/web/extension.ts`): the start form, the data panels and the item's bar, drawn
   * from the JSON above. The console bundles it with its own page (esbuild), it does not import it.
   */
  web?: string;
}

/** One saga of the app. */
export interface SagaPlugin {
  /** Its short name (the console's selector, `?saga=`). */
  name: string;
  /** The stack outputs naming its parts. @default { stateMachineArn: 'StateMachineArn', dlqUrl: 'DlqUrl', redriveFunctionName: 'RedriveFunctionName' } */
  outputNames?: Partial<SagaOutputNames>;
  /**
   * The field of its DLQ messages naming the saga's id (the toolkit `Saga`'s `correlationIdField`): the
   * console's DLQ table shows it. @default 'sagaId' (the toolkit's default)
   */
  idField?: string;
  /**
   * Loads demo data into the saga's tables that are empty (a `--persist`ed table keeps its data). It runs
   * during start-up: DynamoDB only (with `--persist`, Step Functions, SQS and Lambda requests wait at the
   * edge until the restore, which comes after the seed).
   */
  seed?(ctx: PluginContext): Promise<SeedReport>;
  console?: ConsoleExtension;
}

export interface SagaOutputNames {
  stateMachineArn: string;
  dlqUrl: string;
  redriveFunctionName: string;
}

/** A saga's id field when its plugin names none: the toolkit `Saga`'s default `correlationIdField`. */
export const DEFAULT_ID_FIELD = 'sagaId';

export const DEFAULT_OUTPUT_NAMES: SagaOutputNames = {
  stateMachineArn: 'StateMachineArn',
  dlqUrl: 'DlqUrl',
  redriveFunctionName: 'RedriveFunctionName',
};

/** The app config (`export default { ... } satisfies LocalCloudPlugin`). */
export interface LocalCloudPlugin {
  /** The app's sagas; the console shows the first unless asked for another (`?saga=`). */
  sagas?: readonly SagaPlugin[];
  /** Where the CLI writes the outputs file (`--outputs` overrides). @default '.stepsaga/outputs.json' */
  outputsFile?: string;
  /**
   * CDK context the local cloud synthesizes the app with, on top of `cdk.json`'s (as `cdk synth -c key=value`
   * would), e.g. `{ faults: 'on' }` for a stage that accepts fault injection. An assembly synthesized with
   * other context is synthesized again.
   */
  synthContext?: Readonly<Record<string, string>>;
  /**
   * CDK context added on top of `synthContext` for the assembly of the tests, benchmarks and the chaos tool
   * (`ensureAssembly`, `.stepsaga/test-assembly`), e.g. a deadline short enough for a test to wait out
   * where a person at the console of `npm start` needs minutes.
   */
  testSynthContext?: Readonly<Record<string, string>>;
}

/** The saga's output names, the defaults filled in. */
export function outputNames(saga: SagaPlugin | undefined): SagaOutputNames {
  return { ...DEFAULT_OUTPUT_NAMES, ...saga?.outputNames };
}

/**
 * Loads the config: `file` (an error naming it when it is missing or exports no object), else
 * `./stepsaga.config.ts` when present, else none (`{}`).
 */
export async function loadPlugin(file?: string, cwd = process.cwd()): Promise<LocalCloudPlugin> {
  const resolved = path.resolve(cwd, file ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(resolved)) {
    if (file === undefined) return {};
    throw new Error(`No app config at ${resolved} (--config)`);
  }
  const loaded = (await import(pathToFileURL(resolved).href)) as { default?: unknown };
  const plugin = loaded.default;
  if (!plugin || typeof plugin !== 'object')
    throw new Error(`${resolved} must export default an app config object ({ sagas: [...] })`);
  for (const key of ['synthContext', 'testSynthContext'] as const) {
    const context = (plugin as LocalCloudPlugin)[key];
    if (
      context !== undefined &&
      (typeof context !== 'object' ||
        context === null ||
        Object.values(context).some((v) => typeof v !== 'string'))
    )
      throw new Error(`${resolved}: "${key}" must be an object of strings ({ key: 'value' })`);
  }
  const sagas = (plugin as LocalCloudPlugin).sagas;
  if (sagas !== undefined && (!Array.isArray(sagas) || sagas.some((s) => typeof s?.name !== 'string')))
    throw new Error(`${resolved}: "sagas" must be an array of objects with a "name"`);
  return plugin as LocalCloudPlugin;
}
