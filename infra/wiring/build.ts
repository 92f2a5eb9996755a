// Builds the wiring manifest (./manifest.ts) from the synthesized templates. Everything the local
// runtime hosts comes from here: every AWS::Lambda::Function (each must be a PamFunction, whose
// `functions/<name>` folder names it), its environment as written in the template, every event
// source mapping and EventBridge rule that invokes one, every API Gateway method that proxies to
// one, and the resources all of those reach. Anything the local runtime could not host the way
// AWS would — another kind of event source, a non-proxy integration, a function not built by
// PamFunction — fails synth here instead of silently going missing in `make start`.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IdentityCenterConfig } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import {
  type CfnValue,
  WIRING_FILE,
  WIRING_VERSION,
  type WiringEventSource,
  type WiringFunction,
  type WiringManifest,
  type WiringResource,
  type WiringRoute,
  type WiringRule,
  wiringManifestSchema,
} from './manifest.ts';

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, CfnValue>;
}

interface StackTemplate {
  readonly id: string;
  readonly account: string;
  readonly region: string;
  readonly resources: Record<string, TemplateResource>;
  readonly outputs: Record<string, { Value: CfnValue; Export?: { Name: CfnValue } }>;
}

/** A function as the CDK app knows it: its stack, logical id and `functions/` folder. */
export interface PamFunctionRef {
  readonly stack: string;
  readonly logicalId: string;
  readonly name: string;
}

type Obj = { [key: string]: CfnValue };
const isObj = (value: CfnValue | undefined): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function fail(message: string): never {
  throw new Error(`wiring manifest: ${message}`);
}

function str(value: CfnValue | undefined, what: string): string {
  if (typeof value !== 'string') fail(`${what}: expected a literal string, got ${JSON.stringify(value)}`);
  return value;
}

/** Logical ids a value references in its own stack, and export names it imports. */
function references(value: CfnValue | undefined, found: { local: Set<string>; imports: Set<string> }) {
  if (Array.isArray(value)) {
    for (const item of value) references(item, found);
    return found;
  }
  if (!isObj(value)) return found;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = value[key];
    if (key === 'Ref' && typeof arg === 'string') {
      if (!arg.startsWith('AWS::')) found.local.add(arg);
      return found;
    }
    if (key === 'Fn::GetAtt' && Array.isArray(arg) && typeof arg[0] === 'string') {
      found.local.add(arg[0]);
      return found;
    }
    if (key === 'Fn::ImportValue' && typeof arg === 'string') {
      found.imports.add(arg);
      return found;
    }
  }
  for (const item of Object.values(value)) references(item, found);
  return found;
}

/** The logical id a `{Fn::GetAtt: [id, 'Arn']}` or `{Ref: id}` names, searched anywhere in `value`. */
function referencedFunctions(value: CfnValue | undefined, functions: ReadonlySet<string>): string[] {
  const found = references(value, { local: new Set(), imports: new Set() });
  return [...found.local].filter((id) => functions.has(id));
}

function stackTemplates(assembly: CloudAssembly): StackTemplate[] {
  return assembly.stacks.map((stack) => {
    const template = stack.template as {
      Resources?: Record<string, TemplateResource>;
      Outputs?: StackTemplate['outputs'];
    };
    return {
      id: stack.stackName,
      account: stack.environment.account,
      region: stack.environment.region,
      resources: template.Resources ?? {},
      outputs: template.Outputs ?? {},
    };
  });
}

export interface BuildWiringOptions {
  readonly assemblyDir: string;
  readonly functions: readonly PamFunctionRef[];
  readonly identityCenter: IdentityCenterConfig;
  readonly configFile: string;
}

export function buildWiringManifest(assembly: CloudAssembly, options: BuildWiringOptions): WiringManifest {
  const stacks = stackTemplates(assembly);
  const byStack = new Map(stacks.map((s) => [s.id, s]));
  const exports: WiringManifest['exports'] = {};
  for (const stack of stacks) {
    for (const output of Object.values(stack.outputs)) {
      if (output.Export)
        exports[str(output.Export.Name, `${stack.id} export name`)] = {
          stack: stack.id,
          value: output.Value,
        };
    }
  }

  const functions: WiringFunction[] = [];
  const eventSources: WiringEventSource[] = [];
  const rules: WiringRule[] = [];
  const routes: WiringRoute[] = [];
  const roots: { stack: string; value: CfnValue }[] = [];

  for (const stack of stacks) {
    const names = new Map(
      options.functions.filter((f) => f.stack === stack.id).map((f) => [f.logicalId, f.name] as const),
    );
    const fnIds = new Set<string>();
    for (const [logicalId, resource] of Object.entries(stack.resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const name = names.get(logicalId);
      if (!name) fail(`${stack.id}/${logicalId} is a Lambda function the app did not build with PamFunction`);
      fnIds.add(logicalId);
      const props = resource.Properties ?? {};
      const code = props.Code;
      const s3Key = isObj(code)
        ? str(code.S3Key, `${logicalId}.Code.S3Key`)
        : fail(`${logicalId}: inline code`);
      const hash =
        /^([0-9a-f]{64})\.zip$/.exec(s3Key)?.[1] ?? fail(`${logicalId}: unexpected asset key ${s3Key}`);
      const asset = `asset.${hash}`;
      if (!existsSync(path.join(options.assemblyDir, asset)))
        fail(`${logicalId}: asset folder ${asset} is missing`);
      const handler = str(props.Handler, `${logicalId}.Handler`);
      const dot = handler.lastIndexOf('.');
      const variables =
        isObj(props.Environment) && isObj(props.Environment.Variables) ? props.Environment.Variables : {};
      functions.push({
        name,
        stack: stack.id,
        logicalId,
        asset,
        module: `${handler.slice(0, dot)}.mjs`,
        export: handler.slice(dot + 1),
        timeoutSeconds: typeof props.Timeout === 'number' ? props.Timeout : 3,
        memoryMb: typeof props.MemorySize === 'number' ? props.MemorySize : 128,
        environment: variables,
        role: props.Role ?? fail(`${logicalId}: no Role`),
      });
      roots.push({ stack: stack.id, value: variables });
      // Its execution role: the local runtime runs the function under it (its own identity).
      roots.push({ stack: stack.id, value: props.Role as CfnValue });
    }
    const nameOf = (logicalId: string) => names.get(logicalId) ?? fail(`unknown function ${logicalId}`);

    for (const [logicalId, resource] of Object.entries(stack.resources)) {
      const props = resource.Properties ?? {};
      if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
        const target = referencedFunctions(props.FunctionName, fnIds)[0] ?? fail(`${logicalId}: no function`);
        const source = props.EventSourceArn ?? fail(`${logicalId}: no EventSourceArn`);
        const reportBatchItemFailures =
          Array.isArray(props.FunctionResponseTypes) &&
          props.FunctionResponseTypes.includes('ReportBatchItemFailures');
        const batchSize = typeof props.BatchSize === 'number' ? props.BatchSize : 10;
        const base = {
          stack: stack.id,
          logicalId,
          function: nameOf(target),
          source,
          batchSize,
          reportBatchItemFailures,
        };
        if (props.StartingPosition !== undefined) {
          const filters =
            isObj(props.FilterCriteria) && Array.isArray(props.FilterCriteria.Filters)
              ? props.FilterCriteria.Filters.map((f) =>
                  isObj(f) ? str(f.Pattern, `${logicalId} filter`) : fail(`${logicalId} filter`),
                )
              : [];
          const onFailure =
            isObj(props.DestinationConfig) && isObj(props.DestinationConfig.OnFailure)
              ? props.DestinationConfig.OnFailure.Destination
              : undefined;
          const startingPosition = str(props.StartingPosition, `${logicalId}.StartingPosition`);
          if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST')
            fail(`${logicalId}: starting position ${startingPosition} is not supported locally`);
          if (!JSON.stringify(source).includes('StreamArn'))
            fail(`${logicalId}: only DynamoDB streams are supported`);
          eventSources.push({
            ...base,
            kind: 'dynamodb-stream',
            bisectBatchOnError: props.BisectBatchOnFunctionError === true,
            maxRetryAttempts:
              typeof props.MaximumRetryAttempts === 'number' ? props.MaximumRetryAttempts : -1,
            startingPosition,
            filters,
            ...optional('onFailure', onFailure),
          });
          roots.push({ stack: stack.id, value: [source, onFailure ?? null] });
        } else {
          const scaling = isObj(props.ScalingConfig) ? props.ScalingConfig.MaximumConcurrency : undefined;
          eventSources.push({
            ...base,
            kind: 'sqs',
            ...(typeof scaling === 'number' ? { maxConcurrency: scaling } : {}),
          });
          roots.push({ stack: stack.id, value: source });
        }
      } else if (resource.Type === 'AWS::Events::Rule') {
        const targets = Array.isArray(props.Targets) ? props.Targets : [];
        for (const target of targets) {
          if (!isObj(target)) continue;
          const [fn] = referencedFunctions(target.Arn, fnIds);
          if (!fn) continue;
          const retry = isObj(target.RetryPolicy) ? target.RetryPolicy.MaximumRetryAttempts : undefined;
          rules.push({
            stack: stack.id,
            logicalId,
            function: nameOf(fn),
            ...(typeof props.Description === 'string' ? { description: props.Description } : {}),
            ...(typeof props.ScheduleExpression === 'string' ? { schedule: props.ScheduleExpression } : {}),
            ...optional('eventPattern', props.EventPattern),
            ...(typeof retry === 'number' ? { retryAttempts: retry } : {}),
          });
        }
      } else if (resource.Type === 'AWS::ApiGateway::Method') {
        const integration = isObj(props.Integration)
          ? props.Integration
          : fail(`${logicalId}: no integration`);
        const [fn] = referencedFunctions(integration.Uri, fnIds);
        if (!fn) continue;
        if (integration.Type !== 'AWS_PROXY')
          fail(`${logicalId}: only Lambda proxy integrations are supported`);
        const authorization = str(props.AuthorizationType ?? 'NONE', `${logicalId}.AuthorizationType`);
        const method = str(props.HttpMethod, `${logicalId}.HttpMethod`);
        const routePath = resourcePath(stack, props.ResourceId);
        const throttle = throttleOf(stack, props.RestApiId, routePath, method);
        routes.push({
          stack: stack.id,
          logicalId,
          function: nameOf(fn),
          method,
          path: routePath,
          authorization: authorization as WiringRoute['authorization'],
          integration: 'AWS_PROXY',
          stage: stageOf(stack, props.RestApiId),
          ...(throttle ? { throttle } : {}),
        });
      } else if (resource.Type === 'AWS::Lambda::Url') {
        fail(`${logicalId}: function URLs are not supported by the local runtime`);
      }
    }
  }

  const resources = resourceClosure(roots, byStack, exports);
  const manifest: WiringManifest = {
    version: WIRING_VERSION,
    identityCenter: {
      instanceArn: options.identityCenter.instanceArn,
      identityStoreId: options.identityCenter.identityStoreId,
      hubAccountId: options.identityCenter.hubAccountId,
      managementAccountId: options.identityCenter.managementAccountId,
      groupIds: { ...options.identityCenter.groupIds },
    },
    configFile: options.configFile,
    stacks: stacks.map(({ id, account, region }) => ({ id, account, region })),
    resources,
    exports,
    functions,
    eventSources,
    rules,
    routes,
    roleActions: roleActions(stacks),
  };
  return wiringManifestSchema.parse(manifest);
}

/**
 * Each role's allowed actions (`<stack>/<logicalId>` → sorted actions): the Allow statements of the
 * AWS::IAM::Policy resources attached to it and of its inline policies. The local runtime grants a
 * role exactly these in moto, which evaluates actions, not resources or conditions.
 */
function roleActions(stacks: readonly StackTemplate[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  const add = (key: string, document: CfnValue | undefined) => {
    const statements = isObj(document) ? document.Statement : undefined;
    for (const statement of Array.isArray(statements) ? statements : [statements]) {
      if (!isObj(statement) || statement.Effect !== 'Allow') continue;
      if (statement.NotAction !== undefined) fail(`${key}: NotAction is not supported locally`);
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      for (const action of actions) {
        if (typeof action !== 'string') fail(`${key}: an action that is not a string`);
        const actionsOf = out[key] ?? new Set<string>();
        actionsOf.add(action);
        out[key] = actionsOf;
      }
    }
  };
  for (const stack of stacks) {
    for (const [logicalId, resource] of Object.entries(stack.resources)) {
      const props = resource.Properties ?? {};
      if (resource.Type === 'AWS::IAM::Role') {
        out[`${stack.id}/${logicalId}`] = out[`${stack.id}/${logicalId}`] ?? new Set();
        const inline = Array.isArray(props.Policies) ? props.Policies : [];
        for (const policy of inline)
          if (isObj(policy)) add(`${stack.id}/${logicalId}`, policy.PolicyDocument);
      } else if (resource.Type === 'AWS::IAM::Policy') {
        const roles = Array.isArray(props.Roles) ? props.Roles : [];
        for (const role of roles) {
          if (!isObj(role) || typeof role.Ref !== 'string') continue;
          add(`${stack.id}/${role.Ref}`, props.PolicyDocument);
        }
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([key, actions]) => [key, [...actions].sort()]));
}

/** Every resource the roots reach, following Ref/GetAtt in a stack and ImportValue across stacks. */
function resourceClosure(
  roots: readonly { stack: string; value: CfnValue }[],
  stacks: ReadonlyMap<string, StackTemplate>,
  exports: WiringManifest['exports'],
): WiringResource[] {
  const seen = new Set<string>();
  const out: WiringResource[] = [];
  const queue = [...roots];
  while (queue.length > 0) {
    const { stack, value } = queue.shift() as { stack: string; value: CfnValue };
    const found = references(value, { local: new Set(), imports: new Set() });
    for (const name of found.imports) {
      const exported = exports[name] ?? fail(`import ${name} has no export`);
      queue.push({ stack: exported.stack, value: exported.value });
    }
    const template = stacks.get(stack) ?? fail(`unknown stack ${stack}`);
    for (const logicalId of found.local) {
      const key = `${stack}/${logicalId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const resource = template.resources[logicalId] ?? fail(`${key} is referenced but not in the template`);
      // Functions are hosted, not provisioned; a reference to one (a rule target) needs no resource.
      if (resource.Type === 'AWS::Lambda::Function') continue;
      const properties = resource.Properties ?? {};
      out.push({ stack, logicalId, type: resource.Type, properties });
      queue.push({ stack, value: properties });
    }
  }
  return out.sort((a, b) => `${a.stack}/${a.logicalId}`.localeCompare(`${b.stack}/${b.logicalId}`));
}

function resourcePath(stack: StackTemplate, resourceId: CfnValue | undefined): string {
  const parts: string[] = [];
  let current = resourceId;
  for (let depth = 0; depth < 50; depth++) {
    if (
      isObj(current) &&
      Array.isArray(current['Fn::GetAtt']) &&
      current['Fn::GetAtt'][1] === 'RootResourceId'
    ) {
      return `/${parts.reverse().join('/')}`;
    }
    const id =
      isObj(current) && typeof current.Ref === 'string'
        ? current.Ref
        : fail(`unexpected ResourceId ${JSON.stringify(current)}`);
    const resource = stack.resources[id];
    if (resource?.Type !== 'AWS::ApiGateway::Resource') fail(`${id} is not an API Gateway resource`);
    parts.push(str(resource.Properties?.PathPart, `${id}.PathPart`));
    current = resource.Properties?.ParentId;
  }
  return fail('API resource path too deep');
}

function stageOf(stack: StackTemplate, restApiId: CfnValue | undefined): string {
  const api = JSON.stringify(restApiId);
  for (const resource of Object.values(stack.resources)) {
    if (
      resource.Type === 'AWS::ApiGateway::Stage' &&
      JSON.stringify(resource.Properties?.RestApiId) === api
    ) {
      return str(resource.Properties?.StageName, 'StageName');
    }
  }
  return fail(`no stage for API ${api}`);
}

/**
 * A method's throttle from its stage's MethodSettings: the entry for its own resource path and
 * method (CloudFormation writes every `/` of the path as `~1` after a leading `/`: `/~1v1~1requests`),
 * field by field over the stage-wide `/*` `*` entry. Undefined when neither sets a limit; one limit
 * without the other fails synth.
 */
function throttleOf(
  stack: StackTemplate,
  restApiId: CfnValue | undefined,
  routePath: string,
  method: string,
): WiringRoute['throttle'] {
  const api = JSON.stringify(restApiId);
  const stage = Object.values(stack.resources).find(
    (resource) =>
      resource.Type === 'AWS::ApiGateway::Stage' && JSON.stringify(resource.Properties?.RestApiId) === api,
  );
  const settings = Array.isArray(stage?.Properties?.MethodSettings) ? stage.Properties.MethodSettings : [];
  const entry = (resourcePath: string, httpMethod: string) =>
    settings.find((s) => isObj(s) && s.ResourcePath === resourcePath && s.HttpMethod === httpMethod) as
      | Obj
      | undefined;
  const own = entry(`/${routePath.replaceAll('/', '~1')}`, method);
  const stageWide = entry('/*', '*');
  const limit = (name: string): number | undefined => {
    const value = own?.[name] ?? stageWide?.[name];
    if (value === undefined || typeof value === 'number') return value;
    return fail(`${method} ${routePath}: ${name} must be a literal number, got ${JSON.stringify(value)}`);
  };
  const rateLimit = limit('ThrottlingRateLimit');
  const burstLimit = limit('ThrottlingBurstLimit');
  if (rateLimit === undefined && burstLimit === undefined) return undefined;
  if (rateLimit === undefined || burstLimit === undefined)
    fail(`${method} ${routePath}: a throttle needs both a rate and a burst limit`);
  return { rateLimit, burstLimit };
}

export function writeWiringManifest(assembly: CloudAssembly, options: BuildWiringOptions): string {
  const manifest = buildWiringManifest(assembly, options);
  const file = path.join(assembly.directory, WIRING_FILE);
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}
