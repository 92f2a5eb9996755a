// An SQS FIFO work queue with its FIFO dead-letter queue: content-based deduplication, the hub CMK,
// TLS only. Only the listed sender roles may send (resource policy); they get SendMessage and the
// key only through SQS.
import { Duration, Stack } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, type IGrantable, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface FifoWorkQueueProps {
  readonly encryptionKey: IKey;
  /** At least six times the consumer's timeout (AWS's guidance for Lambda event sources). */
  readonly visibilityTimeout: Duration;
  /** Receives before a message moves to the DLQ. */
  readonly maxReceiveCount?: number;
  /**
   * The only roles that may send. Everyone else is denied by the queue's resource policy, whatever
   * their identity policies say: a command names the acting user, so a forged one is a decision.
   * Empty means nobody may send yet.
   */
  readonly senders: readonly IRole[];
}

export class FifoWorkQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  private readonly encryptionKey: IKey;

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
    const senderArns = props.senders.map((role) => role.roleArn);
    this.queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyCloudPamSenders',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        ...(senderArns.length > 0
          ? { conditions: { ArnNotEquals: { 'aws:PrincipalArn': senderArns } } }
          : {}),
      }),
    );
    for (const role of props.senders) this.grantSend(role);
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

  /** For grantees that are not PamFunctions (e.g. a scheduler role later). */
  grantSend(grantee: IGrantable): void {
    for (const statement of this.sendStatements()) grantee.grantPrincipal.addToPrincipalPolicy(statement);
  }
}
