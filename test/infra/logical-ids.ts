// The service stack's logical ids start with the id of the capability construct that owns the
// resource (`RequestsHandleApiRole…`, `GrantsProvisioningQueue…`). Tests name a resource within its
// capability; two capabilities owning the same name make the one-match helpers fail loudly.
const CAPABILITY = /^(Requests|Grants)(?=[A-Z])/;

/** `GrantsProvisionAccessRole1A2B3C` → `ProvisionAccessRole1A2B3C`. */
export function idWithinCapability(logicalId: string): string {
  return logicalId.replace(CAPABILITY, '');
}

/** Whether a policy's `Roles` (`[{ Ref }]`) names a role whose id, within its capability, starts with `prefix`. */
export function refersToRole(roles: unknown, prefix: string): boolean {
  return (Array.isArray(roles) ? roles : [roles]).some(
    (role) =>
      typeof role === 'object' &&
      role !== null &&
      typeof (role as { Ref?: unknown }).Ref === 'string' &&
      idWithinCapability((role as { Ref: string }).Ref).startsWith(prefix),
  );
}
