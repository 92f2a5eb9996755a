// IdentityStoreDirectory against moto over HTTP, in this file's own moto account. Groups are answered
// by the config names (identityCenter.groupIds) of the ids the user is a member of.
//
// Moto 5.2.1 deviations (covered by test/unit/identity-store-directory.test.ts with recorded-shape
// fixtures instead):
// - users have no `UserStatus`, `ExternalIds` or extensions: every moto user is active and has only
//   its `user:` person key; disabled users and same-person links cannot be created here;
// - DescribeUser answers `null` for attributes a user lacks (the real service omits them);
// - GetUserId implements only `UniqueAttribute` (not `ExternalId`), which is all the adapter uses;
// - DeleteGroup leaves the group's memberships behind, still listed for the member;
// - there is no UpdateGroup (moto answers 500): `renameGroup` below stands in for it, so this file's
//   client sees the new display name in DescribeGroup from then on (the directory must not care);
// - like the Identity Store, CreateGroup refuses a display name another group holds;
// - an identity store springs into being on first use of any id, so no sso-admin instance is needed.
import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  CreateUserCommand,
  DeleteGroupCommand,
  DeleteGroupMembershipCommand,
  DeleteUserCommand,
  DescribeGroupCommand,
  IdentitystoreClient,
} from '@aws-sdk/client-identitystore';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdentityStoreDirectory } from '#adapters/aws/identity-store-directory.ts';
import { motoAccount, motoClientConfig, testAccountId } from '../support/moto.ts';

const ACCOUNT = testAccountId();
const STORE_ID = `d-${Math.floor(Math.random() * 16 ** 10)
  .toString(16)
  .padStart(10, '0')}`;

describe('IdentityStoreDirectory on moto', () => {
  // Built by hand: `motoClient`'s constructor type does not accept clients whose config parameter is
  // a rest tuple, as IdentitystoreClient's is, and its middleware is typed for any client.
  const client = new IdentitystoreClient(motoClientConfig());
  client.middlewareStack.use(motoAccount(ACCOUNT) as Parameters<typeof client.middlewareStack.use>[0]);

  // UpdateGroup (displayName) as the Identity Store answers it afterwards, for this client only.
  const renamedTo = new Map<string, string>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const group = result.output as { GroupId?: string; DisplayName?: string };
      const name = group.GroupId === undefined ? undefined : renamedTo.get(group.GroupId);
      if (context.commandName === 'DescribeGroupCommand' && name !== undefined) group.DisplayName = name;
      return result;
    },
    { step: 'initialize', name: 'emulateUpdateGroup' },
  );
  function renameGroup(groupId: string, displayName: string): void {
    renamedTo.set(groupId, displayName);
  }

  /** A directory configured with `groupIds`, as buildCoreDeps makes one from the bundled config. */
  function directoryFor(groupIds: Readonly<Record<string, string>>): IdentityStoreDirectory {
    return new IdentityStoreDirectory({ client, identityStoreId: STORE_ID, groupIds });
  }

  async function createUser(userName: string, email: string): Promise<string> {
    const { UserId } = await client.send(
      new CreateUserCommand({
        IdentityStoreId: STORE_ID,
        UserName: userName,
        DisplayName: userName,
        Name: { GivenName: userName, FamilyName: 'Test' },
        Emails: [{ Value: email, Type: 'work', Primary: true }],
      }),
    );
    if (!UserId) throw new Error('moto returned no UserId');
    return UserId;
  }

  async function createGroup(displayName: string): Promise<string> {
    const { GroupId } = await client.send(
      new CreateGroupCommand({ IdentityStoreId: STORE_ID, DisplayName: displayName }),
    );
    if (!GroupId) throw new Error('moto returned no GroupId');
    return GroupId;
  }

  async function addMember(groupId: string, userId: string): Promise<string> {
    const { MembershipId } = await client.send(
      new CreateGroupMembershipCommand({
        IdentityStoreId: STORE_ID,
        GroupId: groupId,
        MemberId: { UserId: userId },
      }),
    );
    if (!MembershipId) throw new Error('moto returned no MembershipId');
    return MembershipId;
  }

  let aliceId: string;
  let bobId: string;
  const memberships = new Map<string, string>();
  /** identityCenter.groupIds of this file's config: every group below except `unlisted-team`. */
  const groupIds: Record<string, string> = {};
  let directory: IdentityStoreDirectory;

  beforeAll(async () => {
    aliceId = await createUser('alice', 'alice@example.com');
    bobId = await createUser('bob', 'bob@example.com');
    for (const name of ['platform-engineers', 'cloud-ops', 'auditors'])
      groupIds[name] = await createGroup(name);
    for (const name of ['platform-engineers', 'cloud-ops'])
      memberships.set(name, await addMember(groupIds[name] as string, aliceId));
    await addMember(groupIds.auditors as string, bobId);
    await addMember(await createGroup('unlisted-team'), aliceId);
    directory = directoryFor(groupIds);
  });

  it('describes a user (moto has no status: active; no ExternalIds: only the user key)', async () => {
    const alice = await directory.getUser(aliceId);

    expect(alice).toEqual({
      userId: aliceId,
      userName: 'alice',
      displayName: 'alice',
      email: 'alice@example.com',
      personKeys: [`user:${aliceId}`],
      active: true,
    });
  });

  it('answers undefined for a user id that does not exist', async () => {
    await expect(directory.getUser('00000000-0000-4000-8000-000000000000')).resolves.toBeUndefined();
  });

  it('answers undefined once a user is deleted', async () => {
    const userId = await createUser('leaver', 'leaver@example.com');
    await expect(directory.getUser(userId)).resolves.toMatchObject({ userName: 'leaver' });

    await client.send(new DeleteUserCommand({ IdentityStoreId: STORE_ID, UserId: userId }));

    await expect(directory.getUser(userId)).resolves.toBeUndefined();
    await expect(directory.findUserByUserName('leaver')).resolves.toBeUndefined();
  });

  it('finds a user by user name and by email', async () => {
    await expect(directory.findUserByUserName('bob')).resolves.toMatchObject({ userId: bobId });
    await expect(directory.findUserByEmail('alice@example.com')).resolves.toMatchObject({ userId: aliceId });
  });

  it('answers undefined for an unknown user name or email', async () => {
    await expect(directory.findUserByUserName('mallory')).resolves.toBeUndefined();
    await expect(directory.findUserByEmail('mallory@example.com')).resolves.toBeUndefined();
  });

  it("lists a user's groups by the config names of their ids", async () => {
    const groups = await directory.groupsOf(aliceId);

    expect([...groups].sort()).toEqual(['cloud-ops', 'platform-engineers']);
    await expect(directory.groupsOf(bobId)).resolves.toEqual(['auditors']);
  });

  it('ignores a membership in a group the config does not name', async () => {
    const userId = await createUser('contractor', 'contractor@example.com');
    await addMember(await createGroup('contractors'), userId);
    await addMember(groupIds.auditors as string, userId);

    await expect(directory.groupsOf(userId)).resolves.toEqual(['auditors']);
    // alice is in `unlisted-team` too (beforeAll), which the listing above left out.
    await expect(directory.groupsOf(aliceId)).resolves.not.toContain('unlisted-team');
  });

  it('sees a membership removed since the last call (memberships are not cached)', async () => {
    const userId = await createUser('mover', 'mover@example.com');
    const membershipId = await addMember(groupIds['cloud-ops'] as string, userId);
    await expect(directory.groupsOf(userId)).resolves.toEqual(['cloud-ops']);

    await client.send(
      new DeleteGroupMembershipCommand({ IdentityStoreId: STORE_ID, MembershipId: membershipId }),
    );

    await expect(directory.groupsOf(userId)).resolves.toEqual([]);
  });

  it('keeps answering the config name of a group renamed in the Identity Store', async () => {
    const config = { ...groupIds, 'break-glass': await createGroup('break-glass') };
    const userId = await createUser('responder', 'responder@example.com');
    await addMember(config['break-glass'], userId);
    const before = await directoryFor(config).groupsOf(userId);

    renameGroup(config['break-glass'], 'emergency-responders');

    const renamed = await client.send(
      new DescribeGroupCommand({ IdentityStoreId: STORE_ID, GroupId: config['break-glass'] }),
    );
    expect(renamed.DisplayName).toBe('emergency-responders');
    expect(before).toEqual(['break-glass']);
    // A fresh directory: nothing remembered from the call before the rename.
    await expect(directoryFor(config).groupsOf(userId)).resolves.toEqual(['break-glass']);
  });

  it('grants nothing for a new group with a config name but not the configured id', async () => {
    // The configured `release-managers` is deleted; a new group takes the name (moto, like the
    // Identity Store, lets a display name be reused only once no other group holds it).
    const config = { ...groupIds, 'release-managers': await createGroup('release-managers') };
    await client.send(
      new DeleteGroupCommand({ IdentityStoreId: STORE_ID, GroupId: config['release-managers'] }),
    );
    const lookAlike = await createGroup('release-managers');
    const userId = await createUser('newcomer', 'newcomer@example.com');
    await addMember(lookAlike, userId);

    const described = await client.send(
      new DescribeGroupCommand({ IdentityStoreId: STORE_ID, GroupId: lookAlike }),
    );
    expect(described.DisplayName).toBe('release-managers');
    await expect(directoryFor(config).groupsOf(userId)).resolves.toEqual([]);
  });

  it('answers nothing for a deleted group the config does not name', async () => {
    const userId = await createUser('orphan', 'orphan@example.com');
    const groupId = await createGroup('short-lived');
    await addMember(groupId, userId);

    // Moto leaves the membership behind when its group is deleted, so the listing still names the group.
    await client.send(new DeleteGroupCommand({ IdentityStoreId: STORE_ID, GroupId: groupId }));

    await expect(directory.groupsOf(userId)).resolves.toEqual([]);
  });

  it('follows moto NextToken pages (more than 100 memberships)', async () => {
    const userId = await createUser('collector', 'collector@example.com');
    const names = Array.from({ length: 105 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    const config: Record<string, string> = {};
    for (const name of names) {
      config[name] = await createGroup(name);
      await addMember(config[name], userId);
    }

    const groups = await directoryFor(config).groupsOf(userId);

    expect([...groups].sort()).toEqual(names);
  });
});
