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

export interface GrantMetrics {
  count(
    name:
      | 'GrantActivated'
      | 'GrantExpired'
      | 'GrantRevoked'
      | 'RevocationFailed'
      | 'DriftDetected'
      | 'DenyFallback',
    value?: number,
  ): void;
  latency(name: 'ProvisioningLatency', ms: number): void;
  /** Share of a permission set's role inline-policy quota in use after a deny write. */
  percent(name: 'InlinePolicyBudgetUsed', value: number): void;
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
