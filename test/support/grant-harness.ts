// The grant engine on moto, driven the way AWS would drive it: the access table's stream into the
// reactor, the commands and provisioning queues into their workers, due schedules fired. Every SDK
// client carries this file's moto account, a call counter and a fault injector, and the clock is
// the harness's own, so tests can move time and inject Identity Center faults.
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { callCounter, faultInjection } from '#adapters/aws/fault-injection.ts';
import { fireDueSchedules } from '#adapters/aws/fire-due-schedules.ts';
import { requestFromImage } from '#adapters/aws/stream-images.ts';
import { makeProcessCommand, QueueCommandSchema } from '#app/commands.ts';
import { ProvisioningMessageSchema } from '#app/grants/messages.ts';
import { makeProvisioningWorker } from '#app/grants/provisioning.ts';
import { makeReactToChange } from '#app/grants/react-to-change.ts';
import { makeCreateRequest, makeDecideRequest } from '#app/requests.ts';
import type { Clock } from '#ports/index.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { buildDriftSweep } from '#runtime/drift-sweep.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { pumpQueue, pumpStream, settle } from '../../local/pumps.ts';
import { motoAccount, motoClientConfig } from './moto.ts';
import { type PamWorld, SCHEDULE_GROUP } from './pam-world.ts';

export class TestClock implements Clock {
  private at: number;
  constructor(start = Date.now()) {
    this.at = start;
  }
  now(): Date {
    return new Date(this.at);
  }
  set(date: Date | string): void {
    this.at = new Date(date).getTime();
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

export type CrashPoint = { remaining: number } | undefined;

/** Every AWS call made by the engine passes here: `crash.remaining` calls later, the call throws. */
function crashInjector(state: { crash: CrashPoint }) {
  return {
    applyToStack(stack: { add: (...args: unknown[]) => void }) {
      stack.add(
        (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
          if (state.crash) {
            state.crash.remaining -= 1;
            if (state.crash.remaining < 0) {
              state.crash = undefined;
              throw new Error('injected crash');
            }
          }
          return next(args);
        },
        { step: 'initialize', name: 'crashInjector', priority: 'high' },
      );
    },
  };
}

/**
 * Answers a call in place of the service when `answer` returns something: how a FAILED assignment
 * is simulated (on AWS nothing was created; a response rewrite on moto would leave one behind).
 */
type Interceptor = (commandName: string, input: Record<string, unknown>) => unknown;

function interceptor(list: Interceptor[], last: Interceptor) {
  return {
    applyToStack(stack: { add: (...args: unknown[]) => void }) {
      stack.add(
        (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
          async (args: { input: Record<string, unknown> }) => {
            for (const answer of [...list, last]) {
              const output = answer(context.commandName ?? '', args.input);
              if (output !== undefined) return { output, response: {} };
            }
            return next(args);
          },
        { step: 'initialize', name: 'testInterceptor', priority: 'low' },
      );
    },
  };
}

export function createGrantHarness(world: PamWorld) {
  const clock = new TestClock();
  const interceptors: Interceptor[] = [];
  // Moto deviation: a repeated CreateAccountAssignment stores a duplicate (and one delete removes
  // one copy); AWS keeps one assignment. The engine may repeat a create after a crash, so the
  // harness answers a create of an existing assignment as AWS does, without calling moto.
  const existing = new Set<string>();
  const tupleId = (input: Record<string, unknown>) =>
    `${input.PrincipalId}|${input.TargetId}|${input.PermissionSetArn}`;
  const awsSemantics: Interceptor = (command, input) => {
    if (command === 'DeleteAccountAssignmentCommand') existing.delete(tupleId(input));
    if (command !== 'CreateAccountAssignmentCommand') return undefined;
    if (!existing.has(tupleId(input))) {
      existing.add(tupleId(input));
      return undefined;
    }
    return { AccountAssignmentCreationStatus: { Status: 'SUCCEEDED', RequestId: `repeat-${existing.size}` } };
  };
  const calls = callCounter();
  const faults = faultInjection([]);
  const crashState: { crash: CrashPoint } = { crash: undefined };
  const client = <C>(Ctor: new (config: ReturnType<typeof motoClientConfig>) => C): C => {
    const instance = new Ctor(motoClientConfig());
    const stack = (instance as unknown as { middlewareStack: { use(p: unknown): void } }).middlewareStack;
    stack.use(motoAccount(world.accountId));
    stack.use(calls);
    stack.use(faults);
    stack.use(crashInjector(crashState));
    stack.use(interceptor(interceptors, awsSemantics));
    return instance;
  };
  const dynamo = client(DynamoDBClient as never) as DynamoDBClient;
  const sqs = client(SQSClient as never) as SQSClient;
  const ssoAdmin = client(SSOAdminClient as never) as SSOAdminClient;
  const schedulerClient = client(SchedulerClient as never) as SchedulerClient;
  const identityStore = client(IdentitystoreClient as never) as IdentitystoreClient;
  // What Lambda's event sources and EventBridge Scheduler use: never faulted or crashed.
  const serviceSqs = new SQSClient(motoClientConfig());
  serviceSqs.middlewareStack.use(motoAccount(world.accountId) as never);
  const serviceScheduler = new SchedulerClient(motoClientConfig());
  serviceScheduler.middlewareStack.use(motoAccount(world.accountId) as never);
  const streams = new DynamoDBStreamsClient(motoClientConfig());
  streams.middlewareStack.use(motoAccount(world.accountId) as never);

  const env = process.env as Record<string, string>;
  const core = buildCoreDeps(
    {
      ACCESS_TABLE_NAME: env.ACCESS_TABLE_NAME as string,
      AUDIT_TABLE_NAME: env.AUDIT_TABLE_NAME as string,
      IDENTITY_STORE_ID: env.IDENTITY_STORE_ID as string,
      PAM_CONFIG_FILE: env.PAM_CONFIG_FILE as string,
    },
    { dynamo, identityStore, clock },
  );
  const deps = buildGrantDeps(core, process.env, {
    sqs,
    ssoAdmin,
    scheduler: schedulerClient,
    sleep: async () => {},
  });
  const processCommand = makeProcessCommand({
    ...deps,
    grants: {
      scheduler: deps.scheduler,
      provisioningQueue: deps.provisioningQueue,
      permissionSets: deps.permissionSets,
    },
  });
  // As provision-access wires it: a first sighting's scheduled re-check runs the scoped sweep.
  const driftSweep = buildDriftSweep(deps, world.tables.access, { paceMs: 0 });
  const provision = makeProvisioningWorker({ ...deps, recheckDrift: (scope) => driftSweep(scope) });
  const react = makeReactToChange(deps);
  const createRequest = makeCreateRequest(deps);
  const decide = makeDecideRequest(deps);
  const position = new Map<string, string>();
  let streamArn: string | undefined;

  async function accessStreamArn(): Promise<string> {
    if (!streamArn) {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: world.tables.access }));
      streamArn = Table?.LatestStreamArn as string;
    }
    return streamArn;
  }

  const pumps = [
    async () =>
      pumpStream({
        streams,
        streamArn: await accessStreamArn(),
        position,
        handle: async (record) =>
          void (await react(
            requestFromImage(record.dynamodb?.OldImage as Record<string, unknown> | undefined),
            requestFromImage(record.dynamodb?.NewImage as Record<string, unknown> | undefined),
          )),
      }),
    () =>
      pumpQueue({
        sqs: serviceSqs,
        queueUrl: world.queues.commands.url,
        maxBatches: 10,
        handle: async (body) => void (await processCommand(QueueCommandSchema.parse(body))),
      }),
    () =>
      pumpQueue({
        sqs: serviceSqs,
        queueUrl: world.queues.provisioning.url,
        maxBatches: 10,
        handle: async (body) => void (await provision(ProvisioningMessageSchema.parse(body))),
      }),
  ];

  return {
    clock,
    calls,
    faults,
    deps,
    processCommand,
    createRequest,
    decide,
    interceptors,
    /** Crash (throw) on the n-th AWS call from now (0 = the very next one). */
    crashAfter(calls: number) {
      crashState.crash = { remaining: calls };
    },
    /** Whether the crash set with crashAfter has happened (or was never set). */
    crashed: () => crashState.crash === undefined,
    clearCrash() {
      crashState.crash = undefined;
    },
    /** Pumps stream and queues until idle. */
    settle: (maxRounds = 60) => settle(pumps, maxRounds),
    /** Delivers the schedules due at the harness clock, as EventBridge Scheduler would. */
    fireDue: () =>
      fireDueSchedules({
        scheduler: serviceScheduler,
        sqs: serviceSqs,
        groupName: SCHEDULE_GROUP,
        now: clock.now(),
        queueUrlOf: (arn) =>
          arn === world.queues.commands.arn ? world.queues.commands.url : world.queues.provisioning.url,
      }),
    /** Create/Delete assignment calls made so far (moto stores duplicates, so count calls). */
    assignmentCalls() {
      const counts = calls.counts();
      return {
        create: counts['SSOAdminClient.CreateAccountAssignmentCommand'] ?? 0,
        delete: counts['SSOAdminClient.DeleteAccountAssignmentCommand'] ?? 0,
      };
    },
  };
}

export type GrantHarness = ReturnType<typeof createGrantHarness>;
