// The grant engine: the managed permission sets, the provisioning FIFO queue and its worker
// provision-access (the only function that creates assignments), react-to-change on the access
// table's stream, the reconciler and the drift sweep with their rules, and the schedule group. It
// sends commands through the request core's intake and lends its wiring to the request core's two
// functions: the commands worker runs grant work (`bindCommandWorker`), handle-api may only narrow
// access (`bindRevoker`).
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping, FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ACCESS_KEY_PREFIX, ACCESS_TABLE } from '#adapters/aws/tables.ts';
import { GRANT_METRICS } from '#app/grants/deps.ts';
import { ENV, type EnvValues } from '#runtime/env-names.ts';
import { RECONCILE_WORK_LEFT_METRIC } from '#runtime/metric-names.ts';
import { type CapabilityProps, functionDefaults, KEYS, stackOutput, visibilityFor } from './capability.ts';
import { FailureQueue } from './failure-queue.ts';
import { FifoWorkQueue } from './fifo-work-queue.ts';
import { GrantScheduler } from './grant-scheduler.ts';
import { ManagedPermissionSets } from './managed-permission-sets.ts';
import { PamFunction } from './pam-function.ts';
import type { CommandIntake } from './request-api.ts';

export interface GrantEngineProps extends CapabilityProps {
  /** Where the engine's functions and schedules send `start`, `expire`, engine facts and revocations. */
  readonly commands: CommandIntake;
}

/** A batch of 10 in order, each with a short status-polling budget before it re-enqueues a check. */
const PROVISION_ACCESS_TIMEOUT = Duration.seconds(180);
/** Identity Center allows 10 outstanding async assignment calls; 2 is the event source minimum. */
const PROVISIONING_MAX_CONCURRENCY = 2;

export class GrantEngine extends Construct {
  readonly provisionAccess: PamFunction;
  readonly reactToChange: PamFunction;
  readonly reconcile: PamFunction;
  readonly sweepDrift: PamFunction;
  readonly provisioning: FifoWorkQueue;
  readonly permissionSets: ManagedPermissionSets;
  readonly scheduler: GrantScheduler;
  /** Stream batches react-to-change gave up on. */
  readonly streamFailures: FailureQueue;
  /**
   * The engine's wiring (shared/runtime/grant-deps.ts reads all of it at cold start). Names and
   * addresses only; what each function may do with them is its IAM.
   */
  private readonly environment: EnvValues;
  private readonly props: GrantEngineProps;

  constructor(scope: Construct, id: string, props: GrantEngineProps) {
    super(scope, id);
    this.props = props;
    const { config, tables, alarms, commands } = props;
    const { identityCenter } = config;
    const defaults = functionDefaults(props);

    this.permissionSets = new ManagedPermissionSets(this, 'ManagedPermissionSets', { config });
    this.scheduler = new GrantScheduler(this, 'Scheduler', { encryptionKey: props.encryptionKey });

    // The only function that creates assignments; it also deletes them and keeps the deny list.
    this.provisionAccess = new PamFunction(this, 'ProvisionAccess', {
      ...defaults,
      functionName: 'provision-access',
      description: 'cloud-pam provisioning worker (assignments, deny list, their schedules)',
      timeout: PROVISION_ACCESS_TIMEOUT,
    })
      // Requests are read, never written: leases, denies and (its drift re-checks) first sightings.
      .bindTable({
        table: tables.access,
        access: {
          read: ['GetItem', 'Query'],
          write: [
            { actions: ['PutItem'], leadingKeys: [KEYS.leases, KEYS.denies, KEYS.sightings] },
            { actions: ['DeleteItem'], leadingKeys: [KEYS.sightings] },
          ],
        },
      })
      .bindTable({
        table: tables.audit,
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
      ...defaults,
      functionName: 'react-to-change',
      description: 'cloud-pam access-table stream consumer (enqueue provisioning, set schedules)',
      timeout: Duration.seconds(60),
    });
    // The stream record is its input: it reads and writes no table (the names only configure the
    // shared wiring, shared/runtime/aws-deps.ts).
    this.reactToChange.addEnvironment(tables.access.envVar, tables.access.table.tableName);
    this.reactToChange.addEnvironment(tables.audit.envVar, tables.audit.table.tableName);
    // Expiry schedules, and removing those a new grant version or an ended grant made stale.
    this.scheduler.allowScheduling(this.reactToChange, { remove: true });

    // Enqueues commands only, never writes state itself (docs/architecture.md §6).
    this.reconcile = new PamFunction(this, 'Reconcile', {
      ...defaults,
      functionName: 'reconcile',
      description: 'cloud-pam reconciler (overdue, stale, disabled users, orphan sessions)',
      timeout: Duration.seconds(120),
    })
      .bindTable({ table: tables.access, access: { read: ['GetItem', 'Query'] } })
      // A grant's end is what its request chain proves.
      .bindTable({ table: tables.audit, access: { read: ['Query'] } })
      .allowDirectoryRead(identityCenter, ['DescribeUser']);
    this.permissionSets.allowInlinePolicyReads(this.reconcile);
    this.permissionSets.allowProvisioningReads(this.reconcile);

    // Paced to leave Identity Center capacity for revocations, so it may run for minutes.
    this.sweepDrift = new PamFunction(this, 'SweepDrift', {
      ...defaults,
      functionName: 'sweep-drift',
      description: 'cloud-pam drift sweep (assignments on managed permission sets nothing holds)',
      timeout: Duration.minutes(15),
    })
      // It never deletes an assignment itself: it claims the tuple's lease and queues a check, so the
      // deletion runs in provision-access, in the tuple's FIFO group, reference-counted. Its only
      // writes are those leases, its first-sighting records and the drift chain.
      .bindTable({
        table: tables.access,
        access: {
          read: ['GetItem', 'Query'],
          write: [
            { actions: ['PutItem'], leadingKeys: [KEYS.leases, KEYS.sightings] },
            { actions: ['DeleteItem'], leadingKeys: [KEYS.sightings] },
          ],
        },
      })
      .bindTable({
        table: tables.audit,
        access: { read: ['GetItem'], write: [{ actions: ['PutItem'], leadingKeys: [KEYS.driftChain] }] },
      });
    this.permissionSets.allowAssignmentReads(this.sweepDrift);
    // A sighting inside its grace period gets a one-time re-check schedule (to provision-access).
    this.scheduler.allowScheduling(this.sweepDrift, { remove: false });

    // Exactly the roles that send commands (sweep-drift sends none). Which command each may send,
    // the worker checks (shared/app/senders.ts).
    commands.acceptCommands('provision-access', this.provisionAccess.serviceRole);
    commands.acceptCommands('react-to-change', this.reactToChange.serviceRole);
    commands.acceptCommands('reconcile', this.reconcile.serviceRole);
    commands.acceptCommands('scheduler', this.scheduler.role);

    this.provisioning = new FifoWorkQueue(this, 'Provisioning', {
      encryptionKey: props.encryptionKey,
      visibilityTimeout: visibilityFor(PROVISION_ACCESS_TIMEOUT),
      // Throttling and IN_PROGRESS re-checks are retried inside the worker; more receives before the
      // DLQ give a revocation every chance to land (and the DLQ alarm says when it did not).
      maxReceiveCount: 10,
    });
    for (const sender of [
      this.provisionAccess.serviceRole,
      this.reactToChange.serviceRole,
      this.reconcile.serviceRole,
      this.sweepDrift.serviceRole,
      this.scheduler.role,
    ])
      this.provisioning.allowSender(sender);
    this.provisioning.consumeWith(this.provisionAccess, {
      batchSize: 10,
      maxConcurrency: PROVISIONING_MAX_CONCURRENCY,
    });

    this.environment = {
      [ENV.IDENTITY_CENTER_INSTANCE_ARN]: identityCenter.instanceArn,
      [ENV.PERMISSION_SET_ARNS]: this.permissionSets.arnsJson(),
      [ENV.COMMANDS_QUEUE_URL]: commands.commands.queue.queueUrl,
      [ENV.PROVISIONING_QUEUE_URL]: this.provisioning.queue.queueUrl,
      // Schedules target the queues by ARN.
      [ENV.COMMANDS_QUEUE_ARN]: commands.commands.queue.queueArn,
      [ENV.PROVISIONING_QUEUE_ARN]: this.provisioning.queue.queueArn,
      ...this.scheduler.environment(),
    };
    for (const fn of [this.provisionAccess, this.reactToChange, this.reconcile, this.sweepDrift])
      this.setEnvironment(fn);

    this.streamFailures = new FailureQueue(this, 'StreamFailures', {
      encryptionKey: props.encryptionKey,
      sender: this.reactToChange.serviceRole,
      filledBy: "Lambda, with react-to-change's role, for access-table stream batches",
    });
    this.consumeAccessStream();

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

    alarms.watchDeadLetterQueue('ProvisioningDeadLetters', this.provisioning.deadLetterQueue);
    alarms.watchDeadLetterQueue('ScheduleDeadLetters', this.scheduler.deadLetters.queue);
    alarms.watchDeadLetterQueue('StreamFailureDeadLetters', this.streamFailures.queue);
    alarms.watchFunction('ProvisionAccessErrors', this.provisionAccess);
    alarms.watchFunction('ReactToChangeErrors', this.reactToChange);
    alarms.watchFunction('ReconcileErrors', this.reconcile);
    alarms.watchFunction('SweepDriftErrors', this.sweepDrift);
    alarms.watchRevocationFailures('ProvisionAccessRevocationFailures', 'provision-access');
    alarms.watchUnprovenAccess('ProvisionAccessUnprovenAccess', 'provision-access');
    // A reconciler pass that ran out of time three times in a row: backstops are falling behind.
    alarms.watchReconcileWorkLeft(RECONCILE_WORK_LEFT_METRIC, 'reconcile');
    alarms.watchLevel(
      'InlinePolicyBudget',
      GRANT_METRICS.inlinePolicyBudgetUsed,
      'provision-access',
      80,
      "A permission set's inline policy uses 80 % or more of the 10,240 characters IAM allows a role: further revocations will fall back to a permission-set-wide deny that makes everyone sign in again.",
    );
    alarms.watchMetric(
      GRANT_METRICS.denyFallback,
      GRANT_METRICS.denyFallback,
      'provision-access',
      "Revocation denies no longer fit a permission set's role policy: every session of that permission set issued before the cut-off is denied (everyone signs in again). See the system audit chain (deny.fallback).",
    );
    alarms.watchMetric(
      GRANT_METRICS.driftDetected,
      GRANT_METRICS.driftDetected,
      'sweep-drift',
      'An assignment on a cloud-pam permission set exists that no grant holds (made outside cloud-pam).',
    );

    stackOutput(this, 'ProvisioningQueueUrl', this.provisioning.queue.queueUrl);
  }

  /**
   * `fn` runs grant work for commands (approve, expire, revoke…): the whole engine wiring, one-time
   * start schedules (react-to-change removes them), provisioning work, and the revocation alarm.
   */
  bindCommandWorker(fn: PamFunction): void {
    this.setEnvironment(fn);
    this.scheduler.allowScheduling(fn, { remove: false });
    this.provisioning.allowSender(fn.serviceRole);
    this.props.alarms.watchRevocationFailures(`${alarmPrefix(fn)}RevocationFailures`, fn.pamName);
  }

  /**
   * `fn` may only narrow access (revoke): it queues the release and the deny before it commits, so it
   * needs the permission sets and the provisioning queue, nothing that grants.
   */
  bindRevoker(fn: PamFunction): void {
    fn.addEnvironment(ENV.PERMISSION_SET_ARNS, this.permissionSets.arnsJson());
    fn.addEnvironment(ENV.PROVISIONING_QUEUE_URL, this.provisioning.queue.queueUrl);
    this.provisioning.allowSender(fn.serviceRole);
  }

  /** What the dashboard shows of this capability. */
  get queues() {
    return {
      work: { Provisioning: this.provisioning.queue },
      deadLetters: {
        provisioning: this.provisioning.deadLetterQueue,
        schedules: this.scheduler.deadLetters.queue,
        'stream failures': this.streamFailures.queue,
      },
    };
  }

  private setEnvironment(fn: PamFunction): void {
    for (const [name, value] of Object.entries(this.environment)) if (value) fn.addEnvironment(name, value);
  }

  /**
   * react-to-change reads the access table's stream: only request items (`pk` REQ#…), in order per
   * shard, splitting a failing batch and reporting item failures, and after 10 retries the batch's
   * description goes to the failure queue (which alarms) instead of blocking the shard forever.
   */
  private consumeAccessStream(): void {
    const { access } = this.props.tables;
    const streamArn = access.table.tableStreamArn;
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
      new PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.props.encryptionKey.keyArn] }),
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

/** `process-command` → `ProcessCommand`, the prefix of a function's alarm ids. */
function alarmPrefix(fn: PamFunction): string {
  return fn.pamName.replace(/(^|-)([a-z])/g, (_match, _dash, letter: string) => letter.toUpperCase());
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
