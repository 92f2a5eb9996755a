// `make start`: synthesize (or reuse) the demo cloud assembly, start the local runtime, print where
// it is and three commands to try, and stop everything it started on SIGINT/SIGTERM.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { DEMO_USERS } from './identity.ts';
import { type LocalRuntime, startLocalRuntime } from './runtime.ts';
import { ensureAssembly, REPO_ROOT } from './synth.ts';

const DEFAULT_PORT = 4010;

/** The three commands the banner prints; test/e2e runs them verbatim. */
export const TRY_COMMANDS: readonly string[] = [
  'npx pam entitlements --as alice',
  'npx pam request dev-readonly --account 333333333333 --for 1h --reason "read the dev logs" --as alice',
  'npx pam list --approvals --as bob',
];

/** How to try the Slack bot against the local Slack stand-in (docs/slack.md "Try it locally"). */
export const SLACK_TRY_COMMANDS: readonly string[] = [
  'npx pam slack command --as alice "/pam request"',
  'npx pam slack submit --as alice --target dev-readonly:333333333333 --duration 1h --reason "read the dev logs"',
  'npx pam slack click --as bob approve <request id>',
];

function portFromEnv(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`make start: ${name} must be a port number\n`);
    process.exit(2);
  }
  return port;
}

/** The pid and API of a runtime that still owns `stateDir` (its local.json names a live process). */
function runningRuntime(stateDir: string): { pid: number; apiUrl: string } | undefined {
  try {
    const { pid, apiUrl } = JSON.parse(readFileSync(path.join(stateDir, 'local.json'), 'utf8')) as {
      pid?: unknown;
      apiUrl?: unknown;
    };
    if (typeof pid !== 'number' || pid === process.pid) return undefined;
    process.kill(pid, 0);
    return { pid, apiUrl: String(apiUrl) };
  } catch {
    // No file, not JSON, or its process is gone (a crash): this start takes over.
    return undefined;
  }
}

function describeUsers(): string {
  const byRole = new Map<string, string[]>();
  for (const user of DEMO_USERS) byRole.set(user.role, [...(byRole.get(user.role) ?? []), user.name]);
  return [...byRole]
    .map(([role, names]) => `${names.join(', ')} (${role}${names.length > 1 ? 's' : ''})`)
    .join('; ');
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const requested = portFromEnv('PAM_PORT');
  // Where local.json, logs and the run files go (default .pam); the CLI finds it via PAM_LOCAL_FILE.
  const stateDir = process.env.PAM_STATE_DIR || undefined;
  const running = runningRuntime(stateDir ?? path.join(REPO_ROOT, '.pam'));
  if (running) {
    log(
      `make start: already running (pid ${running.pid}, ${running.apiUrl}); stop it with Ctrl-C first, or set PAM_STATE_DIR for a second one`,
    );
    process.exit(2);
  }
  const assembly = await ensureAssembly({ log });
  log(
    assembly.synthesized
      ? `synthesized cdk.out in ${assembly.seconds.toFixed(1)} s`
      : 'cdk.out is current: reusing it',
  );

  let runtime: LocalRuntime | undefined;
  let stopping = false;
  const stop = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log(`\n${signal}: stopping the local runtime (handlers, event sources, moto)…`);
    await runtime?.stop();
    log('stopped.');
    process.exit(code);
  };
  const onFatal = (reason: string) => void stop(reason, 1);
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  try {
    runtime = await startLocalRuntime({
      assemblyDir: assembly.dir,
      port: requested ?? DEFAULT_PORT,
      stateDir,
      log,
      onFatal,
    });
  } catch (error) {
    if (requested === undefined && (error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      runtime = await startLocalRuntime({ assemblyDir: assembly.dir, port: 0, stateDir, log, onFatal });
    } else throw error;
  }
  if (stopping) return;
  const seconds = (performance.now() / 1000).toFixed(1);
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out();
  out(`ready: ${runtime.apiUrl}`);
  out(`aws endpoint: ${runtime.awsEndpoint}`);
  const stateFile = path.relative(process.cwd(), runtime.localFile);
  out(`  (moto: any credentials see hub account ${runtime.hubAccountId}, ${runtime.region};`);
  out(
    `   e.g. AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws --endpoint-url ${runtime.awsEndpoint} --region ${runtime.region} dynamodb list-tables)`,
  );
  out(`demo users: ${describeUsers()}`);
  out('try:');
  for (const command of TRY_COMMANDS) out(`  ${command}`);
  if (runtime.slack) {
    out(
      `slack (a local stand-in answers as Slack and prints each Web API call; signed requests go to ${runtime.apiUrl}/slack/*):`,
    );
    for (const command of SLACK_TRY_COMMANDS) out(`  ${command}`);
  }
  out();
  out(
    `State lives only as long as this process (started in ${seconds} s). Handler logs: ${path.join(path.dirname(stateFile), 'logs')}/. Ctrl-C stops everything.`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`make start: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
