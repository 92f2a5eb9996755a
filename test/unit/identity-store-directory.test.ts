// IdentityStoreDirectory against hand-built Identity Store responses (test/fixtures/identitystore,
// shaped from the API reference). Moto deviation: moto 5.2.1 has no `UserStatus`, `ExternalIds` or
// extensions, so disabled users and same-person keys are only testable here, with aws-sdk-client-mock.
// Groups are answered by the config names of their ids (identityCenter.groupIds): DescribeGroup is
// stubbed with what the store would say, to show that its display names decide nothing.
import { readFileSync } from 'node:fs';
import {
  DescribeGroupCommand,
  type DescribeGroupCommandOutput,
  DescribeUserCommand,
  type DescribeUserCommandOutput,
  GetUserIdCommand,
  type GetUserIdCommandOutput,
  IdentitystoreClient,
  ListGroupMembershipsForMemberCommand,
  type ListGroupMembershipsForMemberCommandOutput,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-identitystore';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DirectoryResponseError,
  ENTERPRISE_EXTENSION,
  IdentityStoreDirectory,
} from '#adapters/aws/identity-store-directory.ts';

const STORE_ID = 'd-1234567890';

function fixture<T>(name: string): T {
  const url = new URL(`../fixtures/identitystore/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

const user = (name: string) => fixture<DescribeUserCommandOutput>(`describe-user-${name}`);
const group = (name: string) => fixture<DescribeGroupCommandOutput>(`describe-group-${name}`);
const membershipsPage = (n: number) =>
  fixture<ListGroupMembershipsForMemberCommandOutput>(`list-group-memberships-for-member-page-${n}`);

function notFound(resourceType: 'USER' | 'GROUP'): ResourceNotFoundException {
  const body = fixture<{ Message: string }>('resource-not-found-user');
  return new ResourceNotFoundException({
    message: body.Message,
    ResourceType: resourceType,
    $metadata: { httpStatusCode: 400 },
  });
}

const alice = user('alice');
const ALICE_ID = alice.UserId as string;

const idOf = (name: string) => group(name).GroupId as string;
/** identityCenter.groupIds: the config's group names and the ids they pin. */
const GROUP_IDS = {
  'platform-engineers': idOf('platform-engineers'),
  'cloud-ops': idOf('cloud-ops'),
  'break-glass': idOf('break-glass'),
};
/** A group id no config names, in the documented `<10 hex>-<uuid>` form. */
const UNLISTED_GROUP_ID = '9067729b3d-6f1e2d3c-dddd-4b5a-9c8d-7e6f5a4b3c2d';

function membershipIn(groupId: string) {
  return { IdentityStoreId: STORE_ID, GroupId: groupId, MemberId: { UserId: ALICE_ID } };
}

describe('IdentityStoreDirectory', () => {
  const identitystore = mockClient(IdentitystoreClient);
  let directory: IdentityStoreDirectory;

  beforeEach(() => {
    identitystore.reset();
    directory = new IdentityStoreDirectory({
      client: new IdentitystoreClient({ region: 'us-east-1' }),
      identityStoreId: STORE_ID,
      groupIds: GROUP_IDS,
    });
  });

  afterEach(() => identitystore.reset());

  function givenUsers(...users: DescribeUserCommandOutput[]) {
    identitystore.on(DescribeUserCommand).rejects(notFound('USER'));
    for (const u of users) identitystore.on(DescribeUserCommand, { UserId: u.UserId }).resolves(u);
  }

  function givenAliceMemberships() {
    identitystore
      .on(ListGroupMembershipsForMemberCommand, { MemberId: { UserId: ALICE_ID } })
      .resolves(membershipsPage(1))
      .on(ListGroupMembershipsForMemberCommand, {
        MemberId: { UserId: ALICE_ID },
        NextToken: membershipsPage(1).NextToken,
      })
      .resolves(membershipsPage(2));
    // What the store would answer if asked; the directory must not need to ask.
    for (const g of [group('platform-engineers'), group('cloud-ops'), group('break-glass')])
      identitystore.on(DescribeGroupCommand, { GroupId: g.GroupId }).resolves(g);
  }

  describe('getUser', () => {
    it('maps an enabled user and asks for the enterprise extension', async () => {
      // Prepare
      givenUsers(alice);

      // Act
      const found = await directory.getUser(ALICE_ID);

      // Assess
      expect(found).toEqual({
        userId: ALICE_ID,
        userName: 'alice@example.com',
        displayName: 'Alice Doe',
        email: 'alice@example.com',
        personKeys: [`user:${ALICE_ID}`, 'ext:https://example.okta.com:00u1a2b3c4d5e6f7g8h9', 'emp:E1001'],
        active: true,
      });
      expect(identitystore.commandCalls(DescribeUserCommand)[0]?.args[0].input).toEqual({
        IdentityStoreId: STORE_ID,
        UserId: ALICE_ID,
        Extensions: [ENTERPRISE_EXTENSION],
      });
    });

    it('reports a DISABLED user as inactive', async () => {
      const bob = user('bob-disabled');
      givenUsers(bob);

      const found = await directory.getUser(bob.UserId as string);

      expect(found?.active).toBe(false);
      expect(found?.userName).toBe('bob@example.com');
    });

    it('counts a user without UserStatus (as moto answers) as active', async () => {
      const dave = user('dave-no-status');
      givenUsers(dave);

      const found = await directory.getUser(dave.UserId as string);

      expect(found?.active).toBe(true);
      expect(found?.personKeys).toEqual([`user:${dave.UserId}`]);
    });

    it('fails closed on a status it does not know', async () => {
      givenUsers({ ...alice, UserStatus: 'SUSPENDED' as never });

      const found = await directory.getUser(ALICE_ID);

      expect(found?.active).toBe(false);
    });

    it('answers undefined for a deleted user', async () => {
      givenUsers();

      const found = await directory.getUser('9067729b3d-00000000-0000-4000-8000-000000000000');

      expect(found).toBeUndefined();
    });

    it('prefers the primary email over the first one', async () => {
      const carol = user('carol');
      givenUsers(carol);

      const found = await directory.getUser(carol.UserId as string);

      expect(found?.email).toBe('carol@example.com');
    });

    it('rethrows errors other than not-found (throttling is not "deleted")', async () => {
      identitystore
        .on(DescribeUserCommand)
        .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));

      await expect(directory.getUser(ALICE_ID)).rejects.toThrow('Rate exceeded');
    });

    it.each([
      ['without UserId', { ...alice, UserId: undefined }, 'UserId'],
      ['without UserName', { ...alice, UserName: undefined }, 'UserName'],
      [
        'with an ExternalId lacking its Issuer',
        { ...alice, ExternalIds: [{ Id: 'x' }] },
        'ExternalIds[0].Issuer',
      ],
    ])('rejects a response %s', async (_case, response, path) => {
      identitystore.on(DescribeUserCommand).resolves(response as DescribeUserCommandOutput);

      const attempt = directory.getUser(ALICE_ID);

      await expect(attempt).rejects.toBeInstanceOf(DirectoryResponseError);
      await expect(directory.getUser(ALICE_ID)).rejects.toThrow(path);
    });
  });

  describe('person keys', () => {
    it('gives two users of one person (same ExternalId) a shared key', async () => {
      const admin = user('alice-admin');
      givenUsers(alice, admin);

      const [first, second] = await Promise.all([
        directory.getUser(ALICE_ID),
        directory.getUser(admin.UserId as string),
      ]);

      const shared = first?.personKeys.filter((key) => second?.personKeys.includes(key));
      expect(shared).toEqual(['ext:https://example.okta.com:00u1a2b3c4d5e6f7g8h9']);
      expect(first?.userId).not.toBe(second?.userId);
    });

    it('links two users by employee number when they have no ExternalIds', async () => {
      const carol = user('carol');
      const breakGlass = user('carol-breakglass');
      givenUsers(carol, breakGlass);

      const first = await directory.getUser(carol.UserId as string);
      const second = await directory.getUser(breakGlass.UserId as string);

      expect(first?.personKeys).toContain('emp:E2002');
      expect(second?.personKeys).toContain('emp:E2002');
    });

    it('keeps different people apart', async () => {
      const bob = user('bob-disabled');
      givenUsers(alice, bob);

      const first = await directory.getUser(ALICE_ID);
      const second = await directory.getUser(bob.UserId as string);

      expect(first?.personKeys.some((key) => second?.personKeys.includes(key))).toBe(false);
    });
  });

  describe('findUserByUserName / findUserByEmail', () => {
    it('resolves a user name with GetUserId on the userName unique attribute', async () => {
      identitystore
        .on(GetUserIdCommand)
        .rejects(notFound('USER'))
        .on(GetUserIdCommand, {
          AlternateIdentifier: {
            UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice@example.com' },
          },
        })
        .resolves(fixture<GetUserIdCommandOutput>('get-user-id-alice'));
      givenUsers(alice);

      const found = await directory.findUserByUserName('alice@example.com');

      expect(found?.userId).toBe(ALICE_ID);
      expect(identitystore.commandCalls(GetUserIdCommand)[0]?.args[0].input.IdentityStoreId).toBe(STORE_ID);
    });

    it('resolves an email with GetUserId on emails.value', async () => {
      identitystore
        .on(GetUserIdCommand)
        .rejects(notFound('USER'))
        .on(GetUserIdCommand, {
          AlternateIdentifier: {
            UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'alice@example.com' },
          },
        })
        .resolves(fixture<GetUserIdCommandOutput>('get-user-id-alice'));
      givenUsers(alice);

      const found = await directory.findUserByEmail('alice@example.com');

      expect(found?.userName).toBe('alice@example.com');
    });

    it('answers undefined for an unknown user name without describing anyone', async () => {
      identitystore.on(GetUserIdCommand).rejects(notFound('USER'));

      const found = await directory.findUserByUserName('mallory');

      expect(found).toBeUndefined();
      expect(identitystore.commandCalls(DescribeUserCommand)).toHaveLength(0);
    });

    it('answers undefined when the user is deleted between GetUserId and DescribeUser', async () => {
      identitystore.on(GetUserIdCommand).resolves(fixture<GetUserIdCommandOutput>('get-user-id-alice'));
      givenUsers();

      await expect(directory.findUserByUserName('alice@example.com')).resolves.toBeUndefined();
    });

    it('does not call the API for an empty name', async () => {
      await expect(directory.findUserByUserName('')).resolves.toBeUndefined();
      expect(identitystore.calls()).toHaveLength(0);
    });
  });

  describe('groupsOf', () => {
    it('follows NextToken through every page and answers the config names of the group ids', async () => {
      givenAliceMemberships();

      const groups = await directory.groupsOf(ALICE_ID);

      expect(groups).toEqual(['platform-engineers', 'cloud-ops', 'break-glass']);
      const pages = identitystore.commandCalls(ListGroupMembershipsForMemberCommand);
      expect(pages.map((call) => call.args[0].input.NextToken)).toEqual([
        undefined,
        membershipsPage(1).NextToken,
      ]);
      expect(pages[0]?.args[0].input).toMatchObject({
        IdentityStoreId: STORE_ID,
        MemberId: { UserId: ALICE_ID },
      });
      expect(identitystore.commandCalls(DescribeGroupCommand)).toHaveLength(0);
    });

    it('reads memberships on every call, never from a cache', async () => {
      identitystore.on(ListGroupMembershipsForMemberCommand).resolves(membershipsPage(2));

      await directory.groupsOf(ALICE_ID);
      await directory.groupsOf(ALICE_ID);

      expect(identitystore.commandCalls(ListGroupMembershipsForMemberCommand)).toHaveLength(2);
    });

    it('sees a membership removed between two calls', async () => {
      givenAliceMemberships();
      const before = await directory.groupsOf(ALICE_ID);
      identitystore
        .on(ListGroupMembershipsForMemberCommand, { MemberId: { UserId: ALICE_ID } })
        .resolves({ GroupMemberships: membershipsPage(1).GroupMemberships?.slice(0, 1) });

      const after = await directory.groupsOf(ALICE_ID);

      expect(before).toContain('cloud-ops');
      expect(after).toEqual(['platform-engineers']);
    });

    it('keeps answering the config name of a group renamed in the Identity Store', async () => {
      givenAliceMemberships();
      const before = await directory.groupsOf(ALICE_ID);
      identitystore
        .on(DescribeGroupCommand, { GroupId: idOf('cloud-ops') })
        .resolves({ ...group('cloud-ops'), DisplayName: 'former-cloud-ops' });

      const after = await directory.groupsOf(ALICE_ID);

      expect(after).toEqual(before);
      expect(after).toContain('cloud-ops');
      expect(after).not.toContain('former-cloud-ops');
      expect(identitystore.commandCalls(DescribeGroupCommand)).toHaveLength(0);
    });

    it('grants nothing for a new group named like a config group (its id is not the pinned one)', async () => {
      const impostor = { ...group('cloud-ops'), GroupId: UNLISTED_GROUP_ID, Description: 'look-alike' };
      identitystore
        .on(ListGroupMembershipsForMemberCommand)
        .resolves({ GroupMemberships: [membershipIn(UNLISTED_GROUP_ID)] });
      identitystore.on(DescribeGroupCommand, { GroupId: UNLISTED_GROUP_ID }).resolves(impostor);

      await expect(directory.groupsOf(ALICE_ID)).resolves.toEqual([]);
      expect(identitystore.commandCalls(DescribeGroupCommand)).toHaveLength(0);
    });

    it('ignores a membership in a group the config does not name', async () => {
      identitystore.on(ListGroupMembershipsForMemberCommand).resolves({
        GroupMemberships: [membershipIn(UNLISTED_GROUP_ID), membershipIn(idOf('break-glass'))],
      });

      await expect(directory.groupsOf(ALICE_ID)).resolves.toEqual(['break-glass']);
    });

    it('answers every config name that pins the same id, each once', async () => {
      directory = new IdentityStoreDirectory({
        client: new IdentitystoreClient({ region: 'us-east-1' }),
        identityStoreId: STORE_ID,
        groupIds: { ...GROUP_IDS, 'prod-approvers': idOf('cloud-ops') },
      });
      identitystore.on(ListGroupMembershipsForMemberCommand).resolves({
        GroupMemberships: [membershipIn(idOf('cloud-ops')), membershipIn(idOf('cloud-ops'))],
      });

      await expect(directory.groupsOf(ALICE_ID)).resolves.toEqual(['cloud-ops', 'prod-approvers']);
    });

    it('does not take a group id for an inherited object key', async () => {
      identitystore.on(ListGroupMembershipsForMemberCommand).resolves({
        GroupMemberships: [membershipIn('toString'), membershipIn('__proto__'), membershipIn('constructor')],
      });

      await expect(directory.groupsOf(ALICE_ID)).resolves.toEqual([]);
    });

    it('answers no groups for a user in none', async () => {
      identitystore.on(ListGroupMembershipsForMemberCommand).resolves({ GroupMemberships: [] });

      await expect(directory.groupsOf(ALICE_ID)).resolves.toEqual([]);
    });

    it('fails instead of looping when the same NextToken comes back', async () => {
      identitystore.on(ListGroupMembershipsForMemberCommand).resolves(membershipsPage(1));

      await expect(directory.groupsOf(ALICE_ID)).rejects.toThrow('same NextToken');
    });

    it('fails closed on a membership without GroupId', async () => {
      identitystore
        .on(ListGroupMembershipsForMemberCommand)
        .resolves({ GroupMemberships: [{ IdentityStoreId: STORE_ID, MemberId: { UserId: ALICE_ID } }] });

      await expect(directory.groupsOf(ALICE_ID)).rejects.toBeInstanceOf(DirectoryResponseError);
    });

    it('rethrows a failed membership listing (throttling is not "in no group")', async () => {
      identitystore
        .on(ListGroupMembershipsForMemberCommand)
        .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));

      await expect(directory.groupsOf(ALICE_ID)).rejects.toThrow('Rate exceeded');
    });
  });
});
