// Permission set name → ARN, from the deployment (env PERMISSION_SET_ARNS, a JSON object the CDK
// stack fills from the permission sets it creates). Unknown names fail closed.
import * as z from '#domain/zod.ts';
import type { PermissionSets } from '#ports/grants.ts';

// AWS names permission sets `…:permissionSet/ssoins-…/ps-…`; moto 5.2.1 answers `…:instance/ssoins-…/ps-…`.
const ArnMap = z.record(
  z.string().check(z.minLength(1)),
  z
    .string()
    .check(
      z.regex(
        /^arn:aws[\w-]*:sso:::(permissionSet|instance)\/ssoins-[\w-]+\/ps-[\w-]+$/,
        'expected a permission set ARN',
      ),
    ),
);

export function permissionSetsFrom(map: Readonly<Record<string, string>>): PermissionSets {
  const entries = Object.entries(ArnMap.parse(map));
  const byName = new Map(entries);
  return {
    arnOf(name) {
      const arn = byName.get(name);
      if (!arn) throw new Error(`permission set '${name}' is not managed by this deployment`);
      return arn;
    },
    all: () => entries.map(([name, arn]) => ({ name, arn })),
  };
}

export function permissionSetsFromJson(json: string): PermissionSets {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('PERMISSION_SET_ARNS: expected a JSON object');
  }
  return permissionSetsFrom(raw as Record<string, string>);
}
