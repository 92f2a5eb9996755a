// Every cloud-pam Lambda function: Node.js 24 on ARM64, an ESM bundle built locally by esbuild with
// the AWS SDK inside it and source maps on, active tracing, its own CMK-encrypted log group with
// retention, and a role that holds only what `bindTable` and friends add to it. The validated
// config travels inside the bundle as `pam-config.json`, next to the handler.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { IdentityCenterConfig, PamConfig } from '#domain/model.ts';
import { bundledConfigText } from '#runtime/bundled-config.ts';
import { ENV } from '#runtime/env-names.ts';
import type { PamTable, TableAccess } from './pam-table.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** File name of the config JSON in every bundle (the handlers read `PAM_CONFIG_FILE`). */
export const PAM_CONFIG_FILE = 'pam-config.json';
export const METRICS_NAMESPACE = 'CloudPam';

/**
 * Links of the SDK's default credential chain a Lambda function never reaches: Lambda puts the
 * execution role's credentials in the environment (`AWS_ACCESS_KEY_ID`, …), the chain's first link,
 * and sets no `AWS_PROFILE`. The chain loads the other links with `await import()` only when it gets
 * to them, so leaving them out of the bundle changes nothing that runs; if one were ever reached, the
 * import would fail and the call with it (no credentials, fail closed). Measured on handle-api: −117 KB
 * (SSO, STS and SSO-OIDC clients come with them) and ~10 ms of init (issue 13, bench/cold-start).
 * The container/instance-metadata link (`credential-provider-http`, IMDS) stays.
 */
export const UNREACHED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
];

// Lets CommonJS dependencies call `require` inside the ESM bundle.
export const ESM_REQUIRE_BANNER =
  "import { createRequire as pamCreateRequire } from 'node:module'; const require = pamCreateRequire(import.meta.url);";

const configFiles = new WeakMap<PamConfig, string>();

/** Writes the validated config once per synth to a temp file that every bundle copies in. */
function configJsonFile(config: PamConfig): string {
  let file = configFiles.get(config);
  if (!file) {
    file = path.join(mkdtempSync(path.join(tmpdir(), 'cloud-pam-config-')), PAM_CONFIG_FILE);
    writeFileSync(file, bundledConfigText(config));
    configFiles.set(config, file);
  }
  return file;
}

const shellQuote = (value: string): string => `'${value.replaceAll("'", "'\\''")}'`;

export interface PamFunctionProps {
  /** Folder under `functions/` (verb-noun); also the Powertools service name. */
  readonly functionName: string;
  readonly config: PamConfig;
  /** Encrypts the function's log group. */
  readonly encryptionKey: IKey;
  readonly description?: string;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly logRetention?: RetentionDays;
  /** `POWERTOOLS_LOG_LEVEL`. */
  readonly logLevel?: string;
  /**
   * Stack traces mapped to the TypeScript sources (`--enable-source-maps`, default true). Node reads
   * the map when the process starts: 5–9 ms of a cold start (bench/slack-ingress), which a function
   * answering within Slack's 3 s may rather not pay; its traces then name bundle positions.
   */
  readonly sourceMaps?: boolean;
}

/** The Identity Store reads cloud-pam makes (shared/adapters/aws/identity-store-directory.ts). */
export type DirectoryRead = 'DescribeUser' | 'GetUserId' | 'ListGroupMembershipsForMember';

export interface BindTableOptions {
  readonly table: PamTable;
  readonly access: TableAccess;
}

export class PamFunction extends NodejsFunction {
  /** Where every grant of this function lives (the role's default policy holds only what CDK adds). */
  readonly permissions: Policy;
  readonly serviceRole: Role;
  /** The `functions/` folder (the wiring manifest names the function by it). */
  readonly pamName: string;

  constructor(scope: Construct, id: string, props: PamFunctionProps) {
    // Role and log group are siblings: NodejsFunction needs them before `this` exists. A role of our
    // own keeps AWSLambdaBasicExecutionRole (logs:* on every group) off the function.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `cloud-pam ${props.functionName}`,
    });
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const configFile = configJsonFile(props.config);

    super(scope, id, {
      entry: path.join(REPO_ROOT, 'functions', props.functionName, 'handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      role,
      logGroup,
      description: props.description ?? `cloud-pam ${props.functionName}`,
      environment: {
        ...(props.sourceMaps === false ? {} : { NODE_OPTIONS: '--enable-source-maps' }),
        POWERTOOLS_SERVICE_NAME: props.functionName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        [ENV.IDENTITY_STORE_ID]: props.config.identityCenter.identityStoreId,
        [ENV.PAM_CONFIG_FILE]: PAM_CONFIG_FILE,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: props.sourceMaps !== false,
        sourcesContent: false,
        // `index.meta.json` beside the bundle: which modules (and so which AWS SDK commands) made it
        // into the output. test/infra/least-privilege.test.ts derives each role's actions from it.
        metafile: true,
        // Bundle the SDK: the versions we test against are the versions that run.
        externalModules: UNREACHED_CREDENTIAL_PROVIDERS,
        banner: ESM_REQUIRE_BANNER,
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cp ${shellQuote(configFile)} ${shellQuote(path.join(outputDir, PAM_CONFIG_FILE))}`,
          ],
        },
      },
    });
    this.serviceRole = role;
    this.pamName = props.functionName;
    this.permissions = new Policy(this, 'Permissions', { roles: [role] });
    this.addPermissions(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    // X-Ray's write actions support no resource-level permissions; CDK adds them to the default policy.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only xray:PutTraceSegments and xray:PutTelemetryRecords (added by Tracing.ACTIVE to the default policy) use Resource "*": X-Ray supports no resource-level permissions. Every other grant of this function names its resources.',
    });
  }

  addPermissions(...statements: PolicyStatement[]): void {
    this.permissions.addStatements(...statements);
  }

  /** Sets the table's environment variable and grants exactly `access` to it. */
  bindTable({ table, access }: BindTableOptions): this {
    this.addEnvironment(table.envVar, table.table.tableName);
    this.addPermissions(...table.statementsFor(access));
    return this;
  }

  /**
   * Identity Store reads, scoped to the configured identity store: `reads` names exactly the calls
   * the function's code makes (DescribeUser for a user by id, GetUserId to find a caller by user
   * name, ListGroupMembershipsForMember for group membership). Users, groups and memberships have
   * account-less ARNs whose ids are only known at call time, so those three are wildcards within
   * the store's API.
   */
  allowDirectoryRead(identityCenter: IdentityCenterConfig, reads: readonly DirectoryRead[]): this {
    if (reads.length === 0) throw new Error(`${this.pamName}: allowDirectoryRead needs the reads it allows`);
    const { partition } = Stack.of(this);
    const idTypes = ['user', 'group', 'membership'];
    const idArns = idTypes.map((type) => `arn:${partition}:identitystore:::${type}/*`);
    this.addPermissions(
      new PolicyStatement({
        actions: reads.map((read) => `identitystore:${read}`),
        resources: [
          // The identity store belongs to the account that owns the Identity Center instance.
          `arn:${partition}:identitystore::${identityCenter.managementAccountId}:identitystore/${identityCenter.identityStoreId}`,
          ...idArns,
        ],
      }),
    );
    for (const type of idTypes) {
      Validations.of(this.permissions).acknowledge({
        // cdk-nag names the partition token `<AWS::Partition>`.
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::${type}/*]`,
        reason:
          'Identity Store users, groups and memberships have account-less ARNs whose ids are known only at call time; the same statement pins the identity store itself, and only read actions are allowed.',
      });
    }
    return this;
  }
}
