// Identity Center for the local runtime: moto creates one sso-admin instance per account with a
// random instance ARN and identity store id, so both are discovered (ListInstances), never
// configured. Then the demo directory is seeded: the groups the config names, and five people.
import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  CreateUserCommand,
  type IdentitystoreClient,
} from '@aws-sdk/client-identitystore';
import { ListInstancesCommand, type SSOAdminClient } from '@aws-sdk/client-sso-admin';

export interface DemoUser {
  readonly name: string;
  readonly displayName: string;
  readonly role: string;
  readonly groups: readonly string[];
}

/** The demo people (README's tour uses them). */
export const DEMO_USERS: readonly DemoUser[] = [
  { name: 'alice', displayName: 'Alice Engineer', role: 'engineer', groups: ['engineers'] },
  { name: 'erin', displayName: 'Erin Engineer', role: 'engineer', groups: ['engineers'] },
  { name: 'bob', displayName: 'Bob Ops', role: 'cloud-ops approver', groups: ['cloud-ops'] },
  { name: 'carol', displayName: 'Carol Ops', role: 'cloud-ops approver', groups: ['cloud-ops'] },
  { name: 'dave', displayName: 'Dave Admin', role: 'cloud-pam admin', groups: ['pam-admins'] },
];

export const DEMO_EMAIL_DOMAIN = 'example.com';

export interface SeededDirectory {
  readonly instanceArn: string;
  readonly identityStoreId: string;
  /** Group name → the id moto gave it. */
  readonly groupIds: Readonly<Record<string, string>>;
  /** User name → user id. */
  readonly userIds: Readonly<Record<string, string>>;
}

export async function discoverIdentityCenter(ssoAdmin: SSOAdminClient) {
  const { Instances } = await ssoAdmin.send(new ListInstancesCommand({}));
  const instance = Instances?.[0];
  if (!instance?.InstanceArn || !instance.IdentityStoreId)
    throw new Error('moto listed no Identity Center instance');
  return { instanceArn: instance.InstanceArn, identityStoreId: instance.IdentityStoreId };
}

export async function seedDirectory(
  ssoAdmin: SSOAdminClient,
  identityStore: IdentitystoreClient,
  groupNames: readonly string[],
): Promise<SeededDirectory> {
  const { instanceArn, identityStoreId } = await discoverIdentityCenter(ssoAdmin);
  const groupIds: Record<string, string> = {};
  const wanted = new Set([...groupNames, ...DEMO_USERS.flatMap((u) => u.groups)]);
  for (const name of [...wanted].sort()) {
    const { GroupId } = await identityStore.send(
      new CreateGroupCommand({
        IdentityStoreId: identityStoreId,
        DisplayName: name,
        Description: `demo group ${name}`,
      }),
    );
    if (!GroupId) throw new Error(`moto created no group ${name}`);
    groupIds[name] = GroupId;
  }
  const userIds: Record<string, string> = {};
  for (const user of DEMO_USERS) {
    const [given = user.name, family = 'Demo'] = user.displayName.split(' ');
    const { UserId } = await identityStore.send(
      new CreateUserCommand({
        IdentityStoreId: identityStoreId,
        UserName: user.name,
        DisplayName: user.displayName,
        Name: { GivenName: given, FamilyName: family },
        Emails: [{ Value: `${user.name}@${DEMO_EMAIL_DOMAIN}`, Type: 'work', Primary: true }],
      }),
    );
    if (!UserId) throw new Error(`moto created no user ${user.name}`);
    userIds[user.name] = UserId;
    for (const group of user.groups) {
      await identityStore.send(
        new CreateGroupMembershipCommand({
          IdentityStoreId: identityStoreId,
          GroupId: groupIds[group],
          MemberId: { UserId },
        }),
      );
    }
  }
  return { instanceArn, identityStoreId, groupIds, userIds };
}
