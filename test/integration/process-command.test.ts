// The commands-queue worker against moto: the real process-command handler (Powertools FIFO batch
// processing, Powertools Idempotency on the DynamoDB idempotency table) fed the SQS events Lambda
// delivers for a FIFO queue (MessageGroupId = request id).
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/aws/dynamo-audit-log.ts';
import { ulidGenerator } from '#adapters/system.ts';
import {
  apiClient,
  createPamWorld,
  DEV_ACCOUNT,
  lambdaContext,
  type PamWorld,
} from '../support/pam-world.ts';

type Worker = (
  event: SQSEvent,
  context: typeof lambdaContext,
) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

let world: PamWorld;
let call: ReturnType<typeof apiClient>;
let worker: Worker;
let auditLog: DynamoAuditLog;
let sequence = 0;

beforeAll(async () => {
  world = await createPamWorld();
  const api = await import('../../functions/handle-api/handler.ts');
  const commands = await import('../../functions/process-command/handler.ts');
  call = apiClient(api.handler as never, world.accountId);
  worker = commands.handler as never;
  auditLog = new DynamoAuditLog({
    client: world.dynamo,
    auditTable: world.tables.audit,
    ids: ulidGenerator(),
  });
});

function record(body: unknown, groupId: string): SQSRecord {
  sequence += 1;
  return {
    messageId: `message-${sequence}`,
    receiptHandle: `receipt-${sequence}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AROAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      SequenceNumber: String(sequence),
      MessageGroupId: groupId,
      MessageDeduplicationId: `dedup-${sequence}`,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:${world.accountId}:pam-commands.fifo`,
    awsRegion: 'us-east-1',
  };
}

async function openDevRequest(): Promise<string> {
  const created = await call<{ id: string }>('alice', 'POST', '/v1/requests', {
    entitlementId: 'dev-readonly',
    accountId: DEV_ACCOUNT,
    reason: 'investigate an alarm',
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function statusOf(requestId: string): Promise<{ status: string; version: number }> {
  const answer = await call<{ status: string; version: number }>('alice', 'GET', `/v1/requests/${requestId}`);
  return { status: answer.body.status, version: answer.body.version };
}

describe('process-command', () => {
  it('applies an approval from the queue like the API does', async () => {
    const requestId = await openDevRequest();

    const result = await worker(
      { Records: [record({ action: 'approve', requestId, actorId: world.userIds.bob }, requestId)] },
      lambdaContext,
    );

    expect(result.batchItemFailures).toEqual([]);
    expect(await statusOf(requestId)).toEqual({ status: 'APPROVED', version: 2 });
  });

  it('processes the same command body once within the idempotency window', async () => {
    const requestId = await openDevRequest();
    const body = { action: 'approve', requestId, actorId: world.userIds.bob, commandId: 'click-1' };

    await worker({ Records: [record(body, requestId)] }, lambdaContext);
    const second = await worker({ Records: [record(body, requestId)] }, lambdaContext);

    expect(second.batchItemFailures).toEqual([]);
    const events = await auditLog.readChain(`request#${requestId}`);
    // Without idempotency the repeat would be refused (already approved) and audited as a rejection.
    expect(events.map((event) => event.type)).toEqual(['request.created', 'request.approved']);
  });

  it('keeps the order of one request group: approve then deny → approved, deny refused and audited', async () => {
    const requestId = await openDevRequest();

    const result = await worker(
      {
        Records: [
          record({ action: 'approve', requestId, actorId: world.userIds.bob }, requestId),
          record({ action: 'deny', requestId, actorId: world.userIds.carol }, requestId),
        ],
      },
      lambdaContext,
    );

    expect(result.batchItemFailures).toEqual([]);
    expect((await statusOf(requestId)).status).toBe('APPROVED');
    const events = await auditLog.readChain(`request#${requestId}`);
    expect(events.map((event) => event.type)).toEqual([
      'request.created',
      'request.approved',
      'request.rejected',
    ]);
    expect(events[2]?.details).toMatchObject({ action: 'deny', code: 'INVALID_STATE' });
  });

  it('fails a malformed command (for the DLQ) and the rest of its group, while other requests go on', async () => {
    const requestId = await openDevRequest();
    const otherId = await openDevRequest();
    const bad = record(
      { action: 'approve', requestId, actorId: world.userIds.bob, extra: 'field' },
      requestId,
    );
    const after = record({ action: 'approve', requestId, actorId: world.userIds.bob }, requestId);
    const otherGroup = record({ action: 'approve', requestId: otherId, actorId: world.userIds.bob }, otherId);

    const result = await worker({ Records: [bad, after, otherGroup] }, lambdaContext);

    // The failed group's later records go back too (order holds on retry); other groups go on.
    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([
      bad.messageId,
      after.messageId,
    ]);
    expect(await statusOf(requestId)).toEqual({ status: 'PENDING', version: 1 });
    expect(await statusOf(otherId)).toEqual({ status: 'APPROVED', version: 2 });
  });

  it('refuses, once and without retry, an expiry for a request that never became active', async () => {
    const requestId = await openDevRequest();
    const result = await worker(
      {
        Records: [
          record(
            { action: 'expire', requestId, grantVersion: 1, expiresAt: new Date().toISOString() },
            requestId,
          ),
        ],
      },
      lambdaContext,
    );
    // Expiring a request that never became active is refused as INVALID_STATE: final, not retried.
    expect(result.batchItemFailures).toEqual([]);
    expect(await statusOf(requestId)).toEqual({ status: 'PENDING', version: 1 });
  });
});
