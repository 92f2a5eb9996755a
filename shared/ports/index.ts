// Ports: what the use cases need from the outside world. Adapters (DynamoDB, Identity Store, SQS,
// Slack) implement them; tests use in-memory fakes. Nothing here imports an SDK.
import type { AuditDraft, AuditEvent, ChainHead } from '#domain/audit-types.ts';
import type { AccessRequest, Entitlement, PamConfig, RequestStatus } from '#domain/model.ts';

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A new ULID (monotonic within one process). */
  next(): string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; present when more items exist. */
  readonly nextToken?: string;
}

export interface PageRequest {
  readonly limit?: number;
  readonly nextToken?: string;
}

/** A change to one request and the audit events that must commit with it. */
export interface RequestChange {
  readonly request: AccessRequest;
  /** The version read before the change; `null` when the request is new. */
  readonly expectedVersion: number | null;
  /** Appended to their chains in the same transaction as the request write. */
  readonly events: readonly AuditDraft[];
}

export interface AccessStore {
  get(requestId: string): Promise<AccessRequest | undefined>;
  /**
   * Writes the request and appends its audit events atomically (one TransactWriteItems). Throws
   * `ConcurrentModificationError` when the stored version is not `expectedVersion` (or the request
   * already exists when new), and `AuditWriteError` when the audit append cannot be made after
   * retries — in both cases nothing changed.
   */
  save(change: RequestChange): Promise<readonly AuditEvent[]>;
  /** Requests made by one user, newest first. */
  listByRequester(requesterId: string, page: PageRequest): Promise<Page<AccessRequest>>;
  /**
   * How many of one user's requests are in `statuses`, up to `atMost`: reading stops once that many
   * are found, so a user with 20,000 open requests costs one read, not 20,000. Read from an index
   * (eventually consistent): a request saved a moment ago may not be counted yet.
   */
  countByRequester(requesterId: string, statuses: readonly RequestStatus[], atMost: number): Promise<number>;
  /** Requests in one status, oldest first. */
  listByStatus(status: RequestStatus, page: PageRequest): Promise<Page<AccessRequest>>;
}

export interface AuditLog {
  /** Appends one event to its chain (conditional on the chain head; retries on conflict). */
  append(draft: AuditDraft): Promise<AuditEvent>;
  /** Every event of a chain in order. */
  readChain(chainId: string): Promise<readonly AuditEvent[]>;
  head(chainId: string): Promise<ChainHead | undefined>;
}

export interface DirectoryUser {
  readonly userId: string;
  readonly userName: string;
  readonly displayName?: string;
  readonly email?: string;
  /** `user:<id>`, `ext:<issuer>:<id>`, `emp:<number>`. */
  readonly personKeys: readonly string[];
  /** False when the Identity Store marks the user disabled. */
  readonly active: boolean;
}

export interface Directory {
  /** `undefined` when the user does not exist (deleted). */
  getUser(userId: string): Promise<DirectoryUser | undefined>;
  findUserByUserName(userName: string): Promise<DirectoryUser | undefined>;
  findUserByEmail(email: string): Promise<DirectoryUser | undefined>;
  /** The config names (`identityCenter.groupIds`) of the groups the user is a direct member of, matched by group id, never by display name. Never cached. */
  groupsOf(userId: string): Promise<readonly string[]>;
}

export interface EntitlementCatalog {
  readonly config: PamConfig;
  get(entitlementId: string): Entitlement | undefined;
  list(): readonly Entitlement[];
}

/**
 * Counters of fixed time windows, for per-caller rate limits (shared/app/rate-limit.ts). The key
 * names the caller, what is counted and the window; the store adds nothing else to it.
 */
export interface RateCounter {
  /**
   * Adds one to `key` atomically and answers the new count. With `cap`, a count that has already
   * reached it is left as it is and the answer is `undefined` (so a flood past the budget adds
   * nothing). The counter may be forgotten after `expiresAt`.
   */
  add(key: string, options: { readonly cap?: number; readonly expiresAt: Date }): Promise<number | undefined>;
}
