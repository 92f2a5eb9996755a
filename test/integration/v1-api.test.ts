// The `/v1` API end to end inside one moto account: the real handle-api handler (middy, caller
// mapping, routes, use cases, DynamoDB and Identity Store adapters) called with the events API
// Gateway produces for PamRequester sessions.
//
// Moto deviation: Identity Store users have no ExternalIds, so same-person approval is covered by
// test/unit/requests.test.ts and test/unit/policy.test.ts against recorded-shape fixtures.
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccessStore } from '#adapters/aws/dynamo-access-store.ts';
import type { DynamoAuditLog } from '#adapters/aws/dynamo-audit-log.ts';
import { ulidGenerator } from '#adapters/system.ts';
import { verifyChain } from '#domain/audit.ts';
import type { AuditEvent } from '#domain/audit-types.ts';
import {
  type ApiAnswer,
  apiClient,
  auditLogOf,
  createPamWorld,
  DEV_ACCOUNT,
  type PamWorld,
  PROD_ACCOUNT,
} from '../support/pam-world.ts';

type RequestBody = {
  id: string;
  status: string;
  version: number;
  approvals: { approverId: string }[];
  error?: { code: string; message: string };
};

let world: PamWorld;
let call: ReturnType<typeof apiClient>;
let auditLog: DynamoAuditLog;

beforeAll(async () => {
  world = await createPamWorld();
  const { handler } = await import('../../functions/handle-api/handler.ts');
  call = apiClient(handler as never, world.accountId);
  auditLog = auditLogOf(world);
});

async function openDevRequest(): Promise<RequestBody> {
  const created = await call<RequestBody>('alice', 'POST', '/v1/requests', {
    entitlementId: 'dev-readonly',
    accountId: DEV_ACCOUNT,
    duration: 'PT1H',
    reason: 'debug a failing deploy',
  });
  expect(created.status).toBe(201);
  return created.body;
}

async function openProdRequest(): Promise<RequestBody> {
  const created = await call<RequestBody>('alice', 'POST', '/v1/requests', {
    entitlementId: 'prod-admin',
    accountId: PROD_ACCOUNT,
    duration: 'PT1H',
    reason: 'rotate the broken TLS certificate',
    ticket: 'OPS-1234',
  });
  expect(created.status).toBe(201);
  return created.body;
}

async function chainOf(requestId: string): Promise<readonly AuditEvent[]> {
  return auditLog.readChain(`request#${requestId}`);
}

describe('names of the people who act', () => {
  it('are read from the Identity Store, kept on the record in DynamoDB and shown in the views', async () => {
    // Prepare: moto's users have their user name as DisplayName (test/support/pam-world.ts)
    const request = await openProdRequest();
    const store = new DynamoAccessStore({
      client: world.dynamo,
      accessTable: world.tables.access,
      auditTable: world.tables.audit,
      ids: ulidGenerator(),
    });

    // Act
    await call('bob', 'POST', `/v1/requests/${request.id}/approve`, { comment: 'ok' });
    const denied = await call<Record<string, unknown>>('carol', 'POST', `/v1/requests/${request.id}/deny`, {
      comment: 'not today',
    });

    // Assess
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({
      requesterId: world.userIds.alice,
      requesterName: 'alice',
      approvals: [{ approverId: world.userIds.bob, approverName: 'bob', comment: 'ok' }],
      denial: { actorId: world.userIds.carol, actorName: 'carol', comment: 'not today' },
    });
    expect(await store.get(request.id)).toMatchObject({
      requesterName: 'alice',
      approvals: [{ approverName: 'bob' }],
      denial: { actorName: 'carol' },
    });
  });
});

describe('request → approvals → APPROVED', () => {
  it('needs both approvals of a 2-of-2 entitlement and records a chain that verifies', async () => {
    // Prepare
    const request = await openProdRequest();
    expect(request.status).toBe('PENDING');

    // Act
    const first = await call<RequestBody>('bob', 'POST', `/v1/requests/${request.id}/approve`, {
      comment: 'ok',
    });
    const second = await call<RequestBody>('carol', 'POST', `/v1/requests/${request.id}/approve`, {});

    // Assess
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('PENDING');
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('APPROVED');
    expect(second.body.approvals.map((a) => a.approverId)).toEqual([world.userIds.bob, world.userIds.carol]);
    const chain = await chainOf(request.id);
    expect(chain.map((event) => event.type)).toEqual([
      'request.created',
      'request.approved',
      'request.approved',
    ]);
    expect(verifyChain(chain)).toMatchObject({ ok: true });
  });

  it('shows the requester their requests and approvers what awaits them, with pagination', async () => {
    const request = await openDevRequest();

    const mine = await call<{ items: RequestBody[]; nextToken: string | null }>(
      'alice',
      'GET',
      '/v1/requests',
      undefined,
      {
        limit: '1',
      },
    );
    const awaiting = await call<{ items: RequestBody[] }>('bob', 'GET', '/v1/approvals');
    const notForErin = await call<{ items: RequestBody[] }>('erin', 'GET', '/v1/approvals');

    expect(mine.status).toBe(200);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]?.id).toBe(request.id);
    expect(mine.body.nextToken).toEqual(expect.any(String));
    const next = await call<{ items: RequestBody[] }>('alice', 'GET', '/v1/requests', undefined, {
      limit: '1',
      nextToken: mine.body.nextToken as string,
    });
    expect(next.body.items[0]?.id).not.toBe(request.id);
    expect(awaiting.body.items.map((item) => item.id)).toContain(request.id);
    expect(notForErin.body.items.map((item) => item.id)).not.toContain(request.id);
  });

  it('lists the entitlements a user may request or activate as break-glass', async () => {
    const alice = await call<{ items: { id: string; eligible: boolean; breakGlass: boolean }[] }>(
      'alice',
      'GET',
      '/v1/entitlements',
    );
    const bob = await call<{ items: { id: string; eligible: boolean; breakGlass: boolean }[] }>(
      'bob',
      'GET',
      '/v1/entitlements',
    );
    expect(alice.body.items.map((item) => item.id)).toEqual(['dev-readonly', 'prod-admin']);
    expect(bob.body.items).toEqual([
      expect.objectContaining({ id: 'prod-admin', eligible: false, breakGlass: true }),
    ]);
  });
});

describe('concurrent decisions', () => {
  it.each([1, 2, 3, 4, 5])(
    'approve and deny racing on one request: exactly one wins (round %i)',
    async () => {
      // Prepare
      const request = await openDevRequest();

      // Act
      const [approve, deny] = await Promise.all([
        call<RequestBody>('bob', 'POST', `/v1/requests/${request.id}/approve`, {}),
        call<RequestBody>('carol', 'POST', `/v1/requests/${request.id}/deny`, { comment: 'not today' }),
      ]);

      // Assess
      const answers = [approve, deny];
      const winners = answers.filter((answer) => answer.status === 200);
      const losers = answers.filter((answer) => answer.status !== 200);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(1);
      expect(losers[0]?.status).toBe(409);
      expect(['CONCURRENT_MODIFICATION', 'INVALID_STATE']).toContain(losers[0]?.body.error?.code);
      const stored = await call<RequestBody>('alice', 'GET', `/v1/requests/${request.id}`);
      expect(stored.body.status).toBe(winners[0] === approve ? 'APPROVED' : 'DENIED');
      expect(stored.body.version).toBe(2);
      const decisions = (await chainOf(request.id)).filter((event) =>
        ['request.approved', 'request.denied'].includes(event.type),
      );
      expect(decisions).toHaveLength(1);
    },
  );
});

describe('rejected actions change nothing and are audited', () => {
  async function snapshot(requestId: string) {
    const answer = await call<RequestBody>('alice', 'GET', `/v1/requests/${requestId}`);
    const { status, version, approvals } = answer.body;
    return { status, version, approvals };
  }

  it.each([
    ['self-approval', 'alice', 'approve', 403, 'SELF_APPROVAL'],
    ['approver outside the approver groups', 'erin', 'approve', 403, 'NOT_APPROVER'],
    ['deny by someone outside the approver groups', 'mallory', 'deny', 403, 'NOT_APPROVER'],
    ['revoking a request that holds no access yet', 'erin', 'revoke', 409, 'INVALID_STATE'],
  ] as const)('%s → %s', async (_, actor, action, status, code) => {
    // Prepare
    const request = await openProdRequest();
    const before = await snapshot(request.id);

    // Act
    const answer = await call<RequestBody>(actor, 'POST', `/v1/requests/${request.id}/${action}`, {});

    // Assess
    expect(answer.status).toBe(status);
    expect(answer.body.error?.code).toBe(code);
    expect(await snapshot(request.id)).toEqual(before);
    const rejected = (await chainOf(request.id)).filter((event) => event.type === 'request.rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.details).toMatchObject({ action, code });
    expect(rejected[0]?.actorId).toBe(world.userIds[actor]);
  });

  it('deciding a request that is no longer pending is INVALID_STATE and audited', async () => {
    const request = await openDevRequest();
    expect((await call('bob', 'POST', `/v1/requests/${request.id}/approve`, {})).status).toBe(200);
    const before = await snapshot(request.id);

    const again = await call<RequestBody>('carol', 'POST', `/v1/requests/${request.id}/deny`, {});

    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('INVALID_STATE');
    expect(await snapshot(request.id)).toEqual(before);
    const rejected = (await chainOf(request.id)).filter((event) => event.type === 'request.rejected');
    expect(rejected.map((event) => event.details.code)).toEqual(['INVALID_STATE']);
  });

  it.each([
    [
      'ineligible requester',
      'bob',
      { entitlementId: 'dev-readonly', accountId: DEV_ACCOUNT, reason: 'x' },
      403,
      'NOT_ELIGIBLE',
    ],
    [
      'over-long duration',
      'alice',
      { entitlementId: 'dev-readonly', accountId: DEV_ACCOUNT, reason: 'x', duration: 'PT5H' },
      400,
      'DURATION_EXCEEDED',
    ],
    [
      'missing reason',
      'alice',
      { entitlementId: 'dev-readonly', accountId: DEV_ACCOUNT },
      400,
      'REASON_REQUIRED',
    ],
    [
      'ticket not matching',
      'alice',
      { entitlementId: 'prod-admin', accountId: PROD_ACCOUNT, reason: 'x', ticket: 'JIRA-1' },
      400,
      'TICKET_INVALID',
    ],
    [
      'account not a target',
      'alice',
      { entitlementId: 'dev-readonly', accountId: PROD_ACCOUNT, reason: 'x' },
      400,
      'INVALID_TARGET',
    ],
  ] as const)('create refused: %s → %s', async (_, actor, body, status, code) => {
    // Prepare
    const before = await auditLog.readChain('system');
    const mine = await call<{ items: RequestBody[] }>(actor, 'GET', '/v1/requests', undefined, {
      limit: '100',
    });

    // Act
    const answer = await call<RequestBody>(actor, 'POST', '/v1/requests', body);

    // Assess
    expect(answer.status).toBe(status);
    expect(answer.body.error?.code).toBe(code);
    const after = await auditLog.readChain('system');
    expect(after.length).toBe(before.length + 1);
    expect(after.at(-1)).toMatchObject({
      type: 'request.rejected',
      actorId: world.userIds[actor],
      details: { code },
    });
    expect(verifyChain(after)).toMatchObject({ ok: true });
    const mineAfter = await call<{ items: RequestBody[] }>(actor, 'GET', '/v1/requests', undefined, {
      limit: '100',
    });
    expect(mineAfter.body.items.length).toBe(mine.body.items.length);
  });

  it('a malformed body is a 400 naming the field, and nothing is written', async () => {
    const before = await auditLog.readChain('system');
    const answer = await call<RequestBody>('alice', 'POST', '/v1/requests', {
      entitlementId: 'dev-readonly',
      accountId: 'not-an-account',
      reason: 'x',
      surprise: true,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('VALIDATION_FAILED');
    expect(answer.body.error?.message).toContain('body.accountId');
    expect(await auditLog.readChain('system')).toHaveLength(before.length);
  });

  describe('text that is not clean (lone surrogate, control character) is a 400 before anything runs', () => {
    async function itemCount(table: string): Promise<number> {
      let count = 0;
      let start: Record<string, never> | undefined;
      do {
        const page = await world.dynamo.send(
          new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: start }),
        );
        count += page.Count ?? 0;
        start = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (start);
      return count;
    }

    async function requestIdsOf(user: string): Promise<string[]> {
      const ids: string[] = [];
      let nextToken: string | null = null;
      do {
        const page: { status: number; body: { items: RequestBody[]; nextToken: string | null } } = await call(
          user,
          'GET',
          '/v1/requests',
          undefined,
          { limit: '100', ...(nextToken ? { nextToken } : {}) },
        );
        expect(page.status).toBe(200);
        ids.push(...page.body.items.map((item) => item.id));
        nextToken = page.body.nextToken;
      } while (nextToken);
      return ids.sort();
    }

    it('a lone surrogate in body.reason: 400 naming body.reason, nothing written; the next request is fine', async () => {
      // Prepare
      const systemBefore = await auditLog.readChain('system');
      const auditBefore = await itemCount(world.tables.audit);
      const accessBefore = await itemCount(world.tables.access);
      const requestsBefore = await requestIdsOf('alice');

      // Act
      const answer = await call<RequestBody>('alice', 'POST', '/v1/requests', {
        entitlementId: 'dev-readonly',
        accountId: DEV_ACCOUNT,
        duration: 'PT1H',
        reason: '\ud800',
      });

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.body.error?.code).toBe('VALIDATION_FAILED');
      expect(answer.body.error?.message).toBe('body.reason: not well-formed Unicode (lone surrogate U+D800)');
      expect(await auditLog.readChain('system')).toHaveLength(systemBefore.length);
      expect(await itemCount(world.tables.audit)).toBe(auditBefore);
      expect(await itemCount(world.tables.access)).toBe(accessBefore);
      expect(await requestIdsOf('alice')).toEqual(requestsBefore);

      // Act: the same user, the same request with a clean reason
      const created = await openDevRequest();

      // Assess
      expect(created.status).toBe('PENDING');
      expect(await requestIdsOf('alice')).toEqual([...requestsBefore, created.id].sort());
      expect(verifyChain(await chainOf(created.id))).toMatchObject({ ok: true });
    });

    it('a lone surrogate in an object key of the body: 400, the key not repeated', async () => {
      const auditBefore = await itemCount(world.tables.audit);
      const answer = await call<RequestBody>('alice', 'POST', '/v1/requests', {
        entitlementId: 'dev-readonly',
        accountId: DEV_ACCOUNT,
        reason: 'debug a failing deploy',
        'x\udc00': 'surprise',
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error?.code).toBe('VALIDATION_FAILED');
      expect(answer.body.error?.message).toBe(
        'body: object key: not well-formed Unicode (lone surrogate U+DC00)',
      );
      expect(await itemCount(world.tables.audit)).toBe(auditBefore);
    });

    it('a control character in a decision comment: 400 naming body.comment, the request unchanged', async () => {
      const request = await openProdRequest();
      const answer = await call<RequestBody>('bob', 'POST', `/v1/requests/${request.id}/approve`, {
        comment: 'ok\r\u001b[2J',
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toEqual({
        code: 'VALIDATION_FAILED',
        message: 'body.comment: control character U+000D not allowed',
      });
      const after = await call<RequestBody>('alice', 'GET', `/v1/requests/${request.id}`);
      expect(after.body).toMatchObject({ status: 'PENDING', version: request.version, approvals: [] });
      expect((await chainOf(request.id)).map((event) => event.type)).toEqual(['request.created']);
    });

    it('a control character in a query parameter: 400 naming query.nextToken', async () => {
      const answer = await call<RequestBody>('alice', 'GET', '/v1/requests', undefined, {
        nextToken: 'abc\u0007def',
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toEqual({
        code: 'VALIDATION_FAILED',
        message: 'query.nextToken: control character U+0007 not allowed',
      });
    });

    it('a control character in a path parameter: 400 naming path.id', async () => {
      const answer = await call<RequestBody>('alice', 'GET', '/v1/requests/%7F');
      expect(answer.status).toBe(400);
      expect(answer.body.error).toEqual({
        code: 'VALIDATION_FAILED',
        message: 'path.id: control character U+007F not allowed',
      });
    });
  });

  it('refuses a caller that is not a PamRequester session with 401 and no detail', async () => {
    const { handler } = await import('../../functions/handle-api/handler.ts');
    const { apiEvent, lambdaContext } = await import('../support/pam-world.ts');
    const event = apiEvent(world.accountId, 'alice', 'GET', '/v1/requests');
    const forged = {
      ...event,
      requestContext: {
        ...event.requestContext,
        identity: {
          ...event.requestContext.identity,
          userArn: `arn:aws:sts::${world.accountId}:assumed-role/AWSReservedSSO_AdministratorAccess_0a1b2c3d/alice`,
        },
      },
    };
    const result = await (
      handler as never as (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }>
    )(forged, lambdaContext);
    expect(result.statusCode).toBe(401);
    const body = JSON.parse(result.body) as ApiAnswer['body'] & { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNAUTHENTICATED');
    expect(body.error.message).not.toContain('AdministratorAccess');
  });
});

describe('break-glass', () => {
  it('is approved at once for a break-glass member, flagged, and reviewed by someone else', async () => {
    const activated = await call<RequestBody & { breakGlass: { reviewStatus: string } }>(
      'bob',
      'POST',
      '/v1/break-glass',
      {
        entitlementId: 'prod-admin',
        accountId: PROD_ACCOUNT,
        reason: 'production is down',
        ticket: 'OPS-9',
      },
    );
    expect(activated.status).toBe(201);
    expect(activated.body.status).toBe('APPROVED');
    expect(activated.body.breakGlass.reviewStatus).toBe('REVIEW_REQUIRED');

    const selfReview = await call<RequestBody>('bob', 'POST', `/v1/requests/${activated.body.id}/review`, {});
    expect(selfReview.body.error?.code).toBe('SELF_APPROVAL');
    const review = await call<RequestBody & { breakGlass: { reviewStatus: string } }>(
      'carol',
      'POST',
      `/v1/requests/${activated.body.id}/review`,
      { comment: 'justified' },
    );
    expect(review.status).toBe(200);
    expect(review.body.breakGlass.reviewStatus).toBe('REVIEWED');
  });

  it('is refused to someone outside the break-glass groups', async () => {
    const answer = await call<RequestBody>('alice', 'POST', '/v1/break-glass', {
      entitlementId: 'prod-admin',
      accountId: PROD_ACCOUNT,
      reason: 'I want in',
      ticket: 'OPS-9',
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error?.code).toBe('NOT_BREAK_GLASS');
  });
});
