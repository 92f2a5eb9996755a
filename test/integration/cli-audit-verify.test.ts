// `pam audit verify` against moto, end to end in local mode: a local.json names moto as the AWS
// endpoint with an access key of this file's moto account (that is how moto attributes the calls),
// the real DynamoAuditLog writes sealed events, and the CLI reads the table back on its own. Valid
// requests are made by the real use cases on the real DynamoAccessStore (request and events in one
// transaction); tampering is one direct write to the access table, as an attacker would make it.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteItemCommand, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/aws/audit-chain-writes.ts';
import { DynamoAccessStore } from '#adapters/aws/dynamo-access-store.ts';
import { DynamoAuditLog } from '#adapters/aws/dynamo-audit-log.ts';
import { ACCESS_KEY_PREFIX, requestKey, type TableNames } from '#adapters/aws/tables.ts';
import type { CoreDeps } from '#app/deps.ts';
import {
  makeActivateBreakGlass,
  makeApplySystemCommand,
  makeCreateRequest,
  makeDecideRequest,
} from '#app/requests.ts';
import { type AuditDraft, requestChainId } from '#domain/audit-types.ts';
import type { AccessRequest } from '#domain/model.ts';
import { defaultDeps } from '../../cli/context.ts';
import { runCliWith } from '../support/cli-run.ts';
import {
  ACCOUNTS,
  FakeClock,
  fixtureCatalog,
  fixtureUsers,
  InMemoryDirectory,
  PROD_ADMIN,
  READ_ONLY,
  SANDBOX,
  U,
  VALID_JUSTIFICATION,
} from '../support/fakes.ts';
import { MOTO_REGION, motoClient, motoEndpoint, testAccountId } from '../support/moto.ts';
import { createTables, testTableNames } from '../support/tables.ts';

const accountId = testAccountId();
const dynamo = motoClient(DynamoDBClient, accountId);
const doc = documentClient(dynamo);
const ulid = monotonicFactory();
let localFile: string;
let accessKeyId: string;
let secretAccessKey: string;

function run(argv: string[], env: Record<string, string> = {}) {
  return runCliWith(defaultDeps, argv, { env: { PAM_LOCAL_FILE: localFile, ...env }, cwd: tmpdir() });
}

/** Both tables named by flag. */
function tableFlags(names: TableNames): string[] {
  return ['--table', names.audit, '--access-table', names.access];
}

/** A local.json naming moto with this file's access key, and these tables. */
function writeLocalFile(names: { access: string; audit: string }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pam-cli-audit-'));
  mkdirSync(path.join(dir, '.pam'));
  const file = path.join(dir, '.pam', 'local.json');
  writeFileSync(
    file,
    JSON.stringify({
      apiUrl: 'http://127.0.0.1:9',
      awsEndpoint: motoEndpoint(),
      region: MOTO_REGION,
      hubAccountId: accountId,
      credentials: { accessKeyId, secretAccessKey },
      accessTableName: names.access,
      auditTableName: names.audit,
      users: ['alice', 'bob'],
      pid: process.pid,
      startedAt: new Date().toISOString(),
    }),
  );
  return file;
}

function draft(chainId: string, overrides: Partial<AuditDraft> = {}): AuditDraft {
  return {
    chainId,
    at: new Date().toISOString(),
    type: 'request.created',
    actorId: 'user-alice',
    accountId: '444444444444',
    details: { note: 'cli integration' },
    ...overrides,
  };
}

/** Fresh tables with three chains: a request (3 events), `system` (2) and `drift` (1). */
async function seededTable(prefix: string) {
  const names = testTableNames(prefix);
  await createTables(dynamo, names);
  const log = new DynamoAuditLog({ client: dynamo, auditTable: names.audit, ids: { next: () => ulid() } });
  const requestChain = requestChainId(ulid());
  await log.append(draft(requestChain, { reason: 'rotate the certificate' }));
  await log.append(draft(requestChain, { type: 'request.approved', actorId: 'user-bob' }));
  await log.append(draft(requestChain, { type: 'grant.activated', actorId: 'system' }));
  await log.append(draft('system', { type: 'request.rejected', details: { code: 'NOT_ELIGIBLE' } }));
  await log.append(draft('system', { type: 'system.rejected' }));
  await log.append(draft('drift', { type: 'drift.detected' }));
  return { names, table: names.audit, requestChain };
}

const HOUR = 3_600_000;

/**
 * Fresh tables and the request core over them: the real use cases (the ones handle-api and the
 * commands worker call) on DynamoAccessStore and DynamoAuditLog, with the unit tests' fixture
 * directory and entitlements (read-only 1 of 1, prod-admin 2 of 2 with break-glass, sandbox auto).
 */
async function requestCore(prefix: string) {
  const names = testTableNames(prefix);
  await createTables(dynamo, names);
  const ids = { next: () => ulid() };
  const deps: CoreDeps = {
    store: new DynamoAccessStore({ client: dynamo, accessTable: names.access, auditTable: names.audit, ids }),
    audit: new DynamoAuditLog({ client: dynamo, auditTable: names.audit, ids }),
    directory: new InMemoryDirectory(fixtureUsers()),
    catalog: fixtureCatalog(),
    clock: new FakeClock(),
    ids,
  };
  const create = makeCreateRequest(deps);
  const decide = makeDecideRequest(deps);
  const system = makeApplySystemCommand(deps);
  const breakGlass = makeActivateBreakGlass(deps);
  const open = (entitlementId: string) =>
    create({ actorId: U.eve, entitlementId, accountId: ACCOUNTS.dev, ...VALID_JUSTIFICATION });
  const approve = (request: AccessRequest) =>
    decide({ action: 'approve', actorId: U.alice, requestId: request.id });
  const activate = async (request: AccessRequest) => {
    await system(request.id, { type: 'start-provisioning' });
    return (await system(request.id, { type: 'activate' })).request;
  };
  return {
    names,
    /** PENDING, read-only (1 of 1). */
    pending: () => open(READ_ONLY),
    /** APPROVED by its one approver. */
    approved: async () => approve(await open(READ_ONLY)),
    /** APPROVED at once (sandbox auto-approves). */
    autoApproved: () => open(SANDBOX),
    /** A break-glass activation of prod-admin, provisioned and ACTIVE. */
    breakGlass: async () =>
      activate(
        await breakGlass({
          actorId: U.eve,
          entitlementId: PROD_ADMIN,
          accountId: ACCOUNTS.dev,
          ...VALID_JUSTIFICATION,
        }),
      ),
    /** ACTIVE, then extended by an hour and the extension approved (grantVersion 2). */
    extended: async () => {
      const active = await activate(await approve(await open(READ_ONLY)));
      await decide({
        action: 'extend',
        actorId: U.eve,
        requestId: active.id,
        additionalMs: HOUR,
        reason: 'still digging',
      });
      return approve(active);
    },
  };
}

/** The record as stored (keys included), read back consistently. */
async function storedRecord(names: TableNames, requestId: string): Promise<Record<string, unknown>> {
  const { Item } = await doc.send(
    new GetCommand({
      TableName: names.access,
      Key: requestKey(requestId),
      ConsistentRead: true,
    }),
  );
  if (!Item) throw new Error(`no record ${requestId}`);
  return Item;
}

beforeAll(async () => {
  const iam = motoClient(IAMClient, accountId);
  await iam.send(new CreateUserCommand({ UserName: 'pam-cli' }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'pam-cli' }));
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error('moto returned no access key');
  accessKeyId = AccessKey.AccessKeyId;
  secretAccessKey = AccessKey.SecretAccessKey;
  localFile = writeLocalFile({ access: 'unused-access', audit: 'unused-audit' });
});

describe('pam audit verify (moto): links', () => {
  it('every chain verifies: exit 0 and the OK line', async () => {
    // Prepare
    const { names } = await seededTable('cli-ok');
    // Act
    const result = await run(['audit', 'verify', ...tableFlags(names)]);
    // Assess
    expect(result).toEqual({
      code: 0,
      stdout: 'audit verify: OK — 3 chains, 6 events, 0 requests\n',
      stderr: '',
    });
  });

  it('takes the tables from PAM_AUDIT_TABLE and PAM_ACCESS_TABLE, and --chain checks one chain', async () => {
    const { names, requestChain } = await seededTable('cli-env');
    const env = { PAM_AUDIT_TABLE: names.audit, PAM_ACCESS_TABLE: names.access };
    const all = await run(['audit', 'verify'], env);
    const one = await run(['audit', 'verify', '--chain', requestChain], env);
    expect(all.stdout).toBe('audit verify: OK — 3 chains, 6 events, 0 requests\n');
    expect(one).toEqual({
      code: 0,
      stdout: 'audit verify: OK — 1 chain, 3 events, 0 requests\n',
      stderr: '',
    });
  });

  it('takes the tables from local.json (accessTableName, auditTableName)', async () => {
    const { names } = await seededTable('cli-local');
    const result = await run(['audit', 'verify'], { PAM_LOCAL_FILE: writeLocalFile(names) });
    expect(result).toEqual({
      code: 0,
      stdout: 'audit verify: OK — 3 chains, 6 events, 0 requests\n',
      stderr: '',
    });
  });

  it('an edited event breaks its chain: exit 1 naming the chain, the seq and the reason', async () => {
    // Prepare
    const { names, requestChain } = await seededTable('cli-tamper');
    await dynamo.send(
      new UpdateItemCommand({
        TableName: names.audit,
        Key: { chainId: { S: requestChain }, seq: { N: '2' } },
        UpdateExpression: 'SET #actor = :actor',
        ExpressionAttributeNames: { '#actor': 'actorId' },
        ExpressionAttributeValues: { ':actor': { S: 'user-mallory' } },
      }),
    );
    // Act
    const result = await run(['audit', 'verify', ...tableFlags(names)]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      `audit verify: BROKEN ${requestChain} at seq 2: hash does not match the event\n`,
    );
    expect(result.stderr).toBe('pam: audit verify failed: 1 of 3 chains broken\n');
  });

  it('an event removed from the end is caught by the stored head (and --json reports it)', async () => {
    // Prepare
    const { names } = await seededTable('cli-truncate');
    await dynamo.send(
      new DeleteItemCommand({ TableName: names.audit, Key: { chainId: { S: 'system' }, seq: { N: '2' } } }),
    );
    // Act
    const result = await run(['audit', 'verify', ...tableFlags(names), '--json']);
    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      chains: 3,
      events: 5,
      requests: 0,
      broken: [{ chainId: 'system', seq: 2, reason: 'chain ends at seq 1, the head says seq 2' }],
      unproven: [],
    });
  });

  it('an unknown chain or table is not a pass', async () => {
    const { names } = await seededTable('cli-missing');
    const chain = await run(['audit', 'verify', ...tableFlags(names), '--chain', 'request#nope']);
    expect(chain.code).toBe(1);
    expect(chain.stdout).toContain('audit verify: BROKEN request#nope at seq 0: no such chain');
    const missing = await run([
      'audit',
      'verify',
      '--table',
      'no-such-table',
      '--access-table',
      names.access,
    ]);
    expect(missing).toEqual({ code: 2, stdout: '', stderr: 'pam: audit table no-such-table not found\n' });
    const noAccess = await run([
      'audit',
      'verify',
      '--table',
      names.audit,
      '--access-table',
      'no-such-access',
    ]);
    expect(noAccess).toEqual({ code: 2, stdout: '', stderr: 'pam: access table no-such-access not found\n' });
  });

  it('never prints the local credentials', async () => {
    const { names } = await seededTable('cli-secret');
    const results = [
      await run(['audit', 'verify', ...tableFlags(names)]),
      await run(['audit', 'verify', '--table', 'x']),
      await run(['audit', 'verify', '--table', names.audit]),
    ];
    for (const result of results) expect(result.stdout + result.stderr).not.toContain(secretAccessKey);
  });
});

describe('pam audit verify (moto): every request record is proven by its chain', () => {
  it('valid requests pass: 1-of-1 approved, auto-approved, break-glass, ACTIVE with an approved extension', async () => {
    // Prepare
    const core = await requestCore('cli-valid');
    const pending = await core.pending();
    const approved = await core.approved();
    const auto = await core.autoApproved();
    const breakGlass = await core.breakGlass();
    const extended = await core.extended();
    expect([pending, approved, auto, breakGlass, extended].map((r) => r.status)).toEqual([
      'PENDING',
      'APPROVED',
      'APPROVED',
      'ACTIVE',
      'ACTIVE',
    ]);
    expect(extended.grant?.grantVersion).toBe(2);
    // The table's other items (tuple leases, drift sightings, deny records) are not requests.
    for (const pk of [
      `${ACCESS_KEY_PREFIX.tuple}u#333333333333#ps`,
      `${ACCESS_KEY_PREFIX.sighting}k`,
      `${ACCESS_KEY_PREFIX.deny}d`,
    ]) {
      await doc.send(
        new PutCommand({
          TableName: core.names.access,
          Item: { pk, sk: pk.split('#')[0], status: 'ACTIVE' },
        }),
      );
    }
    // Act
    const all = await run(['audit', 'verify', ...tableFlags(core.names)]);
    const one = await run([
      'audit',
      'verify',
      ...tableFlags(core.names),
      '--chain',
      requestChainId(extended.id),
    ]);
    // Assess: 1 + 2 + 2 + 3 + 6 events (created, approved, provisioning, activated, extension asked, approved).
    expect(all).toEqual({
      code: 0,
      stdout: 'audit verify: OK — 5 chains, 14 events, 5 requests\n',
      stderr: '',
    });
    expect(one).toEqual({ code: 0, stdout: 'audit verify: OK — 1 chain, 6 events, 1 request\n', stderr: '' });
  });

  it('a record flipped from PENDING to APPROVED by UpdateItem or PutItem, no event: exit 1 naming each', async () => {
    // Prepare: two pending requests and one approved the real way.
    const core = await requestCore('cli-flip');
    const updated = await core.pending();
    const put = await core.pending();
    const fine = await core.approved();
    await doc.send(
      new UpdateCommand({
        TableName: core.names.access,
        Key: requestKey(updated.id),
        UpdateExpression: 'SET #status = :approved',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':approved': 'APPROVED' },
      }),
    );
    // The whole record rewritten, with an approval by a real approver that never happened.
    const record = await storedRecord(core.names, put.id);
    const forgedApproval = {
      approverId: U.alice,
      at: new Date().toISOString(),
      personKeys: [`user:${U.alice}`],
    };
    await doc.send(
      new PutCommand({
        TableName: core.names.access,
        Item: {
          ...record,
          status: 'APPROVED',
          approvals: [forgedApproval],
          version: Number(record.version) + 1,
        },
      }),
    );
    // Act
    const result = await run(['audit', 'verify', ...tableFlags(core.names)]);
    const json = await run(['audit', 'verify', ...tableFlags(core.names), '--json']);
    const one = await run([
      'audit',
      'verify',
      ...tableFlags(core.names),
      '--chain',
      requestChainId(updated.id),
    ]);
    // Assess
    const reason = 'it is APPROVED but its chain proves 0 distinct approval(s) of 1 required';
    const forged = 'it lists approvals its chain does not record';
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [
        `audit verify: UNPROVEN request ${updated.id}: ${reason}`,
        `audit verify: UNPROVEN request ${put.id}: ${reason}; ${forged}`,
      ].sort(),
    );
    expect(result.stdout).not.toContain(fine.id);
    expect(result.stderr).toBe('pam: audit verify failed: 2 of 3 requests unproven\n');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      chains: 3,
      requests: 3,
      broken: [],
      unproven: expect.arrayContaining([
        { requestId: updated.id, reasons: [reason] },
        { requestId: put.id, reasons: [reason, forged] },
      ]),
    });
    expect(one).toEqual({
      code: 1,
      stdout: `audit verify: UNPROVEN request ${updated.id}: ${reason}\n`,
      stderr: 'pam: audit verify failed: 1 of 1 request unproven\n',
    });
  });

  it('a grant whose expiresAt was pushed later by a direct write: exit 1 naming it', async () => {
    // Prepare: an ACTIVE grant extended the real way, then pushed eight more hours by hand.
    const core = await requestCore('cli-push');
    const extended = await core.extended();
    const other = await core.breakGlass();
    const provenEnd = extended.grant?.expiresAt as string;
    const pushed = new Date(Date.parse(provenEnd) + 8 * HOUR).toISOString();
    await doc.send(
      new UpdateCommand({
        TableName: core.names.access,
        Key: requestKey(extended.id),
        UpdateExpression: 'SET #grant.#expiresAt = :pushed, #grant.#version = :version',
        ExpressionAttributeNames: {
          '#grant': 'grant',
          '#expiresAt': 'expiresAt',
          '#version': 'grantVersion',
        },
        ExpressionAttributeValues: { ':pushed': pushed, ':version': 3 },
      }),
    );
    // Act
    const result = await run(['audit', 'verify', ...tableFlags(core.names)]);
    // Assess
    expect(result).toEqual({
      code: 1,
      stdout:
        `audit verify: UNPROVEN request ${extended.id}: its grant ends at ${pushed} but the chain proves ` +
        `${provenEnd} (activation and approved extensions); its grant is version 3, the chain proves 2\n`,
      stderr: 'pam: audit verify failed: 1 of 2 requests unproven\n',
    });
    expect(result.stdout).not.toContain(other.id);
  });

  it('a request record with no chain at all: exit 1 naming it', async () => {
    // Prepare: a copy of a valid approved record under a new id, written directly.
    const core = await requestCore('cli-orphan');
    const approved = await core.approved();
    const orphanId = ulid();
    const record = await storedRecord(core.names, approved.id);
    await doc.send(
      new PutCommand({
        TableName: core.names.access,
        Item: { ...record, pk: requestKey(orphanId).pk, id: orphanId },
      }),
    );
    // Act
    const result = await run(['audit', 'verify', ...tableFlags(core.names)]);
    const one = await run([
      'audit',
      'verify',
      ...tableFlags(core.names),
      '--chain',
      requestChainId(orphanId),
    ]);
    // Assess
    expect(result).toEqual({
      code: 1,
      stdout: `audit verify: UNPROVEN request ${orphanId}: it has no audit chain (request#${orphanId} holds no event)\n`,
      stderr: 'pam: audit verify failed: 1 of 2 requests unproven\n',
    });
    expect(one.code).toBe(1);
    expect(one.stdout).toBe(
      `audit verify: BROKEN request#${orphanId} at seq 0: no such chain: the table holds no event and no head for it\n` +
        `audit verify: UNPROVEN request ${orphanId}: it has no audit chain (request#${orphanId} holds no event)\n`,
    );
    expect(one.stderr).toBe('pam: audit verify failed: 1 of 1 chain broken, 1 of 1 request unproven\n');
  });
});
