// The reconciler: one pass every 5 minutes that finds what the event-driven paths missed (a lost
// stream reaction, a schedule that never fired, a crash between a lease write and its assignment, a
// user disabled in the Identity Store) and ENQUEUES the work that fixes it. It never writes a
// request, a lease or a policy itself: the commands and provisioning workers stay the only writers,
// and every message it sends is one they already handle idempotently.
//
// A pass reads every request in a live status, every lease and every managed permission set's
// inline policy, then sends, narrowing work first so a bounded pass never starves it:
//   1. expire      ACTIVE / EXTENSION_PENDING whose grant.expiresAt ≤ now (current grantVersion).
//   5. disabled    requests of users disabled or deleted in the Identity Store: reported as
//                  `revokeNeeded`, and their access ended now — provisioning `release` for each
//                  tuple and a `deny-add` for sessions already issued (as narrowing.ts does) — and
//                  a `system-revoke` command so the request record follows (REVOKED, audited).
//   6. leases      a holder whose request no longer wants access (or is gone) → `release`; a lease
//                  that is stuck (no holders but assigned, or a pending operation, untouched for
//                  `stuckAfterMs`) → `check`.
//   7. deny-sweep  a permission set whose inline policy has a deny statement past its removal time;
//      deny-add    a deny still in force (the ledger) that its permission set's policy lacks — a
//                  deploy that changed the permission set rewrote the policy without it.
//   2. timeout     PENDING older than approvalTimeout; EXTENSION_PENDING whose extension is older.
//   4. acquire     a tuple the request should hold but whose lease says otherwise (see `heal`).
//   3. start       APPROVED (or SCHEDULED and due) for `stuckAfterMs`: the stream reaction was lost.
// At most `maxMessages` are sent per pass; the rest are counted as `skipped` and the report says
// `truncated` (the next pass, 5 minutes later, picks them up: everything is re-derived each time).
// A failing item (a throttled Identity Store read, an unmanaged permission set) is recorded in
// `failures` and the pass goes on with the others.

import { denyCovered, denyRemovalTimes, readDenies } from '#domain/deny-policy.ts';
import type { AccessRequest, RequestStatus } from '#domain/model.ts';
import { type AssignmentTuple, EVERYONE, type TupleLease } from '#ports/grants.ts';
import { proofOf } from '../proof.ts';
import { CUTOFF_SKEW_MS, type GrantDeps } from './deps.ts';
import { permissionSetGroup, tupleGroup, tupleKey, tuplesOf } from './tuples.ts';

/** How long an intermediate state may last before the reconciler assumes its follow-up was lost. */
export const STUCK_AFTER_MS = 2 * 60_000;
/** Messages one pass may send (both queues together). */
export const DEFAULT_MAX_MESSAGES = 500;
/** The actor id a system revocation will carry once the commands queue accepts one. */
export const SYSTEM_REVOKER_ID = 'system:reconciler';
export const DISABLED_USER_REASON = 'user disabled or deleted in the Identity Store';

const PAGE_LIMIT = 100;
const LIVE_STATUSES = [
  'PENDING',
  'APPROVED',
  'SCHEDULED',
  'PROVISIONING',
  'ACTIVE',
  'EXTENSION_PENDING',
] as const satisfies readonly RequestStatus[];
type LiveStatus = (typeof LIVE_STATUSES)[number];

/** Statuses whose requests may hold leases (the provisioning worker's WANTS_ACCESS). */
const HOLDING: ReadonlySet<RequestStatus> = new Set(['PROVISIONING', 'ACTIVE', 'EXTENSION_PENDING']);

export type ReconcileAction =
  | 'expire'
  | 'timeout'
  | 'start'
  | 'acquire'
  | 'release'
  | 'check'
  | 'deny-add'
  | 'deny-sweep'
  | 'deny-widen'
  | 'ps-provision'
  | 'system-revoke';

export interface RevokeNeeded {
  readonly requestId: string;
  readonly userId: string;
  readonly status: RequestStatus;
  readonly why: 'disabled' | 'deleted';
  /** True when this pass queued the releases and the deny (false once they have taken effect). */
  readonly accessEnding: boolean;
}

export interface ReconcileFailure {
  readonly step: string;
  /** A request id, user id, lease key or permission set ARN. */
  readonly subject: string;
  readonly error: string;
}

export interface ReconcileReport {
  /** Messages sent, per action. */
  readonly sent: Readonly<Record<ReconcileAction, number>>;
  /**
   * Requests of users disabled or deleted in the Identity Store. Their access is ended by this pass
   * (release + deny), but their status stays until a system-revoke command exists; they are
   * reported on every pass until then.
   */
  readonly revokeNeeded: readonly RevokeNeeded[];
  /**
   * Tuples an ACTIVE / EXTENSION_PENDING request should hold but whose lease does not list it. Not
   * re-acquired: after assignment-succeeded only a narrowing (revoke, expiry, a disabled user)
   * removes a holder, so this is most likely a revocation whose commit is being retried.
   */
  readonly unheld: readonly { readonly requestId: string; readonly accountId: string }[];
  /** Messages not sent because the pass reached `maxMessages`. */
  readonly skipped: number;
  readonly truncated: boolean;
  readonly failures: readonly ReconcileFailure[];
}

export interface ReconcilerOptions {
  readonly maxMessages?: number;
  readonly stuckAfterMs?: number;
}

const MAX_REPORTED_FAILURES = 50;

function message(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 300);
}

export function makeReconciler(deps: GrantDeps, options: ReconcilerOptions = {}) {
  const maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
  const stuckAfterMs = options.stuckAfterMs ?? STUCK_AFTER_MS;

  /** `passId`: this pass's id (the rule's event id), so a retried pass is one delivery of its commands. */
  return async function reconcile(pass: { readonly passId: string }): Promise<ReconcileReport> {
    const delivery = { by: 'reconciler', pass: pass.passId } as const;
    const now = deps.clock.now();
    const nowMs = now.getTime();
    const sent: Record<ReconcileAction, number> = {
      expire: 0,
      timeout: 0,
      start: 0,
      acquire: 0,
      release: 0,
      check: 0,
      'deny-add': 0,
      'deny-sweep': 0,
      'deny-widen': 0,
      'ps-provision': 0,
      'system-revoke': 0,
    };
    const revokeNeeded: RevokeNeeded[] = [];
    const unheld: { requestId: string; accountId: string }[] = [];
    const failures: ReconcileFailure[] = [];
    const sentKeys = new Set<string>();
    let total = 0;
    let skipped = 0;

    const fail = (step: string, subject: string, error: unknown) => {
      if (failures.length < MAX_REPORTED_FAILURES) failures.push({ step, subject, error: message(error) });
    };

    /** Sends once per pass per (queue, group, body), within the budget. */
    async function send(
      queue: 'commands' | 'provisioning',
      action: ReconcileAction,
      messageGroupId: string,
      body: Record<string, unknown>,
    ): Promise<boolean> {
      const key = `${queue}|${messageGroupId}|${JSON.stringify(body)}`;
      if (sentKeys.has(key)) return true;
      if (total >= maxMessages) {
        skipped += 1;
        return false;
      }
      await (queue === 'commands' ? deps.commandsQueue : deps.provisioningQueue).send({
        messageGroupId,
        body,
      });
      sentKeys.add(key);
      total += 1;
      sent[action] += 1;
      return true;
    }
    const command = (
      action: 'expire' | 'timeout' | 'start',
      body: { readonly requestId: string } & Record<string, unknown>,
    ) => send('commands', action, body.requestId, { action, ...body, delivery });
    const acquire = (requestId: string, tuple: AssignmentTuple) =>
      send('provisioning', 'acquire', tupleGroup(tuple), { op: 'acquire', requestId, tuple });
    const release = (requestId: string, tuple: AssignmentTuple) =>
      send('provisioning', 'release', tupleGroup(tuple), { op: 'release', requestId, tuple });

    /** Runs one item's work; a failure is recorded and the pass goes on. */
    async function each<T>(
      step: string,
      items: Iterable<T>,
      subject: (item: T) => string,
      work: (item: T) => Promise<void>,
    ) {
      for (const item of items) {
        try {
          await work(item);
        } catch (error) {
          fail(step, subject(item), error);
        }
      }
    }

    // --- Read everything the pass decides on. -------------------------------------------------
    const byStatus = new Map<LiveStatus, AccessRequest[]>();
    for (const status of LIVE_STATUSES) {
      const requests: AccessRequest[] = [];
      let nextToken: string | undefined;
      do {
        const page = await deps.store.listByStatus(status, {
          limit: PAGE_LIMIT,
          ...(nextToken === undefined ? {} : { nextToken }),
        });
        requests.push(...page.items);
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      byStatus.set(status, requests);
    }
    const inStatus = (...statuses: LiveStatus[]) => statuses.flatMap((status) => byStatus.get(status) ?? []);
    const live = new Map(inStatus(...LIVE_STATUSES).map((request) => [request.id, request]));
    const leases = await deps.tuples.list();
    const leaseByKey = new Map(leases.map((lease) => [tupleKey(lease.tuple), lease]));
    const stale = (iso: string | undefined) => iso !== undefined && Date.parse(iso) + stuckAfterMs <= nowMs;

    /** Requests whose access ends this pass: nothing may start or re-acquire them. */
    const ending = new Set<string>();

    // --- 1. Overdue grants expire. ------------------------------------------------------------
    await each(
      'expire',
      inStatus('ACTIVE', 'EXTENSION_PENDING'),
      (request) => request.id,
      async (request) => {
        const grant = request.grant;
        if (!grant) return;
        // The record's end may have been written later than the chain proves (a direct write):
        // the chain's end decides (the commands worker checks it again when it expires).
        if (Date.parse(grant.expiresAt) > nowMs) {
          const proof = await proofOf(deps, request.id);
          if (proof.activated && proof.grantEnd && Date.parse(proof.grantEnd) > nowMs) return;
        }
        ending.add(request.id);
        await command('expire', {
          requestId: request.id,
          grantVersion: grant.grantVersion,
          expiresAt: grant.expiresAt,
        });
      },
    );

    // --- 5. Users disabled or deleted in the Identity Store lose access now. -------------------
    const revocable = inStatus('APPROVED', 'SCHEDULED', 'PROVISIONING', 'ACTIVE', 'EXTENSION_PENDING');
    const gone = new Map<string, 'disabled' | 'deleted'>();
    await each(
      'directory',
      new Set(revocable.map((request) => request.requesterId)),
      (userId) => userId,
      async (userId) => {
        const user = await deps.directory.getUser(userId);
        if (!user) gone.set(userId, 'deleted');
        else if (!user.active) gone.set(userId, 'disabled');
      },
    );
    await each(
      'disabled-user',
      revocable.filter((request) => gone.has(request.requesterId)),
      (request) => request.id,
      async (request) => {
        ending.add(request.id);
        let accessEnding = false;
        if (HOLDING.has(request.status)) {
          const tuples = tuplesOf(request, deps.permissionSets);
          // Only while a lease still lists the request: once the releases have taken effect, a
          // further deny (new end time, new statement) would only grow the inline policy.
          const held = tuples.some((tuple) => leaseByKey.get(tupleKey(tuple))?.holders[request.id]);
          if (held) {
            for (const tuple of tuples) await release(request.id, tuple);
            const first = tuples[0];
            if (first) {
              await send('provisioning', 'deny-add', permissionSetGroup(first.permissionSetArn), {
                op: 'deny-add',
                permissionSetArn: first.permissionSetArn,
                userId: request.requesterId,
                endedAt: now.toISOString(),
                requestId: request.id,
              });
            }
            accessEnding = true;
          }
        }
        // The record follows: a system revoke (narrowing again is harmless: leases count holders).
        await send('commands', 'system-revoke', request.id, {
          action: 'system-revoke',
          requestId: request.id,
          reason: DISABLED_USER_REASON,
          delivery,
        });
        revokeNeeded.push({
          requestId: request.id,
          userId: request.requesterId,
          status: request.status,
          why: gone.get(request.requesterId) ?? 'deleted',
          accessEnding,
        });
      },
    );

    // --- 6. Leases: holders that no longer want access, and stuck leases. ----------------------
    const confirmed = new Map<string, AccessRequest | undefined>();
    /** The request's status now: the listing may predate an acquire that just wrote its holder. */
    async function stillHolding(requestId: string): Promise<boolean> {
      const listed = live.get(requestId);
      if (listed && HOLDING.has(listed.status)) return true;
      if (!confirmed.has(requestId)) confirmed.set(requestId, await deps.store.get(requestId));
      const current = confirmed.get(requestId);
      return current !== undefined && HOLDING.has(current.status);
    }
    await each(
      'lease',
      leases,
      (lease) => tupleKey(lease.tuple),
      async (lease: TupleLease) => {
        let released = false;
        for (const requestId of Object.keys(lease.holders)) {
          if (await stillHolding(requestId)) continue;
          await release(requestId, lease.tuple);
          released = true;
        }
        const hasHolders = Object.keys(lease.holders).length > 0;
        const stuck = lease.pending !== undefined || (!hasHolders && lease.assigned);
        // A release advances the lease itself; a fresh one is still in its worker's hands.
        if (stuck && !released && stale(lease.updatedAt)) {
          await send('provisioning', 'check', tupleGroup(lease.tuple), { op: 'check', tuple: lease.tuple });
        }
      },
    );

    // --- 7. Deny statements past their removal time, and denies in force that are missing. -----
    const documents = new Map<string, string | undefined>();
    await each(
      'deny-sweep',
      deps.permissionSets.all(),
      (set) => set.arn,
      async (set) => {
        const document = await deps.identityCenter.getInlinePolicy(set.arn);
        documents.set(set.arn, document);
        if (!denyRemovalTimes(document).some((at) => at.getTime() <= nowMs)) return;
        await send('provisioning', 'deny-sweep', permissionSetGroup(set.arn), {
          op: 'deny-sweep',
          permissionSetArn: set.arn,
        });
      },
    );
    // Accounts whose provisioned permission set is not the latest (a deny written but not provisioned
    // there: a FAILED provisioning, a crash between the policy write and the provisioning).
    await each(
      'ps-provision',
      deps.permissionSets.all(),
      (set) => set.arn,
      async (set) => {
        if ((await deps.identityCenter.staleAccounts(set.arn)).length === 0) return;
        await send('provisioning', 'ps-provision', permissionSetGroup(set.arn), {
          op: 'ps-provision',
          permissionSetArn: set.arn,
        });
      },
    );
    // A deploy that changes a managed permission set rewrites its inline policy without the
    // denies; the ledger says which must still be there, and deny-add puts them back.
    await each(
      'deny-restore',
      await deps.denies.live(now),
      (deny) => `${deny.permissionSetArn}|${deny.userId}|${deny.endedAt}`,
      async (deny) => {
        if (!documents.has(deny.permissionSetArn)) return;
        const document = documents.get(deny.permissionSetArn);
        const window = { cutoff: new Date(deny.endedAt), removeAt: new Date(deny.removeAt) };
        const wide = readDenies(document).everyone;
        const inForce =
          deny.userId === EVERYONE
            ? wide !== undefined && wide.cutoff >= window.cutoff && wide.removeAt >= window.removeAt
            : denyCovered(document, { userId: deny.userId, ...window });
        if (inForce) return;
        await send('provisioning', 'deny-add', permissionSetGroup(deny.permissionSetArn), {
          op: 'deny-add',
          permissionSetArn: deny.permissionSetArn,
          userId: deny.userId,
          endedAt: deny.endedAt,
        });
      },
    );

    // A deny whose requests' assignments have all been deleted since its cut-off was set, but whose
    // widening never happened (the deny-widen was lost, say dead-lettered behind a failing message):
    // widen it now. Only while the deny is in force, and only for a user's own deny.
    await each(
      'deny-widen',
      (await deps.denies.live(now)).filter(
        (deny) => deny.userId !== EVERYONE && (deny.requestIds ?? []).length > 0,
      ),
      (deny) => `${deny.permissionSetArn}|${deny.userId}`,
      async (deny) => {
        let latest = 0;
        for (const requestId of deny.requestIds ?? []) {
          const request = live.get(requestId) ?? (await deps.store.get(requestId));
          if (!request) continue;
          for (const tuple of tuplesOf(request, deps.permissionSets)) {
            if (tuple.permissionSetArn !== deny.permissionSetArn) continue;
            const lease = leaseByKey.get(tupleKey(tuple));
            if (!lease || lease.assigned || lease.pending) {
              latest = Number.NaN; // still held, or still being deleted: the decision stands for now
              break;
            }
            if (lease.deletedAt) latest = Math.max(latest, Date.parse(lease.deletedAt));
          }
        }
        if (!(latest + CUTOFF_SKEW_MS > Date.parse(deny.endedAt))) return;
        await send('provisioning', 'deny-widen', permissionSetGroup(deny.permissionSetArn), {
          op: 'deny-widen',
          permissionSetArn: deny.permissionSetArn,
          userId: deny.userId,
        });
      },
    );

    // --- 2. Approval timeouts (the command re-checks that the wait really lasted that long). ----
    const timeoutMs = deps.catalog.config.approvalTimeoutMs;
    await each(
      'timeout',
      inStatus('PENDING', 'EXTENSION_PENDING'),
      (request) => request.id,
      async (request) => {
        if (ending.has(request.id)) return;
        const since = request.status === 'EXTENSION_PENDING' ? request.extension?.at : request.createdAt;
        if (since === undefined || Date.parse(since) + timeoutMs > nowMs) return;
        await command('timeout', { requestId: request.id });
      },
    );

    // --- 4. Heal tuples a request should hold. ------------------------------------------------
    // A lease that lists the request but is neither assigned nor busy was left by a crash between
    // the holder write and CreateAccountAssignment: acquire again. A missing lease or holder is
    // healed only for an account the request has not been granted yet (PROVISIONING, not in
    // `provisioned`): once granted, only a narrowing removes a holder, and re-acquiring would undo
    // a revocation whose commit is still being retried (fail closed).
    await each(
      'acquire',
      inStatus('PROVISIONING', 'ACTIVE', 'EXTENSION_PENDING'),
      (request) => request.id,
      async (request) => {
        if (ending.has(request.id)) return;
        // The stream reaction's own acquire may still be queued for a fresh one.
        if (request.status === 'PROVISIONING' && !stale(request.updatedAt)) return;
        for (const tuple of tuplesOf(request, deps.permissionSets)) {
          const lease = leaseByKey.get(tupleKey(tuple));
          const holds = lease?.holders[request.id] !== undefined;
          if (holds) {
            if (!lease?.assigned && !lease?.pending) await acquire(request.id, tuple);
            continue;
          }
          const granted = request.status !== 'PROVISIONING' || request.provisioned?.includes(tuple.accountId);
          if (granted) unheld.push({ requestId: request.id, accountId: tuple.accountId });
          else await acquire(request.id, tuple);
        }
      },
    );

    // --- 3. Starts whose stream reaction (or start schedule) was lost. -------------------------
    await each(
      'start',
      inStatus('APPROVED', 'SCHEDULED'),
      (request) => request.id,
      async (request) => {
        if (ending.has(request.id)) return;
        const waitingSince = request.status === 'SCHEDULED' ? request.startAt : request.updatedAt;
        if (!stale(waitingSince)) return;
        await command('start', { requestId: request.id });
      },
    );

    return { sent, revokeNeeded, unheld, skipped, truncated: skipped > 0, failures };
  };
}

export type Reconciler = ReturnType<typeof makeReconciler>;
