// What the infra tests share: one way to synthesize the hub, and readers of its templates.
//
// The service stack's logical ids start with the id of the capability construct that owns the
// resource (`RequestsHandleApiRole…`, `GrantsProvisioningQueue…`). Tests name a resource within its
// capability; two capabilities owning the same name make the one-match helpers fail loudly.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { PamConfig } from '#domain/model.ts';
import { defineHub, type HubStacks } from '../../infra/app.ts';

export type Json = Record<string, unknown>;
export type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
  Principal?: unknown;
};

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/**
 * The hub synthesized from `config` in eu-west-1, with both templates. CDK's built-in CloudFormation
 * validation is slow; hub-compliance.test.ts runs it (and cfn-lint). `bundle: false` leaves the
 * functions unbundled (template assertions need only their wiring).
 */
export function synthHub(
  config: PamConfig,
  { bundle }: { readonly bundle: boolean },
): HubStacks & {
  readonly dataTemplate: Template;
  readonly template: Template;
  readonly assemblyDir: string;
} {
  const app = new App({
    outdir: mkdtempSync(path.join(tmpdir(), 'cloud-pam-cdk-')),
    builtinCloudFormationValidation: false,
    ...(bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } }),
  });
  const stacks = defineHub(app, config, { region: 'eu-west-1' });
  const assembly = app.synth();
  return {
    ...stacks,
    assemblyDir: assembly.directory,
    dataTemplate: Template.fromStack(stacks.data),
    template: Template.fromStack(stacks.service),
  };
}

/** Renders `Fn::Join`, `Ref` and `Fn::GetAtt` as one string (`${Ref}`, `<Id.Attr>`), recursively. */
export function flatten(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flatten);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Json;
  if ('Ref' in object) return `\${${String(object.Ref)}}`;
  const getAtt = object['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
  const join = object['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map((part) => String(flatten(part))).join(join[0]);
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, flatten(v)]));
}

/** Every statement of every AWS::IAM::Policy attached to the role whose id (within its capability) starts with `rolePrefix`. */
export function statementsOfRole(template: Template, rolePrefix: string): Statement[] {
  return (Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: Json }[])
    .filter((policy) => refersToRole(policy.Properties.Roles, rolePrefix))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const CAPABILITY = /^(Requests|Grants|Slack)(?=[A-Z])/;

/** `GrantsProvisionAccessRole1A2B3C` → `ProvisionAccessRole1A2B3C`. */
export function idWithinCapability(logicalId: string): string {
  return logicalId.replace(CAPABILITY, '');
}

/** Whether a policy's `Roles` (`[{ Ref }]`) names a role whose id, within its capability, starts with `prefix`. */
export function refersToRole(roles: unknown, prefix: string): boolean {
  return (Array.isArray(roles) ? roles : [roles]).some(
    (role) =>
      typeof role === 'object' &&
      role !== null &&
      typeof (role as { Ref?: unknown }).Ref === 'string' &&
      idWithinCapability((role as { Ref: string }).Ref).startsWith(prefix),
  );
}
