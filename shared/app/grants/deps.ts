// What the grant engine is built from (on top of the request core's dependencies).
import type { CoreDeps } from '#app/deps.ts';
import type {
  DenyLedger,
  IdentityCenter,
  PermissionSets,
  Scheduler,
  TupleStore,
  WorkQueue,
} from '#ports/grants.ts';

/**
 * The grant engine's custom metrics (namespace CloudPam, dimension `service` = the emitting function):
 * the one place their names are written. The functions emit them through `GrantMetrics`; the stack's
 * alarms and dashboard (infra/) import them from here.
 */
export const GRANT_METRICS = {
  /** A revocation (delete, deny-list edit, or its record) failed: access may outlive its decision. */
  revocationFailed: 'RevocationFailed',
  /** An assignment on a managed permission set that no grant holds. */
  driftDetected: 'DriftDetected',
  grantActivated: 'GrantActivated',
  grantExpired: 'GrantExpired',
  grantRevoked: 'GrantRevoked',
  /** Revocation denies of a permission set no longer fit: one permission-set-wide deny replaced them. */
  denyFallback: 'DenyFallback',
  /** Percent of a permission set's role inline-policy quota (10,240 characters) in use. */
  inlinePolicyBudgetUsed: 'InlinePolicyBudgetUsed',
  /** Milliseconds from the provisioning message to the assignment's SUCCEEDED status. */
  provisioningLatency: 'ProvisioningLatency',
} as const;
type Names = typeof GRANT_METRICS;

export interface GrantMetrics {
  count(
    name: Names[
      | 'grantActivated'
      | 'grantExpired'
      | 'grantRevoked'
      | 'revocationFailed'
      | 'driftDetected'
      | 'denyFallback'],
    value?: number,
  ): void;
  latency(name: Names['provisioningLatency'], ms: number): void;
  /** Share of a permission set's role inline-policy quota in use after a deny write. */
  percent(name: Names['inlinePolicyBudgetUsed'], value: number): void;
}

export interface GrantDeps extends CoreDeps {
  readonly identityCenter: IdentityCenter;
  readonly permissionSets: PermissionSets;
  readonly tuples: TupleStore;
  /** Session denies in force (so the reconciler can restore one a policy rewrite dropped). */
  readonly denies: DenyLedger;
  readonly provisioningQueue: WorkQueue;
  readonly commandsQueue: WorkQueue;
  readonly scheduler: Scheduler;
  readonly sleep: (ms: number) => Promise<void>;
  /**
   * Waits between status polls within one message (Identity Center's async operations). When they
   * run out with the operation still IN_PROGRESS, a `check` is re-enqueued instead of blocking.
   */
  readonly pollDelaysMs?: readonly number[];
  readonly metrics?: GrantMetrics;
}

export const DEFAULT_POLL_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000];
/** Role sessions last at most this long (permission sets are created with PT1H). */
export const SESSION_DURATION_MS = 60 * 60 * 1000;
/**
 * Added to the moment a deletion was seen completed when a deny's cut-off widens to it: AWS's and the
 * worker's clocks may differ, and a credential minted just before the deletion must still be denied.
 */
export const CUTOFF_SKEW_MS = 2 * 60_000;
/** Provisioning rounds one message makes before it leaves stale accounts to the reconciler. */
export const MAX_PROVISION_ROUNDS = 3;
