// The permission sets cloud-pam grants just in time: one per distinct permission set name among the
// config's aws-role entitlements, with a one-hour session, the configured policies and the
// `cloud-pam:managed` tag. The same construct writes the IAM that lets a function touch them: Identity
// Center actions only on the instance, these permission sets and the configured target accounts.
import { Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnPermissionSet } from 'aws-cdk-lib/aws-sso';
import { Construct } from 'constructs';
import { canonicalJson } from '#domain/canonical-json.ts';
import type { PamConfig, PermissionSetSpec } from '#domain/model.ts';
import { REQUESTER_PERMISSION_SET_NAME } from './pam-api.ts';
import type { PamFunction } from './pam-function.ts';

/** Every grant a role session of these permission sets gets lasts at most this long. */
export const JIT_SESSION_DURATION = 'PT1H';
export const MANAGED_TAG = { key: 'cloud-pam:managed', value: 'true' } as const;

/**
 * IAM actions Identity Center performs with the *caller's* credentials when it provisions or removes
 * a permission set's role in the account the call is made from (the management account): the
 * reserved role and the `AWSSSO_…_DO_NOT_DELETE` SAML provider.
 */
const SELF_ACCOUNT_ROLE_ACTIONS = [
  'iam:AttachRolePolicy',
  'iam:CreateRole',
  'iam:DeleteRole',
  'iam:DeleteRolePermissionsBoundary',
  'iam:DeleteRolePolicy',
  'iam:DetachRolePolicy',
  'iam:GetRole',
  'iam:ListAttachedRolePolicies',
  'iam:ListRolePolicies',
  'iam:PutRolePermissionsBoundary',
  'iam:PutRolePolicy',
  'iam:UpdateAssumeRolePolicy',
  'iam:UpdateRole',
  'iam:UpdateRoleDescription',
];
const SELF_ACCOUNT_SAML_ACTIONS = ['iam:CreateSAMLProvider', 'iam:GetSAMLProvider', 'iam:UpdateSAMLProvider'];

export type AssignmentChange = 'create' | 'delete';

/** The distinct permission sets of the config's aws-role entitlements, with the accounts each targets. */
export function managedPermissionSetSpecs(
  config: PamConfig,
): { spec: PermissionSetSpec; accounts: string[]; entitlementIds: string[] }[] {
  const byName = new Map<
    string,
    { spec: PermissionSetSpec; accounts: Set<string>; entitlementIds: string[] }
  >();
  for (const entitlement of config.entitlements) {
    if (entitlement.kind !== 'aws-role') continue;
    const spec = entitlement.target.permissionSet;
    if (spec.name === REQUESTER_PERMISSION_SET_NAME) {
      throw new Error(
        `entitlement ${entitlement.id}: permission set name ${REQUESTER_PERMISSION_SET_NAME} is reserved for cloud-pam's standing API access.`,
      );
    }
    const seen = byName.get(spec.name);
    if (seen && canonicalJson(seen.spec) !== canonicalJson(spec)) {
      throw new Error(
        `entitlements ${seen.entitlementIds.join(', ')} and ${entitlement.id} define permission set ${spec.name} differently; one name must mean one set of policies.`,
      );
    }
    const entry = seen ?? { spec, accounts: new Set<string>(), entitlementIds: [] };
    for (const account of entitlement.target.accounts) entry.accounts.add(account);
    entry.entitlementIds.push(entitlement.id);
    byName.set(spec.name, entry);
  }
  return [...byName.values()]
    .sort((a, b) => a.spec.name.localeCompare(b.spec.name))
    .map(({ spec, accounts, entitlementIds }) => ({ spec, accounts: [...accounts].sort(), entitlementIds }));
}

export interface ManagedPermissionSetsProps {
  readonly config: PamConfig;
}

export class ManagedPermissionSets extends Construct {
  /** Permission set name → its CloudFormation resource. */
  readonly permissionSets: ReadonlyMap<string, CfnPermissionSet>;
  /** Every account some managed permission set may be assigned in. */
  readonly accountIds: readonly string[];
  private readonly instanceArn: string;
  private readonly config: PamConfig;

  constructor(scope: Construct, id: string, props: ManagedPermissionSetsProps) {
    super(scope, id);
    const { identityCenter } = props.config;
    this.config = props.config;
    this.instanceArn = identityCenter.instanceArn;
    const specs = managedPermissionSetSpecs(props.config);
    const accounts = new Set<string>();
    const sets = new Map<string, CfnPermissionSet>();
    for (const { spec, accounts: targets, entitlementIds } of specs) {
      for (const account of targets) {
        // Identity Center refuses a delegated administrator's assignments in the management account.
        if (account === identityCenter.managementAccountId && identityCenter.hubAccountId !== account) {
          throw new Error(
            `entitlement(s) ${entitlementIds.join(', ')}: permission set ${spec.name} targets the management account ${account}, where the delegated administrator (hub ${identityCenter.hubAccountId}) cannot assign access.`,
          );
        }
        accounts.add(account);
      }
      sets.set(
        spec.name,
        new CfnPermissionSet(this, spec.name, {
          instanceArn: identityCenter.instanceArn,
          name: spec.name,
          description: spec.description ?? `cloud-pam just-in-time: ${spec.name}`,
          sessionDuration: JIT_SESSION_DURATION,
          ...(spec.managedPolicies.length > 0 ? { managedPolicies: [...spec.managedPolicies] } : {}),
          ...(spec.customerManagedPolicies.length > 0
            ? {
                customerManagedPolicyReferences: spec.customerManagedPolicies.map((policy) => ({
                  name: policy.name,
                  path: policy.path,
                })),
              }
            : {}),
          // CloudFormation takes the document as JSON (CDK refuses a pre-serialized string).
          ...(spec.inlinePolicy ? { inlinePolicy: spec.inlinePolicy } : {}),
          tags: [{ key: MANAGED_TAG.key, value: MANAGED_TAG.value }],
        }),
      );
    }
    this.permissionSets = sets;
    this.accountIds = [...accounts].sort();
  }

  /** Permission set name → ARN, as the JSON string functions read from `PERMISSION_SET_ARNS`. */
  arnsJson(): string {
    const arns: Record<string, string> = {};
    for (const [name, set] of this.permissionSets) arns[name] = set.attrPermissionSetArn;
    return Stack.of(this).toJsonString(arns);
  }

  permissionSetArns(): string[] {
    return [...this.permissionSets.values()].map((set) => set.attrPermissionSetArn);
  }

  /**
   * Create and/or delete assignments of the managed permission sets in the configured accounts, and
   * follow those requests. An assignment names an instance, a permission set and an account, and
   * IAM requires all three; listing them exactly means no other permission set (PamRequester, or a
   * customer's own AdministratorAccess) and no other account can ever be assigned by this role.
   */
  allowAssignmentChanges(fn: PamFunction, changes: readonly AssignmentChange[]): void {
    const actions = changes.map((change) =>
      change === 'create' ? 'sso:CreateAccountAssignment' : 'sso:DeleteAccountAssignment',
    );
    const statusActions = changes.map((change) =>
      change === 'create'
        ? 'sso:DescribeAccountAssignmentCreationStatus'
        : 'sso:DescribeAccountAssignmentDeletionStatus',
    );
    fn.addPermissions(
      new PolicyStatement({ actions, resources: this.assignmentResources() }),
      new PolicyStatement({ actions: statusActions, resources: this.assignmentResources() }),
    );
    this.allowSelfAccountProvisioning(fn);
  }

  /** List the user assignments of the managed permission sets in the configured accounts. */
  allowAssignmentReads(fn: PamFunction): void {
    fn.addPermissions(
      new PolicyStatement({ actions: ['sso:ListAccountAssignments'], resources: this.assignmentResources() }),
    );
  }

  /** Read the managed permission sets' inline policies (the revocation deny list lives there). */
  allowInlinePolicyReads(fn: PamFunction): void {
    fn.addPermissions(
      new PolicyStatement({
        actions: ['sso:GetInlinePolicyForPermissionSet'],
        resources: this.permissionSetResources(),
      }),
    );
  }

  /**
   * Edit the managed permission sets' inline policies and re-provision them to their accounts:
   * revocation adds (and later removes) a deny for sessions issued before it.
   */
  allowInlinePolicyEdits(fn: PamFunction): void {
    fn.addPermissions(
      new PolicyStatement({
        // An empty deny list on a set without configured inline policy means deleting the policy.
        actions: [
          'sso:GetInlinePolicyForPermissionSet',
          'sso:PutInlinePolicyToPermissionSet',
          'sso:DeleteInlinePolicyFromPermissionSet',
        ],
        resources: this.permissionSetResources(),
      }),
      new PolicyStatement({
        actions: ['sso:ProvisionPermissionSet', 'sso:DescribePermissionSetProvisioningStatus'],
        resources: this.assignmentResources(),
      }),
      // Provisioning is tracked to every account: which are stale, and which provisioning is in flight.
      new PolicyStatement({
        actions: ['sso:ListAccountsForProvisionedPermissionSet'],
        resources: this.permissionSetResources(),
      }),
      new PolicyStatement({
        actions: ['sso:ListPermissionSetProvisioningStatus'],
        resources: [this.instanceArn],
      }),
    );
    this.allowSelfAccountProvisioning(fn);
  }

  /** Find the accounts whose provisioned permission set is not the latest (the reconciler). */
  allowProvisioningReads(fn: PamFunction): void {
    fn.addPermissions(
      new PolicyStatement({
        actions: ['sso:ListAccountsForProvisionedPermissionSet'],
        resources: this.permissionSetResources(),
      }),
    );
  }

  private permissionSetResources(): string[] {
    return [this.instanceArn, ...this.permissionSetArns()];
  }

  private assignmentResources(): string[] {
    const { partition } = Stack.of(this);
    return [
      ...this.permissionSetResources(),
      ...this.accountIds.map((account) => `arn:${partition}:sso:::account/${account}`),
    ];
  }

  /**
   * When the hub is the management account and a managed permission set targets it, Identity
   * Center creates and removes that account's reserved role with the caller's credentials. Only
   * then, and only on the reserved path and Identity Center's SAML provider of that account.
   */
  private allowSelfAccountProvisioning(fn: PamFunction): void {
    const { hubAccountId, managementAccountId } = this.config.identityCenter;
    if (hubAccountId !== managementAccountId || !this.accountIds.includes(hubAccountId)) return;
    const { partition } = Stack.of(this);
    const roles = `arn:${partition}:iam::${hubAccountId}:role/aws-reserved/sso.amazonaws.com/*`;
    const provider = `arn:${partition}:iam::${hubAccountId}:saml-provider/AWSSSO_*_DO_NOT_DELETE`;
    fn.addPermissions(
      new PolicyStatement({ actions: SELF_ACCOUNT_ROLE_ACTIONS, resources: [roles] }),
      new PolicyStatement({ actions: SELF_ACCOUNT_SAML_ACTIONS, resources: [provider] }),
    );
    const path = `arn:<AWS::Partition>:iam::${hubAccountId}`;
    Validations.of(fn.permissions).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${path}:role/aws-reserved/sso.amazonaws.com/*]`,
        reason:
          "The hub is the management account and a managed permission set targets it: Identity Center then creates and deletes that account's AWSReservedSSO_* roles with the caller's credentials. Their names carry a random suffix, so the grant is the reserved path, which only Identity Center uses.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::${path}:saml-provider/AWSSSO_*_DO_NOT_DELETE]`,
        reason:
          "Identity Center's SAML provider in the management account is named AWSSSO_<id>_DO_NOT_DELETE with an id known only to Identity Center; assignments there read and maintain it with the caller's credentials.",
      },
    );
  }
}
