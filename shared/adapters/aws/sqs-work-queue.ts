// The `WorkQueue` port over one SQS FIFO queue (commands or provisioning, docs/architecture.md §5). The
// message group orders and serializes the work of one request (commands) or one tuple or permission
// set (provisioning). The queues use content-based deduplication, so no deduplication id is sent:
// the same body sent twice within five minutes is delivered once, which is what a retried send wants.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WorkQueue } from '#ports/grants.ts';

export interface SqsWorkQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
}

export class SqsWorkQueue implements WorkQueue {
  private readonly client: SQSClient;
  private readonly queueUrl: string;

  constructor(options: SqsWorkQueueOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
  }

  async send(message: {
    readonly messageGroupId: string;
    readonly body: Readonly<Record<string, unknown>>;
  }): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageGroupId: message.messageGroupId,
        MessageBody: JSON.stringify(message.body),
      }),
    );
  }
}
