// Benchmark: "entitlements I may request" for a config of 1,000 accounts × 10 permission sets
// (10,000 entitlements, one per account and permission set) and a user in 20 groups.
//
// Three figures:
//   1. config: validate the 10,000-entitlement YAML (synth) and load the bundled JSON (cold start).
//   2. use case: makeListRequestableEntitlements with an in-memory directory — all pages.
//   3. api: the real handle-api handler against moto over HTTP (Identity Store group read
//      included) — the first page, as a caller sees it.
// Run with `make bench` (starts a private moto server); prints p50/p99 per figure.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  IdentitystoreClient,
} from '@aws-sdk/client-identitystore';
import { stringify } from 'yaml';
import { systemClock, ulidGenerator } from '#adapters/system.ts';
import { makeCatalog } from '#app/catalog.ts';
import type { CoreDeps } from '#app/deps.ts';
import { makeListRequestableEntitlements } from '#app/entitlements.ts';
import { parseConfig } from '#config/load.ts';
import type { Directory, DirectoryUser } from '#ports/index.ts';
import { bundledConfigText, loadBundledConfig, parseBundledConfig } from '#runtime/bundled-config.ts';
import { motoClient } from '../../test/support/moto.ts';
import { apiClient, createPamWorld } from '../../test/support/pam-world.ts';
import { ACCOUNTS, benchEntitlements, PERMISSION_SETS, TEAMS } from './generated.ts';

const USER_GROUPS = 20;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function report(name: string, samples: number[], extra = ''): void {
  const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
  console.log(
    `${name.padEnd(44)} n=${String(samples.length).padStart(4)}  p50=${fmt(percentile(samples, 50)).padStart(10)}  p99=${fmt(percentile(samples, 99)).padStart(10)}${extra ? `  ${extra}` : ''}`,
  );
}

/** 10 permission sets × 1,000 accounts; each account belongs to one of 100 teams (groups). */
function bigConfig(base: Record<string, unknown>, groupIds: Record<string, string>) {
  const entitlements = benchEntitlements();
  return { ...base, identityCenter: { ...(base.identityCenter as object), groupIds }, entitlements };
}

async function main(): Promise<void> {
  console.log(`bench/entitlements — ${new Date().toISOString()} — node ${process.version}`);
  console.log(
    `config: ${ACCOUNTS} accounts × ${PERMISSION_SETS} permission sets = ${ACCOUNTS * PERMISSION_SETS} entitlements; user in ${USER_GROUPS} groups`,
  );

  // The hub in moto, with 100 team groups; alice joins 20 of them.
  const world = await createPamWorld();
  const identityStore = motoClient(IdentitystoreClient, world.accountId);
  const small = loadBundledConfig(world.configFile);
  const groupIds: Record<string, string> = { ...small.identityCenter.groupIds };
  const baseConfig = {
    identityCenter: {
      instanceArn: small.identityCenter.instanceArn,
      identityStoreId: small.identityCenter.identityStoreId,
      hubAccountId: small.identityCenter.hubAccountId,
      managementAccountId: small.identityCenter.managementAccountId,
      organizationId: small.identityCenter.organizationId,
    },
    admins: small.admins,
    drift: { mode: small.drift.mode },
  };
  for (let team = 0; team < TEAMS; team++) {
    const { GroupId } = await identityStore.send(
      new CreateGroupCommand({ IdentityStoreId: world.identityStoreId, DisplayName: `team-${team}` }),
    );
    groupIds[`team-${team}`] = GroupId as string;
    if (team < USER_GROUPS - 1) {
      await identityStore.send(
        new CreateGroupMembershipCommand({
          IdentityStoreId: world.identityStoreId,
          GroupId,
          MemberId: { UserId: world.userIds.alice },
        }),
      );
    }
  }
  const configText = stringify(bigConfig(baseConfig, groupIds));

  // 1a. Synth-time validation of the YAML (schema + guardrails), once.
  let start = performance.now();
  const config = parseConfig(configText, 'bench-config.yaml');
  report(
    'synth: YAML parse + validate + guardrails',
    [performance.now() - start],
    `${(configText.length / 1024).toFixed(0)} KiB YAML`,
  );
  const bundled = bundledConfigText(config);
  const configFile = join(world.configFile, '..', 'bench-config.json');
  writeFileSync(configFile, bundled);
  process.env.PAM_CONFIG_FILE = configFile;

  // 1b. What a cold start pays: the bundled JSON checked with zod and its hash, then indexed.
  const coldSamples: number[] = [];
  for (let i = 0; i < 10; i++) {
    start = performance.now();
    makeCatalog(parseBundledConfig(bundled));
    coldSamples.push(performance.now() - start);
  }
  report(
    'cold start: bundled config load + check',
    coldSamples,
    `${(bundled.length / 1024).toFixed(0)} KiB JSON`,
  );

  // 2. The use case with an in-memory directory: every page, so the whole answer is measured.
  const catalog = makeCatalog(config);
  const aliceGroups = ['engineers', ...Array.from({ length: USER_GROUPS - 1 }, (_, team) => `team-${team}`)];
  const user: DirectoryUser = {
    userId: 'alice',
    userName: 'alice',
    personKeys: ['user:alice'],
    active: true,
  };
  const directory: Directory = {
    getUser: async () => user,
    findUserByUserName: async () => user,
    findUserByEmail: async () => user,
    groupsOf: async () => aliceGroups,
  };
  const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used')) });
  const deps: CoreDeps = {
    store: unused as CoreDeps['store'],
    audit: unused as CoreDeps['audit'],
    directory,
    catalog,
    clock: systemClock,
    ids: ulidGenerator(),
  };
  const list = makeListRequestableEntitlements(deps);
  const allPages: number[] = [];
  let total = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now();
    let nextToken: string | undefined;
    total = 0;
    do {
      const page = await list({ actorId: 'alice', limit: 1000, ...(nextToken ? { nextToken } : {}) });
      total += page.items.length;
      nextToken = page.nextToken;
    } while (nextToken);
    allPages.push(performance.now() - start);
  }
  report('use case, all pages (in-memory directory)', allPages, `${total} entitlements`);

  // 3. The real handler against moto: SigV4 caller mapping, Identity Store reads, first page.
  const { handler } = await import('../../functions/handle-api/handler.ts');
  const call = apiClient(handler as never, world.accountId);
  const first = await call<{ items: unknown[] }>('alice', 'GET', '/v1/entitlements', undefined, {
    limit: '100',
  });
  if (first.status !== 200)
    throw new Error(`unexpected status ${first.status}: ${JSON.stringify(first.body)}`);
  const apiSamples: number[] = [];
  for (let i = 0; i < Math.min(ITERATIONS, 100); i++) {
    const start = performance.now();
    const answer = await call<{ items: unknown[] }>('alice', 'GET', '/v1/entitlements', undefined, {
      limit: '100',
    });
    apiSamples.push(performance.now() - start);
    if (answer.status !== 200 || answer.body.items.length !== 100) throw new Error('unexpected answer');
  }
  report('handle-api GET /v1/entitlements (moto HTTP)', apiSamples, 'first page of 100');
  console.log('target: p99 ≤ 200 ms for "entitlements I may request"');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
