// A fake IAM Identity Center (the SSO Admin API) with AWS's documented semantics, served over HTTP so
// that the real SDK v3 `SSOAdminClient` talks to it: in tests through `endpoint`, in the deployed
// functions (run locally) through `AWS_ENDPOINT_URL_SSO_ADMIN` (SDK v3 reads
// `AWS_ENDPOINT_URL_<SERVICE ID>`; the service id is "SSO Admin"), or behind local/aws-proxy.ts as the
// upstream of the `sso` signing name. Moto 5.2.1 cannot show whether a revocation holds (it deletes
// assignments at once, keeps no per-account provisioning state, lacks
// DescribePermissionSetProvisioningStatus, never evaluates IAM, enforces no size limit); this fake can,
// and it answers — with its OWN evaluation of the policy provisioned in the account, never the
// project's code — "may this user, with a credential issued at t, act in account a now?".
// It lives in local/ and is imported only by tests and the local runtime; it is never bundled.
//
// Emulated, and where it is documented:
// - Protocol (SSO Admin API Reference, "Common Parameters"/"Common Errors", every operation page):
//   awsJson1_1, POST /, `X-Amz-Target: SWBExternalService.<Operation>`, timestamps as epoch seconds;
//   errors HTTP 400 `{"__type": "<Code>", "message"/"Message": …}` (ConflictException,
//   ResourceNotFoundException, ValidationException, ThrottlingException; an unknown target is
//   UnknownOperationException, a body that is not JSON SerializationException; a fault of the fake
//   itself 500 InternalServerException). The SDK's model gives some of these 404/409/429, but the SDK
//   maps awsJson errors by `__type`, not by status. Inputs are validated against the lengths and
//   patterns of the API reference (ARNs, 12-digit account ids, principal ids, MaxResults 1–100,
//   permission set names, session durations PT1H–PT12H); an inline policy must be a JSON object with a
//   Statement (else ValidationException).
// - Assumed where the reference is silent (moto answers the same): GetInlinePolicyForPermissionSet
//   answers `InlinePolicy: ""` without a policy; DeleteAccountAssignment of an assignment that does not
//   exist is a ResourceNotFoundException; CreateAccountAssignment of one that exists SUCCEEDS and keeps
//   one assignment (no duplicate, unlike moto).
// - Operations: ListInstances, CreatePermissionSet, DescribePermissionSet, ListPermissionSets,
//   DeletePermissionSet, AttachManagedPolicyToPermissionSet, DetachManagedPolicyFromPermissionSet,
//   ListManagedPoliciesInPermissionSet, PutInlinePolicyToPermissionSet,
//   GetInlinePolicyForPermissionSet, DeleteInlinePolicyFromPermissionSet, ProvisionPermissionSet
//   (TargetType AWS_ACCOUNT + TargetId, or ALL_PROVISIONED_ACCOUNTS),
//   DescribePermissionSetProvisioningStatus, ListPermissionSetProvisioningStatus,
//   ListAccountsForProvisionedPermissionSet (+ ProvisioningStatus filter), CreateAccountAssignment,
//   DeleteAccountAssignment, DescribeAccountAssignmentCreationStatus,
//   DescribeAccountAssignmentDeletionStatus, ListAccountAssignments (USER and GROUP, paginated),
//   TagResource, ListTagsForResource (CreatePermissionSet's Tags — local/provision.ts passes them).
// - Asynchronous operations (CreateAccountAssignment, DeleteAccountAssignment, ProvisionPermissionSet
//   pages: "call Describe…Status"): each answers an `AccountAssignmentOperationStatus` /
//   `PermissionSetProvisioningStatus` and stays IN_PROGRESS for `setPolls` status polls; its effect
//   (assignment there / gone, an account's provisioned version) happens only when it completes, at
//   `now()`. With 0 polls (the default) it completes within its own call, which then answers the final
//   status. Failures on demand (`failNext`) end an operation FAILED with that FailureReason and change
//   nothing in that account.
// - Provisioning (CreateAccountAssignment: "As part of a successful CreateAccountAssignment call, the
//   specified permission set will automatically be provisioned to the account … If the permission set
//   is subsequently updated, the corresponding IAM policies attached to roles in your accounts will not
//   be updated automatically. In this case, you must call ProvisionPermissionSet"): every definition
//   change (inline policy put/delete, managed policy attach/detach) makes a new version; each account
//   keeps the version (and a snapshot of the inline policy) last provisioned there. Every accepted put,
//   delete, attach or detach counts as a change, even one that leaves the document as it was (assumed:
//   the safe side, more accounts stale). ProvisionPermissionSet provisions the definition as it was
//   when called; an assignment provisions the definition current at its completion, and only where the
//   permission set is not provisioned yet.
//   ALL_PROVISIONED_ACCOUNTS makes one provisioning per account holding the role; the operation is
//   IN_PROGRESS until all are done, FAILED (naming the accounts) if any failed; with no such account it
//   SUCCEEDS at once (assumed). Per-account results: `provisioningByAccount(requestId)`.
//   ListAccountsForProvisionedPermissionSet's ProvisioningStatus LATEST_PERMISSION_SET_PROVISIONED /
//   LATEST_PERMISSION_SET_NOT_PROVISIONED compares each account's version with the latest.
// - Conflicts (ProvisionPermissionSet page, ConflictException): a ProvisionPermissionSet while another
//   provisioning of the same permission set is IN_PROGRESS. Assumed (not documented in these words):
//   a create/delete of an assignment while one for the same principal, account and permission set is
//   IN_PROGRESS, and DeletePermissionSet while the set is provisioned anywhere. ProvisionPermissionSet to
//   one AWS_ACCOUNT where the set has no role yet creates the role (no principal can use it until assigned).
// - Size (PutInlinePolicyToPermissionSet: InlinePolicy length 1–32,768; IAM User Guide, "IAM and AWS STS
//   quotas": role policy size 10,240 characters, "IAM doesn't count white space"): a longer put is a
//   ValidationException; provisioning a policy over 10,240 non-whitespace characters (space, tab, CR,
//   LF not counted) FAILS in that account ("… exceeds the maximum role policy size …") and the account
//   keeps its previous version.
// - Roles and sessions (IAM Identity Center User Guide, "Revoke active IAM role sessions created by
//   permission sets"; IAM User Guide, "Policy evaluation logic", "IAM JSON policy elements: Condition
//   operators", "Creating a condition with multiple keys or values"): `issueCredential` answers a
//   session (the permission set's SessionDuration, PT1H by default) only while the user holds a
//   completed USER assignment. Removing the assignment does NOT end a session already issued: it stays
//   usable until it expires unless an explicit Deny in the inline policy PROVISIONED IN THAT ACCOUNT
//   matches it, or the role itself is gone. The role is the permission set's in that account. Whether
//   Identity Center deletes the AWSReservedSSO_ role with the last assignment (and so ends its
//   sessions) is not something cloud-pam may rely on: by default the role stays, so only expiry or a
//   deny ends a session (the conservative side for testing revocation);
//   `deleteRoleWithLastAssignment: true` deletes it, and a session of a deleted role (or of an earlier
//   role of the same name) is then dead. The deny evaluator is this file's own: Deny
//   statements whose Action and Resource cover "*" (partial denies cannot stop "acting at all" and are
//   skipped), condition operators StringEquals, StringNotEquals, StringLike, StringNotLike, DateLessThan,
//   DateLessThanEquals, DateGreaterThan, DateGreaterThanEquals on the keys `identitystore:userId`
//   (string) and `aws:TokenIssueTime` (ISO-8601 or epoch seconds); keys compared case-insensitively,
//   values case-sensitively; operators and keys ANDed, a key's values ORed (a negated operator: none
//   may match). Anything else in a covering Deny — another operator (…IfExists, ForAnyValue:, Null,
//   Bool…), another key, a policy variable, a malformed value — throws: never a silent allow.
// - Throttling on demand (`throttleNext`): HTTP 400 ThrottlingException, nothing done.
//
// NOT emulated: SigV4 verification and IAM authorization of callers; the ~20 TPS quota and the limit
// of 10 outstanding assignment operations; real processing time (completion is driven by polls or
// `settle()`, not by time); Organizations (any 12-digit account is a valid target) and the identity
// store (principal ids are checked for form only; group membership never grants a credential here);
// managed policies' existence, contents and count quota (attached ARNs are recorded, never evaluated);
// Allow statements (the role is assumed to allow everything its managed policies allow); permissions
// boundaries, SCPs/RCPs, resource policies, session policies; customer managed policy references,
// application assignments, access control attributes, permission set updates (UpdatePermissionSet);
// the second granularity of `aws:TokenIssueTime` (times are compared in milliseconds); status-record
// retention (records live as long as the fake); eventual consistency between a write and a read.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { optional } from '#domain/optional.ts';
import { fieldPath } from '#domain/text.ts';
import { listen } from './http-listener.ts';
import { readBody } from './read-body.ts';

// ---------------------------------------------------------------------------------------------------
// Public surface

export interface FakeIdentityCenterOptions {
  /** `arn:aws:sso:::instance/ssoins-<16 chars>` */
  readonly instanceArn: string;
  /** `d-<10 chars>` */
  readonly identityStoreId: string;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Port to listen on (default: a free one). */
  readonly port?: number;
  /** Epoch milliseconds (default Date.now): every completion, status date and credential uses it. */
  readonly now?: () => number;
  /** Delete the permission set's role (ending its sessions) with its last assignment (default false). */
  readonly deleteRoleWithLastAssignment?: boolean;
}

export type FakeOperationKind = 'create' | 'delete' | 'provision';

/** Status polls an operation answers IN_PROGRESS before its final status (0: completes at once). */
export interface FakePolls {
  readonly create?: number;
  readonly delete?: number;
  readonly provision?: number;
}

export interface FakeFailure {
  /** create/delete: an assignment operation; provision: one account's part of ProvisionPermissionSet. */
  readonly operation: FakeOperationKind;
  /** Only operations in this account (default: any). */
  readonly accountId?: string;
  /** How many matching operations end FAILED. */
  readonly times: number;
  readonly reason: string;
}

export type PrincipalType = 'USER' | 'GROUP';

export interface FakeAssignment {
  readonly accountId: string;
  readonly permissionSetArn: string;
  readonly principalType: PrincipalType;
  readonly principalId: string;
  /** When the creation completed. */
  readonly since: Date;
}

export interface AccountProvisioning {
  readonly accountId: string;
  readonly status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  readonly failureReason?: string;
}

export interface AssignmentFilter {
  readonly accountId?: string;
  readonly permissionSetArn?: string;
  readonly principalType?: PrincipalType;
  readonly principalId?: string;
}

/** A point in time: a Date or epoch milliseconds. */
export type Instant = Date | number;

export interface IssueCredentialInput {
  readonly userId: string;
  readonly accountId: string;
  readonly permissionSetArn: string;
  /** Default: now(). */
  readonly at?: Instant;
}

/** A role session issued by the portal for a permission set's role in one account. */
export interface FakeCredential {
  readonly userId: string;
  readonly accountId: string;
  readonly permissionSetArn: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** The role the session belongs to: a role deleted and created again is another role. */
  readonly roleGeneration: number;
}

export type Verdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'not-yet-issued' | 'expired' | 'role-deleted' }
  | { readonly allowed: false; readonly reason: 'denied'; readonly statements: readonly string[] };

export interface FakeIdentityCenter {
  /** Base URL for an SDK client's `endpoint` or `AWS_ENDPOINT_URL_SSO_ADMIN`. */
  readonly endpoint: string;
  readonly instanceArn: string;
  readonly identityStoreId: string;
  /** Operation names received, in order (throttled and unknown ones included; 'Unknown' without a target). */
  readonly calls: readonly string[];
  resetCalls(): void;
  /** Sets polls per kind; kinds not given keep their value. Applies to operations started afterwards. */
  setPolls(polls: FakePolls): void;
  failNext(failure: FakeFailure): void;
  /** Drops every failure still planned with `failNext`. */
  clearFailures(): void;
  /** The next n calls (any operation) answer ThrottlingException. */
  throttleNext(n: number): void;
  /** Completes every operation still IN_PROGRESS, at now(). */
  settle(): void;
  /** Operations still IN_PROGRESS. */
  pending(): number;
  latestVersion(permissionSetArn: string): number;
  /** The version provisioned in the account now; undefined where the role does not exist. */
  provisionedVersion(permissionSetArn: string, accountId: string): number | undefined;
  /** The inline policy provisioned in the account now; undefined when none (or no role). */
  provisionedPolicy(permissionSetArn: string, accountId: string): string | undefined;
  /** One ProvisionPermissionSet request's status in each account it targets. */
  provisioningByAccount(requestId: string): AccountProvisioning[];
  /** Completed assignments that exist now. */
  assignmentsOf(filter?: AssignmentFilter): FakeAssignment[];
  /** A session for the user; throws unless the user holds a completed assignment at `at`. */
  issueCredential(input: IssueCredentialInput): FakeCredential;
  /** True when the session may act in its account at `at` (default now). Throws on a policy it cannot evaluate. */
  mayAct(credential: FakeCredential, options?: { readonly at?: Instant }): boolean;
  /** `mayAct` with the reason. */
  evaluate(credential: FakeCredential, options?: { readonly at?: Instant }): Verdict;
  close(): Promise<void>;
}

/** A Deny the evaluator cannot judge: thrown, never read as "allow". */
export class PolicyEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyEvaluationError';
  }
}

// ---------------------------------------------------------------------------------------------------
// Limits and patterns (SSO Admin API Reference; IAM quotas)

export const INLINE_POLICY_MAX_CHARS = 32_768;
export const ROLE_POLICY_MAX_NON_WHITESPACE_CHARS = 10_240;
const MAX_PAGE = 100;
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_SESSION = 'PT1H';

const PARTITION = '(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b)';
const INSTANCE_ARN = new RegExp(`^arn:${PARTITION}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`);
const PERMISSION_SET_ARN = new RegExp(
  `^arn:${PARTITION}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$`,
);
const PRINCIPAL_ID =
  /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MANAGED_POLICY_ARN = new RegExp(`^arn:${PARTITION}:iam::aws:policy/[\\w+=,.@/-]+$`);
const SESSION_DURATION = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/;

// ---------------------------------------------------------------------------------------------------
// The deny evaluator (its own: it shares nothing with shared/domain/deny-policy.ts)

export interface DenyContext {
  readonly userId: string;
  readonly tokenIssueTime: Date;
}

type KeyValue =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'date'; readonly value: number };

const STRING_OPERATORS: Record<
  string,
  { negated: boolean; match: (actual: string, wanted: string) => boolean }
> = {
  stringequals: { negated: false, match: (a, w) => a === w },
  stringnotequals: { negated: true, match: (a, w) => a === w },
  stringlike: { negated: false, match: (a, w) => globMatch(a, w) },
  stringnotlike: { negated: true, match: (a, w) => globMatch(a, w) },
};

const DATE_OPERATORS: Record<string, (actual: number, wanted: number) => boolean> = {
  datelessthan: (a, w) => a < w,
  datelessthanequals: (a, w) => a <= w,
  dategreaterthan: (a, w) => a > w,
  dategreaterthanequals: (a, w) => a >= w,
};

function contextValue(key: string, context: DenyContext): KeyValue {
  // Condition key names are case-insensitive in IAM.
  switch (key.toLowerCase()) {
    case 'identitystore:userid':
      return { kind: 'string', value: context.userId };
    case 'aws:tokenissuetime':
      return { kind: 'date', value: context.tokenIssueTime.getTime() };
    default:
      throw new PolicyEvaluationError(`unsupported condition key ${key}`);
  }
}

/** IAM's StringLike: `*` any run of characters, `?` one character, case-sensitive. */
function globMatch(actual: string, pattern: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(actual);
}

function conditionValues(operator: string, key: string, raw: unknown): unknown[] {
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) throw new PolicyEvaluationError(`${operator} ${key}: no values`);
  return values;
}

function stringValue(operator: string, key: string, value: unknown): string {
  if (typeof value !== 'string')
    throw new PolicyEvaluationError(`${operator} ${key}: ${String(value)} is no string`);
  if (value.includes('${'))
    throw new PolicyEvaluationError(`${operator} ${key}: policy variables are not supported`);
  return value;
}

/** A date condition value: epoch seconds (number or digits) or ISO-8601 (UTC when no offset is given). */
export function parseConditionDate(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value !== 'string') throw new PolicyEvaluationError(`${String(value)} is no date`);
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const match = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(
    value,
  );
  if (!match) throw new PolicyEvaluationError(`${value} is no ISO-8601 date`);
  const [, date, time, zone] = match;
  const iso = time === undefined ? `${date}T00:00:00Z` : `${date}T${time}${zone ?? 'Z'}`;
  const ms = Date.parse(iso.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (Number.isNaN(ms)) throw new PolicyEvaluationError(`${value} is no valid date`);
  return ms;
}

function conditionHolds(condition: unknown, context: DenyContext): boolean {
  if (condition === undefined) return true;
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition))
    throw new PolicyEvaluationError('Condition is not an object');
  // Every operator, and every key within one, must hold (AND); one key's values are ORed.
  for (const [operator, block] of Object.entries(condition)) {
    if (typeof block !== 'object' || block === null || Array.isArray(block))
      throw new PolicyEvaluationError(`${operator}: not an object of keys`);
    const stringOperator = STRING_OPERATORS[operator.toLowerCase()];
    const dateOperator = DATE_OPERATORS[operator.toLowerCase()];
    if (!stringOperator && !dateOperator)
      throw new PolicyEvaluationError(`unsupported condition operator ${operator}`);
    for (const [key, raw] of Object.entries(block)) {
      const actual = contextValue(key, context);
      const values = conditionValues(operator, key, raw);
      if (stringOperator) {
        if (actual.kind !== 'string') throw new PolicyEvaluationError(`${operator} cannot compare ${key}`);
        const any = values.some((v) => stringOperator.match(actual.value, stringValue(operator, key, v)));
        if (stringOperator.negated ? any : !any) return false;
      } else if (dateOperator) {
        if (actual.kind !== 'date') throw new PolicyEvaluationError(`${operator} cannot compare ${key}`);
        if (!values.some((v) => dateOperator(actual.value, parseConditionDate(v)))) return false;
      }
    }
  }
  return true;
}

const coversAll = (element: unknown) =>
  element === '*' || (Array.isArray(element) && element.some((value) => value === '*'));

/**
 * The Deny statements of an identity policy that deny every action on every resource to this session
 * (their Sid, or `Statement[i]`). Throws PolicyEvaluationError on a covering Deny it cannot evaluate.
 */
export function denyingStatements(document: string | undefined, context: DenyContext): string[] {
  if (document === undefined || document.trim() === '') return [];
  let policy: unknown;
  try {
    policy = JSON.parse(document);
  } catch {
    throw new PolicyEvaluationError('the policy is not JSON');
  }
  if (typeof policy !== 'object' || policy === null)
    throw new PolicyEvaluationError('the policy is no object');
  const raw = (policy as { Statement?: unknown }).Statement;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const denying: string[] = [];
  statements.forEach((statement, index) => {
    if (typeof statement !== 'object' || statement === null)
      throw new PolicyEvaluationError(`Statement[${index}] is no object`);
    const s = statement as Record<string, unknown>;
    if (s.Effect !== 'Deny') return;
    // A Deny of some actions or some resources leaves the session able to act: not the question here.
    if (!coversAll(s.Action) || !coversAll(s.Resource)) return;
    if (conditionHolds(s.Condition, context))
      denying.push(typeof s.Sid === 'string' && s.Sid ? s.Sid : `Statement[${index}]`);
  });
  return denying;
}

// ---------------------------------------------------------------------------------------------------
// State

interface PermissionSet {
  readonly arn: string;
  readonly name: string;
  readonly description: string | undefined;
  readonly sessionDuration: string;
  readonly sessionMs: number;
  readonly relayState: string | undefined;
  readonly createdAt: number;
  readonly tags: Map<string, string>;
  inlinePolicy: string | undefined;
  managedPolicies: string[];
  version: number;
}

interface Role {
  readonly generation: number;
  readonly version: number;
  readonly inlinePolicy: string | undefined;
}

/** Role state over time in one account: each entry holds from `at` until the next. */
type Timeline = Array<{ readonly at: number; readonly role: Role | undefined }>;

interface AssignmentRecord {
  readonly accountId: string;
  readonly permissionSetArn: string;
  readonly principalType: PrincipalType;
  readonly principalId: string;
  readonly intervals: Array<{ from: number; to?: number }>;
}

type OperationStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

interface AssignmentOperation {
  readonly kind: 'create' | 'delete';
  readonly requestId: string;
  readonly accountId: string;
  readonly permissionSetArn: string;
  readonly principalType: PrincipalType;
  readonly principalId: string;
  readonly createdAt: number;
  readonly plannedFailure: string | undefined;
  pollsLeft: number;
  status: OperationStatus;
  failureReason?: string;
}

interface ProvisionOperation {
  readonly requestId: string;
  readonly permissionSetArn: string;
  /** Set for TargetType AWS_ACCOUNT. */
  readonly accountId: string | undefined;
  readonly accounts: readonly string[];
  readonly plannedFailures: ReadonlyMap<string, string>;
  /** Filled in as it completes. */
  readonly results: Map<string, { status: 'SUCCEEDED' | 'FAILED'; failureReason?: string }>;
  /** The definition asked for, as it was when ProvisionPermissionSet was called. */
  readonly version: number;
  readonly inlinePolicy: string | undefined;
  readonly createdAt: number;
  pollsLeft: number;
  status: OperationStatus;
  failureReason?: string;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const notFound = (message: string) => new ApiError('ResourceNotFoundException', message);
const conflict = (message: string) => new ApiError('ConflictException', message);
const invalid = (message: string) => new ApiError('ValidationException', message);

const nonWhitespaceLength = (text: string) => text.replace(/[ \t\n\r]/g, '').length;

function toMs(at: Instant): number {
  return typeof at === 'number' ? at : at.getTime();
}

function sessionMs(duration: string): number | undefined {
  const match = SESSION_DURATION.exec(duration);
  if (!match || duration === 'PT') return undefined;
  const [, h = '0', m = '0', s = '0'] = match;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

const randomId = (length: number) => randomBytes(length).toString('hex').slice(0, length);

// ---------------------------------------------------------------------------------------------------
// Inputs

const instanceArn = z.string().min(10).max(1224).regex(INSTANCE_ARN);
const permissionSetArn = z.string().min(10).max(1224).regex(PERMISSION_SET_ARN);
const accountId = z.string().regex(/^\d{12}$/);
const principalId = z.string().min(1).max(47).regex(PRINCIPAL_ID);
const principalType = z.enum(['USER', 'GROUP']);
const maxResults = z.number().int().min(1).max(MAX_PAGE).optional();
const nextToken = z.string().min(1).max(2048).optional();
const requestId = z.string().regex(UUID);
const tags = z
  .array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) }))
  .max(50)
  .optional();

const inputs = {
  ListInstances: z.object({ MaxResults: maxResults, NextToken: nextToken }),
  CreatePermissionSet: z.object({
    InstanceArn: instanceArn,
    Name: z
      .string()
      .min(1)
      .max(32)
      .regex(/^[\w+=,.@-]+$/),
    Description: z
      .string()
      .min(1)
      .max(700)
      .regex(/^[\t\n\r\u0020-\u007E\u00A1-\u00FF]*$/)
      .optional(),
    SessionDuration: z.string().min(1).max(100).optional(),
    RelayState: z.string().min(1).max(240).optional(),
    Tags: tags,
  }),
  DescribePermissionSet: z.object({ InstanceArn: instanceArn, PermissionSetArn: permissionSetArn }),
  ListPermissionSets: z.object({ InstanceArn: instanceArn, MaxResults: maxResults, NextToken: nextToken }),
  DeletePermissionSet: z.object({ InstanceArn: instanceArn, PermissionSetArn: permissionSetArn }),
  AttachManagedPolicyToPermissionSet: z.object({
    InstanceArn: instanceArn,
    PermissionSetArn: permissionSetArn,
    ManagedPolicyArn: z.string().min(20).max(2048).regex(MANAGED_POLICY_ARN),
  }),
  DetachManagedPolicyFromPermissionSet: z.object({
    InstanceArn: instanceArn,
    PermissionSetArn: permissionSetArn,
    ManagedPolicyArn: z.string().min(20).max(2048),
  }),
  ListManagedPoliciesInPermissionSet: z.object({
    InstanceArn: instanceArn,
    PermissionSetArn: permissionSetArn,
    MaxResults: maxResults,
    NextToken: nextToken,
  }),
  PutInlinePolicyToPermissionSet: z.object({
    InstanceArn: instanceArn,
    PermissionSetArn: permissionSetArn,
    InlinePolicy: z.string().min(1).max(INLINE_POLICY_MAX_CHARS),
  }),
  GetInlinePolicyForPermissionSet: z.object({ InstanceArn: instanceArn, PermissionSetArn: permissionSetArn }),
  DeleteInlinePolicyFromPermissionSet: z.object({
    InstanceArn: instanceArn,
    PermissionSetArn: permissionSetArn,
  }),
  ProvisionPermissionSet: z.object({
    InstanceArn: instanceArn,
    PermissionSetArn: permissionSetArn,
    TargetId: accountId.optional(),
    TargetType: z.enum(['AWS_ACCOUNT', 'ALL_PROVISIONED_ACCOUNTS']),
  }),
  DescribePermissionSetProvisioningStatus: z.object({
    InstanceArn: instanceArn,
    ProvisionPermissionSetRequestId: requestId,
  }),
  ListPermissionSetProvisioningStatus: z.object({
    InstanceArn: instanceArn,
    MaxResults: maxResults,
    NextToken: nextToken,
    Filter: z.object({ Status: z.enum(['IN_PROGRESS', 'FAILED', 'SUCCEEDED']).optional() }).optional(),
  }),
  ListAccountsForProvisionedPermissionSet: z.object({
    InstanceArn: instanceArn,
    PermissionSetArn: permissionSetArn,
    ProvisioningStatus: z
      .enum(['LATEST_PERMISSION_SET_PROVISIONED', 'LATEST_PERMISSION_SET_NOT_PROVISIONED'])
      .optional(),
    MaxResults: maxResults,
    NextToken: nextToken,
  }),
  CreateAccountAssignment: z.object({
    InstanceArn: instanceArn,
    TargetId: accountId,
    TargetType: z.literal('AWS_ACCOUNT'),
    PermissionSetArn: permissionSetArn,
    PrincipalType: principalType,
    PrincipalId: principalId,
  }),
  DeleteAccountAssignment: z.object({
    InstanceArn: instanceArn,
    TargetId: accountId,
    TargetType: z.literal('AWS_ACCOUNT'),
    PermissionSetArn: permissionSetArn,
    PrincipalType: principalType,
    PrincipalId: principalId,
  }),
  DescribeAccountAssignmentCreationStatus: z.object({
    InstanceArn: instanceArn,
    AccountAssignmentCreationRequestId: requestId,
  }),
  DescribeAccountAssignmentDeletionStatus: z.object({
    InstanceArn: instanceArn,
    AccountAssignmentDeletionRequestId: requestId,
  }),
  ListAccountAssignments: z.object({
    InstanceArn: instanceArn,
    AccountId: accountId,
    PermissionSetArn: permissionSetArn,
    MaxResults: maxResults,
    NextToken: nextToken,
  }),
  TagResource: z.object({
    InstanceArn: instanceArn.optional(),
    ResourceArn: z.string().min(10).max(2048),
    Tags: z
      .array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) }))
      .min(1)
      .max(50),
  }),
  ListTagsForResource: z.object({
    InstanceArn: instanceArn.optional(),
    ResourceArn: z.string().min(10).max(2048),
    NextToken: nextToken,
  }),
} as const;

type Operation = keyof typeof inputs;
type Input<O extends Operation> = z.infer<(typeof inputs)[O]>;

function validate<O extends Operation>(operation: O, body: unknown): Input<O> {
  const result = inputs[operation].safeParse(body);
  if (result.success) return result.data as Input<O>;
  // AWS's wording (a ValidationException names the member in lowerCamelCase), cloud-pam's path.
  const issues = result.error.issues.map((issue) => {
    const path = fieldPath('', issue.path);
    const member = issue.path.length > 0 ? path.charAt(0).toLowerCase() + path.slice(1) : '(body)';
    return `Value at '${member}' failed to satisfy constraint: ${issue.message}`;
  });
  throw invalid(
    `${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${issues.join('; ')}`,
  );
}

// ---------------------------------------------------------------------------------------------------
// The fake

export async function startFakeIdentityCenter(
  options: FakeIdentityCenterOptions,
): Promise<FakeIdentityCenter> {
  if (!INSTANCE_ARN.test(options.instanceArn))
    throw new Error(`fake Identity Center: ${options.instanceArn} is not an instance ARN`);
  if (
    !/^d-[0-9a-z]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(
      options.identityStoreId,
    )
  )
    throw new Error(`fake Identity Center: ${options.identityStoreId} is not an identity store id`);
  const now = options.now ?? Date.now;
  const instanceId = options.instanceArn.slice(options.instanceArn.indexOf('/') + 1);
  const instanceCreatedAt = now();

  const permissionSets = new Map<string, PermissionSet>();
  const timelines = new Map<string, Timeline>();
  const assignments = new Map<string, AssignmentRecord>();
  const assignmentOps = new Map<string, AssignmentOperation>();
  const provisionOps = new Map<string, ProvisionOperation>();
  const failures: Array<FakeFailure & { left: number }> = [];
  const polls = { create: 0, delete: 0, provision: 0 };
  let throttles = 0;
  let generations = 0;
  let calls: string[] = [];

  const timelineKey = (psArn: string, account: string) => `${psArn}|${account}`;
  const assignmentKey = (psArn: string, account: string, type: string, id: string) =>
    `${psArn}|${account}|${type}|${id}`;

  function permissionSet(arn: string): PermissionSet {
    const set = permissionSets.get(arn);
    if (!set) throw notFound(`Could not find PermissionSet with id ${arn.slice(arn.lastIndexOf('/') + 1)}`);
    return set;
  }

  function checkInstance(arn: string | undefined): void {
    if (arn !== undefined && arn !== options.instanceArn) throw notFound(`Instance ${arn} does not exist`);
  }

  function roleAt(psArn: string, account: string, at: number): Role | undefined {
    let role: Role | undefined;
    for (const entry of timelines.get(timelineKey(psArn, account)) ?? []) {
      if (entry.at > at) break;
      role = entry.role;
    }
    return role;
  }

  function setRole(psArn: string, account: string, role: Role | undefined): void {
    const key = timelineKey(psArn, account);
    const timeline = timelines.get(key) ?? [];
    timelines.set(key, timeline);
    const at = now();
    // Kept sorted even if a test's clock steps back.
    let index = timeline.length;
    while (index > 0 && (timeline[index - 1] as Timeline[number]).at > at) index--;
    timeline.splice(index, 0, { at, role });
  }

  const currentRole = (psArn: string, account: string) => roleAt(psArn, account, Number.POSITIVE_INFINITY);

  function holdsAt(record: AssignmentRecord, at: number): boolean {
    return record.intervals.some((i) => i.from <= at && (i.to === undefined || at < i.to));
  }

  const isOpen = (record: AssignmentRecord | undefined) =>
    record?.intervals.some((i) => i.to === undefined) ?? false;

  function accountsWithRole(psArn: string): string[] {
    const accounts: string[] = [];
    for (const key of timelines.keys()) {
      const [arn, account] = key.split('|') as [string, string];
      if (arn === psArn && currentRole(arn, account)) accounts.push(account);
    }
    return accounts.sort();
  }

  function takeFailure(kind: FakeOperationKind, account: string): string | undefined {
    const rule = failures.find(
      (f) => f.left > 0 && f.operation === kind && (f.accountId === undefined || f.accountId === account),
    );
    if (!rule) return undefined;
    rule.left--;
    return rule.reason;
  }

  function tooLargeReason(set: PermissionSet, inlinePolicy: string | undefined, account: string) {
    if (inlinePolicy === undefined) return undefined;
    const size = nonWhitespaceLength(inlinePolicy);
    if (size <= ROLE_POLICY_MAX_NON_WHITESPACE_CHARS) return undefined;
    return (
      `The inline policy of permission set ${set.name} (${size} characters without whitespace) exceeds the ` +
      `maximum role policy size of ${ROLE_POLICY_MAX_NON_WHITESPACE_CHARS} characters in account ${account}`
    );
  }

  function changed(set: PermissionSet): void {
    set.version++;
  }

  // --- completion ----------------------------------------------------------------------------------

  function completeAssignment(op: AssignmentOperation): void {
    if (op.status !== 'IN_PROGRESS') return;
    if (op.plannedFailure !== undefined) {
      op.status = 'FAILED';
      op.failureReason = op.plannedFailure;
      return;
    }
    const key = assignmentKey(op.permissionSetArn, op.accountId, op.principalType, op.principalId);
    const at = now();
    if (op.kind === 'create') {
      const set = permissionSets.get(op.permissionSetArn);
      if (!set) {
        op.status = 'FAILED';
        op.failureReason = 'The permission set no longer exists';
        return;
      }
      if (!currentRole(set.arn, op.accountId)) {
        const tooLarge = tooLargeReason(set, set.inlinePolicy, op.accountId);
        if (tooLarge) {
          op.status = 'FAILED';
          op.failureReason = tooLarge;
          return;
        }
        setRole(set.arn, op.accountId, {
          generation: ++generations,
          version: set.version,
          inlinePolicy: set.inlinePolicy,
        });
      }
      const record = assignments.get(key) ?? {
        accountId: op.accountId,
        permissionSetArn: op.permissionSetArn,
        principalType: op.principalType,
        principalId: op.principalId,
        intervals: [],
      };
      assignments.set(key, record);
      if (!isOpen(record)) record.intervals.push({ from: at });
    } else {
      const open = assignments.get(key)?.intervals.find((i) => i.to === undefined);
      if (open) open.to = at;
      const othersLeft = [...assignments.values()].some(
        (r) => r.permissionSetArn === op.permissionSetArn && r.accountId === op.accountId && isOpen(r),
      );
      if (
        options.deleteRoleWithLastAssignment &&
        !othersLeft &&
        currentRole(op.permissionSetArn, op.accountId)
      )
        setRole(op.permissionSetArn, op.accountId, undefined);
    }
    op.status = 'SUCCEEDED';
  }

  function completeProvisioning(op: ProvisionOperation): void {
    if (op.status !== 'IN_PROGRESS') return;
    const set = permissionSets.get(op.permissionSetArn);
    const failed: string[] = [];
    for (const account of op.accounts) {
      const reason =
        op.plannedFailures.get(account) ??
        (set ? tooLargeReason(set, op.inlinePolicy, account) : 'The permission set no longer exists');
      if (reason !== undefined) {
        failed.push(`${account}: ${reason}`);
        op.results.set(account, { status: 'FAILED', failureReason: reason });
        continue;
      }
      op.results.set(account, { status: 'SUCCEEDED' });
      const role = currentRole(op.permissionSetArn, account);
      // ALL_PROVISIONED_ACCOUNTS: an account whose role went away meanwhile is not provisioned again.
      if (!role && op.accountId === undefined) continue;
      setRole(op.permissionSetArn, account, {
        generation: role?.generation ?? ++generations,
        version: op.version,
        inlinePolicy: op.inlinePolicy,
      });
    }
    if (failed.length > 0) {
      op.status = 'FAILED';
      op.failureReason = `Provisioning failed in ${failed.length} of ${op.accounts.length} account(s): ${failed.join('; ')}`;
    } else op.status = 'SUCCEEDED';
  }

  /** A status poll: IN_PROGRESS while polls are left, then the final status. */
  function poll<T extends { pollsLeft: number; status: OperationStatus }>(
    op: T,
    complete: (op: T) => void,
  ): void {
    if (op.status !== 'IN_PROGRESS') return;
    if (op.pollsLeft > 0) {
      op.pollsLeft--;
      return;
    }
    complete(op);
  }

  // --- answers -------------------------------------------------------------------------------------

  const epochSeconds = (ms: number) => ms / 1000;

  function assignmentStatus(op: AssignmentOperation) {
    return {
      Status: op.status,
      RequestId: op.requestId,
      ...optional('FailureReason', op.failureReason),
      TargetId: op.accountId,
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: op.permissionSetArn,
      PrincipalType: op.principalType,
      PrincipalId: op.principalId,
      CreatedDate: epochSeconds(op.createdAt),
    };
  }

  function provisioningStatus(op: ProvisionOperation) {
    return {
      Status: op.status,
      RequestId: op.requestId,
      ...optional('AccountId', op.accountId),
      PermissionSetArn: op.permissionSetArn,
      ...optional('FailureReason', op.failureReason),
      CreatedDate: epochSeconds(op.createdAt),
    };
  }

  function describeSet(set: PermissionSet) {
    return {
      Name: set.name,
      PermissionSetArn: set.arn,
      ...optional('Description', set.description),
      CreatedDate: epochSeconds(set.createdAt),
      SessionDuration: set.sessionDuration,
      ...optional('RelayState', set.relayState),
    };
  }

  /** Offset pagination; a token is bound to its operation and query. */
  function page<T>(
    operation: string,
    query: string,
    items: readonly T[],
    max: number | undefined,
    token: string | undefined,
  ): { items: T[]; NextToken?: string } {
    let offset = 0;
    if (token !== undefined) {
      let decoded: { o?: unknown; q?: unknown; i?: unknown };
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      } catch {
        throw invalid('Invalid NextToken');
      }
      if (decoded.o !== operation || decoded.q !== query || typeof decoded.i !== 'number' || decoded.i < 0)
        throw invalid('Invalid NextToken');
      offset = decoded.i;
    }
    const size = max ?? MAX_PAGE;
    const slice = items.slice(offset, offset + size);
    const next = offset + size;
    return {
      items: slice,
      ...(next < items.length
        ? {
            NextToken: Buffer.from(JSON.stringify({ o: operation, q: query, i: next })).toString('base64url'),
          }
        : {}),
    };
  }

  function startAssignment(kind: 'create' | 'delete', input: Input<'CreateAccountAssignment'>) {
    checkInstance(input.InstanceArn);
    const set = permissionSet(input.PermissionSetArn);
    const inFlight = [...assignmentOps.values()].some(
      (op) =>
        op.status === 'IN_PROGRESS' &&
        op.permissionSetArn === set.arn &&
        op.accountId === input.TargetId &&
        op.principalType === input.PrincipalType &&
        op.principalId === input.PrincipalId,
    );
    if (inFlight)
      throw conflict('An operation on this account assignment is in progress; retry after it completes');
    if (kind === 'delete') {
      const record = assignments.get(
        assignmentKey(set.arn, input.TargetId, input.PrincipalType, input.PrincipalId),
      );
      if (!isOpen(record)) throw notFound('The account assignment does not exist');
    }
    const op: AssignmentOperation = {
      kind,
      requestId: randomUUID(),
      accountId: input.TargetId,
      permissionSetArn: set.arn,
      principalType: input.PrincipalType,
      principalId: input.PrincipalId,
      createdAt: now(),
      plannedFailure: takeFailure(kind, input.TargetId),
      pollsLeft: polls[kind],
      status: 'IN_PROGRESS',
    };
    assignmentOps.set(op.requestId, op);
    if (op.pollsLeft === 0) completeAssignment(op);
    return op;
  }

  const handlers: { [O in Operation]: (input: Input<O>) => unknown } = {
    ListInstances(input) {
      const { items, ...rest } = page(
        'ListInstances',
        '',
        [
          {
            InstanceArn: options.instanceArn,
            IdentityStoreId: options.identityStoreId,
            CreatedDate: epochSeconds(instanceCreatedAt),
            Status: 'ACTIVE',
          },
        ],
        input.MaxResults,
        input.NextToken,
      );
      return { Instances: items, ...rest };
    },

    CreatePermissionSet(input) {
      checkInstance(input.InstanceArn);
      if ([...permissionSets.values()].some((s) => s.name === input.Name))
        throw conflict(`PermissionSet with name ${input.Name} already exists`);
      const duration = input.SessionDuration ?? DEFAULT_SESSION;
      const ms = sessionMs(duration);
      if (ms === undefined || ms < 3_600_000 || ms > 12 * 3_600_000)
        throw invalid(`SessionDuration ${duration} must be an ISO-8601 duration between PT1H and PT12H`);
      const arn = `arn:aws:sso:::permissionSet/${instanceId}/ps-${randomId(16)}`;
      const set: PermissionSet = {
        arn,
        name: input.Name,
        description: input.Description,
        sessionDuration: duration,
        sessionMs: ms,
        relayState: input.RelayState,
        createdAt: now(),
        tags: new Map((input.Tags ?? []).map((t) => [t.Key, t.Value])),
        inlinePolicy: undefined,
        managedPolicies: [],
        version: 1,
      };
      permissionSets.set(arn, set);
      return { PermissionSet: describeSet(set) };
    },

    DescribePermissionSet(input) {
      checkInstance(input.InstanceArn);
      return { PermissionSet: describeSet(permissionSet(input.PermissionSetArn)) };
    },

    ListPermissionSets(input) {
      checkInstance(input.InstanceArn);
      const { items, ...rest } = page(
        'ListPermissionSets',
        '',
        [...permissionSets.keys()],
        input.MaxResults,
        input.NextToken,
      );
      return { PermissionSets: items, ...rest };
    },

    DeletePermissionSet(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.PermissionSetArn);
      const busy =
        accountsWithRole(set.arn).length > 0 ||
        [...assignmentOps.values(), ...provisionOps.values()].some(
          (op) => op.status === 'IN_PROGRESS' && op.permissionSetArn === set.arn,
        );
      if (busy)
        throw conflict(`PermissionSet ${set.name} is provisioned to accounts; remove its assignments first`);
      permissionSets.delete(set.arn);
      return {};
    },

    AttachManagedPolicyToPermissionSet(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.PermissionSetArn);
      if (set.managedPolicies.includes(input.ManagedPolicyArn))
        throw conflict(`${input.ManagedPolicyArn} is already attached to ${set.name}`);
      set.managedPolicies.push(input.ManagedPolicyArn);
      changed(set);
      return {};
    },

    DetachManagedPolicyFromPermissionSet(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.PermissionSetArn);
      if (!set.managedPolicies.includes(input.ManagedPolicyArn))
        throw notFound(`${input.ManagedPolicyArn} is not attached to ${set.name}`);
      set.managedPolicies = set.managedPolicies.filter((arn) => arn !== input.ManagedPolicyArn);
      changed(set);
      return {};
    },

    ListManagedPoliciesInPermissionSet(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.PermissionSetArn);
      const { items, ...rest } = page(
        'ListManagedPoliciesInPermissionSet',
        set.arn,
        set.managedPolicies.map((arn) => ({ Arn: arn, Name: arn.slice(arn.lastIndexOf('/') + 1) })),
        input.MaxResults,
        input.NextToken,
      );
      return { AttachedManagedPolicies: items, ...rest };
    },

    PutInlinePolicyToPermissionSet(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.PermissionSetArn);
      let policy: unknown;
      try {
        policy = JSON.parse(input.InlinePolicy);
      } catch {
        throw invalid('The policy document is malformed: not JSON');
      }
      const statement = (policy as { Statement?: unknown } | null)?.Statement;
      if (typeof policy !== 'object' || policy === null || Array.isArray(policy) || statement === undefined)
        throw invalid('The policy document is malformed: no Statement');
      set.inlinePolicy = input.InlinePolicy;
      changed(set);
      return {};
    },

    GetInlinePolicyForPermissionSet(input) {
      checkInstance(input.InstanceArn);
      return { InlinePolicy: permissionSet(input.PermissionSetArn).inlinePolicy ?? '' };
    },

    DeleteInlinePolicyFromPermissionSet(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.PermissionSetArn);
      set.inlinePolicy = undefined;
      changed(set);
      return {};
    },

    ProvisionPermissionSet(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.PermissionSetArn);
      if (input.TargetType === 'AWS_ACCOUNT' && input.TargetId === undefined)
        throw invalid('TargetId is required when TargetType is AWS_ACCOUNT');
      if (input.TargetType === 'ALL_PROVISIONED_ACCOUNTS' && input.TargetId !== undefined)
        throw invalid('TargetId must not be given when TargetType is ALL_PROVISIONED_ACCOUNTS');
      const running = [...provisionOps.values()].some(
        (op) => op.status === 'IN_PROGRESS' && op.permissionSetArn === set.arn,
      );
      if (running) throw conflict(`A provisioning of PermissionSet ${set.name} is already in progress`);
      const accounts = input.TargetId !== undefined ? [input.TargetId] : accountsWithRole(set.arn);
      const plannedFailures = new Map<string, string>();
      for (const account of accounts) {
        const reason = takeFailure('provision', account);
        if (reason !== undefined) plannedFailures.set(account, reason);
      }
      const op: ProvisionOperation = {
        requestId: randomUUID(),
        permissionSetArn: set.arn,
        accountId: input.TargetId,
        accounts,
        plannedFailures,
        results: new Map(),
        version: set.version,
        inlinePolicy: set.inlinePolicy,
        createdAt: now(),
        // Nothing to provision: done at once.
        pollsLeft: accounts.length === 0 ? 0 : polls.provision,
        status: 'IN_PROGRESS',
      };
      provisionOps.set(op.requestId, op);
      if (op.pollsLeft === 0) completeProvisioning(op);
      return { PermissionSetProvisioningStatus: provisioningStatus(op) };
    },

    DescribePermissionSetProvisioningStatus(input) {
      checkInstance(input.InstanceArn);
      const op = provisionOps.get(input.ProvisionPermissionSetRequestId);
      if (!op) throw notFound(`Provisioning request ${input.ProvisionPermissionSetRequestId} does not exist`);
      poll(op, completeProvisioning);
      return { PermissionSetProvisioningStatus: provisioningStatus(op) };
    },

    ListPermissionSetProvisioningStatus(input) {
      checkInstance(input.InstanceArn);
      const wanted = input.Filter?.Status;
      const { items, ...rest } = page(
        'ListPermissionSetProvisioningStatus',
        wanted ?? '',
        [...provisionOps.values()]
          .filter((op) => wanted === undefined || op.status === wanted)
          .map((op) => ({
            Status: op.status,
            RequestId: op.requestId,
            CreatedDate: epochSeconds(op.createdAt),
          })),
        input.MaxResults,
        input.NextToken,
      );
      return { PermissionSetsProvisioningStatus: items, ...rest };
    },

    ListAccountsForProvisionedPermissionSet(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.PermissionSetArn);
      const accounts = accountsWithRole(set.arn).filter((account) => {
        const latest = currentRole(set.arn, account)?.version === set.version;
        if (input.ProvisioningStatus === 'LATEST_PERMISSION_SET_PROVISIONED') return latest;
        if (input.ProvisioningStatus === 'LATEST_PERMISSION_SET_NOT_PROVISIONED') return !latest;
        return true;
      });
      const { items, ...rest } = page(
        'ListAccountsForProvisionedPermissionSet',
        `${set.arn}|${input.ProvisioningStatus ?? ''}`,
        accounts,
        input.MaxResults,
        input.NextToken,
      );
      return { AccountIds: items, ...rest };
    },

    CreateAccountAssignment(input) {
      return { AccountAssignmentCreationStatus: assignmentStatus(startAssignment('create', input)) };
    },

    DeleteAccountAssignment(input) {
      return { AccountAssignmentDeletionStatus: assignmentStatus(startAssignment('delete', input)) };
    },

    DescribeAccountAssignmentCreationStatus(input) {
      checkInstance(input.InstanceArn);
      const op = assignmentOps.get(input.AccountAssignmentCreationRequestId);
      if (op?.kind !== 'create')
        throw notFound(`Creation request ${input.AccountAssignmentCreationRequestId} does not exist`);
      poll(op, completeAssignment);
      return { AccountAssignmentCreationStatus: assignmentStatus(op) };
    },

    DescribeAccountAssignmentDeletionStatus(input) {
      checkInstance(input.InstanceArn);
      const op = assignmentOps.get(input.AccountAssignmentDeletionRequestId);
      if (op?.kind !== 'delete')
        throw notFound(`Deletion request ${input.AccountAssignmentDeletionRequestId} does not exist`);
      poll(op, completeAssignment);
      return { AccountAssignmentDeletionStatus: assignmentStatus(op) };
    },

    ListAccountAssignments(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.PermissionSetArn);
      const current = [...assignments.values()]
        .filter((r) => r.permissionSetArn === set.arn && r.accountId === input.AccountId && isOpen(r))
        .map((r) => ({
          AccountId: r.accountId,
          PermissionSetArn: r.permissionSetArn,
          PrincipalType: r.principalType,
          PrincipalId: r.principalId,
        }));
      const { items, ...rest } = page(
        'ListAccountAssignments',
        `${set.arn}|${input.AccountId}`,
        current,
        input.MaxResults,
        input.NextToken,
      );
      return { AccountAssignments: items, ...rest };
    },

    TagResource(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.ResourceArn);
      for (const tag of input.Tags) set.tags.set(tag.Key, tag.Value);
      return {};
    },

    ListTagsForResource(input) {
      checkInstance(input.InstanceArn);
      const set = permissionSet(input.ResourceArn);
      const { items, ...rest } = page(
        'ListTagsForResource',
        set.arn,
        [...set.tags].map(([Key, Value]) => ({ Key, Value })),
        undefined,
        input.NextToken,
      );
      return { Tags: items, ...rest };
    },
  };

  // --- HTTP ----------------------------------------------------------------------------------------

  function reply(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
    const payload = Buffer.from(JSON.stringify(body));
    response.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': payload.length,
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    response.end(payload);
  }

  function replyError(response: ServerResponse, error: ApiError): void {
    reply(
      response,
      error.status,
      { __type: error.type, message: error.message, Message: error.message },
      error.type,
    );
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(request, MAX_BODY_BYTES);
    } catch {
      response.destroy();
      return;
    }
    const target = request.headers['x-amz-target'];
    const prefix = 'SWBExternalService.';
    const name =
      typeof target === 'string' && target.startsWith(prefix) ? target.slice(prefix.length) : undefined;
    calls.push(name ?? 'Unknown');
    if (request.method !== 'POST' || name === undefined || !Object.hasOwn(handlers, name)) {
      replyError(
        response,
        new ApiError('UnknownOperationException', `Unknown operation ${name ?? String(target)}`),
      );
      return;
    }
    if (throttles > 0) {
      throttles--;
      replyError(response, new ApiError('ThrottlingException', 'Rate exceeded'));
      return;
    }
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      replyError(response, new ApiError('SerializationException', 'The request body is not JSON'));
      return;
    }
    const operation = name as Operation;
    try {
      const valid = validate(operation, input);
      const output = (handlers[operation] as (input: unknown) => unknown)(valid);
      reply(response, 200, output);
    } catch (error) {
      if (error instanceof ApiError) replyError(response, error);
      else
        replyError(
          response,
          new ApiError('InternalServerException', `fake Identity Center: ${(error as Error).message}`, 500),
        );
    }
  }

  const listener = await listen((request, response) => {
    handle(request, response).catch(() => response.destroy());
  }, options);

  // --- in-process control --------------------------------------------------------------------------

  function evaluate(credential: FakeCredential, evaluation?: { readonly at?: Instant }): Verdict {
    const at = evaluation?.at === undefined ? now() : toMs(evaluation.at);
    if (at < credential.issuedAt.getTime()) return { allowed: false, reason: 'not-yet-issued' };
    if (at >= credential.expiresAt.getTime()) return { allowed: false, reason: 'expired' };
    const role = roleAt(credential.permissionSetArn, credential.accountId, at);
    if (!role || role.generation !== credential.roleGeneration)
      return { allowed: false, reason: 'role-deleted' };
    const statements = denyingStatements(role.inlinePolicy, {
      userId: credential.userId,
      tokenIssueTime: credential.issuedAt,
    });
    return statements.length > 0 ? { allowed: false, reason: 'denied', statements } : { allowed: true };
  }

  return {
    endpoint: listener.base,
    instanceArn: options.instanceArn,
    identityStoreId: options.identityStoreId,
    get calls(): readonly string[] {
      return [...calls];
    },
    resetCalls() {
      calls = [];
    },
    setPolls(next) {
      for (const kind of ['create', 'delete', 'provision'] as const) {
        const value = next[kind];
        if (value === undefined) continue;
        if (!Number.isInteger(value) || value < 0)
          throw new Error(`polls.${kind} must be a whole number ≥ 0`);
        polls[kind] = value;
      }
    },
    failNext(failure) {
      if (!Number.isInteger(failure.times) || failure.times < 1)
        throw new Error('failNext: times must be ≥ 1');
      failures.push({ ...failure, left: failure.times });
    },
    clearFailures() {
      failures.length = 0;
    },
    throttleNext(n) {
      throttles += Math.max(0, Math.floor(n));
    },
    settle() {
      for (const op of assignmentOps.values()) completeAssignment(op);
      for (const op of provisionOps.values()) completeProvisioning(op);
    },
    pending() {
      return [...assignmentOps.values(), ...provisionOps.values()].filter((op) => op.status === 'IN_PROGRESS')
        .length;
    },
    latestVersion(arn) {
      const set = permissionSets.get(arn);
      if (!set) throw new Error(`fake Identity Center: no permission set ${arn}`);
      return set.version;
    },
    provisionedVersion(arn, account) {
      return currentRole(arn, account)?.version;
    },
    provisionedPolicy(arn, account) {
      return currentRole(arn, account)?.inlinePolicy;
    },
    provisioningByAccount(requestId) {
      const op = provisionOps.get(requestId);
      if (!op) throw new Error(`fake Identity Center: no provisioning request ${requestId}`);
      return op.accounts.map((accountId) => ({
        accountId,
        status: 'IN_PROGRESS' as const,
        ...op.results.get(accountId),
      }));
    },
    assignmentsOf(filter = {}) {
      return [...assignments.values()]
        .filter(
          (r) =>
            isOpen(r) &&
            (filter.accountId === undefined || r.accountId === filter.accountId) &&
            (filter.permissionSetArn === undefined || r.permissionSetArn === filter.permissionSetArn) &&
            (filter.principalType === undefined || r.principalType === filter.principalType) &&
            (filter.principalId === undefined || r.principalId === filter.principalId),
        )
        .map((r) => ({
          accountId: r.accountId,
          permissionSetArn: r.permissionSetArn,
          principalType: r.principalType,
          principalId: r.principalId,
          since: new Date((r.intervals.find((i) => i.to === undefined) as { from: number }).from),
        }));
    },
    issueCredential(input) {
      const at = input.at === undefined ? now() : toMs(input.at);
      const set = permissionSets.get(input.permissionSetArn);
      if (!set) throw new Error(`fake Identity Center: no permission set ${input.permissionSetArn}`);
      const record = assignments.get(assignmentKey(set.arn, input.accountId, 'USER', input.userId));
      const role = roleAt(set.arn, input.accountId, at);
      if (!record || !holdsAt(record, at) || !role)
        throw new Error(
          `fake Identity Center: user ${input.userId} holds no assignment of ${set.name} in ${input.accountId} at ${new Date(at).toISOString()}`,
        );
      return {
        userId: input.userId,
        accountId: input.accountId,
        permissionSetArn: set.arn,
        issuedAt: new Date(at),
        expiresAt: new Date(at + set.sessionMs),
        roleGeneration: role.generation,
      };
    },
    mayAct(credential, evaluation) {
      return evaluate(credential, evaluation).allowed;
    },
    evaluate,
    close: listener.close,
  };
}
