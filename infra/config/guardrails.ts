// Guardrails: the fixed, documented rules (docs/guardrails.md) that make an entitlement privileged.
// A privileged entitlement must say `privileged: true`, which forces approval.required ≥ 2 and no
// auto-approve. Everything here fails closed: when a policy could grant a privileged action, it
// counts, whatever its conditions say.
import type { ConfigIssue, DeepPartial, EntitlementOutput } from '#config/schema.ts';

/** Services whose every non-read action administers identities or the organization. */
export const PRIVILEGED_SERVICES: readonly { readonly service: string; readonly why: string }[] = [
  { service: 'iam', why: 'can administer IAM' },
  { service: 'sso', why: 'can administer IAM Identity Center' },
  { service: 'sso-directory', why: "can administer IAM Identity Center's directory" },
  { service: 'identitystore', why: 'can administer the Identity Store (users, groups, memberships)' },
  { service: 'identitystore-auth', why: 'can administer Identity Store sign-in sessions' },
  { service: 'organizations', why: 'can administer AWS Organizations' },
  { service: 'account', why: 'can administer account settings (contacts, regions, closure)' },
];

/**
 * Actions that start with one of these verbs only read. A wildcard must come after the whole verb
 * (`iam:Get*` reads; `iam:G*` might not), otherwise the action counts as privileged.
 */
export const READ_ONLY_VERBS: readonly string[] = ['get', 'list', 'describe'];

/**
 * Name prefixes of cloud-pam's own resources in spoke accounts (matched case-insensitively): the
 * spoke stack names its resources `cloud-pam…`/`CloudPam…` and its role `pam-operator`, at the
 * root path. Requiring a prefix keeps `function:app-*` from counting as cloud-pam's functions.
 */
export const CLOUD_PAM_NAMES: readonly string[] = ['cloud-pam', 'cloudpam', 'pam-operator'];

/**
 * Actions on cloud-pam's own resources in a spoke account. `resources` are ARN patterns in which
 * `{name}` stands for each of CLOUD_PAM_NAMES; `%` matches within one ARN
 * segment (no `/` or `:`), `#` within a name that may hold a path (no `:`), `*` anything. The
 * limits stop a policy wildcard from matching by stretching one ARN segment over several.
 */
export const CLOUD_PAM_RESOURCE_RULES: readonly {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly why: string;
}[] = [
  {
    actions: ['sts:AssumeRole', 'sts:AssumeRoleWithSAML', 'sts:AssumeRoleWithWebIdentity'],
    resources: ['arn:%:iam::%:role/{name}#'],
    why: "can assume cloud-pam's roles (the spoke pam-operator role)",
  },
  {
    actions: [
      'cloudformation:Activate*',
      'cloudformation:Cancel*',
      'cloudformation:Continue*',
      'cloudformation:Create*',
      'cloudformation:Deactivate*',
      'cloudformation:Delete*',
      'cloudformation:Deregister*',
      'cloudformation:Execute*',
      'cloudformation:Import*',
      'cloudformation:Publish*',
      'cloudformation:Register*',
      'cloudformation:Rollback*',
      'cloudformation:Set*',
      'cloudformation:Signal*',
      'cloudformation:Stop*',
      'cloudformation:Tag*',
      'cloudformation:Untag*',
      'cloudformation:Update*',
    ],
    resources: ['arn:%:cloudformation:%:%:stack%/{name}#', 'arn:%:cloudformation:%:%:stack%/{name}#:%'],
    why: "can change cloud-pam's stacks or StackSets",
  },
  {
    actions: [
      'lambda:Add*',
      'lambda:Create*',
      'lambda:Delete*',
      'lambda:Invoke*',
      'lambda:Publish*',
      'lambda:Put*',
      'lambda:Remove*',
      'lambda:Tag*',
      'lambda:Untag*',
      'lambda:Update*',
    ],
    resources: ['arn:%:lambda:%:%:function:{name}%', 'arn:%:lambda:%:%:function:{name}%:%'],
    why: "can change or invoke cloud-pam's functions (secret rotation)",
  },
  {
    actions: [
      'ssm:CreateDocument',
      'ssm:DeleteDocument',
      'ssm:ModifyDocumentPermission',
      'ssm:UpdateDocument*',
    ],
    resources: ['arn:%:ssm:%:%:document/{name}%'],
    why: "can change cloud-pam's session documents (session recording)",
  },
  {
    actions: [
      's3:BypassGovernanceRetention',
      's3:DeleteBucket*',
      's3:DeleteObjectVersion*',
      's3:PutBucket*',
      's3:PutEncryptionConfiguration',
      's3:PutLifecycleConfiguration',
      's3:PutObjectLegalHold',
      's3:PutObjectRetention',
      's3:PutReplicationConfiguration',
    ],
    resources: ['arn:%:s3:::{name}%', 'arn:%:s3:::{name}%/*'],
    why: "can reconfigure cloud-pam's buckets or delete their object versions (session logs)",
  },
  {
    actions: ['logs:Delete*', 'logs:DisassociateKmsKey', 'logs:PutRetentionPolicy'],
    resources: [
      'arn:%:logs:%:%:log-group:{name}#',
      'arn:%:logs:%:%:log-group:/{name}#',
      'arn:%:logs:%:%:log-group:/aws/%/{name}#',
    ].flatMap((group) => [group, `${group}:*`]),
    why: "can delete or shorten cloud-pam's log groups (session logs)",
  },
  {
    actions: [
      'secretsmanager:Cancel*',
      'secretsmanager:Delete*',
      'secretsmanager:Put*',
      'secretsmanager:Remove*',
      'secretsmanager:Replicate*',
      'secretsmanager:Restore*',
      'secretsmanager:Rotate*',
      'secretsmanager:Stop*',
      'secretsmanager:Tag*',
      'secretsmanager:Untag*',
      'secretsmanager:Update*',
    ],
    resources: ['arn:%:secretsmanager:%:%:secret:{name}#', 'arn:%:secretsmanager:%:%:secret:/{name}#'],
    why: "can change cloud-pam's secrets",
  },
];

/** AWS managed policies (by name, case-insensitive) known to grant what the rules above describe. */
export const PRIVILEGED_MANAGED_POLICIES: Readonly<Record<string, string>> = {
  AdministratorAccess: 'allows every action on every resource',
  PowerUserAccess:
    "allows every service but IAM and Organizations, including Identity Center and cloud-pam's resources",
  IAMFullAccess: 'administers IAM',
  AWSSSOMasterAccountAdministrator: 'administers IAM Identity Center',
  AWSSSOMemberAccountAdministrator: 'administers IAM Identity Center',
  AWSSSODirectoryAdministrator: "administers IAM Identity Center's directory",
  AWSIdentityStoreFullAccess: 'administers the Identity Store',
  AWSOrganizationsFullAccess: 'administers AWS Organizations',
  AWSAccountManagementFullAccess: 'administers account settings',
  AWSCloudFormationFullAccess: "can change every stack, cloud-pam's included",
  AWSLambda_FullAccess: "can change every function, cloud-pam's included, and passes roles",
  AmazonSSMFullAccess: "can change every SSM document, cloud-pam's session documents included",
  AmazonS3FullAccess: "can reconfigure every bucket, cloud-pam's session-log buckets included",
  CloudWatchLogsFullAccess: "can delete every log group, cloud-pam's session logs included",
  SecretsManagerReadWrite: "can change every secret, cloud-pam's included",
  SystemAdministrator: 'passes roles and changes stacks, functions and SSM documents',
};

export interface GuardrailContext {
  readonly hubAccountId?: string;
  readonly managementAccountId?: string;
}

/** What the guardrails read from an entitlement; the domain `Entitlement` and partial parses both fit. */
export interface GuardrailSubject {
  readonly target?: {
    readonly accounts?: readonly string[];
    readonly permissionSet?: {
      readonly managedPolicies?: readonly string[];
      readonly customerManagedPolicies?: readonly { readonly name: string; readonly path?: string }[];
      readonly inlinePolicy?: unknown;
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Glob intersection: can one string match both patterns?
// ---------------------------------------------------------------------------------------------

type Token =
  | { readonly kind: 'any' }
  | { readonly kind: 'segment' }
  | { readonly kind: 'path' }
  | { readonly kind: 'one' }
  | { readonly kind: 'char'; readonly c: string };

function tokenize(pattern: string, segmentStars: boolean): Token[] {
  return [...pattern.toLowerCase()].map((c): Token => {
    if (c === '*') return { kind: 'any' };
    if (c === '?') return { kind: 'one' };
    if (c === '%' && segmentStars) return { kind: 'segment' };
    if (c === '#' && segmentStars) return { kind: 'path' };
    return { kind: 'char', c };
  });
}

const isStar = (t: Token) => t.kind === 'any' || t.kind === 'segment' || t.kind === 'path';

/** Whether a star token can consume a single-character token. */
function starTakes(star: Token, t: Token): boolean {
  if (star.kind === 'any' || t.kind !== 'char') return true;
  return t.c !== ':' && (star.kind === 'path' || t.c !== '/');
}

function charsMeet(a: Token, b: Token): boolean {
  if (a.kind === 'one' || b.kind === 'one') return true;
  return a.kind === 'char' && b.kind === 'char' && a.c === b.c;
}

/**
 * True when some string matches both `policyPattern` (IAM wildcards `*` and `?`; policy variables
 * like `${aws:username}` count as `*`) and `rulePattern` (which may also use `%`, a star that does
 * not cross `/` or `:`, and `#`, one that does not cross `:`). Case-insensitive, so that case never hides a match.
 */
export function globsIntersect(policyPattern: string, rulePattern: string): boolean {
  const a = tokenize(policyPattern.replace(/\$\{[^}]*\}/g, '*'), false);
  const b = tokenize(rulePattern, true);
  const memo = new Map<number, boolean>();
  const meet = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const ta = a[i];
    const tb = b[j];
    let result = false;
    if (!ta && !tb) result = true;
    else if (ta && isStar(ta) && meet(i + 1, j)) result = true;
    else if (tb && isStar(tb) && meet(i, j + 1)) result = true;
    else if (ta && tb) {
      if (isStar(ta) && !isStar(tb)) result = starTakes(ta, tb) && meet(i, j + 1);
      else if (isStar(tb) && !isStar(ta)) result = starTakes(tb, ta) && meet(i + 1, j);
      else if (!isStar(ta) && !isStar(tb)) result = charsMeet(ta, tb) && meet(i + 1, j + 1);
    }
    memo.set(key, result);
    return result;
  };
  return meet(0, 0);
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

/** Why an Allow of `action` (an IAM action pattern) on any resource is privileged, if it is. */
export function privilegedActionReason(action: string): string | undefined {
  const colon = action.indexOf(':');
  const service = colon < 0 ? action : action.slice(0, colon);
  const verb = colon < 0 ? '*' : action.slice(colon + 1).toLowerCase();
  const readOnly = READ_ONLY_VERBS.some((prefix) => verb.startsWith(prefix));
  if (readOnly) return undefined;
  return PRIVILEGED_SERVICES.find((entry) => globsIntersect(service, entry.service))?.why;
}

/** Why an Allow of `action` on `resources` touches cloud-pam's own resources, if it does. */
export function cloudPamResourceReason(action: string, resources: readonly string[]): string | undefined {
  for (const rule of CLOUD_PAM_RESOURCE_RULES) {
    if (!rule.actions.some((ruleAction) => globsIntersect(action, ruleAction))) continue;
    const patterns = rule.resources.flatMap((resource) =>
      CLOUD_PAM_NAMES.map((name) => resource.replace('{name}', name)),
    );
    if (resources.some((resource) => patterns.some((pattern) => globsIntersect(resource, pattern))))
      return rule.why;
  }
  return undefined;
}

const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reasons an inline policy is privileged, each naming the statement (and action) relative to
 * `base`. Deny statements never count; an Allow with NotAction always counts (it grants everything
 * not listed); NotResource counts as every resource; conditions are ignored (they only narrow).
 */
export function policyPrivilegeReasons(policy: unknown, base: string): string[] {
  if (!isObject(policy)) return [];
  const statements = policy.Statement;
  const many = Array.isArray(statements);
  const reasons: string[] = [];
  asList(statements).forEach((statement, index) => {
    if (!isObject(statement) || statement.Effect !== 'Allow') return;
    const at = `${base}.Statement${many ? `[${index}]` : ''}`;
    if (statement.NotAction !== undefined) {
      reasons.push(`${at} allows every action except its NotAction list`);
      return;
    }
    const resources =
      statement.NotResource !== undefined
        ? ['*']
        : asList(statement.Resource).filter((r) => typeof r === 'string');
    const actions = statement.Action;
    asList(actions).forEach((action, actionIndex) => {
      if (typeof action !== 'string') return;
      const why = privilegedActionReason(action) ?? cloudPamResourceReason(action, resources as string[]);
      if (why) {
        const where = `${at}.Action${Array.isArray(actions) ? `[${actionIndex}]` : ''}`;
        reasons.push(`${where} "${action}" ${why}`);
      }
    });
  });
  return reasons;
}

/** The policy name of an AWS managed policy given by name, path/name or ARN. */
export function managedPolicyName(policy: string): string {
  return policy.slice(policy.lastIndexOf('/') + 1);
}

const PRIVILEGED_POLICY_BY_LOWER_NAME = new Map(
  Object.entries(PRIVILEGED_MANAGED_POLICIES).map(([name, why]) => [name.toLowerCase(), { name, why }]),
);

/**
 * Every reason the entitlement is privileged, as text naming the field relative to the entitlement
 * (`target.accounts[0] is the management account 222222222222`). Empty when it is not privileged.
 */
export function privilegeReasons(entitlement: GuardrailSubject, context: GuardrailContext): string[] {
  const reasons: string[] = [];
  const target = entitlement.target;
  (target?.accounts ?? []).forEach((account, index) => {
    if (account === context.managementAccountId) {
      reasons.push(`target.accounts[${index}] is the management account ${account}`);
    } else if (account === context.hubAccountId) {
      reasons.push(`target.accounts[${index}] is the hub account ${account}`);
    }
  });
  const permissionSet = target?.permissionSet;
  (permissionSet?.managedPolicies ?? []).forEach((policy, index) => {
    const known = PRIVILEGED_POLICY_BY_LOWER_NAME.get(managedPolicyName(policy).toLowerCase());
    if (known) reasons.push(`target.permissionSet.managedPolicies[${index}] ${known.name} ${known.why}`);
  });
  (permissionSet?.customerManagedPolicies ?? []).forEach((policy, index) => {
    reasons.push(
      `target.permissionSet.customerManagedPolicies[${index}] (${policy.name}) cannot be inspected before deployment`,
    );
  });
  reasons.push(...policyPrivilegeReasons(permissionSet?.inlinePolicy, 'target.permissionSet.inlinePolicy'));
  return reasons;
}

/**
 * The guardrail issues of one entitlement (paths relative to it): `privileged` must be true when
 * any reason applies, and a privileged entitlement needs approval.required ≥ 2 and no auto-approve.
 * The approval rules apply whenever the entitlement is privileged in fact, so one run reports all.
 */
export function guardrailIssues(
  entitlement: DeepPartial<EntitlementOutput>,
  context: GuardrailContext,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const reasons = privilegeReasons(entitlement, context);
  if (reasons.length > 0 && entitlement.privileged === false) {
    issues.push({ path: ['privileged'], message: `expected true because ${reasons.join('; ')}` });
  }
  const privileged = entitlement.privileged === true || reasons.length > 0;
  if (!privileged) return issues;
  const approval = entitlement.approval;
  if (approval?.required !== undefined && approval.required < 2) {
    issues.push({
      path: ['approval', 'required'],
      message: `expected a number ≥ 2 because the entitlement is privileged, got ${approval.required}`,
    });
  }
  if (approval?.autoApprove === true) {
    issues.push({
      path: ['approval', 'autoApprove'],
      message: 'expected false because the entitlement is privileged',
    });
  }
  return issues;
}
