// The audit event format (docs/audit-events.md). Flat fields so Athena can query them directly;
// absent values are `null`, never missing, so the canonical JSON (and the hash) is unambiguous.

export const AUDIT_EVENT_TYPES = [
  'request.created',
  'request.approved',
  'request.denied',
  'request.rejected',
  'request.cancelled',
  'request.timed_out',
  'request.scheduled',
  'request.extension_requested',
  'request.extension_approved',
  'request.extension_denied',
  'grant.provisioning',
  'grant.activated',
  'grant.failed',
  'grant.expired',
  'grant.revoked',
  'breakglass.activated',
  'breakglass.reviewed',
  'drift.detected',
  'drift.removed',
  'system.rejected',
  'deny.fallback',
  'deny.removed',
  'assignment.acquired',
  'slack.link_code_issued',
  'slack.linked',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Chains other than a request's own (`request#<id>`). */
export const NAMED_CHAINS = ['system', 'drift', 'vault', 'sessions'] as const;
export type NamedChain = (typeof NAMED_CHAINS)[number];

export const GENESIS_HASH = '0'.repeat(64);

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface AuditEvent {
  readonly chainId: string;
  /** 1-based position in the chain. */
  readonly seq: number;
  /** ULID. */
  readonly eventId: string;
  /** ISO-8601 UTC with milliseconds. */
  readonly at: string;
  readonly type: AuditEventType;
  readonly actorId: string | null;
  readonly requestId: string | null;
  readonly entitlementId: string | null;
  readonly accountId: string | null;
  readonly permissionSetArn: string | null;
  readonly secretArn: string | null;
  readonly instanceId: string | null;
  readonly sessionId: string | null;
  readonly reason: string | null;
  readonly details: { readonly [key: string]: JsonValue };
  /** `hash` of the previous event in the chain; 64 zeros for the first. */
  readonly prevHash: string;
  /** SHA-256 (hex) over the RFC 8785 canonical JSON of every other field. */
  readonly hash: string;
}

/** What a use case supplies; the audit log assigns chain position, id, and hashes. */
export interface AuditDraft {
  readonly chainId: string;
  readonly at: string;
  readonly type: AuditEventType;
  readonly actorId?: string | null;
  readonly requestId?: string | null;
  readonly entitlementId?: string | null;
  readonly accountId?: string | null;
  readonly permissionSetArn?: string | null;
  readonly secretArn?: string | null;
  readonly instanceId?: string | null;
  readonly sessionId?: string | null;
  readonly reason?: string | null;
  readonly details?: { readonly [key: string]: JsonValue };
}

export interface ChainHead {
  readonly chainId: string;
  readonly seq: number;
  readonly hash: string;
}

export function requestChainId(requestId: string): string {
  return `request#${requestId}`;
}
