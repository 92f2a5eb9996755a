// Benchmark: N full grant lifecycles (default 200, concurrency 10) against moto over HTTP —
// request → approve → ACTIVE (assignment made) → expiry → EXPIRED (assignment gone) — once with
// instant success and once with IN_PROGRESS × 2 injected on every Identity Center operation.
// Prints throughput, p50/p99 per step, and AWS calls per lifecycle by service (counted by the
// harness's proxy in front of moto), split into the rate-limited services (Identity Center,
// Identity Store, Scheduler; target ≤ 10 per single-approver lifecycle with instant success) and
// the others.
//
// The functions run as deployed (test/support/grant-harness.ts: the real handlers, one worker
// thread each, one invocation at a time), fed by the event-source emulation `make start` uses:
// throughput is one execution environment per function's, not Lambda's.
// Run: `make bench-lifecycle` (or BENCH_LIFECYCLES=50 scripts/moto.sh npx tsx bench/lifecycle/run.ts).
import { performance } from 'node:perf_hooks';
import { CreateGroupMembershipCommand, CreateUserCommand } from '@aws-sdk/client-identitystore';
import type { RequestStatus } from '#domain/model.ts';
import { loadBundledConfig } from '#runtime/bundled-config.ts';
import { createGrantHarness, type GrantHarness } from '../../test/support/grant-harness.ts';
import { createPamWorld, DEV_ACCOUNT, type PamWorld } from '../../test/support/pam-world.ts';

const N = Number(process.env.BENCH_LIFECYCLES ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const HOUR = 3_600_000;
const RATE_LIMITED = ['sso', 'identitystore', 'scheduler'];

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

function line(name: string, samples: readonly number[]): string {
  return `  ${name.padEnd(30)} p50=${percentile(samples, 50).toFixed(0).padStart(6)} ms  p99=${percentile(samples, 99).toFixed(0).padStart(6)} ms`;
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

async function engineers(world: PamWorld, count: number, prefix: string): Promise<string[]> {
  const groupId = loadBundledConfig(world.configFile).identityCenter.groupIds.engineers as string;
  const ids: string[] = [];
  await pool(
    Array.from({ length: count }, (_, i) => i),
    CONCURRENCY,
    async (i) => {
      const { UserId } = await world.identityStore.send(
        new CreateUserCommand({
          IdentityStoreId: world.identityStoreId,
          UserName: `${prefix}-${i}`,
          DisplayName: `${prefix}-${i}`,
          Name: { GivenName: prefix, FamilyName: String(i) },
        }),
      );
      await world.identityStore.send(
        new CreateGroupMembershipCommand({
          IdentityStoreId: world.identityStoreId,
          GroupId: groupId,
          MemberId: { UserId: UserId as string },
        }),
      );
      ids.push(UserId as string);
    },
  );
  return ids;
}

/** Pumps until every request is in `status`, noting when each got there. */
async function pumpUntil(
  h: GrantHarness,
  ids: readonly string[],
  status: RequestStatus,
  since: ReadonlyMap<string, number>,
): Promise<number[]> {
  const wanted = new Set(ids);
  const reached = new Map<string, number>();
  for (let round = 0; round < 10_000 && reached.size < ids.length; round++) {
    await h.settle({ maxPasses: 1 });
    let nextToken: string | undefined;
    do {
      const page = await h.deps.store.listByStatus(status, {
        limit: 100,
        ...(nextToken ? { nextToken } : {}),
      });
      for (const request of page.items) {
        if (wanted.has(request.id) && !reached.has(request.id)) {
          reached.set(request.id, performance.now() - (since.get(request.id) ?? 0));
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }
  if (reached.size < ids.length) throw new Error(`only ${reached.size}/${ids.length} reached ${status}`);
  process.stderr.write(`  ${ids.length} reached ${status}\n`);
  return [...reached.values()];
}

async function run(world: PamWorld, label: string, inProgressTimes: number): Promise<void> {
  const h = await createGrantHarness(world);
  const users = await engineers(world, N, label);
  process.stderr.write(`  ${label}: ${users.length} engineers created\n`);
  h.proxy.resetCounts();
  if (inProgressTimes > 0) {
    // Each create/delete answers IN_PROGRESS, then the first status poll does too: IN_PROGRESS × 2.
    h.faults.add(
      { command: 'CreateAccountAssignmentCommand', fault: 'in-progress', times: N },
      { command: 'DescribeAccountAssignmentCreationStatusCommand', fault: 'in-progress', times: N },
      { command: 'DeleteAccountAssignmentCommand', fault: 'in-progress', times: N },
      { command: 'DescribeAccountAssignmentDeletionStatusCommand', fault: 'in-progress', times: N },
    );
  }
  const started = performance.now();
  const create: number[] = [];
  const approve: number[] = [];
  const approvedAt = new Map<string, number>();
  const ids: string[] = [];
  await pool(users, CONCURRENCY, async (userId) => {
    let t = performance.now();
    const request = await h.createRequest({
      actorId: userId,
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      durationMs: HOUR,
      reason: 'benchmark',
    });
    create.push(performance.now() - t);
    t = performance.now();
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
    approve.push(performance.now() - t);
    approvedAt.set(request.id, performance.now());
    ids.push(request.id);
  });
  const activate = await pumpUntil(h, ids, 'ACTIVE', approvedAt);
  // Let the reactions to ACTIVE (the expiry schedules) happen before time moves.
  await h.settle();
  h.clock.advance(HOUR + 120_000);
  const expiryStart = new Map(ids.map((id) => [id, performance.now()]));
  const expire = await pumpUntil(h, ids, 'EXPIRED', expiryStart);
  // Count the reactions to EXPIRED too (schedule clean-up).
  await h.settle();
  const elapsed = (performance.now() - started) / 1000;

  const counts = h.counts();
  await h.stop();
  const byService = new Map<string, number>();
  for (const [key, value] of Object.entries(counts)) {
    const service = key.split(':')[0] as string;
    byService.set(service, (byService.get(service) ?? 0) + value);
  }
  const perLifecycle = (services: (s: string) => boolean) =>
    [...byService.entries()].filter(([s]) => services(s)).reduce((sum, [, v]) => sum + v, 0) / N;

  console.log(
    `\n${label}: ${N} lifecycles, concurrency ${CONCURRENCY}, ${elapsed.toFixed(1)} s, ${(N / elapsed).toFixed(1)} lifecycles/s`,
  );
  console.log(line('create request', create));
  console.log(line('approve (inline)', approve));
  console.log(line('approved → ACTIVE', activate));
  console.log(line('expiry fired → EXPIRED', expire));
  console.log('  AWS calls per lifecycle:');
  for (const [service, value] of [...byService.entries()].sort()) {
    const tag = RATE_LIMITED.includes(service) ? ' (rate-limited)' : '';
    console.log(`    ${service.padEnd(24)} ${(value / N).toFixed(2)}${tag}`);
  }
  console.log(
    `    rate-limited total       ${perLifecycle((s) => RATE_LIMITED.includes(s)).toFixed(2)} (target ≤ 10 with instant success)`,
  );
  console.log(`    DynamoDB + SQS total     ${perLifecycle((s) => !RATE_LIMITED.includes(s)).toFixed(2)}`);
}

async function main(): Promise<void> {
  console.log(`bench/lifecycle — ${new Date().toISOString()} — node ${process.version}`);
  const world = await createPamWorld();
  await run(world, 'instant', 0);
  await run(world, 'in-progress-x2', 2);
  await world.stop();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
