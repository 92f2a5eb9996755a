// The grant engine's custom metrics (namespace CloudPam, dimension `service` = the emitting
// function), as alarms and the dashboard read them. The names must match what the functions emit
// (shared/app/grants/deps.ts `GrantMetrics`).

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
