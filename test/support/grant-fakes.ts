// In-memory fakes of the grant engine's ports (shared/ports/grants.ts) and of the drift sweep's
// first-seen store, for unit tests: an Identity Center with an assignment map, scripted operation
// statuses and call counts; conditional tuple leases; work queues and a scheduler that record what
// they were given. They keep the adapters' contracts (conditional writes throw
// ConcurrentModificationError, schedules are idempotent by name) and deep-copy values in and out.
// Plus a logger that writes nothing, for the functions' builders (functions/<name>/build.ts).

import { Logger } from '@aws-lambda-powertools/logger';
import { permissionSetsFrom } from '#adapters/permission-sets.ts';
import type { GrantDeps, GrantMetrics } from '#app/grants/deps.ts';
import type { AuditDraft } from '#domain/audit-types.ts';
import { ConcurrentModificationError } from '#domain/errors.ts';
import type { AccessRequest } from '#domain/model.ts';
import {
  type AssignmentTuple,
  type DenyLedger,
  type DenyRecord,
  type DriftSeenEntry,
  type DriftSeenStore,
  type IdentityCenter,
  type OneTimeSchedule,
  type OperationStatus,
  type PermissionSets,
  type Scheduler,
  type TupleLease,
  type TupleStore,
  tupleKey,
  type WorkQueue,
} from '#ports/grants.ts';
import { type InMemoryAccessStore, makeTestDeps, type TestDeps } from './fakes.ts';

const copy = <T>(value: T): T => structuredClone(value);

// ---------------------------------------------------------------------------------------------
// Permission sets

export const INSTANCE_ID = 'ssoins-0000000000000000';

export function permissionSetArn(name: string): string {
  return `arn:aws:sso:::permissionSet/${INSTANCE_ID}/ps-${name.replace(/[^\w-]/g, '')}`;
}

/** The fixture entitlements' permission sets (`read-only`, `prod-admin`, `sandbox`) and any extra names. */
export function fixturePermissionSets(
  names: readonly string[] = ['read-only', 'prod-admin', 'sandbox'],
): PermissionSets {
  return permissionSetsFrom(Object.fromEntries(names.map((name) => [name, permissionSetArn(name)])));
}

// ---------------------------------------------------------------------------------------------
// Identity Center

type Op = { kind: 'create' | 'delete' | 'provision'; tuple?: AssignmentTuple; permissionSetArn?: string };
export type IdentityCenterOperation = keyof IdentityCenter;

/**
 * Assignments as `account|permissionSet → user ids`. Every asynchronous call takes its status from
 * `statuses` (first in, first out; SUCCEEDED when empty) and applies its effect once SUCCEEDED, so
 * a test can script IN_PROGRESS × n then SUCCEEDED, or FAILED.
 */
export class FakeIdentityCenter implements IdentityCenter {
  private readonly assignments = new Map<string, Set<string>>();
  private readonly policies = new Map<string, string>();
  private readonly operations = new Map<string, Op>();
  private opCounter = 0;
  /** Statuses the next asynchronous calls answer with, in order. */
  readonly statuses: OperationStatus['status'][] = [];
  /** Every call, in order. */
  readonly calls: { readonly op: IdentityCenterOperation; readonly args: readonly unknown[] }[] = [];

  count(op?: IdentityCenterOperation): number {
    return op === undefined ? this.calls.length : this.calls.filter((call) => call.op === op).length;
  }

  assign(tuple: AssignmentTuple): void {
    const key = `${tuple.accountId}|${tuple.permissionSetArn}`;
    const users = this.assignments.get(key) ?? new Set<string>();
    users.add(tuple.userId);
    this.assignments.set(key, users);
  }

  unassign(tuple: AssignmentTuple): void {
    this.assignments.get(`${tuple.accountId}|${tuple.permissionSetArn}`)?.delete(tuple.userId);
  }

  has(tuple: AssignmentTuple): boolean {
    return this.assignments.get(`${tuple.accountId}|${tuple.permissionSetArn}`)?.has(tuple.userId) ?? false;
  }

  /** Sets a permission set's inline policy without counting a call. */
  setPolicy(permissionSetArn: string, document: string | undefined): void {
    if (document === undefined) this.policies.delete(permissionSetArn);
    else this.policies.set(permissionSetArn, document);
  }

  policy(permissionSetArn: string): string | undefined {
    return this.policies.get(permissionSetArn);
  }

  private record(op: IdentityCenterOperation, ...args: unknown[]): void {
    this.calls.push({ op, args: copy(args) });
  }

  private start(op: Op): OperationStatus {
    this.opCounter += 1;
    const operationId = `op-${this.opCounter}`;
    this.operations.set(operationId, op);
    return this.answer(operationId);
  }

  private answer(operationId: string): OperationStatus {
    const op = this.operations.get(operationId);
    if (!op) throw new Error(`no operation ${operationId}`);
    const status = this.statuses.shift() ?? 'SUCCEEDED';
    if (status === 'SUCCEEDED' && op.tuple) {
      if (op.kind === 'create') this.assign(op.tuple);
      if (op.kind === 'delete') this.unassign(op.tuple);
    }
    if (status === 'SUCCEEDED' && op.kind === 'provision' && op.permissionSetArn)
      this.unprovisioned.delete(op.permissionSetArn);
    return status === 'FAILED'
      ? { status, operationId, failureReason: 'injected failure' }
      : { status, operationId };
  }

  async createAssignment(tuple: AssignmentTuple): Promise<OperationStatus> {
    this.record('createAssignment', tuple);
    return this.start({ kind: 'create', tuple: copy(tuple) });
  }

  async deleteAssignment(tuple: AssignmentTuple): Promise<OperationStatus> {
    this.record('deleteAssignment', tuple);
    return this.start({ kind: 'delete', tuple: copy(tuple) });
  }

  async creationStatus(operationId: string): Promise<OperationStatus> {
    this.record('creationStatus', operationId);
    return this.answer(operationId);
  }

  async deletionStatus(operationId: string): Promise<OperationStatus> {
    this.record('deletionStatus', operationId);
    return this.answer(operationId);
  }

  async listUserAssignments(accountId: string, permissionSetArn: string): Promise<readonly string[]> {
    this.record('listUserAssignments', accountId, permissionSetArn);
    return [...(this.assignments.get(`${accountId}|${permissionSetArn}`) ?? [])].sort();
  }

  async getInlinePolicy(permissionSetArn: string): Promise<string | undefined> {
    this.record('getInlinePolicy', permissionSetArn);
    return this.policies.get(permissionSetArn);
  }

  async putInlinePolicy(permissionSetArn: string, document: string): Promise<void> {
    this.record('putInlinePolicy', permissionSetArn, document);
    this.policies.set(permissionSetArn, document);
    this.unprovisioned.add(permissionSetArn);
  }

  /** Permission sets whose latest definition some account does not have yet. */
  readonly unprovisioned = new Set<string>();

  async provisionPermissionSet(permissionSetArn: string): Promise<OperationStatus> {
    this.record('provisionPermissionSet', permissionSetArn);
    return this.start({ kind: 'provision', permissionSetArn });
  }

  async permissionSetProvisioningStatus(operationId: string): Promise<OperationStatus> {
    this.record('permissionSetProvisioningStatus', operationId);
    return this.answer(operationId);
  }

  async staleAccounts(permissionSetArn: string): Promise<readonly string[]> {
    this.record('staleAccounts', permissionSetArn);
    return this.unprovisioned.has(permissionSetArn) ? ['000000000000'] : [];
  }

  async provisioningInProgress(permissionSetArn: string): Promise<string | undefined> {
    this.record('provisioningInProgress', permissionSetArn);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Tuple leases

/** Leases by tuple key, written only when the stored version is the expected one (0 = absent). */
export class InMemoryTupleStore implements TupleStore {
  private readonly leases = new Map<string, TupleLease>();
  readonly puts: TupleLease[] = [];

  /** Stores a lease as it is, bypassing the version check (test set-up). */
  seed(lease: TupleLease): void {
    this.leases.set(tupleKey(lease.tuple), copy(lease));
  }

  async get(tuple: AssignmentTuple): Promise<TupleLease | undefined> {
    const lease = this.leases.get(tupleKey(tuple));
    return lease ? copy(lease) : undefined;
  }

  async put(lease: TupleLease, expectedVersion: number): Promise<void> {
    const stored = this.leases.get(tupleKey(lease.tuple));
    if ((stored?.version ?? 0) !== expectedVersion) {
      throw new ConcurrentModificationError('the assignment lease changed; retry');
    }
    this.leases.set(tupleKey(lease.tuple), copy(lease));
    this.puts.push(copy(lease));
  }

  async list(): Promise<readonly TupleLease[]> {
    return copy([...this.leases.values()]);
  }
}

/** A lease for test set-up: defaults to assigned, version 1, updated at the fixture epoch. */
export function fixtureLease(
  tuple: AssignmentTuple,
  holders: TupleLease['holders'],
  extra: Partial<Omit<TupleLease, 'tuple' | 'holders'>> = {},
): TupleLease {
  return { tuple, holders, assigned: true, version: 1, updatedAt: '2026-03-02T09:00:00.000Z', ...extra };
}

// ---------------------------------------------------------------------------------------------
// Queues and schedules

export interface SentMessage {
  readonly messageGroupId: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** Records every message; `failing` makes the next sends throw (an SQS outage). */
export class RecordingWorkQueue implements WorkQueue {
  readonly sent: SentMessage[] = [];
  failing = false;

  async send(message: SentMessage): Promise<void> {
    if (this.failing) throw new Error('SQS is unavailable (injected)');
    this.sent.push(copy(message));
  }

  /** Bodies whose `op` (provisioning) or `action` (commands) is `kind`, or all of them. */
  bodies(kind?: string): Record<string, unknown>[] {
    return this.sent
      .map((message) => message.body as Record<string, unknown>)
      .filter((body) => kind === undefined || body.op === kind || body.action === kind);
  }

  clear(): void {
    this.sent.length = 0;
  }
}

export class RecordingScheduler implements Scheduler {
  readonly schedules = new Map<string, OneTimeSchedule>();
  readonly removed: string[] = [];

  async ensure(schedule: OneTimeSchedule): Promise<void> {
    if (!this.schedules.has(schedule.name)) this.schedules.set(schedule.name, copy(schedule));
  }

  async remove(name: string): Promise<void> {
    this.schedules.delete(name);
    this.removed.push(name);
  }
}

export class RecordingMetrics implements GrantMetrics {
  readonly counts: Record<string, number> = {};
  readonly latencies: { name: string; ms: number }[] = [];

  count(name: Parameters<GrantMetrics['count']>[0], value = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + value;
  }

  latency(name: Parameters<GrantMetrics['latency']>[0], ms: number): void {
    this.latencies.push({ name, ms });
  }

  readonly percents: { name: string; value: number }[] = [];

  percent(name: Parameters<GrantMetrics['percent']>[0], value: number): void {
    this.percents.push({ name, value });
  }
}

/** The logger a function's builder takes (functions/<name>/build.ts), writing nothing. */
export function silentLogger(): Logger {
  return new Logger({ logLevel: 'SILENT' });
}

// ---------------------------------------------------------------------------------------------
// Drift first-seen store

/** First sightings by tuple key; the first `markSeen` wins, as the DynamoDB adapter's conditional put. */
export class InMemoryDriftSeenStore implements DriftSeenStore {
  private readonly entries = new Map<string, DriftSeenEntry>();
  readonly forgotten: string[] = [];

  async firstSeen(key: string): Promise<Date | undefined> {
    const entry = this.entries.get(key);
    return entry ? new Date(entry.firstSeenAt) : undefined;
  }

  async markSeen(key: string, at: Date, tuple: AssignmentTuple): Promise<Date> {
    const existing = this.entries.get(key);
    if (existing) return new Date(existing.firstSeenAt);
    this.entries.set(key, { key, tuple: copy(tuple), firstSeenAt: at.toISOString() });
    return new Date(at);
  }

  async forget(key: string): Promise<void> {
    if (this.entries.delete(key)) this.forgotten.push(key);
  }

  async listSeen(accountId: string, permissionSetArn: string): Promise<readonly DriftSeenEntry[]> {
    return copy(
      [...this.entries.values()].filter(
        (entry) => entry.tuple.accountId === accountId && entry.tuple.permissionSetArn === permissionSetArn,
      ),
    );
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }
}

// ---------------------------------------------------------------------------------------------
export class InMemoryDenyLedger implements DenyLedger {
  readonly records = new Map<string, DenyRecord>();

  async get(permissionSetArn: string, userId: string): Promise<DenyRecord | undefined> {
    const record = this.records.get(`${permissionSetArn}|${userId}`);
    return record ? copy(record) : undefined;
  }

  async record(entry: DenyRecord): Promise<void> {
    this.records.set(`${entry.permissionSetArn}|${entry.userId}`, copy(entry));
  }

  async live(now: Date): Promise<readonly DenyRecord[]> {
    return [...this.records.values()].filter((r) => Date.parse(r.removeAt) > now.getTime()).map(copy);
  }
}

// Everything together

export interface GrantTestDeps extends Omit<TestDeps, 'deps'> {
  readonly deps: GrantDeps;
  readonly identityCenter: FakeIdentityCenter;
  readonly permissionSets: PermissionSets;
  readonly tuples: InMemoryTupleStore;
  readonly provisioningQueue: RecordingWorkQueue;
  readonly commandsQueue: RecordingWorkQueue;
  readonly scheduler: RecordingScheduler;
  readonly denies: InMemoryDenyLedger;
  readonly metrics: RecordingMetrics;
  /** Every `sleep` the code asked for, in ms. */
  readonly sleeps: number[];
}

export function makeGrantTestDeps(options: Parameters<typeof makeTestDeps>[0] = {}): GrantTestDeps {
  const core = makeTestDeps(options);
  const identityCenter = new FakeIdentityCenter();
  const permissionSets = fixturePermissionSets();
  const tuples = new InMemoryTupleStore();
  const provisioningQueue = new RecordingWorkQueue();
  const commandsQueue = new RecordingWorkQueue();
  const scheduler = new RecordingScheduler();
  const denies = new InMemoryDenyLedger();
  const metrics = new RecordingMetrics();
  const sleeps: number[] = [];
  const deps: GrantDeps = {
    ...core.deps,
    identityCenter,
    permissionSets,
    tuples,
    denies,
    provisioningQueue,
    commandsQueue,
    scheduler,
    metrics,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    pollDelaysMs: [0, 0, 0],
  };
  return {
    ...core,
    deps,
    identityCenter,
    permissionSets,
    tuples,
    provisioningQueue,
    commandsQueue,
    scheduler,
    denies,
    metrics,
    sleeps,
  };
}

/** Puts a request into the store as new (version 1), whatever version the fixture reached. */
export async function seedRequest(
  store: InMemoryAccessStore,
  request: AccessRequest,
  /** Its chain (fixtureRequestWithChain), so that what the record claims is proven. */
  events: readonly AuditDraft[] = [],
): Promise<AccessRequest> {
  const stored = { ...request, version: 1 };
  await store.save({ request: stored, expectedVersion: null, events });
  return stored;
}
