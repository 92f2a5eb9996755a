// The domain model: entitlements (from config), access requests, the policy snapshot a request
// carries, and the people who act on them. Pure types; durations are milliseconds inside.

export type EntitlementKind = 'aws-role' | 'secret' | 'session';

export interface PermissionSetSpec {
  /** Identity Center permission set name (≤ 32 chars, `[\w+=,.@-]`). */
  readonly name: string;
  readonly description?: string;
  readonly managedPolicies: readonly string[];
  readonly customerManagedPolicies: readonly { readonly name: string; readonly path: string }[];
  /** An IAM policy document (JSON object). */
  readonly inlinePolicy?: Readonly<Record<string, unknown>>;
}

export interface AwsRoleTarget {
  /** 12-digit AWS account ids. */
  readonly accounts: readonly string[];
  readonly permissionSet: PermissionSetSpec;
}

export interface ApprovalPolicy {
  /** Config group names (matched by the ids in identityCenter.groupIds) whose members may approve. */
  readonly approvers: readonly string[];
  /** N of an N-of-M quorum. */
  readonly required: number;
  readonly autoApprove: boolean;
  /** Slack channel id (`C…`/`G…`) where approval messages go; absent: `slack.approversChannel`. */
  readonly slackChannel?: string;
}

export interface Entitlement {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly kind: EntitlementKind;
  /** Present for kind `aws-role`. */
  readonly target: AwsRoleTarget;
  /** Config group names (matched by id) whose members may request. */
  readonly eligible: readonly string[];
  readonly approval: ApprovalPolicy;
  readonly maxDurationMs: number;
  readonly maxTotalDurationMs: number;
  readonly defaultDurationMs: number;
  readonly requireReason: boolean;
  readonly ticketPattern?: string;
  /** Config group names (matched by id) whose members may activate without approval (flagged, reviewed later). */
  readonly breakGlass: readonly string[];
  readonly strictExpiry: boolean;
  readonly privileged: boolean;
}

export interface IdentityCenterConfig {
  readonly instanceArn: string;
  readonly identityStoreId: string;
  /** The Identity Center delegated-administrator account: where the hub stacks deploy. */
  readonly hubAccountId: string;
  readonly managementAccountId: string;
  /** AWS Organizations id (`o-…`): the `/v1` resource policy admits only principals of this organization. */
  readonly organizationId: string;
  /** Config group name → Identity Store group id: how every group is matched, and what deployment assigns. */
  readonly groupIds: Readonly<Record<string, string>>;
}

export type DriftMode = 'remove' | 'report';

/** How a Slack user becomes an Identity Store user. */
export type SlackIdentityBinding = 'email' | 'strict';

/** The Slack approval bot (absent: no Slack at all; its endpoints refuse everything). */
export interface SlackConfig {
  /** Allow-listed workspaces (`T…`): a request from any other is refused. */
  readonly teamIds: readonly string[];
  /** Allow-listed Enterprise Grid organizations (`E…`): any workspace of theirs is admitted. */
  readonly enterpriseIds: readonly string[];
  /** Where approval messages go for an entitlement that names no channel of its own (`C…`/`G…`). */
  readonly approversChannel: string;
  /**
   * `email`: the Slack account's email is looked up in the Identity Store. `strict`: only a link the
   * person made with `pam slack link` (SigV4) counts, so changing a Slack email changes nothing.
   */
  readonly identityBinding: SlackIdentityBinding;
}

export interface PamConfig {
  readonly identityCenter: IdentityCenterConfig;
  /** Config group names (matched by id) whose members are cloud-pam admins (may revoke anything). */
  readonly admins: readonly string[];
  readonly drift: { readonly mode: DriftMode; readonly graceMs: number };
  readonly approvalTimeoutMs: number;
  /** How far ahead `startAt` may be (default 7 days). */
  readonly maxStartDelayMs?: number;
  /** What one user may hold open at once (defaults in shared/app/requests.ts when absent). */
  readonly limits?: PamLimits;
  readonly slack?: SlackConfig;
  readonly entitlements: readonly Entitlement[];
  /** SHA-256 (hex) of the canonical JSON of the validated config; recorded in every snapshot. */
  readonly configHash: string;
}

export interface PamLimits {
  /**
   * Requests one user may have open (any status that is not final: PENDING, APPROVED, SCHEDULED,
   * PROVISIONING, ACTIVE, EXTENSION_PENDING) before a new request is refused. Break-glass is exempt.
   */
  readonly maxOpenRequestsPerUser: number;
}

export const REQUEST_STATUSES = [
  'PENDING',
  'APPROVED',
  'SCHEDULED',
  'PROVISIONING',
  'ACTIVE',
  'EXTENSION_PENDING',
  'DENIED',
  'CANCELLED',
  'TIMED_OUT',
  'FAILED',
  'EXPIRED',
  'REVOKED',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Statuses from which nothing else can happen to the request. */
export const TERMINAL_STATUSES: ReadonlySet<RequestStatus> = new Set([
  'DENIED',
  'CANCELLED',
  'TIMED_OUT',
  'FAILED',
  'EXPIRED',
  'REVOKED',
]);

/** Statuses in which a request is still open: waiting for something, or holding access. */
export const OPEN_STATUSES: readonly RequestStatus[] = REQUEST_STATUSES.filter(
  (status) => !TERMINAL_STATUSES.has(status),
);

/**
 * The policy in force when the request was made. Decisions read the snapshot, never the current
 * config, so a config change cannot rewrite a pending decision.
 */
export interface PolicySnapshot {
  readonly entitlementTitle: string;
  readonly kind: EntitlementKind;
  readonly permissionSetName: string;
  readonly eligibleGroups: readonly string[];
  readonly approverGroups: readonly string[];
  /** The Identity Store id each named group stood for when the request was made (matched by id). */
  readonly groupIds?: Readonly<Record<string, string>>;
  readonly required: number;
  readonly autoApprove: boolean;
  readonly maxDurationMs: number;
  readonly maxTotalDurationMs: number;
  readonly requireReason: boolean;
  readonly ticketPattern?: string;
  readonly breakGlassGroups: readonly string[];
  readonly strictExpiry: boolean;
  readonly privileged: boolean;
  readonly configHash: string;
}

export interface Approval {
  readonly approverId: string;
  /** The approver's display name in the Identity Store at decision time (what people read). */
  readonly approverName?: string;
  /** ISO-8601 UTC. */
  readonly at: string;
  readonly comment?: string;
  /** Person keys of the approver at decision time (so a second account of the same person never counts twice). */
  readonly personKeys: readonly string[];
}

export interface Decision {
  readonly actorId: string;
  /** The actor's display name in the Identity Store at decision time. */
  readonly actorName?: string;
  readonly at: string;
  readonly comment?: string;
}

export interface ExtensionRequest {
  readonly requestedBy: string;
  readonly at: string;
  readonly additionalMs: number;
  readonly reason?: string;
  readonly approvals: readonly Approval[];
}

export interface Grant {
  /** Incremented on every change of `expiresAt`; a schedule carrying an older version is a no-op. */
  readonly grantVersion: number;
  readonly startedAt: string;
  readonly expiresAt: string;
  /** Sum of the original duration and every approved extension. */
  readonly totalDurationMs: number;
}

export interface BreakGlass {
  readonly activatedBy: string;
  readonly reviewStatus: 'REVIEW_REQUIRED' | 'REVIEWED';
  readonly review?: Decision;
}

export interface AccessRequest {
  /** ULID. */
  readonly id: string;
  readonly requesterId: string;
  /** The requester's display name in the Identity Store when the request was made. */
  readonly requesterName?: string;
  /** Person keys of the requester at request time (ExternalIds, employee number, user id). */
  readonly requesterPersonKeys: readonly string[];
  readonly entitlementId: string;
  /** The (first) target account; `accountIds` lists all of them when a request names several. */
  readonly accountId: string;
  /** Every target account (one assignment each); absent means just `accountId`. */
  readonly accountIds?: readonly string[];
  /** Accounts whose assignment has SUCCEEDED while PROVISIONING. */
  readonly provisioned?: readonly string[];
  readonly durationMs: number;
  readonly reason?: string;
  readonly ticket?: string;
  /** Optional scheduled start (ISO-8601 UTC). */
  readonly startAt?: string;
  readonly status: RequestStatus;
  readonly approvals: readonly Approval[];
  readonly denial?: Decision;
  readonly cancellation?: Decision;
  readonly revocation?: Decision;
  readonly extension?: ExtensionRequest;
  readonly grant?: Grant;
  readonly breakGlass?: BreakGlass;
  readonly failure?: string;
  readonly snapshot: PolicySnapshot;
  /** Optimistic concurrency: every write checks the version it read and increments it. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly endedAt?: string;
}

/** The accounts a request grants access to: one Identity Center assignment each. */
export function targetAccounts(request: Pick<AccessRequest, 'accountId' | 'accountIds'>): readonly string[] {
  return request.accountIds && request.accountIds.length > 0 ? request.accountIds : [request.accountId];
}

/** A person acting, resolved from the Identity Store at decision time (never cached). */
export interface Actor {
  readonly userId: string;
  /** Config group names, matched by group id (read uncached). */
  readonly groups: readonly string[];
  /** `user:<id>`, `ext:<issuer>:<id>`, `emp:<number>`: equal keys mean the same person. */
  readonly personKeys: readonly string[];
  /** Member of one of the config's admin groups. */
  readonly isAdmin: boolean;
  /** Display name in the Identity Store (kept on the records this actor makes). */
  readonly displayName?: string;
}
