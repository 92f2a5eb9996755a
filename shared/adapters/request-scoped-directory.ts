// A directory view for one API request: a user looked up to authenticate the caller is not looked
// up again to authorize the same request. Group membership is never memoized, and nothing outlives
// the request, so every decision still sees the Identity Store as it is now.
import type { Directory, DirectoryUser } from '#ports/index.ts';

export function requestScopedDirectory(inner: Directory): Directory {
  const byId = new Map<string, Promise<DirectoryUser | undefined>>();
  const remember = (lookup: Promise<DirectoryUser | undefined>) => {
    lookup.then((user) => user && byId.set(user.userId, Promise.resolve(user))).catch(() => {});
    return lookup;
  };
  return {
    getUser(userId) {
      const known = byId.get(userId);
      if (known) return known;
      const lookup = inner.getUser(userId);
      byId.set(userId, lookup);
      lookup.catch(() => byId.delete(userId));
      return lookup;
    },
    findUserByUserName: (userName) => remember(inner.findUserByUserName(userName)),
    findUserByEmail: (email) => remember(inner.findUserByEmail(email)),
    groupsOf: (userId) => inner.groupsOf(userId),
  };
}
