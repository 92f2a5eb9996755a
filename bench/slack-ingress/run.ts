// The Slack ingress against Slack's 3 s (issue 15, "Benchmark"): its cold start — loading the bundle
// AND handling the first signed request, in a fresh process — as a ratio to a bare `node -e 0` in the
// same run, and its warm acknowledgement latency.
//
//   1. Synthesize the demo config into a temp outdir (`npx cdk synth` with bundling, local/synth.ts):
//      the slack-ingress bundle is built by PamFunction with its own esbuild options.
//   2. Start the world (./world.ts, another process): moto (MOTO_ENDPOINT) answers Secrets Manager and
//      SQS, the Slack stand-in answers views.open; the function gets their endpoints, an access key of
//      the world's moto account, the secrets' ARNs and the queues' URLs, on top of what Lambda sets
//      and its own variables from the wiring manifest (deploy-time tokens stood in for).
//   3. Cold start, timed as bench/cold-start times it (bench/support/cold-start.ts: spawn → exit by
//      `spawnSync` between two `process.hrtime` readings, paired with `node -e 0`, the order
//      alternating, median of the pairs): the import alone (after one import with every socket
//      refused: an import that reaches for the network fails the bench), then the import plus the
//      first signed `/pam request` (views.open, a SendMessage, the two secrets read) — once against
//      moto, once with AWS answered at once by the world's instant responder (the function's own
//      cost, without moto's latency) — then the import plus the first Approve click. The process
//      makes the real calls; each answer is checked. moto's own answer time for the two calls is
//      measured from a warm client in the world, so the two rows can be read against each other.
//   4. Warm (./warm.ts, one process): after one request of each kind, N rounds of `/pam request`, an
//      Approve click and a submitted request modal through the exported handler; p50/p99 per kind —
//      once against moto (whose FIFO sends slow down as its queues fill: most of those figures are
//      moto's), once with AWS answered by the instant responder (the function's own latency).
//   5. Every message sent is on its queue in moto (counted at the end).
//
// Run: `make bench-slack-ingress` (moto via scripts/moto.sh), or
// `scripts/moto.sh npx tsx bench/slack-ingress/run.ts [--pairs 7] [--requests 500] [--keep]
// [--assembly <cdk.out of another build>]` (BENCH_PAIRS, BENCH_REQUESTS set the defaults; --assembly
// times that assembly's slack-ingress instead of synthesizing the working tree, e.g. to compare builds). Prints markdown on stdout; progress and every
// sample on stderr. Nothing here asserts a time: the figures are printed for bench/README.md.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WIRING_FILE, wiringManifestSchema } from '../../infra/wiring/manifest.ts';
import { DEMO_CONFIG, ensureAssembly, REPO_ROOT } from '../../local/synth.ts';
import { standInEnvironment } from '../../test/support/stand-in-environment.ts';
import {
  IMPORT_SCRIPT,
  INVOKE_SCRIPT,
  lambdaEnvironment,
  median,
  NETWORK_GUARD,
  type Paired,
  resultOf,
  type Spawned,
  timedNode,
  timePairs,
} from '../support/cold-start.ts';
import { approveClickEvent, type Occurrence, pamRequestEvent } from './events.ts';
import type { IngressWorld } from './world.ts';

const ISSUE_MINIMUM_PAIRS = 7;
const FUNCTION = 'slack-ingress';
/** What synth reads (local/synth.ts hashes the same). */
const SYNTH_SOURCES = ['infra', 'functions', 'shared', 'package-lock.json', 'cdk.json', 'tsconfig.json'];

const { values: args } = parseArgs({
  options: {
    pairs: { type: 'string', default: process.env.BENCH_PAIRS ?? String(ISSUE_MINIMUM_PAIRS) },
    requests: { type: 'string', default: process.env.BENCH_REQUESTS ?? '500' },
    keep: { type: 'boolean', default: false },
    assembly: { type: 'string' },
  },
});
const PAIRS = Number(args.pairs);
const REQUESTS = Number(args.requests);
if (!Number.isInteger(PAIRS) || PAIRS < 1 || !Number.isInteger(REQUESTS) || REQUESTS < 1) {
  console.error(`--pairs and --requests must be whole numbers ≥ 1 (not "${args.pairs}", "${args.requests}")`);
  process.exit(2);
}
if (!process.env.MOTO_ENDPOINT) {
  console.error(
    'bench/slack-ingress needs moto: run `make bench-slack-ingress`, or prefix the command with scripts/moto.sh',
  );
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------
// The world (./world.ts in its own process).

async function startWorld(): Promise<{ world: IngressWorld; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'world.ts')], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = `${stderr}${chunk.toString()}`.slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const world = await new Promise<IngressWorld>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)) as IngressWorld);
    });
    void exited.then(() => reject(new Error(`the world did not start:\n${stderr.trim()}`)));
  });
  return {
    world,
    async stop() {
      child.stdin.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function occurrence(world: IngressWorld, user: 'alice' | 'bob'): Promise<Occurrence> {
  const response = await fetch(`${world.controlUrl}/occurrence`, {
    method: 'POST',
    body: JSON.stringify({ user }),
  });
  if (!response.ok) throw new Error(`world /occurrence: ${response.status} ${await response.text()}`);
  return (await response.json()) as Occurrence;
}

// ---------------------------------------------------------------------------------------------------
// Figures.

interface ColdRow extends Paired {
  readonly what: string;
}

interface WarmFigure {
  readonly name: string;
  /** What answered AWS: `moto`, or the instant responder. */
  readonly aws?: string;
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function coldTable(rows: readonly ColdRow[]): string {
  const lines = [
    '| figure (fresh `node` process, spawn → exit) | median (ms) | bare `node -e 0` median (ms) | ratio |',
    '|---|---|---|---|',
  ];
  for (const row of rows) {
    const subject = median(row.subject);
    const bare = median(row.bare);
    lines.push(
      `| ${row.what} | ${subject.toFixed(0)} | ${bare.toFixed(0)} | ${(subject / bare).toFixed(2)}× |`,
    );
  }
  return lines.join('\n');
}

function warmTable(figures: readonly WarmFigure[]): string {
  const lines = [
    '| request (warm, through the exported handler) | AWS answered by | N | p50 (ms) | p99 (ms) | max (ms) |',
    '|---|---|---|---|---|---|',
  ];
  for (const f of figures)
    lines.push(
      `| ${f.name} | ${f.aws} | ${f.n} | ${f.p50.toFixed(1)} | ${f.p99.toFixed(1)} | ${f.max.toFixed(1)} |`,
    );
  return lines.join('\n');
}

function describeSources(): string {
  const git = (...gitArgs: string[]) =>
    execFileSync('git', gitArgs, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const changed = git('status', '--porcelain', '--', ...SYNTH_SOURCES.map((s) => path.join(REPO_ROOT, s)));
  return `${git('rev-parse', '--short', 'HEAD')}${changed ? ' + working tree' : ''}`;
}

/** Runs ./warm.ts to the end (not spawnSync: nothing is timed from here). */
function warm(
  env: NodeJS.ProcessEnv,
  moduleUrl: string,
  exportName: string,
  world: IngressWorld,
  secretFile: string,
) {
  return new Promise<WarmFigure[]>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(import.meta.dirname, 'warm.ts'),
        moduleUrl,
        exportName,
        world.controlUrl,
        String(REQUESTS),
        secretFile,
      ],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out = `${out}${chunk.toString()}`.slice(-64_000);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = `${err}${chunk.toString()}`.slice(-8000);
    });
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('@@warm '));
      if (code !== 0 || !line)
        reject(new Error(`warm.ts exited with ${code}:\n${err.trim()}\n${out.slice(-2000)}`));
      else resolve(JSON.parse(line.slice('@@warm '.length)) as WarmFigure[]);
    });
  });
}

// ---------------------------------------------------------------------------------------------------

const workDir = mkdtempSync(path.join(tmpdir(), 'pam-bench-slack-ingress-'));
const startedAt = process.hrtime.bigint();
let stopWorld: (() => Promise<void>) | undefined;
try {
  if (PAIRS < ISSUE_MINIMUM_PAIRS)
    console.error(
      `note: ${PAIRS} pairs — a quick check; figures for the README need ≥ ${ISSUE_MINIMUM_PAIRS}`,
    );

  const outdir = args.assembly ? path.resolve(args.assembly) : path.join(workDir, 'cdk.out');
  if (!args.assembly) {
    console.error(`demo config: cdk synth (bundling included) into ${outdir} …`);
    await ensureAssembly({ outdir, configFile: DEMO_CONFIG, log: (line) => console.error(`  ${line}`) });
  }
  const manifest = wiringManifestSchema.parse(
    JSON.parse(readFileSync(path.join(outdir, WIRING_FILE), 'utf8')),
  );
  const fn = manifest.functions.find((f) => f.name === FUNCTION);
  if (!fn)
    throw new Error(
      `the wiring manifest has no ${FUNCTION} (does the demo config still have a slack section?)`,
    );
  const dir = path.join(outdir, fn.asset);
  const module = path.join(dir, fn.module);
  const moduleUrl = pathToFileURL(module).href;
  const bundleBytes = statSync(module).size;

  const running = await startWorld();
  stopWorld = running.stop;
  const { world } = running;
  const secretFile = path.join(workDir, 'signing-secret');
  writeFileSync(secretFile, world.signingSecret);
  chmodSync(secretFile, 0o600);

  // What Lambda sets, the function's own variables as deployed, then the world's endpoints and names.
  const env: NodeJS.ProcessEnv = {
    ...lambdaEnvironment({
      name: fn.name,
      dir,
      region: world.environment.AWS_REGION ?? 'us-east-1',
      memoryMb: fn.memoryMb,
    }),
    ...standInEnvironment(fn.environment),
    ...world.environment,
  };
  // The same with AWS answered at once by the world's instant responder instead of moto.
  const instantEnv: NodeJS.ProcessEnv = { ...env, AWS_ENDPOINT_URL: world.instantAwsUrl };
  const bare = (on: NodeJS.ProcessEnv) => () => timedNode('node -e 0', ['-e', '0'], dir, on);
  const importArgs = ['--input-type=module', '-e', IMPORT_SCRIPT, moduleUrl, fn.export];
  timedNode(
    `${FUNCTION}: import with the network refused`,
    ['--input-type=module', '-e', NETWORK_GUARD + IMPORT_SCRIPT, moduleUrl, fn.export],
    dir,
    env,
  );

  const rows: ColdRow[] = [];
  const record = (what: string, paired: Paired) => {
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
    console.error(`  ${what}: [${fmt(paired.subject)}] ms; bare node: [${fmt(paired.bare)}] ms`);
    rows.push({ what, ...paired });
  };

  record(
    'init: import the bundle',
    await timePairs(PAIRS, bare(env), () => timedNode(`${FUNCTION} import`, importArgs, dir, env)),
  );

  const eventFile = path.join(workDir, 'event.json');
  const timeout = String(fn.timeoutSeconds * 1000);
  const invoke = (on: NodeJS.ProcessEnv) => () =>
    timedNode(
      `${FUNCTION} first invocation`,
      ['--input-type=module', '-e', INVOKE_SCRIPT, moduleUrl, fn.export, eventFile, FUNCTION, timeout],
      dir,
      on,
    );
  /** Before each subject: a fresh occurrence from the stand-in, signed into the event file. */
  const next = (user: 'alice' | 'bob', event: typeof pamRequestEvent) => async () =>
    writeFileSync(eventFile, JSON.stringify(event(await occurrence(world, user), world.signingSecret)));
  /** 200 and an empty body: the work was queued (an error would come back as an ephemeral text or a 503). */
  const queued = async (out: Spawned) => {
    const result = resultOf(out) as { statusCode?: number; body?: string };
    if (result.statusCode !== 200 || result.body !== '')
      throw new Error(`${FUNCTION} answered ${result.statusCode}: ${result.body?.slice(0, 500)}`);
  };

  record(
    'init + first signed `/pam request` (2 × GetSecretValue, views.open, SendMessage)',
    await timePairs(PAIRS, bare(env), invoke(env), { before: next('alice', pamRequestEvent), check: queued }),
  );
  record(
    'the same, AWS answered at once by a local responder instead of moto (the function’s own cost)',
    await timePairs(PAIRS, bare(instantEnv), invoke(instantEnv), {
      before: next('alice', pamRequestEvent),
      check: queued,
    }),
  );
  record(
    'init + first signed Approve click (GetSecretValue, SendMessage)',
    await timePairs(PAIRS, bare(env), invoke(env), { before: next('bob', approveClickEvent), check: queued }),
  );

  // What moto itself adds to the moto rows: its answers, timed from a warm client in the world.
  const motoLatency = (await (await fetch(`${world.controlUrl}/moto-latency`)).json()) as {
    getSecretValue: number;
    sendMessage: number;
  };

  console.error(`warm: ${REQUESTS} rounds of three requests in one process, against moto …`);
  const onMoto = await warm(env, moduleUrl, fn.export, world, secretFile);
  console.error(`warm: ${REQUESTS} rounds of three requests in one process, AWS answered at once …`);
  const onInstant = await warm(instantEnv, moduleUrl, fn.export, world, secretFile);
  const figures = [
    ...onMoto.map((f) => ({ ...f, aws: 'moto' })),
    ...onInstant.map((f) => ({ ...f, aws: 'instant responder' })),
  ];

  // Every request above queued one message, each with its own deduplication id: none may be missing.
  // (The instant responder's sends are not in moto — unless a build that still uses the SDK sent
  // them: its SQS client sends to the queue URL's host, which is moto's.)
  const queues = (await (await fetch(`${world.controlUrl}/queues`)).json()) as {
    commands: number;
    slack: number;
  };
  const expected = { commands: PAIRS + 2 * (REQUESTS + 1), slack: PAIRS + REQUESTS + 1 };
  if (queues.commands < expected.commands || queues.slack < expected.slack)
    throw new Error(
      `messages on the queues: ${JSON.stringify(queues)}, expected at least ${JSON.stringify(expected)}`,
    );

  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  console.log(
    [
      `${new Date().toISOString()} — ${args.assembly ? `assembly ${outdir}` : describeSources()} — nproc ${availableParallelism()}, node ${process.version} — ${PAIRS} pairs, medians; ${REQUESTS} warm rounds — benchmark runtime ${seconds.toFixed(0)} s`,
      '',
      `- bundle \`index.mjs\`: ${bundleBytes} bytes (${(bundleBytes / 1024).toFixed(0)} KB); moto (one request at a time) for Secrets Manager and SQS, the Slack stand-in for views.open`,
      `- messages queued and found in moto: commands ${queues.commands}, Slack work ${queues.slack}`,
      `- moto's own answers (a warm client in the world, median of 21): GetSecretValue ${motoLatency.getSecretValue.toFixed(1)} ms, FIFO SendMessage ${motoLatency.sendMessage.toFixed(1)} ms — the first \`/pam request\` waits for three in a row (moto serves one request at a time): ~${(2 * motoLatency.getSecretValue + motoLatency.sendMessage).toFixed(0)} ms of its moto row that the instant responder's row does not have`,
      '',
      coldTable(rows),
      '',
      warmTable(figures),
    ].join('\n'),
  );
} catch (error) {
  console.error(`bench/slack-ingress: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await stopWorld?.();
  if (args.keep) console.error(`kept ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}
