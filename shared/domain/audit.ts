// The audit hash chain (docs/audit-events.md): sealing a draft onto a chain head and verifying a
// chain. Pure: the caller supplies the event id, and the storage adapters decide where heads live.
import {
  type AuditDraft,
  type AuditEvent,
  type ChainHead,
  GENESIS_HASH,
  type JsonValue,
} from '#domain/audit-types.ts';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';

export type UnsealedAuditEvent = Omit<AuditEvent, 'hash'>;

export type ChainVerification =
  | { readonly ok: true; readonly length: number }
  | { readonly ok: false; readonly seq: number; readonly reason: string };

/**
 * Exactly the fields the hash covers. Built field by field so that anything else an event object
 * happens to carry (a storage attribute, a stray `hash`) never changes the hash.
 */
function hashedFields(event: UnsealedAuditEvent): UnsealedAuditEvent {
  return {
    chainId: event.chainId,
    seq: event.seq,
    eventId: event.eventId,
    at: event.at,
    type: event.type,
    actorId: event.actorId,
    requestId: event.requestId,
    entitlementId: event.entitlementId,
    accountId: event.accountId,
    permissionSetArn: event.permissionSetArn,
    secretArn: event.secretArn,
    instanceId: event.instanceId,
    sessionId: event.sessionId,
    reason: event.reason,
    details: event.details,
    prevHash: event.prevHash,
  };
}

/** The canonical JSON (RFC 8785) the hash is taken over: every field but `hash`. */
export function canonicalEventJson(event: UnsealedAuditEvent): string {
  return canonicalJson(hashedFields(event));
}

/** SHA-256 (lowercase hex) over the canonical JSON of every field but `hash`. */
export function computeHash(event: UnsealedAuditEvent): string {
  return sha256Hex(canonicalEventJson(event));
}

/**
 * Places a draft after `prev` (the chain's current head, or `undefined` for an empty chain) and
 * computes its hash. Optional fields become `null` and `details` `{}`, so the stored event and the
 * hashed event are the same value.
 */
export function sealEvent(draft: AuditDraft, prev: ChainHead | undefined, eventId: string): AuditEvent {
  if (prev && prev.chainId !== draft.chainId) {
    throw new Error(`cannot seal an event for chain ${draft.chainId} onto the head of ${prev.chainId}`);
  }
  const unsealed: UnsealedAuditEvent = {
    chainId: draft.chainId,
    seq: prev ? prev.seq + 1 : 1,
    eventId,
    at: draft.at,
    type: draft.type,
    actorId: draft.actorId ?? null,
    requestId: draft.requestId ?? null,
    entitlementId: draft.entitlementId ?? null,
    accountId: draft.accountId ?? null,
    permissionSetArn: draft.permissionSetArn ?? null,
    secretArn: draft.secretArn ?? null,
    instanceId: draft.instanceId ?? null,
    sessionId: draft.sessionId ?? null,
    reason: draft.reason ?? null,
    // A canonical copy: drops undefined members, turns -0 into 0, and detaches the event from the
    // caller's object so a later mutation cannot make the stored value differ from the hashed one.
    details: JSON.parse(canonicalJson(draft.details ?? {})) as { [key: string]: JsonValue },
    prevHash: prev ? prev.hash : GENESIS_HASH,
  };
  return { ...unsealed, hash: computeHash(unsealed) };
}

/** The head a chain has after `event`. */
export function headOf(event: AuditEvent): ChainHead {
  return { chainId: event.chainId, seq: event.seq, hash: event.hash };
}

/**
 * Checks a whole chain in order: one chainId, seq 1, 2, 3… without gaps, each `prevHash` equal to
 * the previous event's `hash` (64 zeros for the first), and each `hash` recomputed. With
 * `expectedHead` (for instance from a signed digest), the chain must also end exactly there, which
 * catches events removed from the end.
 */
export function verifyChain(events: readonly AuditEvent[], expectedHead?: ChainHead): ChainVerification {
  const chainId = expectedHead?.chainId ?? events[0]?.chainId;
  let prevHash = GENESIS_HASH;
  for (const [index, event] of events.entries()) {
    const seq = index + 1;
    if (event.chainId !== chainId) {
      return { ok: false, seq, reason: `event belongs to chain ${event.chainId}, not ${chainId}` };
    }
    if (event.seq !== seq) {
      return { ok: false, seq, reason: `expected seq ${seq}, found ${event.seq}` };
    }
    if (event.prevHash !== prevHash) {
      return { ok: false, seq, reason: 'prevHash does not match the previous event' };
    }
    if (computeHash(event) !== event.hash) {
      return { ok: false, seq, reason: 'hash does not match the event' };
    }
    prevHash = event.hash;
  }
  if (expectedHead) {
    if (events.length !== expectedHead.seq) {
      return {
        ok: false,
        seq: Math.min(events.length, expectedHead.seq) + 1,
        reason: `chain ends at seq ${events.length}, the head says seq ${expectedHead.seq}`,
      };
    }
    if (prevHash !== expectedHead.hash) {
      return { ok: false, seq: events.length, reason: 'last hash does not match the head' };
    }
  }
  return { ok: true, length: events.length };
}
