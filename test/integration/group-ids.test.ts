// Authorization follows the Identity Store group ids the config pins (identityCenter.groupIds), never a
// group's display name: end to end through the real handle-api handler in-process, as in v1-api.test.ts.
// Someone who may create or rename groups in the identity source (a SCIM admin, an IdP group owner)
// must not become an approver by naming a group `cloud-ops`, and renaming a real group must not cost
// its members their rights.
//
// Moto 5.2.1 deviations:
// - it has no UpdateGroup (it answers 500), so the Identity Store calls, the handler's included, go
//   through `renamingProxy` below: a proxy in front of moto that adds UpdateGroup (displayName only)
//   and answers DescribeGroup and ListGroups with the renamed names;
// - like the Identity Store, it refuses a second group with a display name already in use (the proxy
//   keeps that rule for renamed names), so impersonating `cloud-ops` first takes the name away from
//   the real group by renaming it — as someone with those rights in the identity source could.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  DeleteGroupCommand,
  DescribeGroupCommand,
  IdentitystoreClient,
  UpdateGroupCommand,
} from '@aws-sdk/client-identitystore';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DynamoAuditLog } from '#adapters/aws/dynamo-audit-log.ts';
import { loadBundledConfig } from '#runtime/bundled-config.ts';
import { motoAccount, motoClientConfig, motoEndpoint } from '../support/moto.ts';
import {
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

const TARGET_PREFIX = 'AWSIdentityStore.';

/**
 * An Identity Store endpoint in front of moto that adds UpdateGroup. It remembers each renamed (or
 * proxy-created) group's display name and shows it in DescribeGroup and ListGroups; CreateGroup and
 * UpdateGroup refuse a display name another group holds, as the Identity Store does. GetGroupId is
 * refused: it would read moto's stale names.
 */
async function renamingProxy(upstream: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  const names = new Map<string, string>();

  const send = async (headers: IncomingHttpHeaders, operation: string, body: unknown) => {
    const forwarded = new Headers();
    for (const [key, value] of Object.entries(headers))
      if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(key))
        forwarded.set(key, value);
    forwarded.set('x-amz-target', `${TARGET_PREFIX}${operation}`);
    const response = await fetch(upstream, {
      method: 'POST',
      headers: forwarded,
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type'), text };
  };
  const json = (status: number, body: unknown) => ({
    status,
    contentType: 'application/x-amz-json-1.1',
    text: JSON.stringify(body),
  });
  const refuse = (status: number, type: string, message: string) =>
    json(status, { __type: type, Message: message });
  const shown = <G extends { GroupId: string; DisplayName?: string }>(group: G): G => {
    const name = names.get(group.GroupId);
    return name === undefined ? group : { ...group, DisplayName: name };
  };
  const nameHolder = async (headers: IncomingHttpHeaders, storeId: string, name: string) => {
    let nextToken: string | undefined;
    do {
      const page = await send(headers, 'ListGroups', {
        IdentityStoreId: storeId,
        ...(nextToken ? { NextToken: nextToken } : {}),
      });
      if (page.status !== 200) throw new Error(`moto ListGroups answered ${page.status}: ${page.text}`);
      const body = JSON.parse(page.text) as {
        Groups: { GroupId: string; DisplayName?: string }[];
        NextToken?: string | null;
      };
      for (const group of body.Groups) if (shown(group).DisplayName === name) return group.GroupId;
      nextToken = body.NextToken ?? undefined;
    } while (nextToken);
    return undefined;
  };

  async function answer(headers: IncomingHttpHeaders, operation: string, text: string) {
    const body = JSON.parse(text || '{}') as Record<string, unknown>;
    const storeId = body.IdentityStoreId as string;
    switch (operation) {
      case 'UpdateGroup': {
        const groupId = body.GroupId as string;
        const operations = body.Operations as { AttributePath: string; AttributeValue: unknown }[];
        if (operations.some((op) => op.AttributePath.toLowerCase() !== 'displayname'))
          return refuse(400, 'ValidationException', 'this test proxy renames groups only (displayName)');
        const exists = await send(headers, 'DescribeGroup', { IdentityStoreId: storeId, GroupId: groupId });
        if (exists.status !== 200) return exists;
        for (const { AttributeValue } of operations) {
          const holder = await nameHolder(headers, storeId, String(AttributeValue));
          if (holder !== undefined && holder !== groupId)
            return refuse(400, 'ConflictException', 'Duplicate GroupDisplayName');
          names.set(groupId, String(AttributeValue));
        }
        return json(200, {});
      }
      case 'CreateGroup': {
        const name = String(body.DisplayName);
        if ((await nameHolder(headers, storeId, name)) !== undefined)
          return refuse(400, 'ConflictException', 'Duplicate GroupDisplayName');
        // Moto may still hold the name for a group renamed away from it: create under a placeholder.
        const created = await send(headers, operation, { ...body, DisplayName: `proxy-${randomUUID()}` });
        if (created.status === 200)
          names.set((JSON.parse(created.text) as { GroupId: string }).GroupId, name);
        return created;
      }
      case 'DeleteGroup': {
        const deleted = await send(headers, operation, body);
        if (deleted.status === 200) names.delete(body.GroupId as string);
        return deleted;
      }
      case 'DescribeGroup': {
        const described = await send(headers, operation, body);
        if (described.status !== 200) return described;
        return json(200, shown(JSON.parse(described.text) as { GroupId: string }));
      }
      case 'ListGroups': {
        const listed = await send(headers, operation, body);
        if (listed.status !== 200) return listed;
        const page = JSON.parse(listed.text) as { Groups: { GroupId: string }[] };
        return json(200, { ...page, Groups: page.Groups.map(shown) });
      }
      case 'GetGroupId':
        return refuse(400, 'ValidationException', 'GetGroupId is not modelled by this test proxy');
      default:
        return send(headers, operation, body);
    }
  }

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
      answer(request.headers, operation, Buffer.concat(chunks).toString('utf8'))
        .then(({ status, contentType, text }) => {
          response.writeHead(status, contentType ? { 'content-type': contentType } : {});
          response.end(text);
        })
        .catch((error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

let world: PamWorld;
let proxy: Awaited<ReturnType<typeof renamingProxy>>;
let identityStore: IdentitystoreClient;
let auditLog: DynamoAuditLog;
let configuredGroupIds: Readonly<Record<string, string>>;
const previousEndpoint = process.env.AWS_ENDPOINT_URL_IDENTITYSTORE;

beforeAll(async () => {
  world = await createPamWorld();
  proxy = await renamingProxy(motoEndpoint());
  // The handler's Identity Store client (built from the environment at cold start) uses the proxy.
  process.env.AWS_ENDPOINT_URL_IDENTITYSTORE = proxy.endpoint;
  identityStore = new IdentitystoreClient({ ...motoClientConfig(), endpoint: proxy.endpoint });
  identityStore.middlewareStack.use(
    motoAccount(world.accountId) as Parameters<typeof identityStore.middlewareStack.use>[0],
  );
  auditLog = auditLogOf(world);
  configuredGroupIds = loadBundledConfig(world.configFile).identityCenter.groupIds;
});

afterAll(async () => {
  if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_IDENTITYSTORE;
  else process.env.AWS_ENDPOINT_URL_IDENTITYSTORE = previousEndpoint;
  identityStore?.destroy();
  await proxy?.close();
  await world?.stop();
});

// What a test changed in the Identity Store, undone after it so each test starts from the demo people.
const createdGroups: string[] = [];
const renames: { groupId: string; from: string }[] = [];

afterEach(async () => {
  // Deleting the groups a test created frees their names, so the real groups can take theirs back.
  const created = createdGroups.splice(0);
  for (const groupId of created)
    await identityStore.send(
      new DeleteGroupCommand({ IdentityStoreId: world.identityStoreId, GroupId: groupId }),
    );
  for (const { groupId, from } of renames.splice(0).reverse())
    if (!created.includes(groupId)) await rename(groupId, from, false);
});

/**
 * The handle-api function as a fresh Lambda instance would run it: no instance state (such as a cache
 * of group names) from earlier tests, so each test sees the Identity Store as it is at that moment.
 */
async function coldStart(): Promise<ReturnType<typeof apiClient>> {
  vi.resetModules();
  const { handler } = await import('../../functions/handle-api/handler.ts');
  return apiClient(handler as never, world.accountId);
}

function configuredId(name: string): string {
  const groupId = configuredGroupIds[name];
  if (!groupId) throw new Error(`the config has no id for ${name}`);
  return groupId;
}

async function displayNameOf(groupId: string): Promise<string | undefined> {
  const group = await identityStore.send(
    new DescribeGroupCommand({ IdentityStoreId: world.identityStoreId, GroupId: groupId }),
  );
  return group.DisplayName;
}

async function rename(groupId: string, to: string, undoAfterTest = true): Promise<void> {
  const from = await displayNameOf(groupId);
  await identityStore.send(
    new UpdateGroupCommand({
      IdentityStoreId: world.identityStoreId,
      GroupId: groupId,
      Operations: [{ AttributePath: 'displayName', AttributeValue: to }],
    }),
  );
  if (undoAfterTest && from !== undefined) renames.push({ groupId, from });
}

async function createGroupWith(displayName: string, ...members: string[]): Promise<string> {
  const { GroupId } = await identityStore.send(
    new CreateGroupCommand({ IdentityStoreId: world.identityStoreId, DisplayName: displayName }),
  );
  if (!GroupId) throw new Error('no GroupId');
  createdGroups.push(GroupId);
  for (const userId of members)
    await identityStore.send(
      new CreateGroupMembershipCommand({
        IdentityStoreId: world.identityStoreId,
        GroupId,
        MemberId: { UserId: userId },
      }),
    );
  return GroupId;
}

async function openDevRequest(call: ReturnType<typeof apiClient>): Promise<RequestBody> {
  const created = await call<RequestBody>('alice', 'POST', '/v1/requests', {
    entitlementId: 'dev-readonly',
    accountId: DEV_ACCOUNT,
    duration: 'PT1H',
    reason: 'debug a failing deploy',
  });
  expect(created.status).toBe(201);
  return created.body;
}

async function expectRefusedApproval(call: ReturnType<typeof apiClient>, request: RequestBody) {
  const before = await call<RequestBody>('alice', 'GET', `/v1/requests/${request.id}`);

  const answer = await call<RequestBody>('mallory', 'POST', `/v1/requests/${request.id}/approve`, {
    comment: 'looks fine to me',
  });

  expect(answer.status).toBe(403);
  expect(answer.body.error?.code).toBe('NOT_APPROVER');
  const after = await call<RequestBody>('alice', 'GET', `/v1/requests/${request.id}`);
  expect(after.body.status).toBe('PENDING');
  expect(after.body.version).toBe(before.body.version);
  expect(after.body.approvals).toEqual([]);
  const chain = await auditLog.readChain(`request#${request.id}`);
  const rejected = chain.filter((event) => event.type === 'request.rejected');
  expect(rejected).toHaveLength(1);
  expect(rejected[0]).toMatchObject({
    actorId: world.userIds.mallory,
    details: { action: 'approve', code: 'NOT_APPROVER' },
  });
  expect(chain.some((event) => event.type === 'request.approved')).toBe(false);
}

describe('groups are matched by the ids in identityCenter.groupIds', () => {
  it('a NEW group named exactly cloud-ops makes nobody an approver', async () => {
    // Prepare: take the name from the real approver group, then create an impostor under it.
    await rename(configuredId('cloud-ops'), 'cloud-ops-2019');
    const impostor = await createGroupWith('cloud-ops', world.userIds.mallory);
    await expect(displayNameOf(impostor)).resolves.toBe('cloud-ops');
    const call = await coldStart();
    const request = await openDevRequest(call);

    // Act + Assess
    await expectRefusedApproval(call, request);
    const approved = await call<RequestBody>('bob', 'POST', `/v1/requests/${request.id}/approve`, {});
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('APPROVED');
  });

  it('renaming the real engineers group keeps its members eligible, and its old name grants nothing', async () => {
    // Prepare
    await rename(configuredId('engineers'), 'engineering');
    await createGroupWith('engineers', world.userIds.mallory);
    const call = await coldStart();

    // Act
    const alice = await call<RequestBody>('alice', 'POST', '/v1/requests', {
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      duration: 'PT1H',
      reason: 'eligibility follows the group id',
    });
    const mallory = await call<RequestBody>('mallory', 'POST', '/v1/requests', {
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      duration: 'PT1H',
      reason: 'my group is called engineers now',
    });

    // Assess
    expect(alice.status).toBe(201);
    expect(alice.body.status).toBe('PENDING');
    expect(mallory.status).toBe(403);
    expect(mallory.body.error?.code).toBe('NOT_ELIGIBLE');
  });

  it('a group renamed TO cloud-ops grants its members nothing', async () => {
    // Prepare: ops-helpers (mallory's), renamed to cloud-ops once the real group no longer holds the name.
    const helpers = await createGroupWith('ops-helpers', world.userIds.mallory);
    await rename(configuredId('cloud-ops'), 'cloud-ops-legacy');
    await rename(helpers, 'cloud-ops');
    await expect(displayNameOf(helpers)).resolves.toBe('cloud-ops');
    const call = await coldStart();
    const request = await openDevRequest(call);

    // Act + Assess: no approval, nothing awaiting her, no entitlement (prod-admin's breakGlass is cloud-ops).
    await expectRefusedApproval(call, request);
    const awaiting = await call<{ items: RequestBody[] }>('mallory', 'GET', '/v1/approvals');
    expect(awaiting.status).toBe(200);
    expect(awaiting.body.items.map((item) => item.id)).not.toContain(request.id);
    const entitlements = await call<{ items: { id: string }[] }>('mallory', 'GET', '/v1/entitlements');
    expect(entitlements.status).toBe(200);
    expect(entitlements.body.items).toEqual([]);
    const breakGlass = await call<RequestBody>('mallory', 'POST', '/v1/break-glass', {
      entitlementId: 'prod-admin',
      accountId: PROD_ACCOUNT,
      reason: 'emergency, trust me',
      ticket: 'OPS-1',
    });
    expect(breakGlass.status).toBe(403);
    expect(breakGlass.body.error?.code).toBe('NOT_BREAK_GLASS');
  });
});
