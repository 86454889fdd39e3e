/**
 * Reading a cloud assembly (`cdk.out`): the manifest's CloudFormation stack artifacts, in dependency
 * order, with their templates.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Json } from './intrinsics';
import { TemplateError } from './intrinsics';

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, Json>;
  DependsOn?: string | string[];
  Condition?: string;
  Metadata?: Record<string, Json>;
}

export interface Template {
  Parameters?: Record<string, { Type?: string; Default?: Json }>;
  Conditions?: Record<string, Json>;
  Mappings?: Record<string, Json>;
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value: Json; Condition?: string; Description?: string }>;
}

export interface StackArtifact {
  artifactId: string;
  stackName: string;
  template: Template;
  /** The assembly directory (asset folders are relative to it). */
  assemblyDir: string;
}

interface ManifestArtifact {
  type?: string;
  dependencies?: string[];
  displayName?: string;
  properties?: { templateFile?: string; stackName?: string };
}

/** The stacks of an assembly, dependencies first. */
export function readAssembly(assemblyDir: string): StackArtifact[] {
  const manifestFile = path.join(assemblyDir, 'manifest.json');
  if (!existsSync(manifestFile))
    throw new TemplateError(
      `No cloud assembly at ${path.resolve(assemblyDir)} (manifest.json missing): run \`npm run synth\` first`,
    );
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const artifacts = manifest.artifacts ?? {};
  const stackIds = Object.keys(artifacts).filter((id) => artifacts[id]?.type === 'aws:cloudformation:stack');
  if (stackIds.length === 0)
    throw new TemplateError(`The assembly at ${assemblyDir} has no CloudFormation stack`);
  const ordered: string[] = [];
  const visit = (id: string, seen: Set<string>) => {
    if (ordered.includes(id) || !stackIds.includes(id)) return;
    if (seen.has(id)) throw new TemplateError(`Stack dependency cycle through ${id}`);
    seen.add(id);
    for (const dep of artifacts[id]?.dependencies ?? []) visit(dep, seen);
    ordered.push(id);
  };
  for (const id of stackIds) visit(id, new Set());
  return ordered.map((artifactId) => {
    const artifact = artifacts[artifactId] as ManifestArtifact;
    const templateFile = path.join(
      assemblyDir,
      artifact.properties?.templateFile ?? `${artifactId}.template.json`,
    );
    return {
      artifactId,
      stackName: artifact.properties?.stackName ?? artifact.displayName ?? artifactId,
      template: JSON.parse(readFileSync(templateFile, 'utf8')) as Template,
      assemblyDir,
    };
  });
}
