// The local runtime's own moto server (scripts/moto-server.py: one request at a time, see there
// why), on a free loopback port, stopped with the runtime. Also the bootstrap every account needs:
// an IAM user and access key made *in* that account, so every later call signed with the key lands
// in that account's state (moto keys its state by the account of the access key).
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';

const SERVER_SCRIPT = fileURLToPath(new URL('../scripts/moto-server.py', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface MotoServer {
  readonly endpoint: string;
  readonly pid: number;
  /** Called once if the server exits without `stop()` (it crashed or was killed). */
  onUnexpectedExit(listener: (detail: string) => void): void;
  stop(): Promise<void>;
}

export interface MotoOptions {
  readonly port?: number;
  /** The account of requests signed with a key moto does not know (moto's default: 123456789012). */
  readonly defaultAccount?: string;
}

export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const chosen = options.port ?? (await freePort());
  const args = [SERVER_SCRIPT, '-H', '127.0.0.1', '-p', String(chosen)];
  if (options.defaultAccount) args.push('--default-account', options.defaultAccount);
  const child: ChildProcess = spawn('python3', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = `${stderr}${chunk.toString()}`.slice(-4000);
  });
  // Whatever happens to this process, moto goes with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const endpoint = `http://127.0.0.1:${chosen}`;
  let stopping = false;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null)
      throw new Error(`moto server exited (${child.exitCode}): ${stderr.trim().split('\n').pop()}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 300) {
      child.kill('SIGKILL');
      throw new Error(`moto server did not answer at ${endpoint}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    endpoint,
    pid: child.pid ?? -1,
    onUnexpectedExit(listener) {
      child.once('exit', (code, signal) => {
        if (!stopping)
          listener(`moto server exited (${signal ?? code}): ${stderr.trim().split('\n').pop() ?? ''}`);
      });
    },
    async stop() {
      stopping = true;
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface AccountCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Creates an IAM user with an access key in `accountId`; calls signed with it act in that account. */
export async function accountCredentials(
  endpoint: string,
  region: string,
  accountId: string,
): Promise<AccountCredentials> {
  const iam = new IAMClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'bootstrap', secretAccessKey: 'bootstrap' },
    maxAttempts: 1,
  });
  // The one call that names its account by header: there is no key in that account yet.
  iam.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-moto-account-id'] = accountId;
      return next(args);
    },
    { step: 'build', name: 'motoAccountId' },
  );
  await iam.send(new CreateUserCommand({ UserName: 'cloud-pam-local' }));
  // The runtime's and a person's identity: everything (the functions get only their roles' actions).
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'cloud-pam-local',
      PolicyName: 'local-administrator',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      }),
    }),
  );
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'cloud-pam-local' }));
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey)
    throw new Error(`moto made no access key in ${accountId}`);
  iam.destroy();
  return { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
}

/**
 * From now on moto checks every request's signature and its identity policies (IAM users and
 * assumed roles), as AWS does; until now it answered everyone (`INITIAL_NO_AUTH_ACTION_COUNT`).
 */
export async function enforceIam(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  if (!response.ok) throw new Error(`moto refused to enforce IAM: HTTP ${response.status}`);
}
