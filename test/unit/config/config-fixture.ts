// A small valid config as a plain object, and helpers that turn a changed copy into YAML text, so
// each test states only the field it breaks. Hub 111111111111, management 222222222222, workloads
// 333333333333 and 444444444444, like infra/config/example.yaml.
import { stringify } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited at any depth; the loader checks them.
export type Doc = Record<string, any>;

export function baseDoc(): Doc {
  const entitlement = (id: string, account: string) => ({
    id,
    title: `Title of ${id}`,
    kind: 'aws-role',
    target: {
      accounts: [account],
      permissionSet: { name: `Pam-${id}`, managedPolicies: ['ReadOnlyAccess'] },
    },
    eligible: ['engineers'],
    approval: { approvers: ['cloud-ops'], required: 1 },
    maxDuration: 'PT4H',
  });
  return {
    identityCenter: {
      instanceArn: 'arn:aws:sso:::instance/ssoins-0123456789abcdef',
      identityStoreId: 'd-1234567890',
      hubAccountId: '111111111111',
      managementAccountId: '222222222222',
      organizationId: 'o-abcdefghij',
      groupIds: {
        engineers: '11111111-1111-4111-8111-111111111111',
        'cloud-ops': '22222222-2222-4222-8222-222222222222',
        'pam-admins': '33333333-3333-4333-8333-333333333333',
      },
    },
    admins: ['pam-admins'],
    drift: { mode: 'report' },
    entitlements: [
      entitlement('dev-readonly', '333333333333'),
      entitlement('prod-readonly', '444444444444'),
      entitlement('dev-viewer', '333333333333'),
    ],
  };
}

/** YAML text of the base config after `change` edits a copy of it. */
export function yamlWith(change: (doc: Doc) => void = () => {}): string {
  const doc = baseDoc();
  change(doc);
  return stringify(doc);
}

/** An inline policy with the given statements. */
export function inline(...statements: Doc[]): Doc {
  return { Version: '2012-10-17', Statement: statements };
}
