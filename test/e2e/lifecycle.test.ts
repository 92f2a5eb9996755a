// The product end to end on the local runtime, driven only through the `pam` CLI and HTTP, checked
// in moto: a 2-of-2 request from request to expiry, an extension approved just before expiry, a revoke
// (assignment gone, live sessions denied until they expire), a
// break-glass activation, and the three commands `make start` prints, run verbatim.
// Moto deviations worked around (docs/local-runtime.md): assignments are instant; schedules never
// fire (the runtime fires them on its clock); the API's resource policy is not evaluated (the local
// gateway supplies the PamRequester identity of the demo user named with --as).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DynamoDBClient, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { requestKey } from '#adapters/aws/tables.ts';
import { requestChainId } from '#domain/audit-types.ts';
import { TRY_COMMANDS } from '../../local/start.ts';
import { perFile } from '../support/per-file.ts';
import { bootE2e } from './support.ts';

interface RequestJson {
  id: string;
  status: string;
  approvals: unknown[];
  grant: { expiresAt: string; grantVersion: number } | null;
  breakGlass: { reviewStatus: string } | null;
}

const PROD = '444444444444';
const DEV = '333333333333';
const e2e = perFile(bootE2e, (booted) => booted.stop());

describe('a 2-of-2 privileged request, from request to expiry', () => {
  it('needs both approvers, becomes ACTIVE with the assignment in moto, and expires when the clock passes its end', async () => {
    // Prepare: bob (cloud-ops) asks for prod-admin, which needs one cloud-ops and one admin approval.
    const created = await e2e.pam(
      'request',
      'prod-admin',
      '--account',
      PROD,
      '--for',
      '1h',
      '--reason',
      'rotate the prod KMS key',
      '--ticket',
      'OPS-42',
      '--as',
      'bob',
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    const { id } = created.json<RequestJson>();
    expect(created.json<RequestJson>().status).toBe('PENDING');

    // Act + assess: bob cannot approve his own request (refused: exit 1, one line, the code).
    const self = await e2e.pam('approve', id, '--as', 'bob');
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/SELF_APPROVAL/);
    expect(self.stderr.trim().split('\n')).toHaveLength(1);

    // Act: carol (cloud-ops) approves: one of two.
    const first = await e2e.pam('approve', id, '--as', 'carol', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(first.json<RequestJson>()).toMatchObject({ status: 'PENDING' });
    expect(first.json<RequestJson>().approvals).toHaveLength(1);

    // Act: dave (admin) approves: two of two; then the grant engine runs.
    const second = await e2e.pam('approve', id, '--as', 'dave', '--json');
    expect(second.code, second.stderr).toBe(0);
    expect(second.json<RequestJson>().status).toBe('APPROVED');
    await e2e.settle();

    // Assess: ACTIVE, and the assignment exists in moto's Identity Center.
    const active = (await e2e.pam('show', id, '--as', 'bob', '--json')).json<RequestJson>();
    expect(active.status).toBe('ACTIVE');
    expect(await e2e.assignments(PROD, 'PamProdAdmin')).toContain(e2e.userId('bob'));

    // Act: two hours later (the expiry schedule fires on the local clock).
    const advanced = await e2e.pam('local', 'clock', 'advance', '2h', '--json');
    expect(advanced.code, advanced.stderr).toBe(0);
    expect(advanced.json<{ fired: { schedules: number } }>().fired.schedules).toBeGreaterThanOrEqual(1);

    // Assess: EXPIRED, the assignment gone from moto, and every audit chain verifies.
    const ended = (await e2e.pam('show', id, '--as', 'bob', '--json')).json<RequestJson>();
    expect(ended.status).toBe('EXPIRED');
    expect(await e2e.assignments(PROD, 'PamProdAdmin')).not.toContain(e2e.userId('bob'));
    const events = (await e2e.auditEvents(requestChainId(id))).map((event) => event.type);
    expect(events).toEqual(expect.arrayContaining(['request.created', 'request.approved']));
    const verify = await e2e.pam('audit', 'verify');
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^audit verify: OK/);
  });
});

describe('an extension approved just before expiry', () => {
  it('keeps the access past the original end, then ends it at the new one', async () => {
    // Prepare: alice gets dev-readonly for 1h.
    const created = await e2e.pam(
      'request',
      'dev-readonly',
      '--account',
      DEV,
      '--for',
      '1h',
      '--reason',
      'debug a failing deploy',
      '--as',
      'alice',
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    const { id } = created.json<RequestJson>();
    expect((await e2e.pam('approve', id, '--as', 'bob')).code).toBe(0);
    await e2e.settle();
    const active = (await e2e.pam('show', id, '--as', 'alice', '--json')).json<RequestJson>();
    expect(active.status).toBe('ACTIVE');
    const firstEnd = Date.parse(active.grant?.expiresAt ?? '');

    // Act: 58 minutes in, alice asks for one more hour and bob approves it.
    expect((await e2e.pam('local', 'clock', 'advance', '58m')).code).toBe(0);
    const extend = await e2e.pam(
      'extend',
      id,
      '--by',
      '1h',
      '--reason',
      'still debugging',
      '--as',
      'alice',
      '--json',
    );
    expect(extend.code, extend.stderr).toBe(0);
    expect(extend.json<RequestJson>().status).toBe('EXTENSION_PENDING');
    const approved = await e2e.pam('approve', id, '--as', 'bob', '--json');
    expect(approved.code, approved.stderr).toBe(0);
    await e2e.settle();
    const extended = (await e2e.pam('show', id, '--as', 'alice', '--json')).json<RequestJson>();
    expect(extended.status).toBe('ACTIVE');
    expect(Date.parse(extended.grant?.expiresAt ?? '')).toBe(firstEnd + 60 * 60_000);

    // Act: past the original end (its schedule is due and is delivered).
    expect((await e2e.pam('local', 'clock', 'advance', '10m')).code).toBe(0);

    // Assess: still ACTIVE, assignment still there.
    expect((await e2e.pam('show', id, '--as', 'alice', '--json')).json<RequestJson>().status).toBe('ACTIVE');
    expect(await e2e.assignments(DEV, 'PamDevReadOnly')).toContain(e2e.userId('alice'));

    // Act + assess: past the new end it expires and the assignment goes.
    expect((await e2e.pam('local', 'clock', 'advance', '1h')).code).toBe(0);
    expect((await e2e.pam('show', id, '--as', 'alice', '--json')).json<RequestJson>().status).toBe('EXPIRED');
    expect(await e2e.assignments(DEV, 'PamDevReadOnly')).not.toContain(e2e.userId('alice'));
  });
});

describe('a revoke', () => {
  it('ends access at once, denies sessions already issued, and lifts that deny once they have expired', async () => {
    // Prepare: erin holds dev-readonly.
    const created = await e2e.pam(
      'request',
      'dev-readonly',
      '--account',
      DEV,
      '--for',
      '2h',
      '--reason',
      'look at a queue',
      '--as',
      'erin',
      '--json',
    );
    const { id } = created.json<RequestJson>();
    expect((await e2e.pam('approve', id, '--as', 'carol')).code).toBe(0);
    await e2e.settle();
    expect(await e2e.assignments(DEV, 'PamDevReadOnly')).toContain(e2e.userId('erin'));

    // Act: carol (an approver) revokes it.
    const revoked = await e2e.pam('revoke', id, '--comment', 'wrong account', '--as', 'carol', '--json');
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.json<RequestJson>().status).toBe('REVOKED');
    await e2e.settle();

    // Assess: the assignment is gone and the permission set denies erin's live sessions.
    expect(await e2e.assignments(DEV, 'PamDevReadOnly')).not.toContain(e2e.userId('erin'));
    const denies =
      (await e2e.inlinePolicy('PamDevReadOnly'))?.Statement.filter((s) => s.Effect === 'Deny') ?? [];
    expect(denies).toHaveLength(1);

    // Act + assess: sessions last at most an hour; after that the deny is swept.
    expect((await e2e.pam('local', 'clock', 'advance', '90m')).code).toBe(0);
    const after =
      (await e2e.inlinePolicy('PamDevReadOnly'))?.Statement.filter((s) => s.Effect === 'Deny') ?? [];
    expect(after).toEqual([]);
  });
});

describe('break-glass', () => {
  it('is ACTIVE at once, without approvals, and flagged for review', async () => {
    // Act: carol (cloud-ops, allowed to break glass on prod-admin).
    const opened = await e2e.pam(
      'break-glass',
      'prod-admin',
      '--account',
      PROD,
      '--reason',
      'prod is down, on-call needs admin',
      '--ticket',
      'OPS-7',
      '--for',
      '30m',
      '--as',
      'carol',
      '--json',
    );
    expect(opened.code, opened.stderr).toBe(0);
    const { id } = opened.json<RequestJson>();
    await e2e.settle();

    // Assess
    const active = (await e2e.pam('show', id, '--as', 'carol', '--json')).json<RequestJson>();
    expect(active.status).toBe('ACTIVE');
    expect(active.approvals).toEqual([]);
    expect(active.breakGlass?.reviewStatus).toBe('REVIEW_REQUIRED');
    expect(await e2e.assignments(PROD, 'PamProdAdmin')).toContain(e2e.userId('carol'));
    // An engineer may not break glass: refused by policy.
    const refused = await e2e.pam(
      'break-glass',
      'prod-admin',
      '--account',
      PROD,
      '--reason',
      'curious',
      '--ticket',
      'OPS-8',
      '--as',
      'alice',
    );
    expect(refused.code).toBe(1);
  });
});

describe('a scheduled start', () => {
  it('request --start-at +30m, approve, advance the clock 31m: ACTIVE with its assignment in moto', async () => {
    // Prepare: erin (an engineer) asks for dev-readonly from 30 minutes on.
    const startAt = new Date(e2e.runtime.clock.nowMs() + 30 * 60_000).toISOString();
    const created = await e2e.pam(
      'request',
      'dev-readonly',
      '--account',
      DEV,
      '--for',
      '1h',
      '--reason',
      'maintenance window',
      '--start-at',
      startAt,
      '--as',
      'erin',
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    const { id } = created.json<RequestJson>();
    expect((await e2e.pam('approve', id, '--as', 'bob')).code).toBe(0);
    await e2e.settle();
    expect((await e2e.pam('show', id, '--as', 'erin', '--json')).json<RequestJson>().status).toBe(
      'SCHEDULED',
    );
    expect(await e2e.assignments(DEV, 'PamDevReadOnly')).not.toContain(e2e.userId('erin'));

    // Act
    const advanced = await e2e.pam('local', 'clock', 'advance', '31m');
    expect(advanced.code, advanced.stderr).toBe(0);

    // Assess
    expect((await e2e.pam('show', id, '--as', 'erin', '--json')).json<RequestJson>().status).toBe('ACTIVE');
    expect(await e2e.assignments(DEV, 'PamDevReadOnly')).toContain(e2e.userId('erin'));
  });
});

describe('a hostile string', () => {
  it('a lone surrogate in a reason is a 400 naming the field, and the next request still activates', async () => {
    // Act: straight to the gateway (a shell cannot pass a lone surrogate to the CLI).
    const response = await fetch(`${e2e.runtime.apiUrl}/v1/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pam-local-user': 'alice' },
      body: JSON.stringify({
        entitlementId: 'dev-readonly',
        accountId: DEV,
        duration: 'PT1H',
        reason: '\ud800',
      }),
    });

    // Assess
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { code: string; message: string } };
    expect(answer.error.code).toBe('VALIDATION_FAILED');
    expect(answer.error.message).toContain('body.reason');
    const next = await e2e.pam(
      'request',
      'dev-readonly',
      '--account',
      DEV,
      '--for',
      '1h',
      '--reason',
      'after the hostile one',
      '--as',
      'alice',
      '--json',
    );
    expect(next.code, next.stderr).toBe(0);
    const { id } = next.json<RequestJson>();
    expect((await e2e.pam('approve', id, '--as', 'bob')).code).toBe(0);
    await e2e.settle();
    expect((await e2e.pam('show', id, '--as', 'alice', '--json')).json<RequestJson>().status).toBe('ACTIVE');
  });
});

describe('the commands `make start` prints', () => {
  it('work verbatim against the running runtime', async () => {
    // Asynchronously: the runtime answers from this very process.
    const run = promisify(execFile);
    const outputs: string[] = [];
    for (const command of TRY_COMMANDS) {
      const result = await run('sh', ['-c', command], {
        encoding: 'utf8',
        env: { ...process.env, PAM_LOCAL_FILE: e2e.runtime.localFile, PAM_USER: '' },
        timeout: 60_000,
      });
      expect(result.stderr, command).toBe('');
      outputs.push(result.stdout);
    }
    expect(outputs[0]).toMatch(/dev-readonly/);
    expect(outputs[1]).toMatch(/PENDING/);
    // bob sees alice's request among those awaiting his approval.
    const id = /\b([0-9A-HJKMNP-TV-Z]{26})\b/.exec(outputs[1] ?? '')?.[1];
    expect(id).toBeDefined();
    expect(outputs[2]).toContain(id);
    // Every state this suite produced so far verifies: links and meaning.
    const verify = await e2e.pam('audit', 'verify');
    expect(verify.code, verify.stdout).toBe(0);
  });
});

describe('a direct write to the access table', () => {
  it('status = APPROVED written on a PENDING request with any AWS client provisions nothing, and audit verify names it', async () => {
    // Prepare: erin asks; nobody approves.
    const created = await e2e.pam(
      'request',
      'dev-readonly',
      '--account',
      DEV,
      '--for',
      '1h',
      '--reason',
      'nobody will approve this',
      '--as',
      'erin',
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    const { id } = created.json<RequestJson>();

    // Act: an insider flips it with a plain AWS client at the printed endpoint.
    const anyone = new DynamoDBClient({
      endpoint: e2e.runtime.awsEndpoint,
      region: e2e.runtime.region,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    await anyone.send(
      new UpdateItemCommand({
        TableName: e2e.runtime.tables.access,
        Key: { pk: { S: requestKey(id).pk }, sk: { S: requestKey(id).sk } },
        UpdateExpression: 'SET #s = :approved',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':approved': { S: 'APPROVED' } },
      }),
    );
    anyone.destroy();
    await e2e.settle();
    await e2e.pam('local', 'clock', 'advance', '10m');

    // Assess: it never went further (no provisioning, no assignment made for it), and verify fails.
    const after = (await e2e.pam('show', id, '--as', 'erin', '--json')).json<RequestJson>();
    expect(after.status).toBe('APPROVED');
    expect((await e2e.auditEvents(requestChainId(id))).map((event) => event.type)).toEqual([
      'request.created',
    ]);
    const verify = await e2e.pam('audit', 'verify');
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(id);
  });
});

describe('each function runs as its own synthesized role, with IAM enforced', () => {
  it('refuses a call the role’s template policies do not allow, and allows one they do', async () => {
    // Prepare: the credentials reconcile runs with (it may read the access table, never write it).
    const reconcile = e2e.runtime.functionCredentials.get('reconcile');
    expect(reconcile).toBeDefined();
    const asReconcile = new DynamoDBClient({
      endpoint: e2e.runtime.awsEndpoint,
      region: e2e.runtime.region,
      credentials: reconcile as NonNullable<typeof reconcile>,
      maxAttempts: 1,
    });
    // The HTTP status moto answered with, read before the client parses the body.
    let lastStatus: number | undefined;
    asReconcile.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        lastStatus = (result.response as { statusCode?: number }).statusCode;
        return result;
      },
      { step: 'deserialize', priority: 'low', name: 'rawStatus' },
    );

    // Act
    const read = await asReconcile
      .send(
        new QueryCommand({
          TableName: e2e.runtime.tables.access,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: requestKey('none').pk } },
        }),
      )
      .then(
        () => 'allowed',
        (error: Error) => error.name,
      );
    const write = await asReconcile
      .send(
        new PutItemCommand({
          TableName: e2e.runtime.tables.access,
          Item: { pk: { S: requestKey('forged').pk }, sk: { S: requestKey('forged').sk } },
        }),
      )
      .then(
        () => 'allowed',
        () => lastStatus,
      );
    asReconcile.destroy();

    // Assess: moto answers a refused call with IAM's 403 AccessDenied (in IAM's XML, which the
    // DynamoDB client cannot parse: the call fails either way, as the function would in AWS).
    expect(read).toBe('allowed');
    expect(write).toBe(403);
  });
});
