// An SQS FIFO work queue with its FIFO dead-letter queue: content-based deduplication, the hub CMK,
// TLS only. Producers get SendMessage and the key only through SQS.
import { Duration, Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface FifoWorkQueueProps {
  readonly encryptionKey: IKey;
  /** At least six times the consumer's timeout (AWS's guidance for Lambda event sources). */
  readonly visibilityTimeout: Duration;
  /** Receives before a message moves to the DLQ. */
  readonly maxReceiveCount?: number;
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
