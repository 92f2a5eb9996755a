// The hub's stateless resources: the two functions, the REST API in front of handle-api, the
// commands FIFO queue that process-command works off, the PamRequester permission set and its
// assignments, and the alarms. Data (key, tables) comes in typed from HubDataStack.
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import type { PamConfig } from '#domain/model.ts';
import { FifoWorkQueue } from '../constructs/fifo-work-queue.ts';
import { PamAlarms } from '../constructs/pam-alarms.ts';
import { PamApi } from '../constructs/pam-api.ts';
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

const PROCESS_COMMAND_TIMEOUT = Duration.seconds(60);

export class HubServiceStack extends Stack {
  readonly handleApi: PamFunction;
  readonly processCommand: PamFunction;
  readonly api: PamApi;
  readonly commands: FifoWorkQueue;
  readonly requesterAccess: RequesterAccess;
  readonly alarms: PamAlarms;

  constructor(scope: Construct, id: string, props: HubServiceStackProps) {
    super(scope, id, props);
    const { config, key } = props;
    const common = { config, encryptionKey: key, ...(props.logLevel ? { logLevel: props.logLevel } : {}) };

    this.commands = new FifoWorkQueue(this, 'Commands', {
      encryptionKey: key,
      visibilityTimeout: Duration.seconds(PROCESS_COMMAND_TIMEOUT.toSeconds() * 6),
      maxReceiveCount: 5,
      // Slack, the scheduler and the reconciler become senders with their issues; /v1 decides inline.
      senders: [],
    });

    this.handleApi = new PamFunction(this, 'HandleApi', {
      ...common,
      functionName: 'handle-api',
      description: 'cloud-pam /v1 API (requests, decisions, lists)',
      // API Gateway gives up after 29 s.
      timeout: Duration.seconds(29),
    })
      .bindTable({ table: props.accessTable, access: 'RW' })
      .bindTable({ table: props.auditTable, access: 'APPEND' })
      .allowDirectoryRead(config.identityCenter);

    // Approve/deny commands check approvers' groups at decision time, so the worker reads the directory too.
    this.processCommand = new PamFunction(this, 'ProcessCommand', {
      ...common,
      functionName: 'process-command',
      description: 'cloud-pam commands worker (approve, deny, cancel, extend, revoke, expire)',
      timeout: PROCESS_COMMAND_TIMEOUT,
    })
      .bindTable({ table: props.accessTable, access: 'RW' })
      .bindTable({ table: props.auditTable, access: 'APPEND' })
      .bindTable({ table: props.idempotencyTable, access: 'RW' })
      .allowDirectoryRead(config.identityCenter);
    this.processCommand.addEventSource(
      new SqsEventSource(this.commands.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    this.api = new PamApi(this, 'Api', {
      handler: this.handleApi,
      organizationId: config.identityCenter.organizationId,
      encryptionKey: key,
    });

    this.requesterAccess = new RequesterAccess(this, 'RequesterAccess', {
      config,
      invokeArn: this.api.v1InvokeArn(),
      missingGroupNames: props.missingGroupNames,
    });

    this.alarms = new PamAlarms(this, 'Alarms', { encryptionKey: key });
    this.alarms.watchDeadLetterQueue('CommandsDeadLetters', this.commands.deadLetterQueue);
    this.alarms.watchFunction('HandleApiErrors', this.handleApi);
    this.alarms.watchFunction('ProcessCommandErrors', this.processCommand);
    this.alarms.watchApi('ApiServerErrors', this.api.api);
    this.alarms.watchRejectionAudit('HandleApiRejectionAuditFailures', 'handle-api');
    this.alarms.watchRejectionAudit('ProcessCommandRejectionAuditFailures', 'process-command');

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url });
    new CfnOutput(this, 'CommandsQueueUrl', { value: this.commands.queue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
  }
}
