// The whole system on one machine: moto for AWS, the synthesized bundles in worker threads, and
// the pieces of AWS moto lacks (API gateway, event source mappings, rules, schedules, a clock).
// Everything it hosts comes from the wiring manifest in the cloud assembly (infra/wiring); the
// only values it supplies itself are the ones moto decides (Identity Center ids, queue URLs…) and
// the runtime environment Lambda itself would set.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { IAMClient } from '@aws-sdk/client-iam';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { KMSClient } from '@aws-sdk/client-kms';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import { parseIsoDuration } from '#domain/duration.ts';
import type { SlackConfig } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { ENV } from '#runtime/env-names.ts';
import { WIRING_FILE, type WiringManifest, wiringManifestSchema } from '../infra/wiring/manifest.ts';
import { startAwsProxy } from './aws-proxy.ts';
import { LocalClock } from './clock.ts';
import { EventSources, ratePeriodMs, type TickResult } from './event-sources.ts';
import { type FakeIdentityCenter, startFakeIdentityCenter } from './fake-identity-center.ts';
import { FunctionHost } from './function-host.ts';
import { LocalGateway } from './gateway.ts';
import { DEMO_USERS, type SeededDirectory, seedDirectory } from './identity.ts';
import {
  type AccountCredentials,
  accountCredentials,
  enforceIam,
  type MotoServer,
  startMoto,
} from './moto.ts';
import { type AccountClients, provisionResources } from './provision.ts';
import { type ResolveContext, resolveString, type resolveValue } from './resolve.ts';
import { type RoleCredentials, roleIdentities } from './role-identity.ts';
import { type LocalSlack, startLocalSlack } from './slack.ts';
import { ensureAssembly, REPO_ROOT } from './synth.ts';

export const LOCAL_FILE_VERSION = 1;
const MAX_ADVANCE_MS = 31 * 86_400_000;

export interface LocalRuntimeOptions {
  /** The cloud assembly (default: `cdk.out`, synthesized or reused by ./synth.ts). */
  readonly assemblyDir?: string;
  /** Where `local.json`, logs and the patched config go (default `.pam`). */
  readonly stateDir?: string;
  /** Gateway port (default: any free one). */
  readonly port?: number;
  /** moto port (default: any free one). */
  readonly motoPort?: number;
  /** Background polling interval of the event sources; 0 turns polling off (tests drive `settle`). */
  readonly pollIntervalMs?: number;
  readonly log?: (line: string) => void;
  /** Something the runtime cannot go on without failed (moto exited): the caller should stop. */
  readonly onFatal?: (reason: string) => void;
}

export interface ClockAdvance {
  readonly now: string;
  readonly offsetMs: number;
  readonly fired: { readonly schedules: number; readonly rules: string[] };
}

export interface LocalRuntime {
  readonly apiUrl: string;
  /** Every AWS service at one endpoint: moto, with Identity Center's SSO Admin API answered by the fake. */
  readonly awsEndpoint: string;
  /** The fake Identity Center (SSO Admin) with AWS's documented semantics (local/fake-identity-center.ts). */
  readonly identityCenter: FakeIdentityCenter;
  readonly region: string;
  readonly hubAccountId: string;
  readonly credentials: AccountCredentials;
  readonly directory: SeededDirectory;
  readonly tables: { readonly access: string; readonly audit: string };
  readonly localFile: string;
  readonly clock: LocalClock;
  readonly functions: ReadonlyMap<string, FunctionHost>;
  /** The credentials each function runs with (its own execution role, assumed in moto). */
  readonly functionCredentials: ReadonlyMap<string, RoleCredentials>;
  readonly sources: EventSources;
  readonly motoPid: number;
  readonly manifest: WiringManifest;
  /** Slack (the stand-in and the app's credentials), when the config has a Slack bot. */
  readonly slack: LocalSlack | undefined;
  /** Moves the clock forward, firing what falls due in time order, and waits until all work settles. */
  advanceClock(ms: number): Promise<ClockAdvance>;
  /** Runs the event sources until nothing is left to do. */
  settle(): Promise<TickResult>;
  stop(): Promise<void>;
}

const advanceBody = z.strictObject({ by: z.string().min(1) });

export function readManifest(assemblyDir: string): WiringManifest {
  const file = path.join(assemblyDir, WIRING_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message} (run \`make synth\`)`);
  }
  return wiringManifestSchema.parse(raw);
}

function clientsFor(endpoint: string, region: string, credentials: AccountCredentials): AccountClients {
  const config = { endpoint, region, credentials, maxAttempts: 3 };
  return {
    dynamo: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    kms: new KMSClient(config),
    iam: new IAMClient(config),
    scheduler: new SchedulerClient(config),
    ssoAdmin: new SSOAdminClient(config),
    secrets: new SecretsManagerClient(config),
  };
}

/** The bundled config with the Identity Center ids moto decided, re-hashed as synth would. */
function localConfig(bundled: string, directory: SeededDirectory): string {
  const { configHash: _old, ...config } = JSON.parse(bundled) as Record<string, unknown> & {
    identityCenter: Record<string, unknown> & { groupIds: Record<string, string> };
  };
  const groupIds: Record<string, string> = {};
  for (const name of Object.keys(config.identityCenter.groupIds)) {
    const id = directory.groupIds[name];
    if (!id) throw new Error(`the config names group ${name}, which the demo directory does not have`);
    groupIds[name] = id;
  }
  config.identityCenter = {
    ...config.identityCenter,
    instanceArn: directory.instanceArn,
    identityStoreId: directory.identityStoreId,
    groupIds,
  };
  return `${JSON.stringify({ ...config, configHash: sha256Hex(canonicalJson(config)) })}\n`;
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const assemblyDir = options.assemblyDir ?? (await ensureAssembly({ log })).dir;
  const manifest = readManifest(assemblyDir);
  const stateDir = path.resolve(options.stateDir ?? path.join(REPO_ROOT, '.pam'));
  const hubAccountId = manifest.identityCenter.hubAccountId;
  const hubStack = manifest.stacks.find((s) => s.account === hubAccountId) ?? manifest.stacks[0];
  if (!hubStack) throw new Error('the wiring manifest lists no stacks');
  const region = hubStack.region;

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  try {
    // Any AWS client, with any credentials, sees the hub (a person inspecting state needs no setup).
    const moto: MotoServer = await startMoto({
      ...optional('port', options.motoPort),
      defaultAccount: hubAccountId,
    });
    stops.push(() => moto.stop());
    moto.onUnexpectedExit((detail) => {
      log(detail);
      options.onFatal?.(detail);
    });

    // Credentials per account: the hub's, and every stack's.
    const accounts = [...new Set([hubAccountId, ...manifest.stacks.map((s) => s.account)])];
    const credentials = new Map<string, AccountCredentials>();
    for (const account of accounts)
      credentials.set(account, await accountCredentials(moto.endpoint, region, account));
    const hubCredentials = credentials.get(hubAccountId) as AccountCredentials;

    // Identity Center lives in the hub (moto has one instance per account): its identity store is
    // moto's, discovered and seeded there; its SSO Admin side (permission sets, assignments,
    // provisioning) is the fake with AWS's documented semantics, on the same instance.
    const identityStore = new IdentitystoreClient({
      endpoint: moto.endpoint,
      region,
      credentials: hubCredentials,
    });
    const motoSsoAdmin = new SSOAdminClient({ endpoint: moto.endpoint, region, credentials: hubCredentials });
    const directory = await seedDirectory(
      motoSsoAdmin,
      identityStore,
      Object.keys(manifest.identityCenter.groupIds),
    );
    identityStore.destroy();
    motoSsoAdmin.destroy();
    const clock = new LocalClock();
    // Slack, when the config has a bot: its stand-in answers the Web API the functions call.
    const bundledConfig = manifest.functions[0]
      ? (JSON.parse(
          readFileSync(path.join(assemblyDir, manifest.functions[0].asset, manifest.configFile), 'utf8'),
        ) as { slack?: SlackConfig; entitlements?: { approval?: { slackChannel?: string } }[] })
      : {};
    let settleSources: () => Promise<unknown> = async () => undefined;
    const slack = bundledConfig.slack
      ? await startLocalSlack({
          config: bundledConfig.slack,
          channels: [
            bundledConfig.slack.approversChannel,
            ...(bundledConfig.entitlements ?? []).flatMap((e) => e.approval?.slackChannel ?? []),
          ],
          nowMs: () => clock.nowMs(),
          settle: () => settleSources(),
          log,
        })
      : undefined;
    if (slack) stops.push(() => slack.standIn.close());
    const identityCenter = await startFakeIdentityCenter({
      instanceArn: directory.instanceArn,
      identityStoreId: directory.identityStoreId,
      now: () => clock.nowMs(),
    });
    stops.push(() => identityCenter.close());
    // The runtime's one AWS endpoint: moto, with Identity Center's SSO Admin calls sent to the fake.
    // The functions, the runtime's own clients and a person with any AWS client all use it.
    const aws = await startAwsProxy({
      upstream: moto.endpoint,
      routes: { sso: identityCenter.endpoint },
      resignUnknownAs: hubCredentials,
    });
    for (const creds of credentials.values()) aws.trust(creds.accessKeyId);
    stops.push(() => aws.close());

    const clientCache = new Map<string, AccountClients>();
    const clients = (account: string): AccountClients => {
      let found = clientCache.get(account);
      if (!found) {
        const creds = credentials.get(account);
        if (!creds) throw new Error(`no credentials for account ${account}`);
        found = clientsFor(aws.endpoint, region, creds);
        clientCache.set(account, found);
      }
      return found;
    };
    const hub = clients(hubAccountId);
    stops.push(async () => {
      for (const set of clientCache.values()) for (const client of Object.values(set)) client.destroy();
    });

    const substitutions = new Map<string, string>([
      [manifest.identityCenter.instanceArn, directory.instanceArn],
      [manifest.identityCenter.identityStoreId, directory.identityStoreId],
    ]);
    for (const [name, placeholder] of Object.entries(manifest.identityCenter.groupIds)) {
      const id = directory.groupIds[name];
      if (id) substitutions.set(placeholder, id);
    }
    const physical = await provisionResources({ manifest, clientsFor: clients, substitutions, log });
    const ctx: ResolveContext = { manifest, physical, substitutions };

    // Each function acts as its own execution role (and the proxy knows who sent which message).
    const roles = roleIdentities({ proxy: aws, region, credentials: hubCredentials });
    stops.push(async () => roles.destroy());

    // Handlers.
    mkdirSync(path.join(stateDir, 'logs'), { recursive: true });
    mkdirSync(path.join(stateDir, 'run'), { recursive: true });
    const functions = new Map<string, FunctionHost>();
    const resolvedEnv = new Map<string, Record<string, string>>();
    const functionCredentials = new Map<string, RoleCredentials>();
    for (const fn of manifest.functions) {
      const assetDir = path.join(assemblyDir, fn.asset);
      const configFile = path.join(stateDir, 'run', `${fn.name}.${manifest.configFile}`);
      writeFileSync(
        configFile,
        localConfig(readFileSync(path.join(assetDir, manifest.configFile), 'utf8'), directory),
      );
      const stack = manifest.stacks.find((s) => s.id === fn.stack);
      const account = stack?.account ?? hubAccountId;
      const creds = await roles.assume(resolveString(ctx, fn.stack, fn.role, `${fn.name} role`), fn.name);
      functionCredentials.set(fn.name, creds);
      const environment: Record<string, string> = {};
      for (const [name, value] of Object.entries(fn.environment))
        environment[name] = resolveString(ctx, fn.stack, value, `${fn.name} ${name}`);
      // Slack's URLs are the stand-in's.
      for (const [name, value] of Object.entries(slack?.environment ?? {}))
        if (name in environment) environment[name] = value;
      resolvedEnv.set(fn.name, environment);
      functions.set(
        fn.name,
        new FunctionHost({
          name: fn.name,
          module: path.join(assetDir, fn.module),
          exportName: fn.export,
          timeoutMs: fn.timeoutSeconds * 1000,
          memoryMb: fn.memoryMb,
          region,
          accountId: account,
          clock: clock.buffer,
          logFile: path.join(stateDir, 'logs', `${fn.name}.log`),
          environment: {
            ...environment,
            // The bundle's config, with the ids moto decided (the placeholders it was synthesized with replaced).
            [ENV.PAM_CONFIG_FILE]: configFile,
            // What Lambda itself sets in every execution environment.
            LAMBDA_TASK_ROOT: assetDir,
            AWS_REGION: region,
            AWS_DEFAULT_REGION: region,
            AWS_LAMBDA_FUNCTION_NAME: fn.name,
            AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
            AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
            AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs_local',
            AWS_ACCESS_KEY_ID: creds.accessKeyId,
            AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
            AWS_SESSION_TOKEN: creds.sessionToken,
            // Every SDK client in the bundle reaches moto.
            AWS_ENDPOINT_URL: aws.endpoint,
            TZ: 'UTC',
          },
        }),
      );
    }
    stops.push(async () => {
      await Promise.all([...functions.values()].map((f) => f.stop()));
    });
    await Promise.all([...functions.values()].map((f) => f.start()));
    const invoke = (name: string, event: unknown) => {
      const host = functions.get(name);
      if (!host) return Promise.reject(new Error(`no function ${name}`));
      return host.invoke(event);
    };

    // Event sources, rules and schedules.
    const resolved = (stack: string, value: Parameters<typeof resolveValue>[2], what: string) =>
      resolveString(ctx, stack, value, what);
    const queueUrls = new Map<string, string>();
    for (const resource of physical.values()) {
      const arn = resource.attrs.Arn;
      if (resource.attrs.QueueUrl && arn) queueUrls.set(arn, resource.attrs.QueueUrl);
    }
    const queueUrlOf = (arn: string) => {
      const url = queueUrls.get(arn);
      if (!url) throw new Error(`no local queue with ARN ${arn}`);
      return url;
    };
    const scheduleGroups = manifest.resources
      .filter((r) => r.type === 'AWS::Scheduler::ScheduleGroup')
      .map((r) => physical.get(`${r.stack}/${r.logicalId}`)?.ref)
      .filter((name): name is string => Boolean(name));
    const skipped: string[] = [];
    const streams = new DynamoDBStreamsClient({
      endpoint: aws.endpoint,
      region,
      credentials: hubCredentials,
    });
    stops.push(async () => streams.destroy());
    const sources = new EventSources({
      region,
      accountId: hubAccountId,
      sqs: hub.sqs,
      streams,
      scheduler: hub.scheduler,
      sqsAsRole: (roleArn) => roles.sqsAs(roleArn),
      scheduleGroups,
      queueUrlOf,
      sqsSources: manifest.eventSources
        .filter((s) => s.kind === 'sqs')
        .map((s) => {
          const queueArn = resolved(s.stack, s.source, s.logicalId);
          return {
            name: s.logicalId,
            functionName: s.function,
            queueArn,
            queueUrl: queueUrlOf(queueArn),
            batchSize: s.batchSize,
            reportBatchItemFailures: s.reportBatchItemFailures,
          };
        }),
      streamSources: manifest.eventSources.flatMap((s) =>
        s.kind === 'dynamodb-stream'
          ? [
              {
                name: s.logicalId,
                functionName: s.function,
                streamArn: resolved(s.stack, s.source, s.logicalId),
                batchSize: s.batchSize,
                reportBatchItemFailures: s.reportBatchItemFailures,
                maxRetryAttempts: s.maxRetryAttempts,
                bisectBatchOnError: s.bisectBatchOnError,
                startingPosition: s.startingPosition,
                filters: s.filters,
                ...(s.onFailure === undefined
                  ? {}
                  : {
                      onFailureQueueUrl: queueUrlOf(
                        resolved(s.stack, s.onFailure, `${s.logicalId} onFailure`),
                      ),
                    }),
              },
            ]
          : [],
      ),
      rules: manifest.rules.flatMap((rule) => {
        if (!rule.schedule) {
          skipped.push(`${rule.logicalId} (${rule.description ?? 'event pattern'})`);
          return [];
        }
        return [
          {
            name: rule.logicalId,
            functionName: rule.function,
            ruleArn: `arn:aws:events:${region}:${hubAccountId}:rule/${rule.stack}-${rule.logicalId}`,
            periodMs: ratePeriodMs(rule.schedule),
          },
        ];
      }),
      invoke,
      nowMs: () => clock.nowMs(),
      log,
    });
    for (const rule of skipped) log(`not emulated locally (moto emits no CloudTrail events): rule ${rule}`);
    stops.push(() => sources.stop());
    settleSources = () => sources.settle();
    if ((options.pollIntervalMs ?? 250) > 0) sources.start(options.pollIntervalMs ?? 250);

    let advancing: Promise<unknown> = Promise.resolve();
    const advanceClock = (ms: number): Promise<ClockAdvance> => {
      const run = advancing.then(async () => {
        // Frozen while stepping: each event fires, and everything it causes runs, at its due time.
        clock.freeze();
        const target = clock.nowMs() + ms;
        const schedules: string[] = [];
        const rules: string[] = [];
        const collect = (result: TickResult) => {
          schedules.push(...result.schedules);
          rules.push(...result.rules);
        };
        collect(await sources.settle());
        for (let step = 0; step < 1000; step++) {
          const [next] = await sources.dueTimes(target);
          if (next === undefined) break;
          clock.advanceTo(next);
          collect(await sources.settle());
        }
        clock.advanceTo(target);
        collect(await sources.settle());
        clock.thaw();
        return {
          now: clock.now().toISOString(),
          offsetMs: clock.offsetMs,
          fired: { schedules: schedules.length, rules: [...new Set(rules)] },
        };
      });
      advancing = run.catch(() => undefined);
      return run.finally(() => clock.thaw());
    };

    const ruleNames = new Map(manifest.rules.map((r) => [r.logicalId, r.function]));
    const gateway = new LocalGateway({
      routes: manifest.routes,
      hubAccountId,
      organizationId: 'o-local',
      instanceArn: directory.instanceArn,
      invoke,
      nowMs: () => clock.nowMs(),
      port: options.port,
      log,
      localRoutes: {
        ...slack?.localRoutes,
        'GET clock': async () => ({ now: clock.now().toISOString(), offsetMs: clock.offsetMs }),
        'POST clock/advance': async (body) => {
          const parsed = advanceBody.safeParse(body);
          if (!parsed.success) throw new Error('body: expected {"by": "<ISO-8601 duration>"}');
          const duration = parseIsoDuration(parsed.data.by);
          if (!duration.ok) throw new Error(`by: ${duration.reason}`);
          if (duration.ms <= 0) throw new Error('by: the clock only moves forward');
          // Every daily sweep in between runs: keep one advance to a month.
          if (duration.ms > MAX_ADVANCE_MS) throw new Error('by: at most P31D in one advance');
          const result = await advanceClock(duration.ms);
          // Rules by the function they ran, which a person recognizes.
          return {
            ...result,
            fired: { ...result.fired, rules: result.fired.rules.map((r) => ruleNames.get(r) ?? r) },
          };
        },
      },
    });
    const apiUrl = await gateway.listen();
    stops.push(() => gateway.close());

    const api = resolvedEnv.get(manifest.routes[0]?.function ?? 'handle-api') ?? {};
    const tables = { access: api[ENV.ACCESS_TABLE_NAME] ?? '', audit: api[ENV.AUDIT_TABLE_NAME] ?? '' };
    const localFile = path.join(stateDir, 'local.json');
    writeFileSync(
      localFile,
      `${JSON.stringify(
        {
          version: LOCAL_FILE_VERSION,
          apiUrl,
          awsEndpoint: aws.endpoint,
          region,
          hubAccountId,
          // moto's credentials for the hub account: they open nothing outside this process's moto.
          credentials: hubCredentials,
          accessTableName: tables.access,
          auditTableName: tables.audit,
          users: DEMO_USERS.map((u) => u.name),
          // The Slack app's signing secret signs `pam slack` requests as Slack would.
          ...(slack
            ? { slack: { signingSecret: slack.signingSecret, teamId: slack.teamId, users: slack.users } }
            : {}),
          pid: process.pid,
          startedAt: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
    chmodSync(localFile, 0o600);
    stops.push(async () => rmSync(localFile, { force: true }));

    // Schedules deliver as their execution role: its session is made now (moto answers AssumeRole
    // for a service-trusted role with an error page once it enforces IAM).
    for (const resource of manifest.resources.filter((r) => r.type === 'AWS::IAM::Role')) {
      const arn = physical.get(`${resource.stack}/${resource.logicalId}`)?.attrs.Arn;
      if (arn) await roles.sqsAs(arn);
    }
    // The Slack app's credentials, where the stack's secrets are (what an operator does once, deployed).
    if (slack) {
      const ingress = resolvedEnv.get('slack-ingress') ?? {};
      await slack.storeSecrets(hub.secrets, {
        ...optional('signingSecret', ingress[ENV.SLACK_SIGNING_SECRET_ARN]),
        ...optional('botToken', ingress[ENV.SLACK_BOT_TOKEN_ARN]),
      });
    }
    // Set up; from here on moto checks every call against its caller's policies, so a function
    // calling what its synthesized role does not allow fails here as it would in AWS.
    await enforceIam(moto.endpoint);

    return {
      apiUrl,
      awsEndpoint: aws.endpoint,
      identityCenter,
      region,
      hubAccountId,
      credentials: hubCredentials,
      directory,
      tables,
      localFile,
      clock,
      functions,
      functionCredentials,
      sources,
      motoPid: moto.pid,
      manifest,
      slack,
      advanceClock,
      settle: () => sources.settle(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
