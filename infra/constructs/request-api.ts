// The request core: the `/v1` REST API and handle-api behind it, the commands FIFO queue and its
// worker process-command, and the PamRequester permission set that lets people reach the API. Other
// capabilities send commands through `acceptCommands` (the queue's resource policy and the worker's
// sender check learn the role in one call) and give the two functions their engine wiring.
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import type { Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RATE_COUNTER_KEY_PREFIX } from '#adapters/aws/dynamo-rate-counter.ts';
import { SENDER_ROLES, type SenderRole } from '#app/senders.ts';
import { optional } from '#domain/optional.ts';
import { ENV } from '#runtime/env-names.ts';
import { COMMAND_SENDER_REFUSED_METRIC } from '#runtime/metric-names.ts';
import { type CapabilityProps, functionDefaults, KEYS, stackOutput, visibilityFor } from './capability.ts';
import { FifoWorkQueue } from './fifo-work-queue.ts';
import { PamApi } from './pam-api.ts';
import { PamFunction } from './pam-function.ts';
import { RequesterAccess } from './requester-access.ts';

export interface RequestApiProps extends CapabilityProps {
  /** Group names the config references without an id (`missingGroupIds`); synth fails when any. */
  readonly missingGroupNames: readonly string[];
  /** The Slack bot's ingress, served on `/slack/*` of the same API (infra/constructs/slack-bot.ts). */
  readonly slackIngress?: PamFunction;
}

/**
 * A batch of 10 in order, with room for one early `start`/`expire` to wait until due (up to 60 s,
 * shared/app/commands.ts EARLY_DELIVERY_WAIT_MS) and the margin the waiter keeps for the work after it.
 */
const PROCESS_COMMAND_TIMEOUT = Duration.seconds(120);

/** Where other capabilities send commands (the request core's queue and its worker's sender check). */
export interface CommandIntake {
  readonly commands: FifoWorkQueue;
  acceptCommands(sender: SenderRole, role: Role): void;
}

export class RequestApi extends Construct implements CommandIntake {
  readonly handleApi: PamFunction;
  readonly processCommand: PamFunction;
  readonly commands: FifoWorkQueue;
  readonly api: PamApi;
  readonly requesterAccess: RequesterAccess;
  /** Role ids per sender role, as the worker compares each message's `SenderId` with them. */
  private readonly senders: Record<SenderRole, Role[]> = Object.fromEntries(
    SENDER_ROLES.map((role) => [role, []]),
  ) as unknown as Record<SenderRole, Role[]>;

  constructor(scope: Construct, id: string, props: RequestApiProps) {
    super(scope, id);
    const { config, tables, alarms } = props;
    const { identityCenter } = config;
    const defaults = functionDefaults(props);
    // Both decide on requests: each decision is appended to its request's chain, each refusal to the
    // `system` chain, after reading the chain's head.
    const decisionAudit = {
      table: tables.audit,
      access: {
        read: ['GetItem', 'Query'],
        write: [{ actions: ['PutItem'], leadingKeys: [KEYS.requestChains, KEYS.systemChain] }],
      },
    } as const;

    this.handleApi = new PamFunction(this, 'HandleApi', {
      ...defaults,
      functionName: 'handle-api',
      description: 'cloud-pam /v1 API (requests, decisions, lists)',
      // API Gateway gives up after 29 s.
      timeout: Duration.seconds(29),
    })
      // A request and its audit events commit in one transaction (Puts); lists query the indexes.
      .bindTable({
        table: tables.access,
        access: {
          read: ['GetItem', 'Query'],
          // With a Slack bot, also the one-time codes of `POST /v1/slack/link` (stored hashed).
          write: [
            {
              actions: ['PutItem'],
              leadingKeys: [KEYS.requests, ...(config.slack ? [KEYS.slackCodes] : [])],
            },
          ],
        },
      })
      .bindTable(decisionAudit)
      // Per-caller rate counters (shared/app/rate-limit.ts): one UpdateItem per call, `RATE#` keys only.
      .bindTable({
        table: tables.idempotency,
        access: { write: [{ actions: ['UpdateItem'], leadingKeys: [`${RATE_COUNTER_KEY_PREFIX}*`] }] },
      })
      // The SigV4 caller by user name, then users and their groups by id.
      .allowDirectoryRead(identityCenter, ['DescribeUser', 'GetUserId', 'ListGroupMembershipsForMember']);

    // Approve/deny commands check approvers' groups at decision time, so the worker reads the directory too.
    this.processCommand = new PamFunction(this, 'ProcessCommand', {
      ...defaults,
      functionName: 'process-command',
      description: 'cloud-pam commands worker (approve, deny, cancel, extend, revoke, expire)',
      timeout: PROCESS_COMMAND_TIMEOUT,
    })
      // Requests by id (and leases, to believe an assignment-succeeded), written with their events.
      .bindTable({
        table: tables.access,
        access: { read: ['GetItem'], write: [{ actions: ['PutItem'], leadingKeys: [KEYS.requests] }] },
      })
      .bindTable(decisionAudit)
      // What Powertools Idempotency does with its own records (keyed by a hash of the delivery key).
      .bindTable({
        table: tables.idempotency,
        access: {
          read: ['GetItem'],
          write: [{ actions: ['PutItem', 'UpdateItem', 'DeleteItem'], leadingKeys: 'any' }],
        },
      })
      // Email binding of Slack users finds the Identity Store user by email (GetUserId).
      .allowDirectoryRead(identityCenter, [
        'DescribeUser',
        'ListGroupMembershipsForMember',
        ...(config.slack ? (['GetUserId'] as const) : []),
      ]);

    this.commands = new FifoWorkQueue(this, 'Commands', {
      encryptionKey: props.encryptionKey,
      visibilityTimeout: visibilityFor(PROCESS_COMMAND_TIMEOUT),
      maxReceiveCount: 5,
    });
    // A command due later than the invocation can wait goes back, visible again at its due time.
    this.commands.consumeWith(this.processCommand, { batchSize: 10, changesVisibility: true });
    // handle-api decides inline (it sends nothing to the queue) but is the `ingress` the worker knows.
    this.senders.ingress.push(this.handleApi.serviceRole);
    // The role ids the worker compares each message's SenderId with (`<RoleId>:<session>`; the
    // session part is the caller's choice, the role id is not). Read at synth, after every capability
    // has named its senders.
    this.processCommand.addEnvironment(
      ENV.COMMAND_SENDERS,
      Lazy.string({
        produce: () =>
          Stack.of(this).toJsonString(
            Object.fromEntries(
              SENDER_ROLES.map((role) => [role, this.senders[role].map((sender) => sender.roleId)]),
            ),
          ),
      }),
    );
    // A sender role nobody fills refuses its commands for ever (a lost `expire`): fail the synth.
    this.node.addValidation({
      validate: () =>
        SENDER_ROLES.filter((role) => this.senders[role].length === 0).map(
          (role) => `${this.node.path}: no role sends commands as "${role}"`,
        ),
    });

    this.api = new PamApi(this, 'Api', {
      handler: this.handleApi,
      organizationId: identityCenter.organizationId,
      encryptionKey: props.encryptionKey,
      ...optional('slackHandler', props.slackIngress),
    });
    this.requesterAccess = new RequesterAccess(this, 'RequesterAccess', {
      config,
      invokeArn: this.api.v1InvokeArn(),
      missingGroupNames: props.missingGroupNames,
    });

    alarms.watchDeadLetterQueue('CommandsDeadLetters', this.commands.deadLetterQueue);
    alarms.watchFunction('HandleApiErrors', this.handleApi);
    alarms.watchFunction('ProcessCommandErrors', this.processCommand);
    alarms.watchApi('ApiServerErrors', this.api.api);
    alarms.watchRejectionAudit('HandleApiRejectionAuditFailures', 'handle-api');
    alarms.watchRejectionAudit('ProcessCommandRejectionAuditFailures', 'process-command');
    alarms.watchUnprovenAccess('HandleApiUnprovenAccess', 'handle-api');
    alarms.watchUnprovenAccess('ProcessCommandUnprovenAccess', 'process-command');
    alarms.watchMetric(
      COMMAND_SENDER_REFUSED_METRIC,
      COMMAND_SENDER_REFUSED_METRIC,
      'process-command',
      'A command arrived from a role that may not send it (a compromised function forging a decision or a revocation?). It was refused, not retried; see the system audit chain (system.rejected, check "sender").',
    );

    stackOutput(this, 'ApiUrl', this.api.api.url);
    stackOutput(this, 'CommandsQueueUrl', this.commands.queue.queueUrl);
  }

  /**
   * Lets `role` send commands as `sender`: the queue's resource policy admits it and the worker
   * accepts from it exactly what `MAY_SEND` (shared/app/senders.ts) allows that sender.
   */
  acceptCommands(sender: SenderRole, role: Role): void {
    this.commands.allowSender(role);
    if (!this.senders[sender].includes(role)) this.senders[sender].push(role);
  }

  /** What the dashboard shows of this capability. */
  get queues() {
    return {
      work: { Commands: this.commands.queue },
      deadLetters: { commands: this.commands.deadLetterQueue },
    };
  }
}
