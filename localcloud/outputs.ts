/**
 * Outputs files: the local cloud writes `.stepsaga/outputs.json` (flat: `ApiUrl`, `ConsoleUrl`,
 * `Endpoint` + every stack output); tests and scripts read it, or the nested form
 * `cdk deploy --outputs-file` writes (`{ "<StackName>": { ... } }`). Reading is shared with the client
 * code (`client/outputs.ts`), so there is one parser.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export { DEFAULT_OUTPUTS_FILE, type Outputs, readOutputs, requireOutput } from '../client/outputs';

/** Writes the outputs atomically (a reader never sees half a file). */
export function writeOutputs(file: string, outputs: Record<string, string>): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(outputs, null, 2)}\n`);
  renameSync(temporary, file);
}
