// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are CloudFormation Fn::Sub templates, not JS templates
/**
 * CloudFormation intrinsics as the deployer resolves them (a hand-written template fragment: the real
 * assembly only uses Ref, GetAtt, Join and Sub).
 */
import { describe, expect, it } from 'vitest';
import {
  type Json,
  type PhysicalResource,
  Resolver,
  TemplateError,
} from '../../localcloud/deploy/intrinsics';

function resolver(
  conditions: Record<string, Json> = {},
  parameters: Record<string, Json> = { Stage: 'dev' },
) {
  const resources = new Map<string, PhysicalResource>([
    [
      'Table',
      { ref: 'OrderSaga-Table-ABC', attributes: { Arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/T' } },
    ],
    [
      'Role',
      { ref: 'role-name', attributes: { Arn: 'arn:aws:iam::000000000000:role/r' }, placeholder: true },
    ],
  ]);
  return new Resolver({
    stackName: 'OrderSaga',
    parameters,
    conditions,
    mappings: { Sizes: { dev: { memory: 256 } } },
    resources,
  });
}

describe('deploy: intrinsic functions', () => {
  it('resolves Ref, GetAtt (both forms) and pseudo parameters', () => {
    const r = resolver();

    expect(
      r.resolve({
        name: { Ref: 'Table' },
        arn: { 'Fn::GetAtt': ['Table', 'Arn'] },
        dotted: { 'Fn::GetAtt': 'Table.Arn' },
        region: { Ref: 'AWS::Region' },
        account: { Ref: 'AWS::AccountId' },
        partition: { Ref: 'AWS::Partition' },
        suffix: { Ref: 'AWS::URLSuffix' },
        stack: { Ref: 'AWS::StackName' },
        stage: { Ref: 'Stage' },
      }),
    ).toEqual({
      name: 'OrderSaga-Table-ABC',
      arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/T',
      dotted: 'arn:aws:dynamodb:us-east-1:000000000000:table/T',
      region: 'us-east-1',
      account: '000000000000',
      partition: 'aws',
      suffix: 'amazonaws.com',
      stack: 'OrderSaga',
      stage: 'dev',
    });
  });

  it('resolves Fn::Sub in both forms, with ${!Literal} escapes and ${Resource.Attr}', () => {
    const r = resolver();

    expect(
      r.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${Table}/${Table.Arn}/${!Keep}' }),
    ).toBe('arn:aws:x:us-east-1:OrderSaga-Table-ABC/arn:aws:dynamodb:us-east-1:000000000000:table/T/${Keep}');
    expect(r.resolve({ 'Fn::Sub': ['${Greeting}, ${AWS::StackName}', { Greeting: { Ref: 'Stage' } }] })).toBe(
      'dev, OrderSaga',
    );
  });

  it('resolves Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Base64 and Fn::GetAZs', () => {
    const r = resolver();

    expect(r.resolve({ 'Fn::Join': ['-', ['a', { Ref: 'Stage' }, 'b']] })).toBe('a-dev-b');
    expect(r.resolve({ 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Table', 'Arn'] }] }] })).toBe(
      'aws',
    );
    expect(r.resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'memory'] })).toBe(256);
    expect(r.resolve({ 'Fn::Base64': 'hi' })).toBe('aGk=');
    expect(r.resolve({ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] })).toBe('us-east-1a');
  });

  it('resolves Fn::If with Conditions and drops AWS::NoValue properties', () => {
    const r = resolver({
      IsDev: { 'Fn::Equals': [{ Ref: 'Stage' }, 'dev'] },
      IsProd: { 'Fn::Not': [{ Condition: 'IsDev' }] },
      Both: { 'Fn::And': [{ Condition: 'IsDev' }, { 'Fn::Or': [{ Condition: 'IsProd' }, true] }] },
    });

    expect(
      r.resolve({
        faults: { 'Fn::If': ['IsDev', 'on', 'off'] },
        alarm: { 'Fn::If': ['IsProd', 'page-me', { Ref: 'AWS::NoValue' }] },
        list: ['a', { 'Fn::If': ['IsProd', 'b', { Ref: 'AWS::NoValue' }] }],
      }),
    ).toEqual({ faults: 'on', list: ['a'] });
    expect(r.condition('Both')).toBe(true);
  });

  it('answers GetAtt of a resource the local cloud does not emulate, so references hold', () => {
    expect(resolver().resolve({ 'Fn::GetAtt': ['Role', 'RoleId'] })).toBe('role-name');
  });

  it('reports what it cannot resolve, naming it', () => {
    const r = resolver();

    expect(() => r.resolve({ Ref: 'Nowhere' })).toThrow(/Nowhere/);
    expect(() => r.resolve({ 'Fn::GetAtt': ['Table', 'StreamArn'] })).toThrow(/StreamArn/);
    expect(() => r.resolve({ 'Fn::ImportValue': 'SharedVpc' })).toThrow(TemplateError);
    expect(() => r.resolve({ 'Fn::Select': [5, ['a']] })).toThrow(/out of range/);
  });

  it('finds the logical ids a value depends on, Fn::Sub variables included', () => {
    expect(
      [
        ...Resolver.references({
          a: { Ref: 'Table' },
          b: { 'Fn::GetAtt': 'Role.Arn' },
          c: { 'Fn::Sub': ['${Queue.Arn}-${Local}-${AWS::Region}-${!Not}', { Local: { Ref: 'Topic' } }] },
          d: { Ref: 'AWS::StackName' },
        }),
      ].sort(),
    ).toEqual(['Queue', 'Role', 'Table', 'Topic']);
  });
});
