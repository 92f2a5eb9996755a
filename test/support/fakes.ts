// In-memory implementations of the ports (shared/ports/index.ts) for unit tests, faithful to the
// contracts the DynamoDB and Identity Store adapters keep: an atomic save with optimistic
// concurrency that commits the request and its audit events together (or neither), hash-chained
// audit events, uncached group reads that tests can count, a settable clock and ordered ULIDs.
// Everything is deep-copied in and out, so a test can never change stored state by mutating a value.

import { makeCatalog } from '#app/catalog.ts';
import type { CoreDeps, Diagnostics } from '#app/deps.ts';
import { sealEvent } from '#domain/audit.ts';
import type { AuditDraft, AuditEvent, ChainHead } from '#domain/audit-types.ts';
import { AuditWriteError, ConcurrentModificationError, ValidationError } from '#domain/errors.ts';
import {
  type AccessRequest,
  type Actor,
  type Entitlement,
  type Grant,
  type PamConfig,
  REQUEST_STATUSES,
  type RequestStatus,
} from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { type Command, decide, openBreakGlass, openRequest } from '#domain/state-machine.ts';
import type {
  AccessStore,
  AuditLog,
  Clock,
  Directory,
  DirectoryUser,
  EntitlementCatalog,
  IdGenerator,
  Page,
  PageRequest,
  RateCounter,
  RequestChange,
} from '#ports/index.ts';

const copy = <T>(value: T): T => structuredClone(value);

// ---------------------------------------------------------------------------------------------
// Clock and ids

export const FIXTURE_EPOCH = new Date('2026-03-02T09:00:00.000Z');

export class FakeClock implements Clock {
  private current: number;

  constructor(start: Date | string = FIXTURE_EPOCH) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(to: Date | string): void {
    this.current = new Date(to).getTime();
  }

  advance(ms: number): Date {
    this.current += ms;
    return this.now();
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base32(value: bigint, length: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < length; i += 1) {
    out = CROCKFORD[Number(rest % 32n)] + out;
    rest /= 32n;
  }
  return out;
}

/**
 * Valid ULIDs (Crockford base32, 26 chars) in strictly increasing order: the time part follows the
 * clock (never going back) and the random part is a counter, so ids sort in creation order.
 */
export class SequentialIds implements IdGenerator {
  private counter = 0n;
  private lastTime = 0;
  readonly issued: string[] = [];

  constructor(private readonly clock: Clock = new FakeClock()) {}

  next(): string {
    this.lastTime = Math.max(this.lastTime, this.clock.now().getTime());
    this.counter += 1n;
    const id = base32(BigInt(this.lastTime), 10) + base32(this.counter, 16);
    this.issued.push(id);
    return id;
  }
}

export const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

// ---------------------------------------------------------------------------------------------
// Audit log

/** Hash-chained events per chain (sealed with `sealEvent`, so `verifyChain` accepts them). */
export class InMemoryAuditLog implements AuditLog {
  private readonly chains = new Map<string, AuditEvent[]>();
  /** While set, every append (and every store save, which appends) fails with AuditWriteError. */
  unavailable = false;

  constructor(private readonly ids: IdGenerator = new SequentialIds()) {}

  async append(draft: AuditDraft): Promise<AuditEvent> {
    const [event] = this.appendAll([draft]);
    return copy(event as AuditEvent);
  }

  async readChain(chainId: string): Promise<readonly AuditEvent[]> {
    return copy(this.chains.get(chainId) ?? []);
  }

  async head(chainId: string): Promise<ChainHead | undefined> {
    const last = this.chains.get(chainId)?.at(-1);
    return last ? { chainId, seq: last.seq, hash: last.hash } : undefined;
  }

  /** Every chain id with at least one event. */
  chainIds(): string[] {
    return [...this.chains.keys()];
  }

  /** Every event of every chain (test inspection). */
  all(): AuditEvent[] {
    return copy([...this.chains.values()].flat());
  }

  /**
   * Seals all drafts onto their chains and commits them together, or throws and commits none (the
   * store's transaction calls this in the same step as the request write).
   */
  appendAll(drafts: readonly AuditDraft[]): AuditEvent[] {
    if (this.unavailable) throw new AuditWriteError('the audit log is unavailable (injected)');
    const heads = new Map<string, ChainHead | undefined>();
    const sealed: AuditEvent[] = [];
    for (const draft of drafts) {
      const prev = heads.has(draft.chainId)
        ? heads.get(draft.chainId)
        : this.chains.get(draft.chainId)?.at(-1);
      const event = sealEvent(copy(draft), prev, this.ids.next());
      heads.set(draft.chainId, event);
      sealed.push(event);
    }
    for (const event of sealed) {
      const chain = this.chains.get(event.chainId) ?? [];
      chain.push(event);
      this.chains.set(event.chainId, chain);
    }
    return copy(sealed);
  }
}

// ---------------------------------------------------------------------------------------------
// Access store

export const DEFAULT_PAGE_LIMIT = 25;
export const MAX_PAGE_LIMIT = 100;

type SaveHook = (change: RequestChange) => void | Promise<void>;

/**
 * Requests by id. `save` is one atomic step: version check, request write and audit append commit
 * together, or nothing changes. `beforeNextSave` lets a test slip a concurrent write in between a
 * use case's read and its write.
 */
export class InMemoryAccessStore implements AccessStore {
  private readonly requests = new Map<string, AccessRequest>();
  private pendingHook: SaveHook | undefined;
  readonly saves: RequestChange[] = [];

  constructor(readonly audit: InMemoryAuditLog = new InMemoryAuditLog()) {}

  /** Runs `hook` once, at the start of the next save (before its checks). */
  beforeNextSave(hook: SaveHook): void {
    this.pendingHook = hook;
  }

  async get(requestId: string): Promise<AccessRequest | undefined> {
    const request = this.requests.get(requestId);
    return request ? copy(request) : undefined;
  }

  async save(change: RequestChange): Promise<readonly AuditEvent[]> {
    const hook = this.pendingHook;
    this.pendingHook = undefined;
    if (hook) await hook(copy(change));
    const { request, expectedVersion } = change;
    const version = expectedVersion === null ? 1 : expectedVersion + 1;
    if (request.version !== version) {
      // Same as the DynamoDB adapter: a caller bug, not a conflict.
      throw new Error(
        `request ${request.id} carries version ${request.version}, expected ${version} (expectedVersion ${expectedVersion})`,
      );
    }
    const stored = this.requests.get(request.id);
    if (expectedVersion === null ? stored !== undefined : stored?.version !== expectedVersion) {
      throw new ConcurrentModificationError('the request was changed by another decision; reload and retry');
    }
    // Audit first: if it throws, the request write below never happens (all or nothing).
    const events = this.audit.appendAll(change.events);
    this.requests.set(request.id, copy(request));
    this.saves.push(copy(change));
    return events;
  }

  async listByRequester(requesterId: string, page: PageRequest): Promise<Page<AccessRequest>> {
    const mine = [...this.requests.values()].filter((request) => request.requesterId === requesterId);
    return paginate(mine, newestFirst, page, `r:${requesterId}`);
  }

  /** Reads of `countByRequester`, per user (a test can prove a count was or was not made). */
  readonly counts: string[] = [];

  async countByRequester(
    requesterId: string,
    statuses: readonly RequestStatus[],
    atMost: number,
  ): Promise<number> {
    // Same contract as the DynamoDB adapter: a bounded count, never more than `atMost`.
    if (!Number.isInteger(atMost) || atMost < 1) throw new RangeError('atMost: expected an integer ≥ 1');
    this.counts.push(requesterId);
    const matching = [...this.requests.values()].filter(
      (request) => request.requesterId === requesterId && statuses.includes(request.status),
    );
    return Math.min(matching.length, atMost);
  }

  async listByStatus(status: RequestStatus, page: PageRequest): Promise<Page<AccessRequest>> {
    if (!(REQUEST_STATUSES as readonly string[]).includes(status)) {
      // DynamoDB cannot query a missing or foreign partition value either; this is a caller bug.
      throw new TypeError(`listByStatus: not a request status: ${String(status)}`);
    }
    const inStatus = [...this.requests.values()].filter((request) => request.status === status);
    return paginate(inStatus, byCreation, page, `s:${status}`);
  }

  /** Every stored request (test inspection). */
  all(): AccessRequest[] {
    return copy([...this.requests.values()]);
  }
}

function byCreation(a: AccessRequest, b: AccessRequest): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function newestFirst(a: AccessRequest, b: AccessRequest): number {
  return byCreation(b, a);
}

function paginate(
  unsorted: AccessRequest[],
  order: (a: AccessRequest, b: AccessRequest) => number,
  page: PageRequest,
  partition: string,
): Page<AccessRequest> {
  const sorted = [...unsorted].sort(order);
  const limit = page.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError(`limit: must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  let start = 0;
  if (page.nextToken !== undefined) {
    const key = decodeToken(page.nextToken, partition);
    // Resume after the last item shown, wherever it sits now (items may have moved since).
    start = sorted.findIndex((request) => order(request, key) > 0);
    if (start === -1) start = sorted.length;
  }
  const items = sorted.slice(start, start + limit);
  const last = items.at(-1);
  if (start + limit < sorted.length && last) {
    return { items: copy(items), nextToken: encodeToken(partition, last) };
  }
  return { items: copy(items) };
}

function encodeToken(partition: string, last: AccessRequest): string {
  return Buffer.from(JSON.stringify({ p: partition, c: last.createdAt, i: last.id }), 'utf8').toString(
    'base64url',
  );
}

function decodeToken(token: string, partition: string): AccessRequest {
  const invalid = () => new ValidationError('nextToken: not a token returned by this list');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const key = parsed as { p?: unknown; c?: unknown; i?: unknown } | null;
  if (!key || key.p !== partition || typeof key.c !== 'string' || typeof key.i !== 'string') throw invalid();
  return { createdAt: key.c, id: key.i } as AccessRequest;
}

// ---------------------------------------------------------------------------------------------
// Directory

export interface FixtureUser {
  readonly userId: string;
  readonly userName?: string;
  /** The Identity Store `DisplayName` (absent: none set). */
  readonly displayName?: string;
  readonly email?: string;
  readonly groups?: readonly string[];
  /** Without the implicit `user:<id>` (resolveActor adds it). */
  readonly personKeys?: readonly string[];
  readonly active?: boolean;
}

/** Identity Store users and their groups. `groupsOf` is never cached, and every call is recorded. */
export class InMemoryDirectory implements Directory {
  private readonly users = new Map<string, { user: DirectoryUser; groups: string[] }>();
  /** The user id of every `groupsOf` call, in order. */
  readonly groupsOfCalls: string[] = [];

  constructor(users: readonly FixtureUser[] = []) {
    for (const user of users) this.add(user);
  }

  add(user: FixtureUser): void {
    this.users.set(user.userId, {
      user: {
        userId: user.userId,
        userName: user.userName ?? user.userId,
        ...optional('displayName', user.displayName),
        ...optional('email', user.email),
        personKeys: [...(user.personKeys ?? [])],
        active: user.active ?? true,
      },
      groups: [...(user.groups ?? [])],
    });
  }

  remove(userId: string): void {
    this.users.delete(userId);
  }

  setGroups(userId: string, groups: readonly string[]): void {
    this.entry(userId).groups = [...groups];
  }

  removeFromGroup(userId: string, group: string): void {
    const entry = this.entry(userId);
    entry.groups = entry.groups.filter((name) => name !== group);
  }

  setActive(userId: string, active: boolean): void {
    const entry = this.entry(userId);
    entry.user = { ...entry.user, active };
  }

  groupsOfCount(userId?: string): number {
    return userId === undefined
      ? this.groupsOfCalls.length
      : this.groupsOfCalls.filter((id) => id === userId).length;
  }

  async getUser(userId: string): Promise<DirectoryUser | undefined> {
    const entry = this.users.get(userId);
    return entry ? copy(entry.user) : undefined;
  }

  async findUserByUserName(userName: string): Promise<DirectoryUser | undefined> {
    const entry = [...this.users.values()].find(({ user }) => user.userName === userName);
    return entry ? copy(entry.user) : undefined;
  }

  async findUserByEmail(email: string): Promise<DirectoryUser | undefined> {
    const entry = [...this.users.values()].find(({ user }) => user.email === email);
    return entry ? copy(entry.user) : undefined;
  }

  async groupsOf(userId: string): Promise<readonly string[]> {
    this.groupsOfCalls.push(userId);
    return [...(this.users.get(userId)?.groups ?? [])];
  }

  private entry(userId: string) {
    const entry = this.users.get(userId);
    if (!entry) throw new Error(`no fixture user ${userId}`);
    return entry;
  }
}

// ---------------------------------------------------------------------------------------------
// Fixture config: entitlements, groups and users

export const GROUPS = {
  engineers: 'platform-engineers',
  approvers: 'team-leads',
  prodApprovers: 'prod-approvers',
  breakGlass: 'break-glass',
  admins: 'pam-admins',
  outsiders: 'marketing',
} as const;

export const ACCOUNTS = { dev: '111111111111', prod: '222222222222', other: '999999999999' } as const;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** 1 approver from `team-leads`; no reason or ticket needed. */
export const READ_ONLY = 'read-only';
/** Privileged, 2 of 2 from `prod-approvers`, reason and OPS ticket required, break-glass group. */
export const PROD_ADMIN = 'prod-admin';
/** Auto-approved. */
export const SANDBOX = 'sandbox';

function entitlement(
  partial: Pick<Entitlement, 'id' | 'title' | 'approval'> & Partial<Entitlement>,
): Entitlement {
  return {
    kind: 'aws-role',
    target: {
      accounts: [ACCOUNTS.dev, ACCOUNTS.prod],
      permissionSet: { name: partial.id, managedPolicies: [], customerManagedPolicies: [] },
    },
    eligible: [GROUPS.engineers],
    maxDurationMs: 4 * HOUR,
    maxTotalDurationMs: 8 * HOUR,
    defaultDurationMs: HOUR,
    requireReason: false,
    breakGlass: [],
    strictExpiry: false,
    privileged: false,
    ...partial,
  };
}

export function fixtureEntitlements(): Entitlement[] {
  return [
    entitlement({
      id: READ_ONLY,
      title: 'Read-only',
      approval: { approvers: [GROUPS.approvers], required: 1, autoApprove: false },
    }),
    entitlement({
      id: PROD_ADMIN,
      title: 'Production administrator',
      approval: { approvers: [GROUPS.prodApprovers], required: 2, autoApprove: false },
      maxDurationMs: 2 * HOUR,
      maxTotalDurationMs: 3 * HOUR,
      requireReason: true,
      ticketPattern: '^OPS-[0-9]{1,6}$',
      breakGlass: [GROUPS.breakGlass],
      strictExpiry: true,
      privileged: true,
    }),
    entitlement({
      id: SANDBOX,
      title: 'Sandbox',
      approval: { approvers: [GROUPS.approvers], required: 1, autoApprove: true },
      target: {
        accounts: [ACCOUNTS.dev],
        permissionSet: { name: SANDBOX, managedPolicies: [], customerManagedPolicies: [] },
      },
    }),
  ];
}

export function fixtureConfig(overrides: Partial<PamConfig> = {}): PamConfig {
  return {
    identityCenter: {
      instanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000',
      identityStoreId: 'd-0000000000',
      hubAccountId: '333333333333',
      managementAccountId: '444444444444',
      organizationId: 'o-fixture0000',
      groupIds: Object.fromEntries(Object.values(GROUPS).map((name) => [name, `g-${name}`])),
    },
    admins: [GROUPS.admins],
    drift: { mode: 'report', graceMs: 5 * MINUTE },
    approvalTimeoutMs: 24 * HOUR,
    entitlements: fixtureEntitlements(),
    configHash: 'a'.repeat(64),
    ...overrides,
  };
}

/** A fixture entitlement by id (throws when there is none, so tests need no `!`). */
export function fixtureEntitlement(id: string, config: PamConfig = fixtureConfig()): Entitlement {
  const found = config.entitlements.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no fixture entitlement ${id}`);
  return found;
}

/** The grant of an active (or once active) request; throws when there is none. */
export function grantOf(request: AccessRequest): Grant {
  if (!request.grant) throw new Error(`request ${request.id} has no grant (${request.status})`);
  return request.grant;
}

/** The production catalog (shared/app/catalog.ts) over a fixture config. */
export function fixtureCatalog(config: PamConfig = fixtureConfig()): EntitlementCatalog {
  return makeCatalog(config);
}

/** Fixture user ids. */
export const U = {
  /** Engineer, also in the break-glass group. */
  eve: 'u-eve',
  /** Engineer. */
  erin: 'u-erin',
  /** Approver of read-only and prod-admin. */
  alice: 'u-alice',
  /** Approver of prod-admin only. */
  bob: 'u-bob',
  /** cloud-pam admin. */
  adam: 'u-adam',
  /** Alice's second Identity Store user (same ExternalId): engineer, approver, break-glass. */
  aliceAlt: 'u-alice-alt',
  /** Disabled engineer. */
  dan: 'u-dan',
  /** In no group that matters. */
  oscar: 'u-oscar',
} as const;

export function fixtureUsers(): FixtureUser[] {
  return [
    { userId: U.eve, groups: [GROUPS.engineers, GROUPS.breakGlass], personKeys: ['ext:okta:eve'] },
    { userId: U.erin, groups: [GROUPS.engineers], personKeys: ['ext:okta:erin'] },
    { userId: U.alice, groups: [GROUPS.approvers, GROUPS.prodApprovers], personKeys: ['ext:okta:alice'] },
    { userId: U.bob, groups: [GROUPS.prodApprovers], personKeys: ['ext:okta:bob', 'emp:1002'] },
    { userId: U.adam, groups: [GROUPS.admins], personKeys: ['ext:okta:adam'] },
    {
      userId: U.aliceAlt,
      groups: [GROUPS.engineers, GROUPS.approvers, GROUPS.prodApprovers, GROUPS.breakGlass],
      personKeys: ['ext:okta:alice'],
    },
    { userId: U.dan, groups: [GROUPS.engineers], personKeys: ['ext:okta:dan'], active: false },
    { userId: U.oscar, groups: [GROUPS.outsiders], personKeys: ['ext:okta:oscar'] },
  ];
}

/**
 * The Actor `resolveActor` would build for a fixture user, without a directory round trip (for
 * pure domain tests), but without a display name: records made from it carry no names, as those
 * made before names were kept (add `displayName` where a test needs one).
 */
export function fixtureActor(
  userId: string,
  users: readonly FixtureUser[] = fixtureUsers(),
  config: PamConfig = fixtureConfig(),
): Actor {
  const user = users.find((candidate) => candidate.userId === userId);
  if (!user) throw new Error(`no fixture user ${userId}`);
  const groups = [...(user.groups ?? [])];
  return {
    userId,
    groups,
    personKeys: [`user:${userId}`, ...(user.personKeys ?? [])],
    isAdmin: groups.some((group) => config.admins.includes(group)),
  };
}

/** Records refusals whose audit write failed. */
export class RecordingDiagnostics implements Diagnostics {
  readonly failedRejectionAudits: { action: string; code: string; requestId?: string; error: unknown }[] = [];

  auditOfRejectionFailed(details: {
    action: string;
    code: string;
    requestId?: string;
    error: unknown;
  }): void {
    this.failedRejectionAudits.push(details);
  }
}

export interface TestDeps {
  readonly deps: CoreDeps;
  readonly store: InMemoryAccessStore;
  readonly audit: InMemoryAuditLog;
  readonly directory: InMemoryDirectory;
  readonly catalog: EntitlementCatalog;
  readonly clock: FakeClock;
  readonly ids: SequentialIds;
  readonly diagnostics: RecordingDiagnostics;
}

export function makeTestDeps(
  options: { config?: PamConfig; users?: readonly FixtureUser[]; now?: Date | string } = {},
): TestDeps {
  const clock = new FakeClock(options.now ?? FIXTURE_EPOCH);
  const ids = new SequentialIds(clock);
  const audit = new InMemoryAuditLog(new SequentialIds(clock));
  const store = new InMemoryAccessStore(audit);
  const directory = new InMemoryDirectory(options.users ?? fixtureUsers());
  const catalog = fixtureCatalog(options.config ?? fixtureConfig());
  const diagnostics = new RecordingDiagnostics();
  return {
    deps: { store, audit, directory, catalog, clock, ids, diagnostics },
    store,
    audit,
    directory,
    catalog,
    clock,
    ids,
    diagnostics,
  };
}

// ---------------------------------------------------------------------------------------------
// Domain builders: requests driven through the real state machine to any status

export const FIXTURE_ID = '01JNQ0000000000000000000AA';

export interface FixtureRequestOptions {
  readonly entitlementId?: string;
  readonly requester?: string;
  /** Opened with a start time (so `schedule` applies to it once approved). */
  readonly startAt?: Date;
  readonly durationMs?: number;
  readonly breakGlass?: boolean;
  readonly config?: PamConfig;
}

/** Approvers (in order) that make each fixture entitlement's quorum. */
export const QUORUM: Readonly<Record<string, readonly string[]>> = {
  [READ_ONLY]: [U.alice],
  [PROD_ADMIN]: [U.alice, U.bob],
  [SANDBOX]: [],
};

/** Reason and ticket that satisfy every fixture entitlement. */
export const VALID_JUSTIFICATION = { reason: 'incident INC-42 needs a look', ticket: 'OPS-1234' } as const;

/** The time each builder step happens at: `FIXTURE_EPOCH` + `minutes`. */
export function at(minutes: number): Date {
  return new Date(FIXTURE_EPOCH.getTime() + minutes * MINUTE);
}

/**
 * A request driven to `status` through the real state machine (so every field is one a real
 * request could hold). EXPIRED happens at its expiry; other steps a minute apart.
 */
export function fixtureRequest(status: RequestStatus, options: FixtureRequestOptions = {}): AccessRequest {
  return fixtureRequestWithChain(status, options).request;
}

/**
 * A fixture request reached through the real state machine, with the audit events of every step on
 * the way (its chain: what proves its status). `options.id` names it (default FIXTURE_ID).
 */
export function fixtureRequestWithChain(
  status: RequestStatus,
  options: FixtureRequestOptions & { id?: string } = {},
): { request: AccessRequest; events: AuditDraft[] } {
  const config = options.config ?? fixtureConfig();
  const entitlementId = options.entitlementId ?? READ_ONLY;
  const found = config.entitlements.find((candidate) => candidate.id === entitlementId);
  if (!found) throw new Error(`no fixture entitlement ${entitlementId}`);
  const requester = fixtureActor(options.requester ?? U.eve, fixtureUsers(), config);
  const input = {
    id: options.id ?? FIXTURE_ID,
    requester,
    entitlement: found,
    configHash: config.configHash,
    accountId: found.target.accounts[0] as string,
    ...optional('durationMs', options.durationMs),
    ...VALID_JUSTIFICATION,
    now: at(0),
  };
  let minute = 0;
  const opened = options.breakGlass
    ? openBreakGlass(input)
    : openRequest({ ...input, ...(options.startAt ? { startAt: options.startAt } : {}) });
  let request = opened.request;
  const events: AuditDraft[] = [...opened.events];
  const apply = (command: Command) => {
    minute += 1;
    const outcome = decide(request, command, at(minute));
    request = outcome.request;
    events.push(...outcome.events);
  };
  const actor = (userId: string) => fixtureActor(userId, fixtureUsers(), config);
  const approveToQuorum = () => {
    for (const approver of QUORUM[entitlementId] ?? []) {
      if (request.status === 'PENDING' || request.status === 'EXTENSION_PENDING')
        apply({ type: 'approve', actor: actor(approver) });
    }
  };
  const toActive = () => {
    approveToQuorum();
    apply({ type: 'start-provisioning' });
    apply({ type: 'activate' });
  };
  switch (status) {
    case 'PENDING':
      break;
    case 'APPROVED':
      approveToQuorum();
      break;
    case 'SCHEDULED':
      approveToQuorum();
      apply({ type: 'schedule' });
      break;
    case 'PROVISIONING':
      approveToQuorum();
      apply({ type: 'start-provisioning' });
      break;
    case 'ACTIVE':
      toActive();
      break;
    case 'EXTENSION_PENDING':
      toActive();
      apply({ type: 'extend', actor: requester, additionalMs: HOUR, reason: 'still digging' });
      break;
    case 'DENIED':
      apply({ type: 'deny', actor: actor(QUORUM[entitlementId]?.[0] ?? U.alice) });
      break;
    case 'CANCELLED':
      apply({ type: 'cancel', actor: requester });
      break;
    case 'TIMED_OUT':
      apply({ type: 'timeout', approvalTimeoutMs: 0 });
      break;
    case 'FAILED':
      approveToQuorum();
      apply({ type: 'start-provisioning' });
      apply({ type: 'fail', failure: 'CreateAccountAssignment FAILED' });
      break;
    case 'EXPIRED': {
      toActive();
      const grant = grantOf(request);
      const outcome = decide(
        request,
        { type: 'expire', grantVersion: grant.grantVersion },
        new Date(grant.expiresAt),
      );
      request = outcome.request;
      events.push(...outcome.events);
      break;
    }
    case 'REVOKED':
      toActive();
      apply({ type: 'revoke', actor: requester });
      break;
  }
  if (request.status !== status) throw new Error(`fixture reached ${request.status}, not ${status}`);
  return { request, events };
}

// ---------------------------------------------------------------------------------------------
// Rate counters

/**
 * Fixed-window counters with the DynamoDB adapter's contract: `add` is atomic, and with a cap a
 * count that reached it stays as it is and answers `undefined`. `unavailable` makes every `add`
 * throw, as an unreachable table would.
 */
export class InMemoryRateCounter implements RateCounter {
  private readonly counts = new Map<string, { count: number; expiresAt: number }>();
  /** Every key `add` was called with, in order. */
  readonly adds: string[] = [];
  unavailable = false;

  async add(
    key: string,
    options: { readonly cap?: number; readonly expiresAt: Date },
  ): Promise<number | undefined> {
    this.adds.push(key);
    if (this.unavailable) throw new Error('the rate counters are unavailable (injected)');
    const current = this.counts.get(key);
    const count = current?.count ?? 0;
    if (options.cap !== undefined && count >= options.cap) return undefined;
    this.counts.set(key, {
      count: count + 1,
      expiresAt: current?.expiresAt ?? options.expiresAt.getTime(),
    });
    return count + 1;
  }

  /** The count stored under `key` (0 when none). */
  count(key: string): number {
    return this.counts.get(key)?.count ?? 0;
  }

  /** When `key` may be forgotten (test inspection). */
  expiresAt(key: string): Date | undefined {
    const found = this.counts.get(key);
    return found ? new Date(found.expiresAt) : undefined;
  }
}
