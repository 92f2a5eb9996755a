// The hub's stateless resources: the functions, the REST API in front of handle-api, the commands and
// provisioning FIFO queues, the grant engine (managed permission sets, provisioning, schedules,
// reconciler, drift sweep), the PamRequester permission set and its assignments, alarms and the
// dashboard. Data (key, tables) comes in typed from HubDataStack.
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { EventSourceMapping, FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { RATE_COUNTER_KEY_PREFIX } from '#adapters/aws/dynamo-rate-counter.ts';
import { ACCESS_KEY_PREFIX, ACCESS_TABLE, requestKey } from '#adapters/aws/tables.ts';
import { GRANT_METRICS } from '#app/grants/deps.ts';
import { DRIFT_CHAIN } from '#app/grants/drift.ts';
import type { SenderRole } from '#app/senders.ts';
import { requestChainId } from '#domain/audit-types.ts';
import type { PamConfig } from '#domain/model.ts';
import { ENV, type EnvValues } from '#runtime/env-names.ts';
import {
  COMMAND_SENDER_REFUSED_METRIC,
  RECONCILE_WORK_LEFT_METRIC,
  UNPROVEN_ACCESS_METRIC,
} from '#runtime/metric-names.ts';
import { FailureQueue } from '../constructs/failure-queue.ts';
import { FifoWorkQueue } from '../constructs/fifo-work-queue.ts';
import { GrantScheduler } from '../constructs/grant-scheduler.ts';
import { ManagedPermissionSets } from '../constructs/managed-permission-sets.ts';
import { PamAlarms } from '../constructs/pam-alarms.ts';
import { PamApi } from '../constructs/pam-api.ts';
import { PamDashboard } from '../constructs/pam-dashboard.ts';
import { PamFunction } from '../constructs/pam-function.ts';
import type { PamTable } from '../constructs/pam-table.ts';
import { RequesterAccess } from '../constructs/requester-access.ts';

export interface HubServiceStackProps extends StackProps {
  readonly config: PamConfig;
  /** Group names the config references without an id (`missingGroupIds`); synth fails when any. */
  readonly missingGroupNames: readonly string[];
  readonly key: Key;
  readonly accessTable: PamTable;
  readonly auditTable: PamTable;
  readonly idempotencyTable: PamTable;
  /** `POWERTOOLS_LOG_LEVEL` of every function. */
  readonly logLevel?: string;
}

/**
 * A batch of 10 in order, with room for one early `start`/`expire` to wait until due (up to 60 s,
 * shared/app/commands.ts EARLY_DELIVERY_WAIT_MS) and the margin the waiter keeps for the work after it.
 */
const PROCESS_COMMAND_TIMEOUT = Duration.seconds(120);
/** A batch of 10 in order, each with a short status-polling budget before it re-enqueues a check. */
const PROVISION_ACCESS_TIMEOUT = Duration.seconds(180);
/** Identity Center allows 10 outstanding async assignment calls; 2 is the event source minimum. */
const PROVISIONING_MAX_CONCURRENCY = 2;
/**
 * The partition keys the functions write (IAM `dynamodb:LeadingKeys` patterns). Access table:
 * requests (`REQ#<id>`, tables.ts), tuple leases (`TUPLE#…`, dynamo-tuple-store.ts), revocation
 * denies (`DENY#…`, dynamo-deny-ledger.ts), drift first sightings (`SEEN#…`, dynamo-drift-seen.ts).
 * Audit table: each request's chain (`request#<id>`, events and head), the `system` chain
 * (refusals, senders, deny fallbacks) and the `drift` chain. A function that could write another
 * function's keys could forge what that one records — a request chain proves a grant (proof.ts).
 */
const KEYS = {
  requests: `${requestKey('').pk}*`,
  leases: `${ACCESS_KEY_PREFIX.tuple}*`,
  denies: `${ACCESS_KEY_PREFIX.deny}*`,
  sightings: `${ACCESS_KEY_PREFIX.sighting}*`,
  requestChains: `${requestChainId('')}*`,
  systemChain: 'system',
  driftChain: DRIFT_CHAIN,
} as const;
/** Lambda's six-times-the-timeout guidance for SQS event sources. */
const visibilityFor = (timeout: Duration) => Duration.seconds(timeout.toSeconds() * 6);

export class HubServiceStack extends Stack {
  readonly handleApi: PamFunction;
  readonly processCommand: PamFunction;
  readonly provisionAccess: PamFunction;
  readonly reactToChange: PamFunction;
  readonly reconcile: PamFunction;
  readonly sweepDrift: PamFunction;
  readonly api: PamApi;
  readonly commands: FifoWorkQueue;
  readonly provisioning: FifoWorkQueue;
  readonly permissionSets: ManagedPermissionSets;
  readonly scheduler: GrantScheduler;
  /** Stream batches react-to-change gave up on. */
  readonly streamFailures: FailureQueue;
  readonly requesterAccess: RequesterAccess;
  readonly alarms: PamAlarms;
  readonly dashboard: PamDashboard;

  constructor(scope: Construct, id: string, props: HubServiceStackProps) {
    super(scope, id, props);
    const { config, key } = props;
    const { identityCenter } = config;
    const common = { config, encryptionKey: key, ...(props.logLevel ? { logLevel: props.logLevel } : {}) };

    this.permissionSets = new ManagedPermissionSets(this, 'ManagedPermissionSets', { config });
    this.scheduler = new GrantScheduler(this, 'Scheduler', { encryptionKey: key });
    const permissionSetArns = this.permissionSets.arnsJson();

    this.handleApi = new PamFunction(this, 'HandleApi', {
      ...common,
      functionName: 'handle-api',
      description: 'cloud-pam /v1 API (requests, decisions, lists)',
      // API Gateway gives up after 29 s.
      timeout: Duration.seconds(29),
    })
      // A request and its audit events commit in one transaction (Puts); lists query the indexes.
      .bindTable({
        table: props.accessTable,
        access: {
          read: ['GetItem', 'Query'],
          write: [{ actions: ['PutItem'], leadingKeys: [KEYS.requests] }],
        },
      })
      .bindTable({
        table: props.auditTable,
        access: {
          read: ['GetItem', 'Query'],
          write: [{ actions: ['PutItem'], leadingKeys: [KEYS.requestChains, KEYS.systemChain] }],
        },
      })
      // Per-caller rate counters (shared/app/rate-limit.ts): one UpdateItem per call, `RATE#` keys only.
      .bindTable({
        table: props.idempotencyTable,
        access: { write: [{ actions: ['UpdateItem'], leadingKeys: [`${RATE_COUNTER_KEY_PREFIX}*`] }] },
      })
      // The SigV4 caller by user name, then users and their groups by id.
      .allowDirectoryRead(identityCenter, ['DescribeUser', 'GetUserId', 'ListGroupMembershipsForMember']);

    // Approve/deny commands check approvers' groups at decision time, so the worker reads the directory too.
    this.processCommand = new PamFunction(this, 'ProcessCommand', {
      ...common,
      functionName: 'process-command',
      description: 'cloud-pam commands worker (approve, deny, cancel, extend, revoke, expire)',
      timeout: PROCESS_COMMAND_TIMEOUT,
    })
      // Requests by id (and leases, to believe an assignment-succeeded), written with their events.
      .bindTable({
        table: props.accessTable,
        access: { read: ['GetItem'], write: [{ actions: ['PutItem'], leadingKeys: [KEYS.requests] }] },
      })
      .bindTable({
        table: props.auditTable,
        access: {
          read: ['GetItem', 'Query'],
          write: [{ actions: ['PutItem'], leadingKeys: [KEYS.requestChains, KEYS.systemChain] }],
        },
      })
      // What Powertools Idempotency does with its own records (keyed by a hash of the delivery key).
      .bindTable({
        table: props.idempotencyTable,
        access: {
          read: ['GetItem'],
          write: [{ actions: ['PutItem', 'UpdateItem', 'DeleteItem'], leadingKeys: 'any' }],
        },
      })
      .allowDirectoryRead(identityCenter, ['DescribeUser', 'ListGroupMembershipsForMember']);
    // A scheduled start is a one-time schedule the worker creates (react-to-change removes it).
    this.scheduler.allowScheduling(this.processCommand, { remove: false });

    // The only function that creates assignments; it also deletes them and keeps the deny list.
    this.provisionAccess = new PamFunction(this, 'ProvisionAccess', {
      ...common,
      functionName: 'provision-access',
      description: 'cloud-pam provisioning worker (assignments, deny list, their schedules)',
      timeout: PROVISION_ACCESS_TIMEOUT,
    })
      // Requests are read, never written: leases, denies and (its drift re-checks) first sightings.
      .bindTable({
        table: props.accessTable,
        access: {
          read: ['GetItem', 'Query'],
          write: [
            { actions: ['PutItem'], leadingKeys: [KEYS.leases, KEYS.denies, KEYS.sightings] },
            { actions: ['DeleteItem'], leadingKeys: [KEYS.sightings] },
          ],
        },
      })
      .bindTable({
        table: props.auditTable,
        access: {
          read: ['GetItem', 'Query'],
          write: [
            { actions: ['PutItem'], leadingKeys: [KEYS.requestChains, KEYS.systemChain, KEYS.driftChain] },
          ],
        },
      });
    this.permissionSets.allowAssignmentChanges(this.provisionAccess, ['create', 'delete']);
    this.permissionSets.allowAssignmentReads(this.provisionAccess);
    this.permissionSets.allowInlinePolicyEdits(this.provisionAccess);
    this.scheduler.allowScheduling(this.provisionAccess, { remove: false });

    // Turns request changes (the access table's stream) into provisioning work and schedules.
    this.reactToChange = new PamFunction(this, 'ReactToChange', {
      ...common,
      functionName: 'react-to-change',
      description: 'cloud-pam access-table stream consumer (enqueue provisioning, set schedules)',
      timeout: Duration.seconds(60),
    });
    // The stream record is its input: it reads and writes no table (the names only configure the
    // shared wiring, shared/runtime/aws-deps.ts).
    this.reactToChange.addEnvironment(props.accessTable.envVar, props.accessTable.table.tableName);
    this.reactToChange.addEnvironment(props.auditTable.envVar, props.auditTable.table.tableName);
    // Expiry schedules, and removing those a new grant version or an ended grant made stale.
    this.scheduler.allowScheduling(this.reactToChange, { remove: true });

    // Enqueues commands only, never writes state itself (docs/architecture.md §6).
    this.reconcile = new PamFunction(this, 'Reconcile', {
      ...common,
      functionName: 'reconcile',
      description: 'cloud-pam reconciler (overdue, stale, disabled users, orphan sessions)',
      timeout: Duration.seconds(120),
    })
      .bindTable({ table: props.accessTable, access: { read: ['GetItem', 'Query'] } })
      // A grant's end is what its request chain proves.
      .bindTable({ table: props.auditTable, access: { read: ['Query'] } })
      .allowDirectoryRead(identityCenter, ['DescribeUser']);
    this.permissionSets.allowInlinePolicyReads(this.reconcile);
    this.permissionSets.allowProvisioningReads(this.reconcile);

    // Paced to leave Identity Center capacity for revocations, so it may run for minutes.
    this.sweepDrift = new PamFunction(this, 'SweepDrift', {
      ...common,
      functionName: 'sweep-drift',
      description: 'cloud-pam drift sweep (assignments on managed permission sets nothing holds)',
      timeout: Duration.minutes(15),
    })
      // It never deletes an assignment itself: it claims the tuple's lease and queues a check, so the
      // deletion runs in provision-access, in the tuple's FIFO group, reference-counted. Its only
      // writes are those leases, its first-sighting records and the drift chain.
      .bindTable({
        table: props.accessTable,
        access: {
          read: ['GetItem', 'Query'],
          write: [
            { actions: ['PutItem'], leadingKeys: [KEYS.leases, KEYS.sightings] },
            { actions: ['DeleteItem'], leadingKeys: [KEYS.sightings] },
          ],
        },
      })
      .bindTable({
        table: props.auditTable,
        access: { read: ['GetItem'], write: [{ actions: ['PutItem'], leadingKeys: [KEYS.driftChain] }] },
      });
    this.permissionSets.allowAssignmentReads(this.sweepDrift);
    // A sighting inside its grace period gets a one-time re-check schedule (to provision-access).
    this.scheduler.allowScheduling(this.sweepDrift, { remove: false });

    // Queues last: their resource policies name the exact roles that may send.
    this.commands = new FifoWorkQueue(this, 'Commands', {
      encryptionKey: key,
      visibilityTimeout: visibilityFor(PROCESS_COMMAND_TIMEOUT),
      maxReceiveCount: 5,
      // Exactly the roles that send commands (sweep-drift sends none). Slack becomes a sender with
      // its issue; /v1 decides inline. Which command each may send, the worker checks (senders.ts).
      senders: [
        this.provisionAccess.serviceRole,
        this.reactToChange.serviceRole,
        this.reconcile.serviceRole,
        this.scheduler.role,
      ],
    });
    // The role ids the worker compares each message's SenderId with (`<RoleId>:<session>`; the
    // session part is the caller's choice, the role id is not).
    const senders: Record<SenderRole, string[]> = {
      ingress: [this.handleApi.serviceRole.roleId],
      scheduler: [this.scheduler.role.roleId],
      'provision-access': [this.provisionAccess.serviceRole.roleId],
      'react-to-change': [this.reactToChange.serviceRole.roleId],
      reconcile: [this.reconcile.serviceRole.roleId],
    };
    this.processCommand.addEnvironment(ENV.COMMAND_SENDERS, Stack.of(this).toJsonString(senders));
    this.provisioning = new FifoWorkQueue(this, 'Provisioning', {
      encryptionKey: key,
      visibilityTimeout: visibilityFor(PROVISION_ACCESS_TIMEOUT),
      // Throttling and IN_PROGRESS re-checks are retried inside the worker; more receives before the
      // DLQ give a revocation every chance to land (and the DLQ alarm says when it did not).
      maxReceiveCount: 10,
      senders: [
        // handle-api's revoke queues the release and the deny before it commits (narrowing).
        this.handleApi.serviceRole,
        this.processCommand.serviceRole,
        this.provisionAccess.serviceRole,
        this.reactToChange.serviceRole,
        this.reconcile.serviceRole,
        this.sweepDrift.serviceRole,
        this.scheduler.role,
      ],
    });
    // The grant engine's wiring (shared/runtime/grant-deps.ts reads all of it at cold start). These
    // are names and addresses only; what each function may do with them is its IAM above.
    const grantEnvironment: EnvValues = {
      [ENV.IDENTITY_CENTER_INSTANCE_ARN]: identityCenter.instanceArn,
      [ENV.PERMISSION_SET_ARNS]: permissionSetArns,
      [ENV.COMMANDS_QUEUE_URL]: this.commands.queue.queueUrl,
      [ENV.PROVISIONING_QUEUE_URL]: this.provisioning.queue.queueUrl,
      // Schedules target the queues by ARN.
      [ENV.COMMANDS_QUEUE_ARN]: this.commands.queue.queueArn,
      [ENV.PROVISIONING_QUEUE_ARN]: this.provisioning.queue.queueArn,
      ...this.scheduler.environment(),
    };
    for (const fn of [
      this.processCommand,
      this.provisionAccess,
      this.reactToChange,
      this.reconcile,
      this.sweepDrift,
    ]) {
      for (const [name, value] of Object.entries(grantEnvironment)) if (value) fn.addEnvironment(name, value);
    }
    // handle-api only narrows access (revoke): it needs the permission sets and the provisioning queue.
    this.handleApi.addEnvironment(ENV.PERMISSION_SET_ARNS, permissionSetArns);
    this.handleApi.addEnvironment(ENV.PROVISIONING_QUEUE_URL, this.provisioning.queue.queueUrl);

    // A command due later than the invocation can wait goes back, visible again at its due time.
    this.commands.consumeWith(this.processCommand, { batchSize: 10, changesVisibility: true });
    this.provisioning.consumeWith(this.provisionAccess, {
      batchSize: 10,
      maxConcurrency: PROVISIONING_MAX_CONCURRENCY,
    });

    this.streamFailures = new FailureQueue(this, 'StreamFailures', {
      encryptionKey: key,
      sender: this.reactToChange.serviceRole,
      filledBy: "Lambda, with react-to-change's role, for access-table stream batches",
    });
    this.consumeAccessStream(props.accessTable, key);

    new Rule(this, 'ReconcileSchedule', {
      description: 'cloud-pam: run the reconciler',
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(this.reconcile, { retryAttempts: 0 })],
    });
    new Rule(this, 'SweepDriftSchedule', {
      description: 'cloud-pam: daily drift sweep (the guarantee; CloudTrail events are best effort)',
      schedule: Schedule.rate(Duration.days(1)),
      targets: [new LambdaFunction(this.sweepDrift, { retryAttempts: 2 })],
    });
    new Rule(this, 'SweepDriftOnForeignAssignment', {
      description: 'cloud-pam: an account assignment made by anyone but cloud-pam starts a drift sweep',
      eventPattern: foreignAssignmentPattern([this.provisionAccess.serviceRole.roleArn]),
      targets: [new LambdaFunction(this.sweepDrift, { retryAttempts: 2 })],
    });

    this.api = new PamApi(this, 'Api', {
      handler: this.handleApi,
      organizationId: identityCenter.organizationId,
      encryptionKey: key,
    });

    this.requesterAccess = new RequesterAccess(this, 'RequesterAccess', {
      config,
      invokeArn: this.api.v1InvokeArn(),
      missingGroupNames: props.missingGroupNames,
    });

    this.alarms = new PamAlarms(this, 'Alarms', { encryptionKey: key });
    this.alarms.watchDeadLetterQueue('CommandsDeadLetters', this.commands.deadLetterQueue);
    this.alarms.watchDeadLetterQueue('ProvisioningDeadLetters', this.provisioning.deadLetterQueue);
    this.alarms.watchDeadLetterQueue('ScheduleDeadLetters', this.scheduler.deadLetters.queue);
    this.alarms.watchDeadLetterQueue('StreamFailureDeadLetters', this.streamFailures.queue);
    this.alarms.watchFunction('HandleApiErrors', this.handleApi);
    this.alarms.watchFunction('ProcessCommandErrors', this.processCommand);
    this.alarms.watchFunction('ProvisionAccessErrors', this.provisionAccess);
    this.alarms.watchFunction('ReactToChangeErrors', this.reactToChange);
    this.alarms.watchFunction('ReconcileErrors', this.reconcile);
    this.alarms.watchFunction('SweepDriftErrors', this.sweepDrift);
    this.alarms.watchApi('ApiServerErrors', this.api.api);
    this.alarms.watchRejectionAudit('HandleApiRejectionAuditFailures', 'handle-api');
    this.alarms.watchRejectionAudit('ProcessCommandRejectionAuditFailures', 'process-command');
    const revocationFailed =
      'A revocation failed: access may outlive the decision that ended it. Check the function logs and the provisioning DLQ.';
    this.alarms.watchMetric(
      'ProvisionAccessRevocationFailures',
      GRANT_METRICS.revocationFailed,
      'provision-access',
      revocationFailed,
    );
    this.alarms.watchMetric(
      'ProcessCommandRevocationFailures',
      GRANT_METRICS.revocationFailed,
      'process-command',
      revocationFailed,
    );
    for (const [id, emitter] of [
      ['HandleApiUnprovenAccess', 'handle-api'],
      ['ProcessCommandUnprovenAccess', 'process-command'],
      ['ProvisionAccessUnprovenAccess', 'provision-access'],
    ] as const)
      this.alarms.watchMetric(
        id,
        UNPROVEN_ACCESS_METRIC,
        emitter,
        'A request record or a queue message claimed access its audit chain does not prove (a direct table write or a forged message?). It was refused; see the system audit chain (system.rejected).',
      );
    // A reconciler pass that ran out of time three times in a row: backstops are falling behind.
    this.alarms.watchReconcileWorkLeft(RECONCILE_WORK_LEFT_METRIC, 'reconcile');
    this.alarms.watchMetric(
      COMMAND_SENDER_REFUSED_METRIC,
      COMMAND_SENDER_REFUSED_METRIC,
      'process-command',
      'A command arrived from a role that may not send it (a compromised function forging a decision or a revocation?). It was refused, not retried; see the system audit chain (system.rejected, check "sender").',
    );
    this.alarms.watchLevel(
      'InlinePolicyBudget',
      GRANT_METRICS.inlinePolicyBudgetUsed,
      'provision-access',
      80,
      "A permission set's inline policy uses 80 % or more of the 10,240 characters IAM allows a role: further revocations will fall back to a permission-set-wide deny that makes everyone sign in again.",
    );
    this.alarms.watchMetric(
      GRANT_METRICS.denyFallback,
      GRANT_METRICS.denyFallback,
      'provision-access',
      "Revocation denies no longer fit a permission set's role policy: every session of that permission set issued before the cut-off is denied (everyone signs in again). See the system audit chain (deny.fallback).",
    );
    this.alarms.watchMetric(
      GRANT_METRICS.driftDetected,
      GRANT_METRICS.driftDetected,
      'sweep-drift',
      'An assignment on a cloud-pam permission set exists that no grant holds (made outside cloud-pam).',
    );

    this.dashboard = new PamDashboard(this, 'Dashboard', {
      workQueues: { Commands: this.commands.queue, Provisioning: this.provisioning.queue },
      deadLetterQueues: {
        commands: this.commands.deadLetterQueue,
        provisioning: this.provisioning.deadLetterQueue,
        schedules: this.scheduler.deadLetters.queue,
        'stream failures': this.streamFailures.queue,
      },
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url });
    new CfnOutput(this, 'CommandsQueueUrl', { value: this.commands.queue.queueUrl });
    new CfnOutput(this, 'ProvisioningQueueUrl', { value: this.provisioning.queue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboard.dashboardName });
  }

  /**
   * react-to-change reads the access table's stream: only request items (`pk` REQ#…), in order per
   * shard, splitting a failing batch and reporting item failures, and after 10 retries the batch's
   * description goes to the failure queue (which alarms) instead of blocking the shard forever.
   */
  private consumeAccessStream(accessTable: PamTable, key: Key): void {
    const streamArn = accessTable.table.tableStreamArn;
    if (!streamArn) throw new Error('the access table must have a stream (HubDataStack sets it)');
    this.reactToChange.addPermissions(
      new PolicyStatement({
        actions: [
          'dynamodb:DescribeStream',
          'dynamodb:GetRecords',
          'dynamodb:GetShardIterator',
          'dynamodb:ListStreams',
        ],
        resources: [streamArn],
      }),
      // Stream records of a CMK table are decrypted for the reader; Lambda polls with this role.
      new PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }),
    );
    const mapping = new EventSourceMapping(this, 'ReactToChangeStream', {
      target: this.reactToChange,
      eventSourceArn: streamArn,
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: 10,
      bisectBatchOnError: true,
      retryAttempts: 10,
      reportBatchItemFailures: true,
      onFailure: this.streamFailures.asOnFailureDestination(),
      filters: [
        FilterCriteria.filter({
          dynamodb: {
            Keys: { [ACCESS_TABLE.partitionKey]: { S: FilterRule.beginsWith(ACCESS_KEY_PREFIX.request) } },
          },
        }),
      ],
    });
    // Lambda checks the role can read the stream when it creates the mapping.
    mapping.node.addDependency(this.reactToChange.permissions);
  }
}

/**
 * CloudTrail's record of `CreateAccountAssignment` made by anyone but `cloudPamRoleArns`. A role
 * session's `userIdentity.arn` is its STS session ARN (`assumed-role/<name>/<session>`), never the
 * role ARN, so the role is matched on `sessionContext.sessionIssuer.arn`; callers that are not
 * role sessions (users, root) have no issuer and match the second branch.
 */
export function foreignAssignmentPattern(cloudPamRoleArns: readonly string[]) {
  return {
    source: ['aws.sso'],
    detailType: ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['sso.amazonaws.com'],
      eventName: ['CreateAccountAssignment'],
      $or: [
        {
          userIdentity: {
            sessionContext: { sessionIssuer: { arn: [{ 'anything-but': [...cloudPamRoleArns] }] } },
          },
        },
        { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } } },
      ],
    },
  };
}
