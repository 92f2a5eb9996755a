// An SQS FIFO work queue with its FIFO dead-letter queue: content-based deduplication, the hub CMK,
// TLS only. Only the roles named with `allowSender` may send (resource policy; the list is read at
// synth, so capabilities built in any order can add theirs); they get SendMessage and the key only
// through SQS. Its one consumer is fed by an event source mapping that holds exactly what
// Lambda's poller needs.
import { Duration, Lazy, Names, Stack } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, type IGrantable, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { optional } from '#domain/optional.ts';
import type { PamFunction } from './pam-function.ts';

export interface FifoWorkQueueProps {
  readonly encryptionKey: IKey;
  /** At least six times the consumer's timeout (AWS's guidance for Lambda event sources). */
  readonly visibilityTimeout: Duration;
  /** Receives before a message moves to the DLQ. */
  readonly maxReceiveCount?: number;
}

export interface ConsumeOptions {
  readonly batchSize: number;
  readonly maxConcurrency?: number;
  /**
   * The consumer's own code puts a message back with a new visibility timeout
   * (ChangeMessageVisibility): process-command, for a command due later than it can wait.
   */
  readonly changesVisibility?: boolean;
}

export class FifoWorkQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  private readonly encryptionKey: IKey;
  private readonly senders: IRole[] = [];

  constructor(scope: Construct, id: string, props: FifoWorkQueueProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const common = {
      fifo: true,
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
    } as const;
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...common,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      ...common,
      contentBasedDeduplication: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    // Everyone but the senders is denied, whatever their identity policies say: a command names the
    // acting user, so a forged one is a decision.
    this.queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyCloudPamSenders',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: {
          ArnNotEquals: {
            'aws:PrincipalArn': Lazy.list({ produce: () => this.senders.map((role) => role.roleArn) }),
          },
        },
      }),
    );
    // A queue nobody may send to is a wiring mistake, not a safe default: fail the synth.
    this.node.addValidation({
      validate: () => (this.senders.length > 0 ? [] : [`${this.node.path}: no role may send to this queue`]),
    });
  }

  /** Lets `role` send (resource policy and its identity policy). */
  allowSender(role: IRole): void {
    if (this.senders.includes(role)) return;
    this.senders.push(role);
    this.grantSend(role);
  }

  /** SendMessage on the queue, and the CMK only as SQS uses it for the sender. */
  sendStatements(): PolicyStatement[] {
    return [
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
      new PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    ];
  }

  /**
   * Feeds `fn` from the queue, reporting partial batch failures, and grants exactly what Lambda's
   * poller does with the function's role: receive, delete, read the queue's attributes, and decrypt
   * through SQS. (CDK's SqsEventSource would add GetQueueUrl and ChangeMessageVisibility, which
   * nothing calls.) The mapping keeps the id SqsEventSource gives it, so a deployed mapping is
   * updated in place rather than replaced by a second one for the same queue and function.
   */
  consumeWith(fn: PamFunction, options: ConsumeOptions): EventSourceMapping {
    const mapping = fn.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(this.queue.node)}`, {
      eventSourceArn: this.queue.queueArn,
      batchSize: options.batchSize,
      reportBatchItemFailures: true,
      ...optional('maxConcurrency', options.maxConcurrency),
    });
    fn.addPermissions(
      new PolicyStatement({
        actions: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          ...(options.changesVisibility ? ['sqs:ChangeMessageVisibility'] : []),
        ],
        resources: [this.queue.queueArn],
      }),
      new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
    // Lambda checks that the role can read the queue when it creates the mapping.
    mapping.node.addDependency(fn.permissions);
    return mapping;
  }

  private grantSend(grantee: IGrantable): void {
    for (const statement of this.sendStatements()) grantee.grantPrincipal.addToPrincipalPolicy(statement);
  }
}
