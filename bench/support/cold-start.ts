// How the benchmarks time a cold start, shared by bench/cold-start and bench/slack-ingress: a fresh
// `node` process, timed from spawn to exit by the bench's own clock (`spawnSync` between two
// `process.hrtime` readings, no shell), paired with `node -e 0` in the same environment timed the
// same way, the order alternating within pairs; a figure is the median of its pairs. Also the child
// scripts (import a bundle; import it with the network refused; import it and invoke its handler
// once) and the environment Lambda itself gives a function.
import { spawnSync } from 'node:child_process';

/** Imports the bundle and checks its export, as Lambda's runtime does at init. */
export const IMPORT_SCRIPT = `
const [url, name] = process.argv.slice(1);
const loaded = await import(url);
if (typeof loaded[name] !== 'function') { console.error('the bundle exports no function ' + name); process.exitCode = 3; }
`;

/** Run once per bundle before timing: the same import with every outgoing socket refused and reported. */
export const NETWORK_GUARD = `
import net from 'node:net';
import dgram from 'node:dgram';
const attempts = [];
const where = (args) => { const a = Array.isArray(args[0]) ? args[0][0] : args[0]; return a && typeof a === 'object' ? (a.host ?? a.path ?? '?') + ':' + (a.port ?? '') : String(a); };
net.Socket.prototype.connect = function (...args) { attempts.push('tcp ' + where(args)); throw new Error('no network during init'); };
dgram.Socket.prototype.send = function () { attempts.push('udp'); throw new Error('no network during init'); };
process.on('exit', () => { if (attempts.length) { console.error('network during init: ' + attempts.join(', ')); process.exitCode = 4; } });
`;

/**
 * Imports the bundle and invokes its handler once with the event in the file argv[3]; prints the
 * result on a line of its own (`resultOf`). Args: module URL, export, event file, function name, timeout ms.
 * Its own two modules are taken with process.getBuiltinModule: an ESM `import` of node:fs builds
 * fs's whole namespace (loading node:stream and fs/promises: ~4 ms alone, 1–3 ms of a first
 * invocation that loads node:http anyway), time that was the harness's, not the function's, and was
 * charged to the function until 2026-11-30 (bench/README.md says which figures).
 */
export const INVOKE_SCRIPT = `
const { readFileSync } = process.getBuiltinModule('node:fs');
const { randomUUID } = process.getBuiltinModule('node:crypto');
const [url, name, eventFile, functionName, timeoutMs] = process.argv.slice(1);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const loaded = await import(url);
const started = Date.now();
const requestId = randomUUID();
const context = {
  functionName, functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:' + process.env.AWS_REGION + ':000000000000:function:' + functionName,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '256', awsRequestId: requestId,
  logGroupName: '/aws/lambda/' + functionName, logStreamName: 'bench/' + requestId,
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, Number(timeoutMs) - (Date.now() - started)),
  done() {}, fail() {}, succeed() {},
};
const result = await loaded[name](event, context);
process.stdout.write('\\n@@result ' + JSON.stringify(result ?? null) + '\\n');
`;

/** A child that has not exited by then is stuck: the benchmark stops with its output. */
const CHILD_TIMEOUT_MS = 120_000;

export interface Spawned {
  readonly ms: number;
  readonly stdout: string;
}

/** `node <args>` from spawn to exit, by this process's own clock. Throws (with its stderr) unless it exits 0. */
export function timedNode(
  what: string,
  nodeArgs: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Spawned {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, nodeArgs, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: CHILD_TIMEOUT_MS,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.error) throw new Error(`${what}: ${child.error.message}`);
  if (child.status !== 0) {
    const tail = `${child.stderr}\n${child.stdout}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${what}: exited with ${child.status ?? child.signal}\n${tail}`);
  }
  return { ms, stdout: child.stdout };
}

/** What INVOKE_SCRIPT printed as the handler's result. */
export function resultOf(out: Spawned): unknown {
  const line = out.stdout.split('\n').find((l) => l.startsWith('@@result '));
  if (!line) throw new Error(`the invocation printed no result:\n${out.stdout.slice(-2000)}`);
  return JSON.parse(line.slice('@@result '.length));
}

export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface Paired {
  readonly subject: number[];
  readonly bare: number[];
}

/**
 * `pairs` pairs of (bare node, subject), alternating which goes first. `before` runs untimed before
 * each subject (e.g. making the request the command approves); `check` sees each subject's output.
 */
export async function timePairs(
  pairs: number,
  bare: () => Spawned,
  subject: () => Spawned,
  hooks: { before?: () => Promise<void>; check?: (out: Spawned) => Promise<void> } = {},
): Promise<Paired> {
  const result: Paired = { subject: [], bare: [] };
  for (let i = 0; i < pairs; i++) {
    await hooks.before?.();
    const runSubject = async () => {
      const out = subject();
      result.subject.push(out.ms);
      await hooks.check?.(out);
    };
    if (i % 2 === 0) {
      result.bare.push(bare().ms);
      await runSubject();
    } else {
      await runSubject();
      result.bare.push(bare().ms);
    }
  }
  return result;
}

/** What Lambda itself sets for a function (before the function's own variables). */
export function lambdaEnvironment(fn: {
  readonly name: string;
  readonly dir: string;
  readonly region: string;
  readonly memoryMb: number;
}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    LANG: 'en_US.UTF-8',
    TZ: 'UTC',
    LAMBDA_TASK_ROOT: fn.dir,
    AWS_REGION: fn.region,
    AWS_DEFAULT_REGION: fn.region,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'bench',
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
    AWS_ACCESS_KEY_ID: 'ASIASTANDIN000000001',
    AWS_SECRET_ACCESS_KEY: 'stand-in',
    AWS_SESSION_TOKEN: 'stand-in',
  };
}
