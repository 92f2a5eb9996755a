// The `Directory` port over the IAM Identity Store API. Use cases ask it who a user is (for the
// reconciler: still there? still enabled?), which person a user belongs to (self-approval checks
// across a person's several accounts) and which groups a user is in (eligibility and approver
// checks). Every response we rely on is validated with zod, so a shape we do not expect is an error
// rather than a silently empty answer.
//
// Groups are known by the ids the config pins (identityCenter.groupIds: name → Identity Store group
// id), never by display name. `groupsOf` lists the user's memberships and answers the config name of
// each group id it knows; a group the config does not name counts for nothing. A display name is not
// an identity: whoever may create or rename groups in the identity source (a SCIM admin, an IdP group
// owner) could otherwise name a group `cloud-ops` and become an approver. So a renamed group keeps its
// rights under its config name, and a new or renamed group that merely looks like a config group gets
// none. DescribeGroup is never asked. Memberships are read on every call: decisions depend on them,
// and a cache would let someone removed from an approver group keep approving.
import {
  DescribeUserCommand,
  GetUserIdCommand,
  type IdentitystoreClient,
  ListGroupMembershipsForMemberCommand,
} from '@aws-sdk/client-identitystore';
import { formatIssues } from '#domain/text.ts';
import * as z from '#domain/zod.ts';
import type { Directory, DirectoryUser } from '#ports/index.ts';

/** The only extension the Identity Store supports; it carries SCIM enterprise attributes. */
export const ENTERPRISE_EXTENSION = 'aws:identitystore:enterprise';

export interface IdentityStoreDirectoryOptions {
  readonly client: IdentitystoreClient;
  readonly identityStoreId: string;
  /** The config's identityCenter.groupIds: group name → Identity Store group id. */
  readonly groupIds: Readonly<Record<string, string>>;
}

/** The Identity Store answered with something this adapter cannot trust. Never shown to a caller. */
export class DirectoryResponseError extends Error {
  constructor(operation: string, error: z.core.$ZodError) {
    super(`unexpected ${operation} response from the Identity Store: ${formatIssues(error.issues, '')}`);
    this.name = 'DirectoryResponseError';
  }
}

// Moto answers `null` for attributes a user does not have, the real service omits them: accept both.
const externalIdSchema = z.object({
  Issuer: z.string().check(z.minLength(1)),
  Id: z.string().check(z.minLength(1)),
});

const describeUserSchema = z.object({
  UserId: z.string().check(z.minLength(1)),
  UserName: z.string().check(z.minLength(1)),
  DisplayName: z.nullish(z.string()),
  Emails: z.nullish(z.array(z.object({ Value: z.nullish(z.string()), Primary: z.nullish(z.boolean()) }))),
  ExternalIds: z.nullish(z.array(externalIdSchema)),
  UserStatus: z.nullish(z.string()),
  Extensions: z.nullish(z.record(z.string(), z.unknown())),
});

const getUserIdSchema = z.object({ UserId: z.string().check(z.minLength(1)) });

const membershipsPageSchema = z.object({
  GroupMemberships: z.array(z.object({ GroupId: z.string().check(z.minLength(1)) })),
  NextToken: z.nullish(z.string().check(z.minLength(1))),
});

function parse<T extends z.core.$ZodType>(schema: T, operation: string, value: unknown): z.output<T> {
  const result = z.safeParse(schema, value);
  if (!result.success) throw new DirectoryResponseError(operation, result.error);
  return result.data;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

/**
 * The employee number from the enterprise extension. The API reference documents the extension as a
 * JSON document without spelling out its members; the Identity Store follows SCIM's enterprise user
 * schema (RFC 7643 §4.3), whose attribute is `employeeNumber`. The key is matched without regard to
 * case so a differently cased spelling still links a person's accounts.
 */
function employeeNumberOf(extensions: Record<string, unknown> | null | undefined): string | undefined {
  const enterprise = extensions?.[ENTERPRISE_EXTENSION];
  if (typeof enterprise !== 'object' || enterprise === null) return undefined;
  for (const [key, value] of Object.entries(enterprise)) {
    if (key.toLowerCase() !== 'employeenumber') continue;
    const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
    if (text) return text;
  }
  return undefined;
}

function toDirectoryUser(user: z.infer<typeof describeUserSchema>): DirectoryUser {
  const personKeys = [`user:${user.UserId}`];
  for (const externalId of user.ExternalIds ?? [])
    personKeys.push(`ext:${externalId.Issuer}:${externalId.Id}`);
  const employeeNumber = employeeNumberOf(user.Extensions);
  if (employeeNumber) personKeys.push(`emp:${employeeNumber}`);

  const emails = (user.Emails ?? []).filter((email) => email.Value);
  const email = (emails.find((candidate) => candidate.Primary) ?? emails[0])?.Value ?? undefined;

  return {
    userId: user.UserId,
    userName: user.UserName,
    ...(user.DisplayName ? { displayName: user.DisplayName } : {}),
    ...(email ? { email } : {}),
    personKeys: [...new Set(personKeys)],
    // Absent status (moto, older identity stores) is an enabled user; any status other than ENABLED
    // — DISABLED or one this code does not know yet — counts as inactive.
    active: user.UserStatus == null || user.UserStatus === 'ENABLED',
  };
}

/** Group id → the config names that pin it (normally one; a Map, so no id is an inherited key). */
function namesById(groupIds: Readonly<Record<string, string>>): ReadonlyMap<string, readonly string[]> {
  const names = new Map<string, string[]>();
  for (const [name, groupId] of Object.entries(groupIds)) {
    const known = names.get(groupId);
    if (known) known.push(name);
    else names.set(groupId, [name]);
  }
  return names;
}

export class IdentityStoreDirectory implements Directory {
  private readonly client: IdentitystoreClient;
  private readonly identityStoreId: string;
  private readonly groupNamesById: ReadonlyMap<string, readonly string[]>;

  constructor(options: IdentityStoreDirectoryOptions) {
    this.client = options.client;
    this.identityStoreId = options.identityStoreId;
    this.groupNamesById = namesById(options.groupIds);
  }

  async getUser(userId: string): Promise<DirectoryUser | undefined> {
    try {
      const response = await this.client.send(
        new DescribeUserCommand({
          IdentityStoreId: this.identityStoreId,
          UserId: userId,
          Extensions: [ENTERPRISE_EXTENSION],
        }),
      );
      return toDirectoryUser(parse(describeUserSchema, 'DescribeUser', response));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  findUserByUserName(userName: string): Promise<DirectoryUser | undefined> {
    return this.findUserBy('userName', userName);
  }

  /** `emails.value` is one of the two unique attributes GetUserId documents, so no ListUsers scan. */
  findUserByEmail(email: string): Promise<DirectoryUser | undefined> {
    return this.findUserBy('emails.value', email);
  }

  /** The config names of the groups the user is a direct member of; unnamed groups are left out. */
  async groupsOf(userId: string): Promise<readonly string[]> {
    const names: string[] = [];
    const seenTokens = new Set<string>();
    let nextToken: string | undefined;
    do {
      const response = await this.client.send(
        new ListGroupMembershipsForMemberCommand({
          IdentityStoreId: this.identityStoreId,
          MemberId: { UserId: userId },
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      const page = parse(membershipsPageSchema, 'ListGroupMembershipsForMember', response);
      for (const membership of page.GroupMemberships)
        names.push(...(this.groupNamesById.get(membership.GroupId) ?? []));
      nextToken = page.NextToken ?? undefined;
      if (nextToken) {
        // A token handed back twice would loop forever; a partial group list must not pass as whole.
        if (seenTokens.has(nextToken))
          throw new Error('ListGroupMembershipsForMember returned the same NextToken twice');
        seenTokens.add(nextToken);
      }
    } while (nextToken);
    return [...new Set(names)];
  }

  private async findUserBy(attributePath: 'userName' | 'emails.value', value: string) {
    if (!value) return undefined;
    let userId: string;
    try {
      const response = await this.client.send(
        new GetUserIdCommand({
          IdentityStoreId: this.identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: attributePath, AttributeValue: value } },
        }),
      );
      userId = parse(getUserIdSchema, 'GetUserId', response).UserId;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    // Deleted between the two calls: getUser answers undefined, which is the truth by then.
    return this.getUser(userId);
  }
}
