// The cloud-pam CDK app: loads and validates the config named by context `config`, builds the hub
// data and service stacks in the Identity Center delegated-administrator (hub) account, and runs
// cdk-nag's AWS Solutions checks over everything. `defineHub` is the same wiring for tests.
import { pathToFileURL } from 'node:url';
import { App, type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfigFile, missingGroupIds } from '#config/load.ts';
import type { PamConfig } from '#domain/model.ts';
import { PAM_CONFIG_FILE, PamFunction } from './constructs/pam-function.ts';
import { HubDataStack } from './stacks/hub-data-stack.ts';
import { HubServiceStack } from './stacks/hub-service-stack.ts';
import { type PamFunctionRef, writeWiringManifest } from './wiring/build.ts';

export const DEFAULT_CONFIG_PATH = 'infra/config/example.yaml';
export const DEFAULT_REGION = 'us-east-1';

export interface HubOptions {
  /** The Identity Center region (permission sets and assignments can only be made there). */
  readonly region: string;
  /** `POWERTOOLS_LOG_LEVEL` of every function. */
  readonly logLevel?: string;
  /** Stack name prefix, so two installations can share an account for testing. */
  readonly stackPrefix?: string;
}

export interface HubStacks {
  readonly data: HubDataStack;
  readonly service: HubServiceStack;
}

/**
 * Cross-stack references stay "strong" (exports): CloudFormation then refuses to drop anything the
 * service stack still uses from the data stack.
 */
const CROSS_STACK_REFERENCES = '@aws-cdk/core:defaultCrossStackReferences';

export function defineHub(app: App, config: PamConfig, options: HubOptions): HubStacks {
  if (app.node.tryGetContext(CROSS_STACK_REFERENCES) === undefined && app.node.children.length === 0) {
    app.node.setContext(CROSS_STACK_REFERENCES, 'strong');
  }
  const env = { account: config.identityCenter.hubAccountId, region: options.region };
  const prefix = options.stackPrefix ?? 'CloudPam';
  const data = new HubDataStack(app, `${prefix}-HubData`, {
    env,
    description: 'cloud-pam hub: CMK and tables (stateful, retained)',
  });
  const service = new HubServiceStack(app, `${prefix}-HubService`, {
    env,
    description: 'cloud-pam hub: API, functions, queues, PamRequester permission set, alarms',
    config,
    missingGroupNames: missingGroupIds(config),
    key: data.key,
    accessTable: data.accessTable,
    auditTable: data.auditTable,
    idempotencyTable: data.idempotencyTable,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { data, service };
}

/** Every PamFunction in the app: its stack, logical id and `functions/` folder. */
export function pamFunctionRefs(app: App): PamFunctionRef[] {
  return app.node
    .findAll()
    .filter((node): node is PamFunction => node instanceof PamFunction)
    .map((fn) => {
      const stack = Stack.of(fn);
      const logicalId = stack.resolve((fn.node.defaultChild as CfnResource).logicalId) as string;
      return { stack: stack.stackName, logicalId, name: fn.pamName };
    });
}

function main(): void {
  const app = new App();
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0) throw new Error(`context "${key}" must be a string`);
    return value;
  };
  const config = loadConfigFile(context('config') ?? DEFAULT_CONFIG_PATH);
  const logLevel = context('logLevel');
  const stackPrefix = context('stackPrefix');
  defineHub(app, config, {
    region: context('region') ?? process.env.CDK_DEFAULT_REGION ?? DEFAULT_REGION,
    ...(logLevel ? { logLevel } : {}),
    ...(stackPrefix ? { stackPrefix } : {}),
  });
  const assembly = app.synth();
  // The local runtime (`make start`) hosts the functions from this manifest (infra/wiring).
  writeWiringManifest(assembly, {
    assemblyDir: assembly.directory,
    functions: pamFunctionRefs(app),
    identityCenter: config.identityCenter,
    configFile: PAM_CONFIG_FILE,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
