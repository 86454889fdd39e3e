/**
 * Reads the state machine definition out of a synthesized CloudFormation template (tests and offline
 * tools; the running console asks `DescribeStateMachine`). CDK writes `DefinitionString` as an
 * `Fn::Join` of strings and `Fn::GetAtt`/`Ref` tokens; tokens become placeholder ARNs named after the
 * logical id, which is all the graph needs.
 */
import { readFileSync } from 'node:fs';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function placeholder(token: unknown): string {
  if (typeof token === 'string') return token;
  if (isRecord(token)) {
    const getAtt = token['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `arn:aws:lambda:us-east-1:000000000000:function:${String(getAtt[0])}`;
    if (typeof token.Ref === 'string') return token.Ref === 'AWS::Region' ? 'us-east-1' : token.Ref;
  }
  return 'unresolved';
}

function resolveString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isRecord(value) && Array.isArray(value['Fn::Join'])) {
    const [separator, parts] = value['Fn::Join'] as [unknown, unknown];
    if (Array.isArray(parts)) return parts.map((p) => resolveString(placeholder(p))).join(String(separator));
  }
  return placeholder(value);
}

/** The ASL JSON of the (only, or the named) `AWS::StepFunctions::StateMachine` in a template file. */
export function definitionFromTemplate(templatePath: string, logicalId?: string): string {
  const template: unknown = JSON.parse(readFileSync(templatePath, 'utf8'));
  const resources = isRecord(template) && isRecord(template.Resources) ? template.Resources : {};
  const machines = Object.entries(resources).filter(
    ([id, r]) =>
      isRecord(r) && r.Type === 'AWS::StepFunctions::StateMachine' && (!logicalId || id === logicalId),
  );
  const [entry] = machines;
  if (!entry || machines.length > 1)
    throw new Error(
      `${templatePath}: expected one AWS::StepFunctions::StateMachine, found ${machines.length}`,
    );
  const properties = isRecord(entry[1]) && isRecord(entry[1].Properties) ? entry[1].Properties : {};
  return resolveString(properties.DefinitionString);
}
