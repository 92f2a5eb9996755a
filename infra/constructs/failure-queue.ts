// A standard SQS queue that receives what a service gave up on — EventBridge Scheduler's undeliverable
// schedules, a DynamoDB stream batch Lambda could not process — encrypted with the hub CMK, TLS
// only, kept 14 days, and writable only by the one role that delivers failures to it.
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, type IGrantable, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IEventSourceDlq, IEventSourceMapping, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface FailureQueueProps {
  readonly encryptionKey: IKey;
  /** The only role that may send (it delivers the failures); everyone else is denied. */
  readonly sender: IRole;
  /** Who fills it, for the cdk-nag acknowledgment (e.g. "EventBridge Scheduler"). */
  readonly filledBy: string;
}

export class FailureQueue extends Construct {
  readonly queue: Queue;
  private readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: FailureQueueProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheFailureDeliverer',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': props.sender.roleArn } },
      }),
    );
    this.grantSend(props.sender);
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself a dead-letter queue (${props.filledBy} delivers to it what it gave up on); a DLQ of a DLQ would only move the same messages, and a CloudWatch alarm fires on its first message.`,
    });
  }

  /** SendMessage on the queue, and the CMK only as SQS uses it for the sender. */
  grantSend(grantee: IGrantable): void {
    for (const statement of [
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
      new PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
      }),
    ]) {
      grantee.grantPrincipal.addToPrincipalPolicy(statement);
    }
  }

  /**
   * As a Lambda event source's on-failure destination. The grant to the function's role is made by
   * the constructor (`sender`), so this only names the queue.
   */
  asOnFailureDestination(): IEventSourceDlq {
    const queueArn = this.queue.queueArn;
    return { bind: (_target: IEventSourceMapping, _fn: IFunction) => ({ destination: queueArn }) };
  }
}
