// Cold start of each function bundle, and the first invocation of handle-api and process-command.
//
// For each config (the demo config, and the 1,000-account config of bench/entitlements added to it):
//   1. synth into a temp outdir (`npx cdk synth`, bundling included — local/synth.ts, as `make start`);
//   2. for each function of the wiring manifest (cdk.out/pam-wiring.json): import the bundle in a fresh
//      `node` process with its own environment — the manifest's, deploy-time tokens replaced by
//      well-formed stand-ins (test/support/stand-in-environment.ts), plus what Lambda itself sets —
//      timed from spawn to exit (`spawnSync` between two `process.hrtime` readings, no shell), against
//      `node -e 0` with the same environment, timed the same way in the same pairs;
//   3. the first invocation of handle-api (API Gateway `GET /v1/requests` as alice, the SigV4-shaped
//      requestContext of test/support/pam-world.ts `apiEvent`) and process-command (an SQS batch of one
//      `approve` from bob, sent as handle-api's role, of a request alice made just before): a fresh
//      process imports the bundle and invokes the handler once, against the local runtime (its own
//      moto) in another process (./world.ts), with the environment the local runtime gives the function.
// Each figure is the median of its pairs; the order within a pair alternates. Before timing, each
// bundle is imported once with every socket connect refused: an import that reaches for the network
// fails the benchmark (a cold start only constructs clients).
//
// Run: `make bench-cold-start` (or `npx tsx bench/cold-start/run.ts [--pairs 7]
// [--configs demo,1000-accounts] [--no-invoke] [--keep]`; BENCH_PAIRS sets the default of --pairs).
// Prints one markdown table on stdout (progress and every sample on stderr). The first-invocation
// part needs moto (`make install` installs it); `--no-invoke` skips it.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';
import { parse, stringify } from 'yaml';
import { ESM_REQUIRE_BANNER, UNREACHED_CREDENTIAL_PROVIDERS } from '../../infra/constructs/pam-function.ts';
import { WIRING_FILE, type WiringFunction, wiringManifestSchema } from '../../infra/wiring/manifest.ts';
import { DEMO_CONFIG, ensureAssembly, REPO_ROOT } from '../../local/synth.ts';
import { apiEvent } from '../../test/support/pam-world.ts';
import { standInEnvironment } from '../../test/support/stand-in-environment.ts';
import { ACCOUNTS, benchEntitlements, PERMISSION_SETS, TEAMS } from '../entitlements/generated.ts';
import {
  IMPORT_SCRIPT,
  INVOKE_SCRIPT,
  lambdaEnvironment,
  median,
  NETWORK_GUARD,
  resultOf,
  type Spawned,
  timedNode,
  timePairs,
} from '../support/cold-start.ts';
import type { WorldInfo } from './world.ts';

const ISSUE_MINIMUM_PAIRS = 7;
const CONFIGS = ['demo', `${ACCOUNTS}-accounts`] as const;
const DEV_ACCOUNT = '333333333333';
/** What synth reads (local/synth.ts hashes the same): a change there changes the bundles. */
const SYNTH_SOURCES = ['infra', 'functions', 'shared', 'package-lock.json', 'cdk.json', 'tsconfig.json'];

const { values: args } = parseArgs({
  options: {
    pairs: { type: 'string', default: process.env.BENCH_PAIRS ?? String(ISSUE_MINIMUM_PAIRS) },
    configs: { type: 'string', default: CONFIGS.join(',') },
    'no-invoke': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const PAIRS = Number(args.pairs);
if (!Number.isInteger(PAIRS) || PAIRS < 1) {
  console.error(
    `--pairs must be a whole number ≥ 1 (the figures need ≥ ${ISSUE_MINIMUM_PAIRS}), not "${args.pairs}"`,
  );
  process.exit(2);
}
const configNames = (args.configs ?? '').split(',').filter(Boolean);
for (const name of configNames) {
  if (!(CONFIGS as readonly string[]).includes(name)) {
    console.error(`--configs: unknown config "${name}" (known: ${CONFIGS.join(', ')})`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------------
// Timing: bench/support/cold-start.ts (spawn → exit, paired with bare node; the child scripts).

interface Row {
  readonly config?: string;
  readonly fn: string;
  readonly what: string;
  readonly bundleKb: number;
  readonly subject: number[];
  readonly bare: number[];
}

/**
 * `pairs` pairs of (bare node, subject), alternating which goes first. `before` runs untimed before
 * each subject (e.g. making the request the command approves); `check` sees each subject's output.
 */
async function measure(
  row: Omit<Row, 'subject' | 'bare'>,
  bare: () => Spawned,
  subject: () => Spawned,
  hooks: { before?: () => Promise<void>; check?: (out: Spawned) => Promise<void> } = {},
): Promise<Row> {
  const result: Row = { ...row, ...(await timePairs(PAIRS, bare, subject, hooks)) };
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
  console.error(`  ${row.fn} ${row.what}: [${fmt(result.subject)}] ms; bare node: [${fmt(result.bare)}] ms`);
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Configs and synth.

/** The demo config plus bench/entitlements' 10,000 entitlements (1,000 accounts × 10 permission sets). */
function writeBigConfig(dir: string): string {
  const base = parse(readFileSync(path.join(REPO_ROOT, DEMO_CONFIG), 'utf8')) as {
    identityCenter: { groupIds: Record<string, string> };
    entitlements: unknown[];
  };
  for (let team = 0; team < TEAMS; team++) {
    // Placeholder ids of the demo config's form; the local runtime replaces them with moto's.
    base.identityCenter.groupIds[`team-${team}`] =
      `90676b4f2e-${String(team).padStart(8, '0')}-4444-4444-8444-444444444444`;
  }
  base.entitlements.push(...benchEntitlements());
  const file = path.join(dir, `${ACCOUNTS}-accounts.yaml`);
  writeFileSync(file, stringify(base));
  return file;
}

// ---------------------------------------------------------------------------------------------------
// The first invocations' world (./world.ts in its own process).

interface World {
  readonly info: WorldInfo;
  stop(): Promise<void>;
}

async function startWorld(assemblyDir: string): Promise<World> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'world.ts'), assemblyDir],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = `${stderr}${chunk.toString()}`.slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const info = await new Promise<WorldInfo>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)) as WorldInfo);
    });
    void exited.then(() => {
      const reason = stderr.trim().split('\n').slice(-5).join('\n  ');
      reject(
        new Error(
          `the first-invocation part needs moto: the local runtime (local/runtime.ts, its own moto server via ` +
            `scripts/moto-server.py) did not start:\n  ${reason}\n` +
            'Install moto with `make install`, or run with --no-invoke to skip the first invocations.',
        ),
      );
    });
  });
  return {
    info,
    async stop() {
      child.stdin?.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function callApi(
  world: WorldInfo,
  user: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<Answer> {
  const response = await fetch(`${world.apiUrl}${route}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-pam-local-user': user },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function sqsRecord(world: WorldInfo, body: string, groupId: string) {
  const commands = world.functions['process-command']?.environment.COMMANDS_QUEUE_URL ?? '';
  const queueName = commands.split('/').pop() ?? '';
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `bench-${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      // As the local runtime's AWS proxy stamps it: the sender's role id and session.
      SenderId: world.functions['handle-api']?.senderId ?? '',
      ApproximateFirstReceiveTimestamp: now,
      SequenceNumber: `${Date.now()}000000`,
      MessageGroupId: groupId,
      MessageDeduplicationId: randomUUID(),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${world.region}:${world.hubAccountId}:${queueName}`,
    awsRegion: world.region,
  };
}

async function firstInvocations(
  assemblyDir: string,
  functions: readonly WiringFunction[],
  workDir: string,
): Promise<Row[]> {
  const world = await startWorld(assemblyDir);
  try {
    const { info } = world;
    const invoke = (name: string, eventFile: string): Spawned => {
      const fn = info.functions[name];
      const spec = functions.find((f) => f.name === name);
      if (!fn || !spec) throw new Error(`the wiring manifest has no function ${name}`);
      return timedNode(
        `${name} first invocation`,
        [
          '--input-type=module',
          '-e',
          INVOKE_SCRIPT,
          pathToFileURL(fn.module).href,
          fn.exportName,
          eventFile,
          name,
          String(spec.timeoutSeconds * 1000),
        ],
        path.dirname(fn.module),
        { PATH: process.env.PATH ?? '', ...fn.environment },
      );
    };
    const bare = (name: string) => () =>
      timedNode('node -e 0', ['-e', '0'], path.dirname(info.functions[name]?.module ?? REPO_ROOT), {
        PATH: process.env.PATH ?? '',
        ...info.functions[name]?.environment,
      });
    const eventFile = path.join(workDir, 'event.json');
    const rows: Row[] = [];

    // handle-api: alice lists her requests (she has one, made here).
    const made = await callApi(info, 'alice', 'POST', '/v1/requests', {
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      duration: 'PT1H',
      reason: 'bench/cold-start',
    });
    if (made.status !== 201 && made.status !== 200)
      throw new Error(`creating alice's request: ${made.status} ${JSON.stringify(made.body)}`);
    rows.push(
      await measure(
        {
          fn: 'handle-api',
          what: 'first invocation: `GET /v1/requests` (alice)',
          bundleKb: bundleKb(info, 'handle-api'),
        },
        bare('handle-api'),
        () => invoke('handle-api', eventFile),
        {
          before: async () => {
            const event = apiEvent(info.hubAccountId, 'alice', 'GET', '/v1/requests');
            event.requestContext.requestId = randomUUID();
            writeFileSync(eventFile, JSON.stringify(event));
          },
          check: async (out) => {
            const result = resultOf(out) as { statusCode?: number; body?: string };
            if (result.statusCode !== 200)
              throw new Error(`handle-api answered ${result.statusCode}: ${result.body?.slice(0, 500)}`);
          },
        },
      ),
    );

    // process-command: bob's approval of a request alice made just before (closed again afterwards,
    // so alice stays under her open-request limit).
    let requestId = '';
    rows.push(
      await measure(
        {
          fn: 'process-command',
          what: 'first invocation: SQS batch of one `approve`',
          bundleKb: bundleKb(info, 'process-command'),
        },
        bare('process-command'),
        () => invoke('process-command', eventFile),
        {
          before: async () => {
            const created = await callApi(info, 'alice', 'POST', '/v1/requests', {
              entitlementId: 'dev-readonly',
              accountId: DEV_ACCOUNT,
              duration: 'PT1H',
              reason: 'bench/cold-start',
            });
            requestId = String(created.body.id ?? '');
            if (!requestId)
              throw new Error(`creating a request: ${created.status} ${JSON.stringify(created.body)}`);
            const body = JSON.stringify({
              action: 'approve',
              requestId,
              actorId: info.userIds.bob,
              delivery: { by: 'api', requestId: randomUUID() },
            });
            writeFileSync(eventFile, JSON.stringify({ Records: [sqsRecord(info, body, requestId)] }));
          },
          check: async (out) => {
            const result = resultOf(out) as { batchItemFailures?: unknown[] };
            if (!result || (result.batchItemFailures?.length ?? 0) > 0)
              throw new Error(`process-command reported failures: ${JSON.stringify(result)}`);
            const after = await callApi(info, 'alice', 'GET', `/v1/requests/${requestId}`);
            if (after.body.status !== 'APPROVED')
              throw new Error(
                `the approve was not applied: the request is ${JSON.stringify(after.body.status)}`,
              );
            const closed = await callApi(info, 'dave', 'POST', `/v1/requests/${requestId}/revoke`, {
              comment: 'bench/cold-start',
            });
            if (closed.status !== 200)
              throw new Error(`closing ${requestId}: ${closed.status} ${JSON.stringify(closed.body)}`);
          },
        },
      ),
    );
    return rows;
  } finally {
    await world.stop();
  }
}

function bundleKb(info: WorldInfo, name: string): number {
  return statSync(info.functions[name]?.module ?? '').size / 1024;
}

// ---------------------------------------------------------------------------------------------------

/** What was measured: HEAD, and whether what synth reads (local/synth.ts) differs from it. */
function describeSources(): string {
  const git = (...gitArgs: string[]) =>
    execFileSync('git', gitArgs, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--short', 'HEAD');
  const changed = git(
    'status',
    '--porcelain',
    '--',
    ...SYNTH_SOURCES.map((source) => path.join(REPO_ROOT, source)),
  );
  return `${commit}${changed ? ' + working tree' : ''}`;
}

function table(rows: readonly Row[]): string {
  const lines = [
    '| config | function | figure | bundle `index.mjs` (KB) | median (ms) | bare `node -e 0` median (ms) | ratio |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const subject = median(row.subject);
    const bare = median(row.bare);
    lines.push(
      `| ${row.config} | ${row.fn} | ${row.what} | ${row.bundleKb.toFixed(0)} | ${subject.toFixed(0)} | ${bare.toFixed(0)} | ${(subject / bare).toFixed(1)}× |`,
    );
  }
  return lines.join('\n');
}

interface ConfigResult {
  readonly rows: Row[];
  /** One line: what the config is, and its bundled size. */
  readonly description: string;
}

/** The environment of the last function timed (the SDK floor is timed in the same one). */
let lastEnv: NodeJS.ProcessEnv | undefined;

/**
 * What the platform costs before any cloud-pam code: bundles built with PamFunction's own esbuild
 * options from a few lines that only create AWS SDK clients (and Powertools and middy, as every
 * handler does), timed like the functions. The floor a function's ratio cannot go below while it
 * uses these clients.
 */
const SDK_FLOORS = [
  {
    what: 'floor: one DynamoDB client (no cloud-pam code)',
    source: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export const handler = async () => new DynamoDBClient({});
globalThis.client = new DynamoDBClient({});`,
  },
  {
    what: 'floor: DynamoDB (+ document client), SQS, Identity Store clients, Powertools Logger + Metrics, middy (no cloud-pam code)',
    source: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
const clients = [DynamoDBDocumentClient.from(new DynamoDBClient({})), new SQSClient({}), new IdentitystoreClient({})];
const logger = new Logger();
const metrics = new Metrics({ namespace: 'CloudPam' });
export const handler = middy(async () => ({ clients, logger, metrics }));`,
  },
];

async function sdkFloor(workDir: string, env: NodeJS.ProcessEnv | undefined): Promise<Row[]> {
  if (!env) return [];
  const rows: Row[] = [];
  for (const [index, floor] of SDK_FLOORS.entries()) {
    const dir = path.join(workDir, `sdk-floor-${index}`);
    const module = path.join(dir, 'index.mjs');
    buildSync({
      stdin: { contents: floor.source, resolveDir: REPO_ROOT, sourcefile: 'floor.mjs', loader: 'js' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      mainFields: ['module', 'main'],
      minify: true,
      external: UNREACHED_CREDENTIAL_PROVIDERS,
      banner: { js: ESM_REQUIRE_BANNER },
      outfile: module,
      logLevel: 'error',
    });
    const importArgs = ['--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(module).href, 'handler'];
    rows.push(
      await measure(
        { fn: '(AWS SDK)', what: floor.what, bundleKb: statSync(module).size / 1024 },
        () => timedNode('node -e 0', ['-e', '0'], dir, env),
        () => timedNode(`${floor.what} import`, importArgs, dir, env),
      ),
    );
  }
  return rows;
}

async function benchConfig(name: string, workDir: string): Promise<ConfigResult> {
  const started = process.hrtime.bigint();
  const configFile = name === 'demo' ? DEMO_CONFIG : writeBigConfig(workDir);
  const outdir = path.join(workDir, `cdk.out-${name}`);
  console.error(`${name}: cdk synth (bundling included) into ${outdir} …`);
  const synth = await ensureAssembly({ outdir, configFile, log: (line) => console.error(`  ${line}`) });
  console.error(`${name}: synth ${synth.seconds.toFixed(1)} s`);
  const manifest = wiringManifestSchema.parse(
    JSON.parse(readFileSync(path.join(outdir, WIRING_FILE), 'utf8')),
  );
  const hub =
    manifest.stacks.find((s) => s.account === manifest.identityCenter.hubAccountId) ?? manifest.stacks[0];
  const region = hub?.region ?? 'us-east-1';
  const configKb =
    statSync(path.join(outdir, manifest.functions[0]?.asset ?? '', manifest.configFile)).size / 1024;

  const rows: Row[] = [];
  for (const fn of manifest.functions) {
    const dir = path.join(outdir, fn.asset);
    const module = path.join(dir, fn.module);
    // What Lambda itself sets, then the function's own variables as deployed (tokens stood in for).
    const env: NodeJS.ProcessEnv = {
      ...lambdaEnvironment({ name: fn.name, dir, region, memoryMb: fn.memoryMb }),
      ...standInEnvironment(fn.environment),
    };
    lastEnv = env;
    const importArgs = ['--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(module).href, fn.export];
    timedNode(
      `${fn.name}: import with the network refused`,
      ['--input-type=module', '-e', NETWORK_GUARD + IMPORT_SCRIPT, ...importArgs.slice(3)],
      dir,
      env,
    );
    rows.push(
      await measure(
        { fn: fn.name, what: 'init (import)', bundleKb: statSync(module).size / 1024 },
        () => timedNode('node -e 0', ['-e', '0'], dir, env),
        () => timedNode(`${fn.name} import`, importArgs, dir, env),
      ),
    );
  }
  if (name === 'demo') rows.push(...(await sdkFloor(workDir, rows.length > 0 ? lastEnv : undefined)));
  if (!args['no-invoke']) rows.push(...(await firstInvocations(outdir, manifest.functions, workDir)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.error(`${name}: ${seconds.toFixed(0)} s in all (synth included)`);
  const what =
    name === 'demo'
      ? 'infra/config/example.yaml'
      : `the demo config + ${ACCOUNTS * PERMISSION_SETS} entitlements (${ACCOUNTS} accounts × ${PERMISSION_SETS} permission sets, as bench/entitlements)`;
  return {
    rows: rows.map((row) => ({ ...row, config: name })),
    description: `${name}: ${what}; bundled \`pam-config.json\` ${configKb.toFixed(0)} KB`,
  };
}

/** Before minutes of synth: the first invocations need moto's server (the local runtime starts it). */
function checkMoto(): void {
  const probe = spawnSync('python3', ['-c', 'import moto.server'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error || probe.status !== 0) {
    const lines = probe.stderr.trim().split('\n');
    const reason = probe.error?.message ?? lines.find((line) => /Error/.test(line)) ?? lines.pop();
    console.error(
      `bench/cold-start: the first-invocation part needs moto, and python3 cannot load it (${reason}). ` +
        'Install it with `make install`, or run with --no-invoke to skip the first invocations.',
    );
    process.exit(2);
  }
}

if (!args['no-invoke']) checkMoto();
const workDir = mkdtempSync(path.join(tmpdir(), 'pam-bench-cold-start-'));
const started = process.hrtime.bigint();
try {
  if (PAIRS < ISSUE_MINIMUM_PAIRS)
    console.error(
      `note: ${PAIRS} pairs — a quick check; figures for the README need ≥ ${ISSUE_MINIMUM_PAIRS}`,
    );
  const results: ConfigResult[] = [];
  for (const name of configNames) results.push(await benchConfig(name, workDir));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    [
      `${new Date().toISOString()} — ${describeSources()} — nproc ${availableParallelism()}, node ${process.version} — ${PAIRS} pairs, medians — benchmark runtime ${seconds.toFixed(0)} s`,
      '',
      ...results.map((result) => `- ${result.description}`),
      '',
      table(results.flatMap((result) => result.rows)),
    ].join('\n'),
  );
} catch (error) {
  console.error(`bench/cold-start: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  if (args.keep) console.error(`kept ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}
