// `pam audit verify` against moto, end to end in local mode: a local.json names moto as the AWS
// endpoint with an access key of this file's moto account (that is how moto attributes the calls),
// the real DynamoAuditLog writes sealed events, and the CLI reads the table back on its own.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteItemCommand, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { monotonicFactory } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/aws/dynamo-audit-log.ts';
import { type AuditDraft, requestChainId } from '#domain/audit-types.ts';
import { defaultDeps } from '../../cli/context.ts';
import { runCliWith } from '../support/cli-run.ts';
import { MOTO_REGION, motoClient, motoEndpoint, testAccountId } from '../support/moto.ts';
import { createTables, testTableNames } from '../support/tables.ts';

const accountId = testAccountId();
const dynamo = motoClient(DynamoDBClient, accountId);
const ulid = monotonicFactory();
let localFile: string;
let secretAccessKey: string;

function run(argv: string[], env: Record<string, string> = {}) {
  return runCliWith(defaultDeps, argv, { env: { PAM_LOCAL_FILE: localFile, ...env }, cwd: tmpdir() });
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
  return { table: names.audit, requestChain };
}

beforeAll(async () => {
  const iam = motoClient(IAMClient, accountId);
  await iam.send(new CreateUserCommand({ UserName: 'pam-cli' }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'pam-cli' }));
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error('moto returned no access key');
  secretAccessKey = AccessKey.SecretAccessKey;
  const dir = mkdtempSync(path.join(tmpdir(), 'pam-cli-audit-'));
  mkdirSync(path.join(dir, '.pam'));
  localFile = path.join(dir, '.pam', 'local.json');
  writeFileSync(
    localFile,
    JSON.stringify({
      apiUrl: 'http://127.0.0.1:9',
      awsEndpoint: motoEndpoint(),
      region: MOTO_REGION,
      hubAccountId: accountId,
      credentials: { accessKeyId: AccessKey.AccessKeyId, secretAccessKey },
      accessTableName: 'unused-access',
      auditTableName: 'unused-audit',
      users: ['alice', 'bob'],
      pid: process.pid,
      startedAt: new Date().toISOString(),
    }),
  );
});

describe('pam audit verify (moto)', () => {
  it('every chain verifies: exit 0 and the OK line', async () => {
    // Prepare
    const { table } = await seededTable('cli-ok');
    // Act
    const result = await run(['audit', 'verify', '--table', table]);
    // Assess
    expect(result).toEqual({ code: 0, stdout: 'audit verify: OK — 3 chains, 6 events\n', stderr: '' });
  });

  it('takes the table from PAM_AUDIT_TABLE, and --chain checks one chain', async () => {
    const { table, requestChain } = await seededTable('cli-env');
    const all = await run(['audit', 'verify'], { PAM_AUDIT_TABLE: table });
    const one = await run(['audit', 'verify', '--chain', requestChain], { PAM_AUDIT_TABLE: table });
    expect(all.stdout).toBe('audit verify: OK — 3 chains, 6 events\n');
    expect(one).toEqual({ code: 0, stdout: 'audit verify: OK — 1 chain, 3 events\n', stderr: '' });
  });

  it('an edited event breaks its chain: exit 1 naming the chain, the seq and the reason', async () => {
    // Prepare
    const { table, requestChain } = await seededTable('cli-tamper');
    await dynamo.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { chainId: { S: requestChain }, seq: { N: '2' } },
        UpdateExpression: 'SET #actor = :actor',
        ExpressionAttributeNames: { '#actor': 'actorId' },
        ExpressionAttributeValues: { ':actor': { S: 'user-mallory' } },
      }),
    );
    // Act
    const result = await run(['audit', 'verify', '--table', table]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      `audit verify: BROKEN ${requestChain} at seq 2: hash does not match the event\n`,
    );
    expect(result.stderr).toBe('pam: audit verify failed: 1 of 3 chains broken\n');
  });

  it('an event removed from the end is caught by the stored head (and --json reports it)', async () => {
    // Prepare
    const { table } = await seededTable('cli-truncate');
    await dynamo.send(
      new DeleteItemCommand({ TableName: table, Key: { chainId: { S: 'system' }, seq: { N: '2' } } }),
    );
    // Act
    const result = await run(['audit', 'verify', '--table', table, '--json']);
    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      chains: 3,
      events: 5,
      broken: [{ chainId: 'system', seq: 2, reason: 'chain ends at seq 1, the head says seq 2' }],
    });
  });

  it('an unknown chain or table is not a pass', async () => {
    const { table } = await seededTable('cli-missing');
    const chain = await run(['audit', 'verify', '--table', table, '--chain', 'request#nope']);
    expect(chain.code).toBe(1);
    expect(chain.stdout).toContain('audit verify: BROKEN request#nope at seq 0: no such chain');
    const missing = await run(['audit', 'verify', '--table', 'no-such-table']);
    expect(missing).toEqual({ code: 2, stdout: '', stderr: 'pam: audit table no-such-table not found\n' });
  });

  it('never prints the local credentials', async () => {
    const { table } = await seededTable('cli-secret');
    const results = [
      await run(['audit', 'verify', '--table', table]),
      await run(['audit', 'verify', '--table', 'x']),
    ];
    for (const result of results) expect(result.stdout + result.stderr).not.toContain(secretAccessKey);
  });
});
