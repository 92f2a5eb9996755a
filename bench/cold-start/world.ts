// The world the first invocations run against, in its own process: the local runtime (its own moto,
// the fake Identity Center, the AWS proxy, the gateway) on the cloud assembly named by argv[2], with
// background polling off. It must live in another process because bench/cold-start/run.ts times each
// invocation with `spawnSync`, which blocks the bench's event loop while the bundle calls the proxy.
// Prints one JSON line (`WorldInfo`) on stdout once ready; stops when stdin closes or on SIGTERM/SIGINT.
// Logs go to stderr (the bench shows them only if the world fails to start).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalRuntime } from '../../local/runtime.ts';

/** What run.ts needs to invoke a bundle the way the local runtime would. */
export interface WorldInfo {
  readonly apiUrl: string;
  readonly region: string;
  readonly hubAccountId: string;
  /** Demo user name → Identity Store user id. */
  readonly userIds: Readonly<Record<string, string>>;
  readonly functions: Readonly<
    Record<
      string,
      {
        /** The bundle's environment as the local runtime gives it (template values resolved, moto's credentials). */
        readonly environment: Readonly<Record<string, string>>;
        readonly module: string;
        readonly exportName: string;
        /** What SQS stamps on messages this function sends: `<RoleId>:<session>`. */
        readonly senderId: string;
      }
    >
  >;
}

const assemblyDir = process.argv[2];
if (!assemblyDir) {
  process.stderr.write('usage: world.ts <cloud assembly dir>\n');
  process.exit(2);
}
const stateDir = mkdtempSync(path.join(tmpdir(), 'pam-bench-cold-world-'));
const runtime = await startLocalRuntime({
  assemblyDir,
  stateDir,
  port: 0,
  pollIntervalMs: 0,
  log: (line) => process.stderr.write(`${line}\n`),
}).catch((error: unknown) => {
  rmSync(stateDir, { recursive: true, force: true });
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await runtime.stop().catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();

const info: WorldInfo = {
  apiUrl: runtime.apiUrl,
  region: runtime.region,
  hubAccountId: runtime.hubAccountId,
  userIds: runtime.directory.userIds,
  functions: Object.fromEntries(
    [...runtime.functions].map(([name, host]) => [
      name,
      {
        environment: host.spec.environment,
        module: host.spec.module,
        exportName: host.spec.exportName,
        senderId: runtime.functionCredentials.get(name)?.senderId ?? '',
      },
    ]),
  ),
};
process.stdout.write(`${JSON.stringify(info)}\n`);
