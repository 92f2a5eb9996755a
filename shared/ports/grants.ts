// Ports of the grant engine: Identity Center (assignments, permission sets), EventBridge Scheduler,
// the two FIFO work queues, and the tuple leases that reference-count assignments. Adapters live
// in shared/adapters/aws; tests use moto over HTTP (with fault injection) or in-memory fakes.
import { sha256Hex } from '#domain/canonical-json.ts';

/** One Identity Center account assignment: a user, an account, a permission set. */
export interface AssignmentTuple {
  readonly userId: string;
  readonly accountId: string;
  readonly permissionSetArn: string;
}

/** A tuple's stable key (lease and drift-sighting records are stored under it). */
export function tupleKey(tuple: AssignmentTuple): string {
  return sha256Hex(`${tuple.userId}|${tuple.accountId}|${tuple.permissionSetArn}`).slice(0, 40);
}

/** Identity Center's answer for an asynchronous operation. */
export interface OperationStatus {
  readonly status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  /** Identity Center's request id, to ask again with `…Status`. */
  readonly operationId: string;
  readonly failureReason?: string;
}

/** Identity Center (sso-admin) as the grant engine uses it. Throttling is retried inside the adapter. */
export interface IdentityCenter {
  createAssignment(tuple: AssignmentTuple): Promise<OperationStatus>;
  deleteAssignment(tuple: AssignmentTuple): Promise<OperationStatus>;
  creationStatus(operationId: string): Promise<OperationStatus>;
  deletionStatus(operationId: string): Promise<OperationStatus>;
  /** USER principals assigned `permissionSetArn` in `accountId` (group assignments are not listed). */
  listUserAssignments(accountId: string, permissionSetArn: string): Promise<readonly string[]>;
  /** The permission set's inline policy document, or undefined when it has none. */
  getInlinePolicy(permissionSetArn: string): Promise<string | undefined>;
  putInlinePolicy(permissionSetArn: string, document: string): Promise<void>;
  /** Re-provisions the permission set to every account it is provisioned to. */
  provisionPermissionSet(permissionSetArn: string): Promise<OperationStatus>;
  permissionSetProvisioningStatus(operationId: string): Promise<OperationStatus>;
  /** Accounts whose provisioned version is not the permission set's latest (a deny not yet there). */
  staleAccounts(permissionSetArn: string): Promise<readonly string[]>;
  /** The provisioning of this permission set still IN_PROGRESS (one at a time), if any. */
  provisioningInProgress(permissionSetArn: string): Promise<string | undefined>;
}

/**
 * A session deny a permission set must carry until `removeAt` (ISO-8601 UTC times): sessions of
 * `userId` issued before `endedAt` (the cut-off). One per (permission set, user), widened, never
 * repeated; `userId` '*' is the permission-set-wide deny (every session issued before the cut-off).
 */
export interface DenyRecord {
  readonly permissionSetArn: string;
  readonly userId: string;
  readonly endedAt: string;
  readonly removeAt: string;
  /** The requests whose ending put it there (their deletions widen the cut-off). */
  readonly requestIds?: readonly string[];
}

/** The permission-set-wide deny's user id in the ledger. */
export const EVERYONE = '*';

/**
 * The denies cloud-pam has added and that are still in force. The inline policy stays the source
 * of what is swept; this ledger says what must be there, so a policy rewritten under it (a deploy
 * that changes the permission set) gets its denies back from the reconciler.
 */
export interface DenyLedger {
  /** The deny of (permission set, user), if one was ever recorded (live or not). */
  get(permissionSetArn: string, userId: string): Promise<DenyRecord | undefined>;
  /** Records the deny, replacing the (permission set, user) record: callers merge first. */
  record(entry: DenyRecord): Promise<void>;
  /** Denies whose `removeAt` is after `now`. */
  live(now: Date): Promise<readonly DenyRecord[]>;
}

/** Permission set name (from config) → ARN (from the deployment). */
export interface PermissionSets {
  arnOf(name: string): string;
  /** Every permission set cloud-pam manages. */
  all(): readonly { readonly name: string; readonly arn: string }[];
}

export interface OneTimeSchedule {
  /** Unique per purpose and grant version, e.g. `expire-<requestId>-v2`. */
  readonly name: string;
  readonly at: Date;
  readonly target: 'commands' | 'provisioning';
  readonly messageGroupId: string;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface Scheduler {
  /** Creates the schedule, or leaves it as it is when one with this name exists (idempotent). */
  ensure(schedule: OneTimeSchedule): Promise<void>;
  /** Deletes it; a missing schedule is not an error (idempotent). */
  remove(name: string): Promise<void>;
}

export interface WorkQueue {
  send(message: {
    readonly messageGroupId: string;
    readonly body: Readonly<Record<string, unknown>>;
  }): Promise<void>;
}

/**
 * A tuple's lease record: which requests hold it (PROVISIONING or ACTIVE) and whether the
 * assignment exists. All writes are conditional on `version`.
 */
export interface TupleLease {
  readonly tuple: AssignmentTuple;
  readonly holders: Readonly<Record<string, 'PROVISIONING' | 'ACTIVE'>>;
  readonly assigned: boolean;
  /** An operation in flight (create or delete), to poll instead of repeating the call. */
  readonly pending?: { readonly kind: 'create' | 'delete'; readonly operationId: string };
  /** When a deletion of the assignment was last seen SUCCEEDED (a deny's cut-off widens to it). */
  readonly deletedAt?: string;
  readonly version: number;
  readonly updatedAt: string;
}

export interface TupleStore {
  get(tuple: AssignmentTuple): Promise<TupleLease | undefined>;
  /** Writes the lease if its stored version is still `expectedVersion` (0 = absent). */
  put(lease: TupleLease, expectedVersion: number): Promise<void>;
  list(): Promise<readonly TupleLease[]>;
}

/** When cloud-pam first saw an assignment nothing holds. Keys are `tupleKey(tuple)`. */
export interface DriftSeenEntry {
  readonly key: string;
  readonly tuple: AssignmentTuple;
  /** ISO-8601 UTC. */
  readonly firstSeenAt: string;
}

/** First sightings of unheld assignments, for the drift sweep's grace period. */
export interface DriftSeenStore {
  firstSeen(key: string): Promise<Date | undefined>;
  /** Records the first sighting; when one exists it is kept. Answers the first-seen time that stands. */
  markSeen(key: string, at: Date, tuple: AssignmentTuple): Promise<Date>;
  /** Removes the entry; a missing one is not an error. */
  forget(key: string): Promise<void>;
  /** Entries of one account and permission set (to forget assignments that are gone). */
  listSeen(accountId: string, permissionSetArn: string): Promise<readonly DriftSeenEntry[]>;
}
