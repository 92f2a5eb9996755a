// Maps the SigV4 caller of the `/v1` API (API Gateway REST, IAM auth) to the Identity Store user it
// acts as. The resource policy admits only role sessions of cloud-pam's standing PamRequester
// permission set; this is the second, independent check, and it fails closed: anything but an
// Identity Center session of that permission set, for a user who exists and is enabled, is refused.
//
// Identity Center names the role `AWSReservedSSO_<permission set>_<hex suffix>` under the path
// `aws-reserved/sso.amazonaws.com/[<region>/]`, and names the session after the user's Identity
// Center user name. An assumed-role ARN carries the role *name* only, never its path:
// `arn:aws:sts::<account>:assumed-role/AWSReservedSSO_PamRequester_<hex>/<user name>`.

import { UnauthenticatedError } from '#domain/errors.ts';
import * as z from '#domain/zod.ts';
import type { Directory } from '#ports/index.ts';

/** The fields of API Gateway's `requestContext.identity` this mapping reads. */
export const callerIdentitySchema = z.object({
  /** The authenticated principal; API Gateway derives it from the SigV4 signature, not from input. */
  userArn: z.string().check(z.minLength(1)),
});

export type CallerIdentity = z.infer<typeof callerIdentitySchema>;

export interface ResolveCallerOptions {
  /** The standing permission set whose sessions may call `/v1`. */
  readonly permissionSetName?: string;
  /** When set, only sessions in this account (the hub) are accepted. */
  readonly accountId?: string;
}

/** One message for every refusal, so a caller learns nothing about which check failed or what was seen. */
const REFUSED = 'the caller is not an IAM Identity Center session of an active cloud-pam user';

// Role session names allow `[\w+=,.@-]`, 2–64 characters (STS AssumeRole reference).
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const ASSUMED_ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The Identity Center user name from a PamRequester session ARN, or `undefined` for anything else. */
export function sessionUserName(
  userArn: string,
  permissionSetName: string,
  accountId?: string,
): string | undefined {
  const match = ASSUMED_ROLE_ARN.exec(userArn);
  if (!match) return undefined;
  const [, , account, roleName, sessionName] = match;
  if (accountId !== undefined && account !== accountId) return undefined;
  // The suffix is hex only, so a permission set named e.g. `PamRequester_x` never passes for ours.
  const role = new RegExp(`^AWSReservedSSO_${escapeRegExp(permissionSetName)}_[0-9a-f]+$`);
  if (!roleName || !role.test(roleName)) return undefined;
  if (!sessionName || !SESSION_NAME.test(sessionName)) return undefined;
  return sessionName;
}

/**
 * The Identity Store user id acting through this request. Throws `UnauthenticatedError` (401) when the
 * identity is missing or malformed, is not a session of the permission set, or names a user who does
 * not exist or is disabled.
 */
export async function resolveCaller(
  identity: unknown,
  directory: Directory,
  options: ResolveCallerOptions = {},
): Promise<string> {
  const { permissionSetName = 'PamRequester', accountId } = options;
  const parsed = callerIdentitySchema.safeParse(identity);
  if (!parsed.success) throw new UnauthenticatedError(REFUSED);

  const userName = sessionUserName(parsed.data.userArn, permissionSetName, accountId);
  if (!userName) throw new UnauthenticatedError(REFUSED);

  const user = await directory.findUserByUserName(userName);
  if (!user?.active) throw new UnauthenticatedError(REFUSED);
  return user.userId;
}
