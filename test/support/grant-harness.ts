// The grant engine on moto, run as deployed: each function's exported handler — its whole middy
// chain, Powertools Idempotency included — in its own worker thread with its own environment
// (local/function-host.ts, as `make start` hosts the bundles; here the TypeScript sources), fed by
// the one emulation of Lambda event sources, rules and Scheduler (local/event-sources.ts) on a
// clock the test moves (local/clock.ts). Every AWS call a function makes goes through an HTTP proxy
// (local/aws-proxy.ts) that counts calls and injects faults and crashes; it forwards to moto, and
// Identity Center (the `sso` signing name) to the world's fake with AWS's documented semantics
// (local/fake-identity-center.ts), whose clock is the harness's.
//
// Moto deviations worked around here:
// - moto's Identity Center deletes and provisions at once, keeps no per-account state, stores
//   duplicate assignments and evaluates nothing: the fake Identity Center stands in for it;
// - schedules never fire: the event sources fire them on the harness clock;
// - every SQS message carries moto's one SenderId: each function runs under its own role in moto
//   (assumed, as Lambda does) and the proxy gives every message its real sender's SenderId.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DescribeUserCommand } from '@aws-sdk/client-identitystore';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ACCESS_KEY_PREFIX } from '#adapters/aws/tables.ts';
import type { Delivery } from '#app/delivery.ts';
import type { CreateRequestInput, DecisionInput } from '#app/requests.ts';
import { MAY_SEND, type SenderRole } from '#app/senders.ts';
import { formatIsoDuration } from '#domain/duration.ts';
import type { AccessRequest } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { type AwsProxy, type FaultRule, startAwsProxy } from '../../local/aws-proxy.ts';
import { LocalClock } from '../../local/clock.ts';
import { EventSources, type TickResult } from '../../local/event-sources.ts';
import { FunctionHost } from '../../local/function-host.ts';
import { roleIdentities } from '../../local/role-identity.ts';
import { MOTO_REGION, motoClient, motoEndpoint } from './moto.ts';
import { apiEvent, type PamWorld, SCHEDULE_GROUP, type WorldRole } from './pam-world.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Each function's handler and its timeout in its capability construct (infra/constructs/request-api.ts, grant-engine.ts). */
export const ENGINE_FUNCTIONS = {
  'handle-api': { timeoutSeconds: 29 },
  'process-command': { timeoutSeconds: 120 },
  'provision-access': { timeoutSeconds: 180 },
  'react-to-change': { timeoutSeconds: 60 },
  reconcile: { timeoutSeconds: 120 },
  'sweep-drift': { timeoutSeconds: 900 },
} as const;
export type EngineFunction = keyof typeof ENGINE_FUNCTIONS;

/** The fault shapes the grant tests speak in (the SDK command names they were written with). */
export interface EngineFault {
  /** e.g. 'CreateAccountAssignmentCommand' (an SSO Admin operation). */
  readonly command: string;
  readonly fault: 'throttle' | 'in-progress' | 'failed';
  readonly times: number;
  readonly failureReason?: string;
}

function proxyRule(rule: EngineFault): FaultRule {
  const operation = rule.command.replace(/Command$/, '');
  const fault: FaultRule['fault'] =
    rule.fault === 'throttle'
      ? { kind: 'throttle' }
      : {
          kind: 'status',
          status: rule.fault === 'failed' ? 'FAILED' : 'IN_PROGRESS',
          ...(rule.failureReason ? { failureReason: rule.failureReason } : {}),
        };
  return { service: 'sso', operation, times: rule.times, fault };
}

/** An answer from the service in place of moto: `(operation, input) => output | undefined`. */
export type EngineInterceptor = (operation: string, input: Record<string, unknown>) => unknown;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'ApiError';
  }
}

export interface GrantHarness {
  readonly world: PamWorld;
  readonly clock: {
    now(): Date;
    advance(ms: number): void;
    /** Moves the clock forward to `date` (never back). */
    set(date: Date | string): void;
  };
  readonly proxy: AwsProxy;
  readonly sources: EventSources;
  readonly functions: ReadonlyMap<EngineFunction, FunctionHost>;
  /** The engine's ports on direct moto clients, for the test's own reads (not counted, not faulted). */
  readonly deps: ReturnType<typeof buildGrantDeps>;
  readonly faults: { add(...rules: EngineFault[]): void; remaining(): number };
  /** Answers SSO Admin calls in place of moto while registered; returns the unregister function. */
  answer(interceptor: EngineInterceptor): () => void;
  /** Calls per `<service>:<Operation>` made by the functions. */
  counts(): Record<string, number>;
  totalCalls(): number;
  assignmentCalls(): { create: number; delete: number };
  /** The n-th AWS call from now (0 = the next) made by any function fails as a crash would. */
  crashAfter(calls: number): void;
  crashed(): boolean;
  clearCrash(): void;
  /** A `/v1` call through handle-api as the person `actorId` (an Identity Store user id). */
  api(actorId: string, method: string, path: string, body?: unknown): Promise<APIGatewayProxyResult>;
  createRequest(input: CreateRequestInput): Promise<AccessRequest>;
  decide(input: DecisionInput): Promise<AccessRequest>;
  /**
   * Sends a command to the commands queue as `as` (default: the first role that may send its action,
   * e.g. `ingress` for an approval, `scheduler` for an expiry) — under that role's own credentials,
   * so the worker sees the sender SQS would stamp.
   */
  send(body: Record<string, unknown>, delivery: Delivery, as?: SenderRole): Promise<void>;
  /** Runs the event sources until idle (failing retries stop after three passes without progress). */
  settle(options?: { maxPasses?: number }): Promise<TickResult>;
  /** A reconciler pass, as its rule would start it (a fresh event id each time). */
  reconcile(): Promise<unknown>;
  /** The drift sweep, as its daily rule (or `input` as a direct invocation) would start it. */
  sweepDrift(input?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

function scheduledEvent(world: PamWorld, rule: string, now: Date) {
  return {
    version: '0',
    id: `${rule}-${now.getTime()}-${Math.random().toString(36).slice(2, 10)}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: world.accountId,
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: MOTO_REGION,
    resources: [`arn:aws:events:${MOTO_REGION}:${world.accountId}:rule/${rule}`],
    detail: {},
  };
}

export async function createGrantHarness(
  world: PamWorld,
  options: { functions?: readonly EngineFunction[] } = {},
): Promise<GrantHarness> {
  const clock = new LocalClock();
  world.useClock(() => clock.nowMs());
  const proxy = await startAwsProxy({
    upstream: motoEndpoint(),
    routes: { sso: world.identityCenter.fake.endpoint },
  });
  const interceptors: EngineInterceptor[] = [];
  proxy.answer(({ service, operation, input }) => {
    if (service !== 'sso') return undefined;
    const fields = (input ?? {}) as Record<string, unknown>;
    for (const interceptor of interceptors) {
      const answer = interceptor(operation, fields);
      if (answer !== undefined) return answer;
    }
    return undefined;
  });

  // Every function runs as its own execution role (the proxy tells SQS receivers who sent what).
  // What is not a function — the event sources, schedules firing, the test sending as a role — is
  // the service side: its calls through the proxy are never faulted or counted.
  const functionSessions = new Set<string>(options.functions ?? Object.keys(ENGINE_FUNCTIONS));
  proxy.passThrough(world.credentials.accessKeyId);
  const roles = roleIdentities({
    proxy,
    region: MOTO_REGION,
    credentials: world.credentials,
    onAssumed: (credentials, _roleArn, session) => {
      if (!functionSessions.has(session)) proxy.passThrough(credentials.accessKeyId);
    },
  });

  // What each function gets: the world's environment, every AWS call through the proxy (queue URLs
  // too: the SQS client sends to the queue URL's host), and what Lambda itself sets.
  const throughProxy = (value: string) => value.replace(motoEndpoint(), proxy.endpoint);
  const logs = mkdtempSync(path.join(tmpdir(), 'pam-engine-'));
  const functions = new Map<EngineFunction, FunctionHost>();
  for (const name of options.functions ?? (Object.keys(ENGINE_FUNCTIONS) as EngineFunction[])) {
    const { timeoutSeconds } = ENGINE_FUNCTIONS[name];
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(world.env)) environment[key] = throughProxy(value);
    const credentials = await roles.assume(world.roles[name].arn, name);
    Object.assign(environment, {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ENDPOINT_URL_SSO_ADMIN: proxy.endpoint,
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      POWERTOOLS_SERVICE_NAME: name,
      TZ: 'UTC',
    });
    functions.set(
      name,
      new FunctionHost({
        name,
        module: path.join(ROOT, 'functions', name, 'handler.ts'),
        exportName: 'handler',
        environment,
        timeoutMs: timeoutSeconds * 1000,
        memoryMb: 512,
        region: MOTO_REGION,
        accountId: world.accountId,
        clock: clock.buffer,
        logFile: path.join(logs, `${name}.log`),
      }),
    );
  }
  await Promise.all([...functions.values()].map((host) => host.start()));
  const invoke = (name: string, event: unknown) => {
    const host = functions.get(name as EngineFunction);
    if (!host) return Promise.reject(new Error(`the harness hosts no function ${name}`));
    return host.invoke(event);
  };

  // The event sources read straight from moto: the service side is never faulted.
  const streams = motoClient(DynamoDBStreamsClient, world.accountId);
  const { Table } = await world.dynamo.send(new DescribeTableCommand({ TableName: world.tables.access }));
  const queueUrls = new Map(Object.values(world.queues).map((queue) => [queue.arn, queue.url]));
  const hosted = <T extends { functionName: string }>(specs: T[]) =>
    specs.filter((spec) => functions.has(spec.functionName as EngineFunction));
  // SQS is read through the proxy, which gives each message its real sender's SenderId.
  const sourcesSqs = new SQSClient({
    endpoint: proxy.endpoint,
    region: MOTO_REGION,
    credentials: world.credentials,
  });
  const sources = new EventSources({
    region: MOTO_REGION,
    accountId: world.accountId,
    sqs: sourcesSqs,
    sqsAsRole: (roleArn) => roles.sqsAs(roleArn),
    streams,
    scheduler: world.scheduler,
    scheduleGroups: [SCHEDULE_GROUP],
    queueUrlOf: (arn) => {
      const url = queueUrls.get(arn);
      if (!url) throw new Error(`no queue with ARN ${arn}`);
      return url;
    },
    sqsSources: hosted([
      {
        name: 'Commands',
        functionName: 'process-command',
        queueUrl: world.queues.commands.url,
        queueArn: world.queues.commands.arn,
        batchSize: 10,
        reportBatchItemFailures: true,
      },
      {
        name: 'Provisioning',
        functionName: 'provision-access',
        queueUrl: world.queues.provisioning.url,
        queueArn: world.queues.provisioning.arn,
        batchSize: 10,
        reportBatchItemFailures: true,
      },
    ]),
    streamSources: hosted([
      {
        name: 'AccessStream',
        functionName: 'react-to-change',
        streamArn: Table?.LatestStreamArn as string,
        batchSize: 10,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        maxRetryAttempts: 10,
        startingPosition: 'TRIM_HORIZON',
        filters: [
          JSON.stringify({ dynamodb: { Keys: { pk: { S: [{ prefix: ACCESS_KEY_PREFIX.request }] } } } }),
        ],
        onFailureQueueUrl: world.queues.streamFailures.url,
      },
    ]),
    rules: [],
    invoke,
    nowMs: () => clock.nowMs(),
    log: () => {},
    retryDelaySeconds: 0,
  });

  // The test's own view of the state, on direct moto clients and the harness clock.
  const ssoAdmin = world.identityCenter.client;
  const deps = buildGrantDeps(
    buildCoreDeps(
      {
        [ENV.ACCESS_TABLE_NAME]: world.tables.access,
        [ENV.AUDIT_TABLE_NAME]: world.tables.audit,
        [ENV.IDENTITY_STORE_ID]: world.identityStoreId,
        [ENV.PAM_CONFIG_FILE]: world.configFile,
      },
      { dynamo: world.dynamo, identityStore: world.identityStore, clock },
    ),
    world.env,
    { sqs: world.sqs, ssoAdmin, scheduler: world.scheduler, sleep: async () => {} },
  );

  const userNames = new Map(Object.entries(world.userIds).map(([name, id]) => [id, name]));
  async function userNameOf(userId: string): Promise<string> {
    let name = userNames.get(userId);
    if (!name) {
      const user = await world.identityStore.send(
        new DescribeUserCommand({ IdentityStoreId: world.identityStoreId, UserId: userId }),
      );
      name = user.UserName as string;
      userNames.set(userId, name);
    }
    return name;
  }

  async function api(actorId: string, method: string, apiPath: string, body?: unknown) {
    const event = apiEvent(world.accountId, await userNameOf(actorId), method, apiPath, body);
    return (await invoke('handle-api', event)) as APIGatewayProxyResult;
  }

  async function requestFrom(result: APIGatewayProxyResult): Promise<AccessRequest> {
    const answer = JSON.parse(result.body) as { id?: string; error?: { code: string; message: string } };
    if (result.statusCode >= 400 || !answer.id)
      throw new ApiError(result.statusCode, answer.error?.code ?? 'UNKNOWN', answer.error?.message ?? '');
    return (await deps.store.get(answer.id)) as AccessRequest;
  }

  return {
    world,
    clock: {
      now: () => clock.now(),
      advance: (ms) => clock.advance(ms),
      set: (date) => clock.advanceTo(new Date(date).getTime()),
    },
    proxy,
    sources,
    functions,
    deps,
    faults: {
      add: (...rules) => {
        for (const rule of rules) proxy.inject(proxyRule(rule));
      },
      remaining: () => proxy.remaining(),
    },
    answer(interceptor) {
      interceptors.push(interceptor);
      return () => {
        const index = interceptors.indexOf(interceptor);
        if (index >= 0) interceptors.splice(index, 1);
      };
    },
    counts: () => proxy.counts(),
    totalCalls: () => proxy.total(),
    assignmentCalls() {
      const counts = proxy.counts();
      return {
        create: counts['sso:CreateAccountAssignment'] ?? 0,
        delete: counts['sso:DeleteAccountAssignment'] ?? 0,
      };
    },
    crashAfter: (calls) => proxy.crashAfter(calls),
    crashed: () => proxy.crashed(),
    clearCrash: () => proxy.clearCrash(),
    api,
    async createRequest(input) {
      return requestFrom(
        await api(input.actorId, 'POST', '/v1/requests', {
          entitlementId: input.entitlementId,
          accountId: input.accountId,
          ...(input.accountIds ? { accountIds: input.accountIds } : {}),
          ...(input.durationMs === undefined ? {} : { duration: formatIsoDuration(input.durationMs) }),
          ...optional('reason', input.reason),
          ...optional('ticket', input.ticket),
          ...optional('startAt', input.startAt),
        }),
      );
    },
    async decide(input) {
      const body =
        input.action === 'extend'
          ? {
              duration: formatIsoDuration(input.additionalMs ?? 0),
              ...(input.reason ? { reason: input.reason } : {}),
            }
          : input.comment
            ? { comment: input.comment }
            : {};
      return requestFrom(
        await api(input.actorId, 'POST', `/v1/requests/${input.requestId}/${input.action}`, body),
      );
    },
    async send(body, delivery, as) {
      const role = as ?? MAY_SEND[String(body.action)]?.[0] ?? 'ingress';
      const sqs = await roles.sqsAs(world.roles[worldRoleOf(role)].arn, `test-as-${worldRoleOf(role)}`);
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: world.queues.commands.url,
          MessageGroupId: String(body.requestId),
          MessageBody: JSON.stringify({ ...body, delivery }),
        }),
      );
    },
    settle: (settleOptions = {}) => sources.settle({ maxFailingPasses: 3, ...settleOptions }),
    reconcile: () => invoke('reconcile', scheduledEvent(world, 'ReconcileSchedule', clock.now())),
    sweepDrift: (input) =>
      invoke('sweep-drift', input ?? scheduledEvent(world, 'SweepDriftSchedule', clock.now())),
    async stop() {
      await Promise.all([...functions.values()].map((host) => host.stop()));
      roles.destroy();
      sourcesSqs.destroy();
      await proxy.close();
      streams.destroy();
      // The world (its fake Identity Center) is the caller's: a second harness may use it.
    },
  };
}

/** The world's role that acts as a sender role. */
function worldRoleOf(role: SenderRole): WorldRole {
  return role === 'ingress' ? 'handle-api' : role;
}
