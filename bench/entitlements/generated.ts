// The large organisation both benchmarks use (bench/entitlements, bench/cold-start): permission sets ×
// accounts entitlements, each account's eligible group one of TEAMS team groups. Sizes from
// BENCH_ACCOUNTS and BENCH_PERMISSION_SETS (default 1,000 × 10).
export const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 1000);
export const PERMISSION_SETS = Number(process.env.BENCH_PERMISSION_SETS ?? 10);
export const TEAMS = 100;

/** The entitlements, in the config file's form. */
export function benchEntitlements(): Record<string, unknown>[] {
  const entitlements: Record<string, unknown>[] = [];
  for (let ps = 0; ps < PERMISSION_SETS; ps++) {
    for (let account = 0; account < ACCOUNTS; account++) {
      entitlements.push({
        id: `ps${ps}-a${account}`,
        title: `Permission set ${ps} in account ${account}`,
        kind: 'aws-role',
        target: {
          accounts: [String(500000000000 + account)],
          permissionSet: { name: `PamBench${ps}`, managedPolicies: ['ReadOnlyAccess'] },
        },
        eligible: [`team-${account % TEAMS}`],
        approval: { approvers: ['cloud-ops'], required: 1 },
        maxDuration: 'PT4H',
      });
    }
  }
  return entitlements;
}
