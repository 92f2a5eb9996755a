// Resolves the person acting from the Identity Store at decision time. Group membership is read
// uncached on every call: an approver removed from a group a minute ago must not approve. The
// display name comes along for people to read (the records keep it); ids and person keys decide.

import { UnauthenticatedError } from '#domain/errors.ts';
import type { Actor } from '#domain/model.ts';
import { intersects } from '#domain/policy.ts';
import type { Directory, DirectoryUser, EntitlementCatalog } from '#ports/index.ts';

export async function resolveActor(
  directory: Directory,
  catalog: EntitlementCatalog,
  userId: string,
): Promise<Actor> {
  const [user, groups] = await Promise.all([directory.getUser(userId), directory.groupsOf(userId)]);
  if (!user) throw new UnauthenticatedError('your Identity Center user no longer exists');
  if (!user.active) throw new UnauthenticatedError('your Identity Center user is disabled');
  const personKeys = user.personKeys.includes(`user:${user.userId}`)
    ? [...user.personKeys]
    : [`user:${user.userId}`, ...user.personKeys];
  return {
    userId: user.userId,
    groups: [...groups],
    personKeys,
    isAdmin: intersects(groups, catalog.config.admins),
    displayName: displayNameOf(user),
  };
}

/** What people call the user: the Identity Store's DisplayName, else the user name (never empty). */
function displayNameOf(user: DirectoryUser): string {
  return user.displayName?.trim() || user.userName;
}
