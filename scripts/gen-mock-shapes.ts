// Generates localcloud/stepfunctions/asl/mock-shapes.json: the output shapes of the AWS APIs behind Step
// Functions Task integrations, which TestState checks a mocked result against (`mock.fieldValidationMode`
// STRICT / PRESENT). The AWS SDK for JavaScript v3 ships its shapes without the constraints AWS checks
// (enum values, length and range limits), so they are read from the AWS service models that botocore
// ships (the same models the SDKs are generated from). Only what the check needs is kept: per operation
// its output shape; per shape its type, members, required members, enum values and limits.
//
//   npx tsx scripts/gen-mock-shapes.ts [<botocore data dir>]
//
// Without an argument, the botocore of `python3` (pip install botocore) is used.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { ServiceShapes, Shape } from '../localcloud/stepfunctions/asl/mock-validation';

/** The part of a botocore service model (`service-2.json`) read here. */
interface BotocoreShape {
  type: string;
  members?: Record<string, { shape: string }>;
  required?: string[];
  member?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  min?: number;
  max?: number;
}
interface BotocoreModel {
  operations: Record<string, { output?: { shape: string } }>;
  shapes: Record<string, BotocoreShape>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(here, '..', 'localcloud', 'stepfunctions', 'asl', 'mock-shapes.json');

/**
 * The services whose operations Task states reach: `aws-sdk:<id>:<action>` uses the SDK service id (the
 * key), optimised integrations (`arn:aws:states:::<prefix>:<action>`) their own prefix (see
 * localcloud/stepfunctions/asl/mock-validation.ts). Value: the botocore model directory.
 */
const SERVICES: Record<string, string> = {
  lambda: 'lambda',
  sfn: 'stepfunctions',
  sqs: 'sqs',
  dynamodb: 'dynamodb',
  eventbridge: 'events',
  sns: 'sns',
  s3: 's3',
  kms: 'kms',
};

function botocoreData(): string {
  if (process.argv[2]) return path.resolve(process.argv[2]);
  const dir = execFileSync(
    'python3',
    ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'],
    {
      encoding: 'utf8',
    },
  ).trim();
  return path.join(dir, 'data');
}

function readModel(data: string, name: string): { version: string; model: BotocoreModel } {
  const versions = readdirSync(path.join(data, name)).sort();
  const version = versions.at(-1);
  if (!version) throw new Error(`${data}/${name}: no model version`);
  const dir = path.join(data, name, version);
  const json = path.join(dir, 'service-2.json');
  const text = existsSync(json)
    ? readFileSync(json, 'utf8')
    : gunzipSync(readFileSync(`${json}.gz`)).toString('utf8');
  return { version, model: JSON.parse(text) as BotocoreModel };
}

const NUMBER = new Set(['integer', 'long', 'float', 'double', 'bigdecimal', 'biginteger']);

/** A compact shape: `t` type (structure/list/map/string/number/boolean/timestamp/blob), then its constraints. */
function compact(shape: BotocoreShape): Shape {
  const out: Shape = { t: 'any' };
  const type = shape.type;
  if (type === 'structure') {
    out.t = 'structure';
    out.m = Object.fromEntries(Object.entries(shape.members ?? {}).map(([k, v]) => [k, v.shape]));
    if (shape.required?.length) out.r = shape.required;
  } else if (type === 'list') {
    out.t = 'list';
    out.m = shape.member?.shape ?? '';
  } else if (type === 'map') {
    out.t = 'map';
    out.v = shape.value?.shape ?? '';
  } else if (NUMBER.has(type)) {
    out.t = 'number';
  } else if (type === 'string' || type === 'boolean' || type === 'timestamp' || type === 'blob') {
    out.t = type;
  }
  if (type === 'string' && shape.enum) out.e = shape.enum;
  if (shape.min !== undefined) out.min = shape.min;
  if (shape.max !== undefined) out.max = shape.max;
  return out;
}

function main(): void {
  const data = botocoreData();
  const services: Record<string, ServiceShapes> = {};
  for (const [id, dir] of Object.entries(SERVICES)) {
    const { version, model } = readModel(data, dir);
    const operations: Record<string, string> = {};
    const shapes: Record<string, Shape> = {};
    const visit = (name: string): void => {
      if (shapes[name]) return;
      const shape = model.shapes[name];
      if (!shape) throw new Error(`${dir}: no shape ${name}`);
      const c = compact(shape);
      shapes[name] = c;
      if (c.t === 'structure' && typeof c.m === 'object')
        for (const member of Object.values(c.m)) visit(member);
      if (c.t === 'list' && typeof c.m === 'string') visit(c.m);
      if (c.t === 'map' && c.v !== undefined) visit(c.v);
    };
    for (const [op, def] of Object.entries(model.operations).sort(([a], [b]) => a.localeCompare(b))) {
      if (!def.output) continue;
      operations[op] = def.output.shape;
      visit(def.output.shape);
    }
    services[id] = { model: `${dir}/${version}`, operations, shapes };
  }
  const init = path.join(data, '..', '__init__.py');
  const botocore = existsSync(init)
    ? (readFileSync(init, 'utf8').match(/__version__ = '([^']+)'/)?.[1] ?? '')
    : '';
  writeFileSync(OUT, `${JSON.stringify({ source: `botocore ${botocore}`.trim(), services })}\n`);
  console.log(`${OUT}: ${Object.keys(services).length} services`);
}

main();
