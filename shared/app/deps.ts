// What the request-core use cases are built from. Handlers assemble this once at module scope.
import type { AccessRequest } from '#domain/model.ts';
import type {
  AccessStore,
  AuditLog,
  Clock,
  Directory,
  EntitlementCatalog,
  IdGenerator,
} from '#ports/index.ts';
import type { RefusalLimiter } from './rate-limit.ts';

export interface Diagnostics {
  /** A refusal could not be audited; the refusal still stands (nothing widened). */
  auditOfRejectionFailed(details: { action: string; code: string; requestId?: string; error: unknown }): void;
  /**
   * Access was refused because the record or a message claimed what the audit chain does not prove
   * (audited on the `system` chain): a tampered record, a forged message. Alarmed.
   */
  unprovenAccessRefused?(details: { check: string; requestId?: string; problems: readonly string[] }): void;
}

export interface CoreDeps {
  readonly store: AccessStore;
  readonly audit: AuditLog;
  readonly directory: Directory;
  readonly catalog: EntitlementCatalog;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly diagnostics?: Diagnostics;
  /**
   * Runs before a change that ends access (REVOKED, EXPIRED) is committed: the grant engine queues
   * the releases first, so narrowing never waits on the audit write.
   */
  readonly beforeAccessEnds?: (before: AccessRequest, after: AccessRequest) => Promise<void>;
  /** Counts each caller's refusals: past a budget they are answered 429, audited once (rate-limit.ts). */
  readonly refusals?: RefusalLimiter;
}
