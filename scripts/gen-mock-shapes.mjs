#!/usr/bin/env node
// Generates localcloud/stepfunctions/asl/mock-shapes.json: the output shapes of the AWS APIs behind Step
// Functions Task integrations, which TestState checks a mocked result against (`mock.fieldValidationMode`
// STRICT / PRESENT). The AWS SDK for JavaScript v3 ships its shapes without the constraints AWS checks
// (enum values, length and range limits), so they are read from the AWS service models that botocore
// ships (the same models the SDKs are generated from). Only what the check needs is kept: per operation
// its output shape; per shape its type, members, required members, enum values and limits.
//
//   node scripts/gen-mock-shapes.mjs [<botocore data dir>]
//
// Without an argument, the botocore of `python3` (pip install botocore) is used.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(here, '..', 'localcloud', 'stepfunctions', 'asl', 'mock-shapes.json');

/**
 * The services whose operations Task states reach: `aws-sdk:<id>:<action>` uses the SDK service id (the
 * key), optimised integrations (`arn:aws:states:::<prefix>:<action>`) their own prefix (see
 * localcloud/stepfunctions/asl/mock-validation.ts). Value: the botocore model directory.
 */
const SERVICES = {
  lambda: 'lambda',
  sfn: 'stepfunctions',
  sqs: 'sqs',
  dynamodb: 'dynamodb',
  eventbridge: 'events',
  sns: 'sns',
  s3: 's3',
  kms: 'kms',
};

function botocoreData() {
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

function readModel(data, name) {
  const versions = readdirSync(path.join(data, name)).sort();
  const dir = path.join(data, name, versions[versions.length - 1]);
  const json = path.join(dir, 'service-2.json');
  const text = existsSync(json)
    ? readFileSync(json, 'utf8')
    : gunzipSync(readFileSync(`${json}.gz`)).toString('utf8');
  return { version: versions[versions.length - 1], model: JSON.parse(text) };
}

const NUMBER = new Set(['integer', 'long', 'float', 'double', 'bigdecimal', 'biginteger']);

/** A compact shape: `t` type (structure/list/map/string/number/boolean/timestamp/blob), then its constraints. */
function compact(shape) {
  const out = {};
  const type = shape.type;
  if (type === 'structure') {
    out.t = 'structure';
    out.m = Object.fromEntries(Object.entries(shape.members ?? {}).map(([k, v]) => [k, v.shape]));
    if (shape.required?.length) out.r = shape.required;
  } else if (type === 'list') {
    out.t = 'list';
    out.m = shape.member.shape;
  } else if (type === 'map') {
    out.t = 'map';
    out.v = shape.value.shape;
  } else if (NUMBER.has(type)) {
    out.t = 'number';
  } else if (type === 'string' || type === 'boolean' || type === 'timestamp' || type === 'blob') {
    out.t = type;
  } else {
    out.t = 'any';
  }
  if (type === 'string' && shape.enum) out.e = shape.enum;
  if (shape.min !== undefined) out.min = shape.min;
  if (shape.max !== undefined) out.max = shape.max;
  return out;
}

function main() {
  const data = botocoreData();
  const services = {};
  for (const [id, dir] of Object.entries(SERVICES)) {
    const { version, model } = readModel(data, dir);
    const operations = {};
    const shapes = {};
    const visit = (name) => {
      if (shapes[name]) return;
      const shape = model.shapes[name];
      if (!shape) throw new Error(`${dir}: no shape ${name}`);
      const c = compact(shape);
      shapes[name] = c;
      if (c.t === 'structure') for (const member of Object.values(c.m)) visit(member);
      if (c.t === 'list') visit(c.m);
      if (c.t === 'map') visit(c.v);
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
