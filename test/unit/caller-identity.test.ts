// resolveCaller: only an Identity Center session of the PamRequester permission set, for a user who
// exists and is enabled, acts as an Identity Store user. Everything else is a 401 that echoes nothing.
import { describe, expect, it } from 'vitest';
import { callerIdentitySchema, resolveCaller, sessionUserName } from '#adapters/aws/caller-identity.ts';
import { UnauthenticatedError } from '#domain/errors.ts';
import type { Directory, DirectoryUser } from '#ports/index.ts';
import { httpStatusOf } from '#runtime/error-responses.ts';

const ACCOUNT = '111122223333';
const ROLE = 'AWSReservedSSO_PamRequester_0123456789abcdef';

function sessionArn(userName: string, role = ROLE, account = ACCOUNT, partition = 'aws'): string {
  return `arn:${partition}:sts::${account}:assumed-role/${role}/${userName}`;
}

function directoryOf(...users: DirectoryUser[]): Directory & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    getUser: async (userId) => users.find((u) => u.userId === userId),
    findUserByUserName: async (userName) => {
      lookups.push(userName);
      return users.find((u) => u.userName === userName);
    },
    findUserByEmail: async (email) => users.find((u) => u.email === email),
    groupsOf: async () => [],
  };
}

const alice: DirectoryUser = {
  userId: '9067729b3d-94f1e788-c341-46f2-8c1a-8b1c2d3e4f50',
  userName: 'alice@example.com',
  personKeys: ['user:9067729b3d-94f1e788-c341-46f2-8c1a-8b1c2d3e4f50'],
  active: true,
};
const bob: DirectoryUser = {
  userId: '9067729b3d-5e8f2a61-3c4d-4b7e-8f90-a1b2c3d4e5f6',
  userName: 'bob',
  personKeys: ['user:9067729b3d-5e8f2a61-3c4d-4b7e-8f90-a1b2c3d4e5f6'],
  active: false,
};

describe('resolveCaller', () => {
  it.each([
    ['a PamRequester session', sessionArn('alice@example.com')],
    ['a session in the China partition', sessionArn('alice@example.com', ROLE, ACCOUNT, 'aws-cn')],
  ])('maps %s to the Identity Store user id', async (_case, userArn) => {
    // Prepare
    const directory = directoryOf(alice, bob);

    // Act
    const userId = await resolveCaller({ userArn, sourceIp: '203.0.113.9' }, directory);

    // Assess
    expect(userId).toBe(alice.userId);
    expect(directory.lookups).toEqual(['alice@example.com']);
  });

  it('accepts a session of another standing permission set when configured so', async () => {
    const userArn = sessionArn('alice@example.com', 'AWSReservedSSO_CloudPamUsers_fedcba9876543210');

    const userId = await resolveCaller({ userArn }, directoryOf(alice), {
      permissionSetName: 'CloudPamUsers',
    });

    expect(userId).toBe(alice.userId);
  });

  it('accepts the configured hub account', async () => {
    const userId = await resolveCaller({ userArn: sessionArn('alice@example.com') }, directoryOf(alice), {
      accountId: ACCOUNT,
    });

    expect(userId).toBe(alice.userId);
  });

  const refused: [string, unknown, { accountId?: string }?][] = [
    [
      'another permission set',
      { userArn: sessionArn('alice@example.com', 'AWSReservedSSO_AdministratorAccess_0123456789abcdef') },
    ],
    [
      'a permission set whose name only starts with PamRequester',
      { userArn: sessionArn('alice@example.com', 'AWSReservedSSO_PamRequester_x_0123456789abcdef') },
    ],
    [
      'a look-alike role outside Identity Center',
      { userArn: sessionArn('alice@example.com', 'PamRequester') },
    ],
    [
      'a role named like ours with a non-hex suffix',
      { userArn: sessionArn('alice@example.com', 'AWSReservedSSO_PamRequester_attacker') },
    ],
    [
      'a role ARN instead of a session',
      { userArn: `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${ROLE}` },
    ],
    [
      'an assumed-role ARN carrying the role path',
      {
        userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/aws-reserved/sso.amazonaws.com/${ROLE}/alice@example.com`,
      },
    ],
    ['an IAM user', { userArn: `arn:aws:iam::${ACCOUNT}:user/alice@example.com` }],
    ['the root user', { userArn: `arn:aws:iam::${ACCOUNT}:root` }],
    ['a federated user', { userArn: `arn:aws:sts::${ACCOUNT}:federated-user/alice@example.com` }],
    ['a malformed ARN', { userArn: 'not-an-arn' }],
    ['a session name with a forbidden character', { userArn: sessionArn('alice example') }],
    ['an account id that is not 12 digits', { userArn: sessionArn('alice@example.com', ROLE, '1234') }],
    [
      'a session in another account than the hub',
      { userArn: sessionArn('alice@example.com', ROLE, '444455556666') },
      { accountId: ACCOUNT },
    ],
    ['an empty userArn', { userArn: '' }],
    ['a null userArn (no IAM auth)', { userArn: null }],
    ['no userArn', { sourceIp: '203.0.113.9' }],
    ['no identity at all', undefined],
    ['a user name that does not exist', { userArn: sessionArn('mallory') }],
    ['a disabled user', { userArn: sessionArn('bob') }],
  ];

  it.each(refused)('refuses %s with UnauthenticatedError', async (_case, identity, options) => {
    // Act
    const attempt = resolveCaller(identity, directoryOf(alice, bob), options);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it('never echoes the ARN or the user name to the caller', async () => {
    const userArn = sessionArn('mallory', 'AWSReservedSSO_AdministratorAccess_0123456789abcdef');

    const error = await resolveCaller({ userArn }, directoryOf(alice)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UnauthenticatedError);
    const { message, code } = error as UnauthenticatedError;
    const httpStatus = httpStatusOf(error as UnauthenticatedError);
    expect({ code, httpStatus }).toEqual({ code: 'UNAUTHENTICATED', httpStatus: 401 });
    expect(message).not.toMatch(/arn:|mallory|111122223333|AdministratorAccess/);
  });

  it('does not look anyone up for a caller that is not a PamRequester session', async () => {
    const directory = directoryOf(alice);

    await resolveCaller({ userArn: `arn:aws:iam::${ACCOUNT}:user/alice@example.com` }, directory).catch(
      () => undefined,
    );

    expect(directory.lookups).toEqual([]);
  });

  it('lets directory failures through as themselves, not as a 401', async () => {
    const directory: Directory = {
      ...directoryOf(),
      findUserByUserName: async () => {
        throw new Error('Rate exceeded');
      },
    };

    await expect(resolveCaller({ userArn: sessionArn('alice@example.com') }, directory)).rejects.toThrow(
      'Rate exceeded',
    );
  });
});

describe('sessionUserName', () => {
  it('escapes the permission set name instead of reading it as a pattern', () => {
    const arn = sessionArn('alice', 'AWSReservedSSO_PamXRequester_0123456789abcdef');

    expect(sessionUserName(arn, 'Pam.Requester')).toBeUndefined();
  });
});

describe('callerIdentitySchema', () => {
  it('keeps only the fields the mapping uses', () => {
    const parsed = callerIdentitySchema.parse({ userArn: sessionArn('alice'), accessKey: 'ASIAEXAMPLE' });

    expect(parsed).toEqual({ userArn: sessionArn('alice') });
  });
});
