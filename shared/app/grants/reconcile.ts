// The reconciler: one pass every 5 minutes that finds what the event-driven paths missed (a lost
// stream reaction, a schedule that never fired, a crash between a lease write and its assignment, a
// user disabled in the Identity Store) and ENQUEUES the work that fixes it. It never writes a
// request, a lease or a policy itself: the commands and provisioning workers stay the only writers,
// and every message it sends is one they already handle idempotently.
//
// A pass never loads every live request: it pages through each status (oldest first, 100 at a
// time) and takes its steps in priority order — what ends access first, then what starts it, then
// approval timeouts — so a flood of requests in one status (20,000 PENDING from one user) can only
// delay the steps after it, never an expiry or a revocation:
//   end-access    ACTIVE, EXTENSION_PENDING, PROVISIONING, APPROVED, SCHEDULED:
//                 expire   ACTIVE / EXTENSION_PENDING whose grant.expiresAt ≤ now (current grantVersion);
//                 disabled requests of users disabled or deleted in the Identity Store: reported as
//                          `revokeNeeded`, and their access ended now — provisioning `release` for
//                          each tuple and a `deny-add` for sessions already issued (as narrowing.ts
//                          does) — and a `system-revoke` command so the record follows (REVOKED, audited).
//   leases        a holder whose request no longer wants access (or is gone) → `release`; a lease
//                 that is stuck (no holders but assigned, or a pending operation, untouched for
//                 `stuckAfterMs`) → `check`.
//   deny-sweep    a permission set whose inline policy has a deny statement past its removal time;
//   ps-provision  a permission set not provisioned at its latest version in some account;
//   deny-restore  a deny still in force (the ledger) that its permission set's policy lacks — a
//                 deploy that changed the permission set rewrote the policy without it;
//   deny-widen    a deny whose requests' assignments are all deleted but whose cut-off never widened.
//   acquire       PROVISIONING, ACTIVE, EXTENSION_PENDING: a tuple the request should hold but whose
//                 lease says otherwise (see the step).
//   start         APPROVED (or SCHEDULED and due) for `stuckAfterMs`: the stream reaction was lost.
//   timeout       EXTENSION_PENDING whose extension is older than approvalTimeout; PENDING older
//                 than approvalTimeout — read oldest first and only up to the first one too young
//                 (the index sorts by creation), so fresh PENDING requests cost one page, whatever
//                 their number.
// Budgets. A pass is given a `deadline` (the invocation's end less a margin, functions/reconcile):
// from the moment the clock reaches it, it takes up no further page, item or step, and reports
// what it did not reach in `left`, in the order it would have taken it up (the next pass, 5 minutes
// later, starts again from the top: everything is re-derived each time). At most `maxMessages` are
// sent per pass; the rest are counted as `skipped` and the report says `truncated`. A failing item
// or page (a throttled read, an unmanaged permission set) is recorded in `failures` and the pass
// goes on with the others.

import { denyCovered, denyRemovalTimes, readDenies } from '#domain/deny-policy.ts';
import type { AccessRequest, RequestStatus } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { type AssignmentTuple, EVERYONE, type TupleLease, tupleKey } from '#ports/grants.ts';
import { proofOf } from '../proof.ts';
import { CUTOFF_SKEW_MS, type GrantDeps } from './deps.ts';
import { permissionSetGroup, tupleGroup, tuplesOf } from './tuples.ts';

/** How long an intermediate state may last before the reconciler assumes its follow-up was lost. */
export const STUCK_AFTER_MS = 2 * 60_000;
/** Messages one pass may send (both queues together). */
export const DEFAULT_MAX_MESSAGES = 500;
/**
 * Left of the invocation when a pass stops taking up work: the item in hand (a directory read, an
 * audit chain, a few sends, each with SDK retries) and the report must still fit.
 */
export const RECONCILE_MARGIN_MS = 20_000;

/** When a pass that started at `now` with `remainingMs` of its invocation left must stop. */
export function passDeadline(now: Date, remainingMs: number, marginMs = RECONCILE_MARGIN_MS): Date {
  return new Date(now.getTime() + Math.max(0, remainingMs - marginMs));
}

/** The actor id a system revocation will carry once the commands queue accepts one. */
export const SYSTEM_REVOKER_ID = 'system:reconciler';
export const DISABLED_USER_REASON = 'user disabled or deleted in the Identity Store';

const PAGE_LIMIT = 100;

/** The steps of a pass, in the order it takes them up. */
export const RECONCILE_STEPS = [
  'end-access',
  'leases',
  'deny-sweep',
  'ps-provision',
  'deny-restore',
  'deny-widen',
  'acquire',
  'start',
  'timeout',
] as const;
export type ReconcileStep = (typeof RECONCILE_STEPS)[number];

/** The statuses each request-reading step pages through, in order (holding access first). */
const STEP_STATUSES = {
  'end-access': ['ACTIVE', 'EXTENSION_PENDING', 'PROVISIONING', 'APPROVED', 'SCHEDULED'],
  acquire: ['PROVISIONING', 'ACTIVE', 'EXTENSION_PENDING'],
  start: ['APPROVED', 'SCHEDULED'],
  // EXTENSION_PENDING first: it is bounded by the grants; PENDING is what one user can flood.
  timeout: ['EXTENSION_PENDING', 'PENDING'],
} as const satisfies Partial<Record<ReconcileStep, readonly RequestStatus[]>>;

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
  /**
   * What the pass did not reach before its deadline, in the order it would have taken it up; empty
   * when it finished. The next pass starts again from the first step.
   */
  readonly left: readonly WorkLeft[];
}

export interface WorkLeft {
  readonly step: ReconcileStep;
  /** For the steps that page through requests: the status it did not finish. */
  readonly status?: RequestStatus;
  /** True when the step had begun on it (some items visited), false when it never started. */
  readonly begun: boolean;
}

export interface ReconcilePass {
  /** This pass's id (the rule's event id), so a retried pass is one delivery of its commands. */
  readonly passId: string;
  /**
   * On `deps.clock`: from this moment the pass takes up no further page, item or step, and reports
   * them in `left`. The handler sets it to the invocation's end less a margin; absent, no limit.
   */
  readonly deadline?: Date;
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

  return async function reconcile(pass: ReconcilePass): Promise<ReconcileReport> {
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
    const left: WorkLeft[] = [];
    const sentKeys = new Set<string>();
    let total = 0;
    let skipped = 0;

    const fail = (step: string, subject: string, error: unknown) => {
      if (failures.length < MAX_REPORTED_FAILURES) failures.push({ step, subject, error: message(error) });
    };

    // --- The time budget. ---------------------------------------------------------------------
    let outOfTime = false;
    /** False from the moment the clock reaches the deadline: after that the pass takes up nothing. */
    const inTime = (): boolean => {
      if (!outOfTime && pass.deadline !== undefined && deps.clock.now() >= pass.deadline) outOfTime = true;
      return !outOfTime;
    };

    /** Sends once per pass per (queue, group, body), within the message budget (`maxMessages`). */
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

    /**
     * Runs one item's work after another while in time; a failing item is recorded and the others
     * go on. False when time ran out before the last item.
     */
    async function visit<T>(
      step: string,
      items: Iterable<T>,
      subject: (item: T) => string,
      work: (item: T) => Promise<void>,
    ): Promise<boolean> {
      for (const item of items) {
        if (!inTime()) return false;
        try {
          await work(item);
        } catch (error) {
          fail(step, subject(item), error);
        }
      }
      return true;
    }

    /** A step over a short list read when it starts (permission sets, the deny ledger). */
    async function runStep<T>(
      step: ReconcileStep,
      read: () => Iterable<T> | Promise<Iterable<T>>,
      subject: (item: T) => string,
      work: (item: T) => Promise<void>,
    ): Promise<void> {
      if (!inTime()) {
        left.push({ step, begun: false });
        return;
      }
      let items: Iterable<T>;
      try {
        items = await read();
      } catch (error) {
        fail(step, 'list', error);
        return;
      }
      if (!(await visit(step, items, subject, work))) left.push({ step, begun: true });
    }

    /**
     * A step over requests: each status in turn, page by page, oldest first, while in time. `until`
     * ends a status at the first request it accepts (and every later one, which is younger). A page
     * that cannot be read leaves that status to the next pass; the other statuses go on.
     */
    async function pageThrough(
      step: keyof typeof STEP_STATUSES,
      work: (request: AccessRequest) => Promise<void>,
      until?: (request: AccessRequest) => boolean,
    ): Promise<void> {
      for (const status of STEP_STATUSES[step]) {
        let begun = false;
        let finished = false;
        let nextToken: string | undefined;
        try {
          while (!finished && inTime()) {
            const page = await deps.store.listByStatus(status, {
              limit: PAGE_LIMIT,
              ...optional('nextToken', nextToken),
            });
            begun = true;
            const cut = until ? page.items.findIndex(until) : -1;
            const items = cut < 0 ? page.items : page.items.slice(0, cut);
            if (!(await visit(step, items, (request) => request.id, work))) break;
            nextToken = page.nextToken;
            finished = cut >= 0 || nextToken === undefined;
          }
        } catch (error) {
          fail(step, status, error);
          continue;
        }
        if (!finished) left.push({ step, status, begun });
      }
    }

    const stale = (iso: string | undefined) => iso !== undefined && Date.parse(iso) + stuckAfterMs <= nowMs;

    // Leases: read once (one entry per assigned tuple, bounded by the grants), before anything that
    // decides on them. Unreadable: the steps that need them are skipped, and a disabled user's
    // access is released as if held (narrowing again is harmless: leases count holders).
    let leases: readonly TupleLease[] | undefined;
    let leasesUnreadable = false;
    if (inTime()) {
      try {
        leases = await deps.tuples.list();
      } catch (error) {
        fail('leases', 'list', error);
        leasesUnreadable = true;
      }
    }
    const leaseByKey = new Map((leases ?? []).map((lease) => [tupleKey(lease.tuple), lease]));

    /** Requests whose access ends this pass: nothing may start or re-acquire them. */
    const ending = new Set<string>();
    /** Requests seen in a status that holds access (for the lease step). */
    const holding = new Set<string>();
    /** Users found disabled or deleted (`undefined`: active, or unreadable this pass). */
    const gone = new Map<string, 'disabled' | 'deleted' | undefined>();
    async function goneWhy(userId: string): Promise<'disabled' | 'deleted' | undefined> {
      if (gone.has(userId)) return gone.get(userId);
      let why: 'disabled' | 'deleted' | undefined;
      try {
        const user = await deps.directory.getUser(userId);
        why = !user ? 'deleted' : !user.active ? 'disabled' : undefined;
      } catch (error) {
        fail('directory', userId, error);
      }
      gone.set(userId, why);
      return why;
    }

    // --- end-access: overdue grants expire; users disabled or deleted lose access now. ----------
    async function expireIfOverdue(request: AccessRequest): Promise<void> {
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
    }
    async function endForGoneUser(request: AccessRequest, why: 'disabled' | 'deleted'): Promise<void> {
      ending.add(request.id);
      let accessEnding = false;
      if (HOLDING.has(request.status)) {
        const tuples = tuplesOf(request, deps.permissionSets);
        // Only while a lease still lists the request: once the releases have taken effect, a
        // further deny (new end time, new statement) would only grow the inline policy.
        const held =
          leasesUnreadable || tuples.some((tuple) => leaseByKey.get(tupleKey(tuple))?.holders[request.id]);
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
        why,
        accessEnding,
      });
    }
    await pageThrough('end-access', async (request) => {
      if (HOLDING.has(request.status)) holding.add(request.id);
      if (request.status === 'ACTIVE' || request.status === 'EXTENSION_PENDING') {
        try {
          await expireIfOverdue(request);
        } catch (error) {
          fail('expire', request.id, error);
        }
      }
      const why = await goneWhy(request.requesterId);
      if (!why) return;
      try {
        await endForGoneUser(request, why);
      } catch (error) {
        fail('disabled-user', request.id, error);
      }
    });

    // --- leases: holders that no longer want access, and stuck leases. -------------------------
    const confirmed = new Map<string, AccessRequest | undefined>();
    /** The request's status now: the listing may predate an acquire that just wrote its holder. */
    async function stillHolding(requestId: string): Promise<boolean> {
      if (holding.has(requestId)) return true;
      if (!confirmed.has(requestId)) confirmed.set(requestId, await deps.store.get(requestId));
      const current = confirmed.get(requestId);
      return current !== undefined && HOLDING.has(current.status);
    }
    if (!leasesUnreadable) {
      await runStep(
        'leases',
        () => leases ?? [],
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
    }

    // --- Deny statements past their removal time, stale provisioning, denies that are missing. --
    const documents = new Map<string, string | undefined>();
    await runStep(
      'deny-sweep',
      () => deps.permissionSets.all(),
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
    await runStep(
      'ps-provision',
      () => deps.permissionSets.all(),
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
    await runStep(
      'deny-restore',
      () => deps.denies.live(now),
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
    await runStep(
      'deny-widen',
      async () =>
        (await deps.denies.live(now)).filter(
          (deny) => deny.userId !== EVERYONE && (deny.requestIds ?? []).length > 0,
        ),
      (deny) => `${deny.permissionSetArn}|${deny.userId}`,
      async (deny) => {
        let latest = 0;
        for (const requestId of deny.requestIds ?? []) {
          const request = await deps.store.get(requestId);
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

    /** Requests nothing may start or heal this pass: ending, or of a user found gone. */
    const barred = (request: AccessRequest) =>
      ending.has(request.id) || gone.get(request.requesterId) !== undefined;

    // --- acquire: heal tuples a request should hold. --------------------------------------------
    // A lease that lists the request but is neither assigned nor busy was left by a crash between
    // the holder write and CreateAccountAssignment: acquire again. A missing lease or holder is
    // healed only for an account the request has not been granted yet (PROVISIONING, not in
    // `provisioned`): once granted, only a narrowing removes a holder, and re-acquiring would undo
    // a revocation whose commit is still being retried (fail closed). Never without the leases.
    if (!leasesUnreadable) {
      await pageThrough('acquire', async (request) => {
        if (barred(request)) return;
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
      });
    }

    // --- start: starts whose stream reaction (or start schedule) was lost. ----------------------
    await pageThrough('start', async (request) => {
      if (barred(request)) return;
      const waitingSince = request.status === 'SCHEDULED' ? request.startAt : request.updatedAt;
      if (!stale(waitingSince)) return;
      await command('start', { requestId: request.id });
    });

    // --- timeout: approval timeouts (the command re-checks that the wait really lasted that long).
    const timeoutMs = deps.catalog.config.approvalTimeoutMs;
    await pageThrough(
      'timeout',
      async (request) => {
        if (ending.has(request.id)) return;
        const since = request.status === 'EXTENSION_PENDING' ? request.extension?.at : request.createdAt;
        if (since === undefined || Date.parse(since) + timeoutMs > nowMs) return;
        await command('timeout', { requestId: request.id });
      },
      // PENDING is sorted by createdAt, its waiting start: the first one too young ends the status.
      (request) => request.status === 'PENDING' && Date.parse(request.createdAt) + timeoutMs > nowMs,
    );

    return { sent, revokeNeeded, unheld, skipped, truncated: skipped > 0, failures, left };
  };
}

export type Reconciler = ReturnType<typeof makeReconciler>;
