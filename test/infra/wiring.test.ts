// The wiring manifest the CDK app writes into cdk.out at synth is the local runtime's only source
// for what to host. Checked here against the synthesized templates themselves, read independently:
// every function, every environment variable (name and value), every event source mapping, every
// rule target and every API method must be in it, and everything they reference must be a
// resource or export it lists. The bundles it points at must not contain the local runtime's
// shortcuts (local-only routes, the local identity header).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildWiringManifest } from '../../infra/wiring/build.ts';
import {
  type CfnValue,
  WIRING_FILE,
  type WiringManifest,
  wiringManifestSchema,
} from '../../infra/wiring/manifest.ts';
import { LOCAL_ONLY_MARKERS } from '../../local/markers.ts';
import { ensureAssembly } from '../../local/synth.ts';

type Resource = { Type: string; Properties?: Record<string, CfnValue> };
type Template = {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Export?: { Name: string } }>;
};

let dir: string;
let manifest: WiringManifest;
let templates: Map<string, Template>;

beforeAll(async () => {
  ({ dir } = await ensureAssembly());
  manifest = wiringManifestSchema.parse(JSON.parse(readFileSync(path.join(dir, WIRING_FILE), 'utf8')));
  templates = new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => [
        f.replace('.template.json', ''),
        JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Template,
      ]),
  );
});

function resourcesOfType(
  type: string,
): { stack: string; logicalId: string; props: Record<string, CfnValue> }[] {
  return [...templates].flatMap(([stack, template]) =>
    Object.entries(template.Resources)
      .filter(([, r]) => r.Type === type)
      .map(([logicalId, r]) => ({ stack, logicalId, props: r.Properties ?? {} })),
  );
}

function refsIn(
  value: CfnValue | undefined,
  out: { local: string[]; imports: string[] } = { local: [], imports: [] },
) {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string' && !value.Ref.startsWith('AWS::')) out.local.push(value.Ref);
    else if (Array.isArray(value['Fn::GetAtt'])) out.local.push(String(value['Fn::GetAtt'][0]));
    else if (typeof value['Fn::ImportValue'] === 'string') out.imports.push(value['Fn::ImportValue']);
    else for (const v of Object.values(value)) refsIn(v, out);
  }
  return out;
}

describe('wiring manifest', () => {
  it('lists every function of every template with its exact environment, asset and handler', () => {
    const fns = resourcesOfType('AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThanOrEqual(6);
    expect(manifest.functions).toHaveLength(fns.length);
    for (const fn of fns) {
      const wired = manifest.functions.find((f) => f.stack === fn.stack && f.logicalId === fn.logicalId);
      expect(wired, `${fn.stack}/${fn.logicalId}`).toBeDefined();
      const env = (fn.props.Environment as { Variables: Record<string, CfnValue> }).Variables;
      expect(wired?.environment).toEqual(env);
      expect(`${wired?.module.replace(/\.mjs$/, '')}.${wired?.export}`).toBe(fn.props.Handler);
      expect(wired?.timeoutSeconds).toBe(fn.props.Timeout);
      expect((fn.props.Code as { S3Key: string }).S3Key).toBe(`${wired?.asset.replace('asset.', '')}.zip`);
      const bundle = readFileSync(path.join(dir, wired?.asset ?? '', wired?.module ?? ''), 'utf8');
      expect(bundle).toMatch(new RegExp(`as ${wired?.export}\\b`));
      expect(readdirSync(path.join(dir, wired?.asset ?? ''))).toContain(manifest.configFile);
    }
    // Each function is named by its folder, once.
    const names = manifest.functions.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(readdirSync('functions')).toContain(name);
  });

  it('lists every event source mapping with its batch semantics', () => {
    const mappings = resourcesOfType('AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThanOrEqual(3);
    expect(manifest.eventSources).toHaveLength(mappings.length);
    for (const mapping of mappings) {
      const wired = manifest.eventSources.find(
        (e) => e.logicalId === mapping.logicalId && e.stack === mapping.stack,
      );
      expect(wired, mapping.logicalId).toBeDefined();
      const fnLogicalId = refsIn(mapping.props.FunctionName).local[0];
      expect(manifest.functions.find((f) => f.logicalId === fnLogicalId)?.name).toBe(wired?.function);
      expect(wired?.source).toEqual(mapping.props.EventSourceArn);
      expect(wired?.batchSize).toBe(mapping.props.BatchSize ?? 10);
      expect(wired?.reportBatchItemFailures).toBe(
        ((mapping.props.FunctionResponseTypes ?? []) as string[]).includes('ReportBatchItemFailures'),
      );
      if (wired?.kind === 'dynamodb-stream') {
        const filters = (mapping.props.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
        expect(wired.filters).toEqual(filters.map((f) => f.Pattern));
        expect(wired.bisectBatchOnError).toBe(mapping.props.BisectBatchOnFunctionError === true);
        expect(wired.maxRetryAttempts).toBe(mapping.props.MaximumRetryAttempts);
      }
    }
  });

  it('lists every rule that targets a function, and every API method that proxies to one', () => {
    const ruleTargets = resourcesOfType('AWS::Events::Rule').flatMap((rule) =>
      ((rule.props.Targets ?? []) as { Arn: CfnValue }[]).map((t) => ({ rule, fn: refsIn(t.Arn).local[0] })),
    );
    expect(ruleTargets.length).toBeGreaterThanOrEqual(3);
    for (const { rule, fn } of ruleTargets) {
      const wired = manifest.rules.find((r) => r.logicalId === rule.logicalId);
      expect(wired?.function).toBe(manifest.functions.find((f) => f.logicalId === fn)?.name);
      expect(wired?.schedule).toBe(rule.props.ScheduleExpression);
    }
    expect(manifest.rules).toHaveLength(ruleTargets.length);
    const methods = resourcesOfType('AWS::ApiGateway::Method');
    expect(manifest.routes).toHaveLength(methods.length);
    for (const method of methods) {
      const wired = manifest.routes.find((r) => r.logicalId === method.logicalId);
      expect(wired?.method).toBe(method.props.HttpMethod);
      expect(wired?.authorization).toBe(method.props.AuthorizationType);
    }
    expect(manifest.routes.map((r) => `${r.method} ${r.path} ${r.authorization} ${r.stage}`).sort()).toEqual([
      'ANY /v1/{proxy+} AWS_IAM prod',
      'POST /slack/commands NONE prod',
      'POST /slack/events NONE prod',
      'POST /slack/interactions NONE prod',
      'POST /v1/requests/{id}/cancel AWS_IAM prod',
      'POST /v1/requests/{id}/deny AWS_IAM prod',
      'POST /v1/requests/{id}/revoke AWS_IAM prod',
    ]);
  });

  it("gives every route its method's throttle from the stage's MethodSettings", () => {
    // Read independently: the method's own entry (path written with ~1), else the stage-wide one.
    const [stage] = resourcesOfType('AWS::ApiGateway::Stage');
    const settings = (stage?.props.MethodSettings ?? []) as {
      ResourcePath: string;
      HttpMethod: string;
      ThrottlingRateLimit?: number;
      ThrottlingBurstLimit?: number;
    }[];
    for (const route of manifest.routes) {
      const own = settings.find(
        (s) => s.ResourcePath === `/${route.path.replaceAll('/', '~1')}` && s.HttpMethod === route.method,
      );
      const expected = own ?? settings.find((s) => s.ResourcePath === '/*' && s.HttpMethod === '*');
      expect(route.throttle, `${route.method} ${route.path}`).toEqual({
        rateLimit: expected?.ThrottlingRateLimit,
        burstLimit: expected?.ThrottlingBurstLimit,
      });
    }
    const throttles = new Set(manifest.routes.map((r) => JSON.stringify(r.throttle)));
    // The catch-all and the narrowing methods are throttled apart.
    expect(throttles.size).toBe(2);
  });

  it('lists every resource and export that the environment and event sources reference', () => {
    const listed = new Set(manifest.resources.map((r) => `${r.stack}/${r.logicalId}`));
    const check = (stack: string, value: CfnValue | undefined) => {
      const { local, imports } = refsIn(value);
      for (const id of local) {
        const template = templates.get(stack);
        if (template?.Resources[id]?.Type === 'AWS::Lambda::Function') continue;
        expect(listed, `${stack}/${id}`).toContain(`${stack}/${id}`);
      }
      for (const name of imports) {
        const exported = manifest.exports[name];
        expect(exported, name).toBeDefined();
        check(exported?.stack ?? '', exported?.value);
      }
    };
    for (const fn of manifest.functions) check(fn.stack, fn.environment);
    for (const source of manifest.eventSources) check(source.stack, source.source);
    for (const resource of manifest.resources) {
      const template = templates.get(resource.stack);
      expect(template?.Resources[resource.logicalId]?.Properties ?? {}).toEqual(resource.properties);
      check(resource.stack, resource.properties);
    }
    // The tables, queues, key, schedule group and permission sets the handlers use.
    const types = new Set(manifest.resources.map((r) => r.type));
    for (const type of [
      'AWS::DynamoDB::Table',
      'AWS::SQS::Queue',
      'AWS::KMS::Key',
      'AWS::Scheduler::ScheduleGroup',
      'AWS::SSO::PermissionSet',
    ])
      expect(types).toContain(type);
  });

  it('points at bundles that contain none of the local runtime shortcuts', () => {
    expect(LOCAL_ONLY_MARKERS.length).toBeGreaterThan(0);
    for (const fn of manifest.functions) {
      for (const file of readdirSync(path.join(dir, fn.asset))) {
        const text = readFileSync(path.join(dir, fn.asset, file), 'utf8');
        for (const marker of LOCAL_ONLY_MARKERS)
          expect(text.includes(marker), `${fn.name}/${file}: ${marker}`).toBe(false);
      }
    }
  });
});

describe('building the manifest', () => {
  const assemblyOf = (resources: Record<string, Resource>) =>
    ({
      directory: '/nonexistent',
      stacks: [
        {
          stackName: 'S',
          environment: { account: '111111111111', region: 'us-east-1' },
          template: { Resources: resources },
        },
      ],
    }) as unknown as CloudAssembly;
  const options = {
    assemblyDir: '/nonexistent',
    functions: [],
    configFile: 'pam-config.json',
    identityCenter: {
      instanceArn: 'arn:aws:sso:::instance/ssoins-1',
      identityStoreId: 'd-1',
      hubAccountId: '111111111111',
      managementAccountId: '222222222222',
      organizationId: 'o-1',
      groupIds: {},
    },
  };

  it('refuses a function the app did not build with PamFunction', () => {
    const assembly = assemblyOf({
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' } },
    });
    expect(() => buildWiringManifest(assembly, options)).toThrow(
      /S\/Fn is a Lambda function the app did not build/,
    );
  });

  it('refuses a reference to a resource that is not in the template', () => {
    const assembly = assemblyOf({});
    expect(() =>
      buildWiringManifest(
        {
          ...assembly,
          stacks: [
            {
              stackName: 'S',
              environment: { account: '111111111111', region: 'us-east-1' },
              template: {
                Resources: {
                  M: {
                    Type: 'AWS::Lambda::EventSourceMapping',
                    Properties: {
                      FunctionName: { Ref: 'Nope' },
                      EventSourceArn: { 'Fn::GetAtt': ['Q', 'Arn'] },
                    },
                  },
                },
              },
            },
          ],
        } as unknown as CloudAssembly,
        options,
      ),
    ).toThrow(/wiring manifest: M: no function/);
  });
});
