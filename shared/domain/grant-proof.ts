// What a request's audit chain proves, read on its own: how it was opened, whether its approval
// reached quorum (distinct approvers, none the requester or the same person), whether it was
// activated, and until when its grant may last (activation plus approved extensions). Access follows
// the chain, not the record: one direct write to the access table can flip a status or push an
// expiry, but it cannot write the audit events that would prove it (the audit table is append-only
// for cloud-pam's code, and a whole forged chain is the signed digests' job, not this one's).
//
// Used by the grant engine before it starts, provisions, activates or expires a grant, and by
// `pam audit verify` offline over every request. Pure: events in, a verdict out.
import type { AuditEvent } from './audit-types.ts';
import { canonicalJson } from './canonical-json.ts';
import type { AccessRequest } from './model.ts';
import { optional } from './optional.ts';

export interface ChainProof {
  /** How the chain opens: a request, a break-glass activation, or neither (not a request chain). */
  readonly opened?: 'request' | 'break-glass';
  readonly requesterId?: string;
  /** Distinct people whose approvals count (at quorum when the event says which counted). */
  readonly approvers: readonly string[];
  /** Approvals recorded but not counted at quorum (their approvers had left the approver groups). */
  readonly uncountedApprovers: readonly string[];
  readonly required?: number;
  readonly autoApproved: boolean;
  /** Quorum proven, auto-approval, or a break-glass activation. */
  readonly approved: boolean;
  readonly scheduled: boolean;
  readonly provisioning: boolean;
  readonly activated: boolean;
  /** Approvers of the extension asked for last (since its request.extension_requested). */
  readonly extensionApprovers: readonly string[];
  /** The grant's end as the chain proves it (activation, then each approved extension). */
  readonly grantEnd?: string;
  readonly grantVersion?: number;
  /** The chain records the end of the request (expired, revoked, failed, denied, cancelled, timed out). */
  readonly ended?: string;
  /** What the opening event recorded of the request itself, to hold the record to. */
  readonly opening: {
    readonly entitlementId?: string;
    readonly durationMs?: number;
    readonly accountIds?: readonly string[];
    readonly startAt?: string | null;
    readonly permissionSetName?: string;
    /** The whole policy snapshot (chains opened since it was recorded; older ones carry parts). */
    readonly snapshot?: { readonly [key: string]: unknown };
  };
}

const ENDING: Readonly<Record<string, string>> = {
  'grant.expired': 'EXPIRED',
  'grant.revoked': 'REVOKED',
  'grant.failed': 'FAILED',
  'request.denied': 'DENIED',
  'request.cancelled': 'CANCELLED',
  'request.timed_out': 'TIMED_OUT',
};

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/** Reads a request's chain (events in seq order). */
export function proveFromChain(events: readonly AuditEvent[]): ChainProof {
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const first = ordered[0];
  const opened =
    first?.type === 'request.created'
      ? 'request'
      : first?.type === 'breakglass.activated'
        ? 'break-glass'
        : undefined;
  const requesterId = first?.actorId ?? undefined;
  const requesterKeys = new Set([
    ...(requesterId ? [`user:${requesterId}`] : []),
    ...strings(first?.details.requesterPersonKeys),
  ]);
  const details = first?.details ?? {};
  const opening = {
    ...(first?.entitlementId ? { entitlementId: first.entitlementId } : {}),
    ...(typeof details.durationMs === 'number' ? { durationMs: details.durationMs } : {}),
    ...(Array.isArray(details.accountIds) ? { accountIds: strings(details.accountIds) } : {}),
    ...('startAt' in details
      ? { startAt: typeof details.startAt === 'string' ? details.startAt : null }
      : {}),
    ...(typeof details.permissionSetName === 'string'
      ? { permissionSetName: details.permissionSetName }
      : {}),
    ...(details.snapshot && typeof details.snapshot === 'object' && !Array.isArray(details.snapshot)
      ? { snapshot: details.snapshot }
      : {}),
  };
  const required = typeof first?.details.required === 'number' ? first.details.required : undefined;
  let autoApproved = false;
  let approvers: string[] = [];
  const seenKeys = new Set<string>();
  let quorumCounted: string[] | undefined;
  let scheduled = false;
  let provisioning = false;
  let activated = false;
  let grantEnd: string | undefined;
  let grantVersion: number | undefined;
  let ended: string | undefined;
  let extensionApprovers: string[] = [];
  for (const event of ordered.slice(1)) {
    switch (event.type) {
      case 'request.extension_requested':
        extensionApprovers = [];
        break;
      case 'request.approved': {
        if (event.details.extension === true) {
          if (event.actorId && event.actorId !== requesterId && !extensionApprovers.includes(event.actorId))
            extensionApprovers.push(event.actorId);
          break;
        }
        if (event.details.autoApproved === true && event.actorId === 'system') {
          autoApproved = true;
          break;
        }
        const actor = event.actorId;
        if (!actor || actor === requesterId) break;
        const keys = [`user:${actor}`, ...strings(event.details.personKeys)];
        // Nobody approves their own request, and one person counts once (across accounts too).
        if (keys.some((key) => requesterKeys.has(key) || seenKeys.has(key))) break;
        for (const key of keys) seenKeys.add(key);
        approvers.push(actor);
        if (Array.isArray(event.details.countedApprovers))
          quorumCounted = strings(event.details.countedApprovers);
        break;
      }
      case 'request.scheduled':
        scheduled = true;
        break;
      case 'grant.provisioning':
        provisioning = true;
        break;
      case 'grant.activated':
        activated = true;
        if (typeof event.details.expiresAt === 'string') grantEnd = event.details.expiresAt;
        if (typeof event.details.grantVersion === 'number') grantVersion = event.details.grantVersion;
        break;
      case 'request.extension_approved':
        if (typeof event.details.expiresAt === 'string') grantEnd = event.details.expiresAt;
        if (typeof event.details.grantVersion === 'number') grantVersion = event.details.grantVersion;
        break;
      default:
        if (ENDING[event.type] && ended === undefined) ended = ENDING[event.type];
    }
  }
  // When the quorum-reaching approval says which approvals counted (approvers still in an approver
  // group at that moment), only those do.
  const uncountedApprovers = quorumCounted ? approvers.filter((id) => !quorumCounted?.includes(id)) : [];
  if (quorumCounted) approvers = approvers.filter((id) => quorumCounted?.includes(id));
  const approved =
    opened === 'break-glass' || autoApproved || (required !== undefined && approvers.length >= required);
  return {
    ...(opened ? { opened } : {}),
    ...(requesterId ? { requesterId } : {}),
    approvers,
    uncountedApprovers,
    ...optional('required', required),
    autoApproved,
    approved,
    scheduled,
    provisioning,
    activated,
    extensionApprovers,
    ...(grantEnd ? { grantEnd } : {}),
    ...optional('grantVersion', grantVersion),
    ...(ended ? { ended } : {}),
    opening,
  };
}

const NEEDS_APPROVAL = new Set(['APPROVED', 'SCHEDULED', 'PROVISIONING', 'ACTIVE', 'EXTENSION_PENDING']);
const NEEDS_ACTIVATION = new Set(['ACTIVE', 'EXTENSION_PENDING']);

/**
 * What in the record its chain does not prove (empty when everything does). The record may say
 * less than the chain (a narrowing the chain has not caught up with is not a problem here); it may
 * never say more.
 */
export function unprovenClaims(request: AccessRequest, proof: ChainProof): string[] {
  const problems: string[] = [];
  if (!proof.opened) return ['its audit chain does not open with request.created or breakglass.activated'];
  if (proof.requesterId !== request.requesterId)
    problems.push(`the chain was opened by ${proof.requesterId}, the record names ${request.requesterId}`);
  // The record may not say more than the opening event recorded: what, where, how long, from when.
  const { opening } = proof;
  if (opening.entitlementId !== undefined && opening.entitlementId !== request.entitlementId)
    problems.push(`its entitlement is ${request.entitlementId}, the chain recorded ${opening.entitlementId}`);
  if (opening.durationMs !== undefined && request.durationMs > opening.durationMs)
    problems.push(`its duration is ${request.durationMs} ms, the chain recorded ${opening.durationMs} ms`);
  const accounts =
    request.accountIds && request.accountIds.length > 0 ? request.accountIds : [request.accountId];
  if (opening.accountIds !== undefined && accounts.some((account) => !opening.accountIds?.includes(account)))
    problems.push(`it targets ${accounts.join(', ')}, the chain recorded ${opening.accountIds.join(', ')}`);
  if (opening.startAt !== undefined && (request.startAt ?? null) !== opening.startAt)
    problems.push(
      `its start is ${request.startAt ?? 'immediate'}, the chain recorded ${opening.startAt ?? 'immediate'}`,
    );
  if (
    opening.permissionSetName !== undefined &&
    opening.permissionSetName !== request.snapshot.permissionSetName
  )
    problems.push(
      `its permission set is ${request.snapshot.permissionSetName}, the chain recorded ${opening.permissionSetName}`,
    );
  // The policy decisions are made by (approver groups, quorum, durations, strict expiry) is the one
  // recorded when the request opened; a rewritten snapshot decides nothing.
  if (opening.snapshot !== undefined && !sameJson(opening.snapshot, request.snapshot))
    problems.push('its policy snapshot differs from the one its chain recorded when it opened');
  // A request the chain records as ended cannot be live again.
  if (proof.ended && NEEDS_APPROVAL.has(request.status))
    problems.push(`it is ${request.status} but its chain records it ${proof.ended}`);
  if (NEEDS_APPROVAL.has(request.status) && !proof.approved) {
    problems.push(
      `it is ${request.status} but its chain proves ${proof.approvers.length} distinct approval(s) of ${proof.required ?? '?'} required`,
    );
  }
  if (request.status === 'SCHEDULED' && !proof.scheduled)
    problems.push('it is SCHEDULED without request.scheduled');
  if (request.status === 'PROVISIONING' && !proof.provisioning)
    problems.push('it is PROVISIONING without grant.provisioning');
  if (NEEDS_ACTIVATION.has(request.status)) {
    const recordEnd = Date.parse(request.grant?.expiresAt ?? '');
    if (!proof.activated || !proof.grantEnd) problems.push(`it is ${request.status} without grant.activated`);
    else if (!request.grant || Number.isNaN(recordEnd))
      problems.push(`it is ${request.status} without a grant end`);
    else if (recordEnd > Date.parse(proof.grantEnd))
      problems.push(
        `its grant ends at ${request.grant.expiresAt} but the chain proves ${proof.grantEnd} (activation and approved extensions)`,
      );
    if (request.grant && proof.grantVersion !== undefined && request.grant.grantVersion > proof.grantVersion)
      problems.push(
        `its grant is version ${request.grant.grantVersion}, the chain proves ${proof.grantVersion}`,
      );
  }
  // Approvals are history: every one the record lists must be one the chain records.
  const recorded = new Set([...proof.approvers, ...proof.uncountedApprovers]);
  if (request.approvals.some((approval) => !recorded.has(approval.approverId)))
    problems.push('it lists approvals its chain does not record');
  if (
    request.status === 'EXTENSION_PENDING' &&
    (request.extension?.approvals ?? []).some(
      (approval) => !proof.extensionApprovers.includes(approval.approverId),
    )
  )
    problems.push('it lists extension approvals its chain does not record');
  return problems;
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}
