/**
 * Outputs files: the local cloud writes `.stepsaga/outputs.json` (flat: `ApiUrl`, `ConsoleUrl`,
 * `Endpoint` + every stack output); tests and scripts read it, or the nested form
 * `cdk deploy --outputs-file` writes (`{ "<StackName>": { ... } }`). The one parser and the one `Outputs`
 * type: `client/outputs.ts` reads through here.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_OUTPUTS_FILE = '.stepsaga/outputs.json';

/** Stack outputs by name (flat), plus `Endpoint`, `ConsoleUrl` and `ApiUrl` from the local cloud. */
export type Outputs<Name extends string = string> = Record<Name, string>;

/**
 * Reads an outputs file, flat or nested. In the nested form the stack is the first entry whose value is
 * an object (and whose key starts with `stackPrefix`, when given); the file's flat string entries are kept
 * where the stack has no value of that name.
 */
export function readOutputs(
  file = process.env.STEPSAGA_OUTPUTS ?? DEFAULT_OUTPUTS_FILE,
  stackPrefix = '',
): Outputs {
  const resolved = path.resolve(file);
  let raw: string;
  try {
    raw = readFileSync(resolved, 'utf8');
  } catch {
    throw new Error(
      `No outputs file at ${resolved}. Start the local cloud with "npm start" (it writes ${DEFAULT_OUTPUTS_FILE}), ` +
        'or pass the file "cdk deploy --outputs-file" wrote (--outputs FILE or STEPSAGA_OUTPUTS).',
    );
  }
  const parsed: unknown = JSON.parse(raw);
  if (!parsed || typeof parsed !== 'object') throw new Error(`${resolved} is not a JSON object`);
  const record = parsed as Record<string, unknown>;
  const nested = Object.entries(record).find(
    ([key, value]) => value && typeof value === 'object' && key.startsWith(stackPrefix),
  );
  const source = (nested ? nested[1] : record) as Record<string, unknown>;
  const outputs: Outputs = {};
  for (const [key, value] of Object.entries(source)) if (typeof value === 'string') outputs[key] = value;
  if (nested)
    for (const [key, value] of Object.entries(record)) if (typeof value === 'string') outputs[key] ??= value;
  return outputs;
}

/** Returns `outputs[name]` or throws an error naming the missing output and the file's keys. */
export function requireOutput(outputs: Outputs, name: string): string {
  const value = outputs[name];
  if (!value)
    throw new Error(`The outputs have no "${name}" (have: ${Object.keys(outputs).join(', ') || 'nothing'})`);
  return value;
}

/** Writes the outputs atomically (a reader never sees half a file). */
export function writeOutputs(file: string, outputs: Outputs): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(outputs, null, 2)}\n`);
  renameSync(temporary, file);
}
