// `make start` as a person runs it: it prints `ready:` and the endpoints, and Ctrl-C (SIGINT to the
// terminal's foreground process group) leaves no process it started behind — moto included — and
// removes the local.json that pointed the CLI at it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRY_COMMANDS } from '../../local/start.ts';
import { ensureAssembly } from '../../local/synth.ts';

/** Every live process whose process group is `pgid` (from /proc). */
function processGroup(pgid: number): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid pgrp …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid || fields[0] === 'Z') continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      found.push({ pid: Number(entry), command });
    } catch {
      // gone while reading
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

let child: ChildProcess | undefined;

beforeAll(async () => {
  // cdk.out for the current sources exists (synthesized here, or by another file, under a lock).
  await ensureAssembly();
});

afterAll(() => {
  // Only if the test failed half-way: never leave the group running.
  if (child?.pid && alive(child.pid)) process.kill(-child.pid, 'SIGKILL');
});

describe('make start', () => {
  it('reuses cdk.out, prints ready and the AWS endpoint, and after SIGINT leaves no process behind', async () => {
    // Prepare + act: start it in its own process group, as a terminal would.
    const stateDir = mkdtempSync(path.join(tmpdir(), 'pam-make-start-'));
    child = spawn('make', ['--no-print-directory', 'start'], {
      detached: true,
      env: { ...process.env, PAM_STATE_DIR: stateDir, PAM_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child?.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/State lives only/.test(stdout)) resolve();
      });
      void exited.then((code) => reject(new Error(`make start exited (${code}) before ready: ${stderr}`)));
    });

    // Assess: the banner.
    const apiUrl = /^ready: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)?.[1];
    const awsEndpoint = /^aws endpoint: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)?.[1];
    expect(apiUrl, stdout).toBeDefined();
    expect(awsEndpoint, stdout).toBeDefined();
    expect(stdout).toMatch(/demo users: alice, erin/);
    // The commands printed are the ones test/e2e/lifecycle.test.ts runs verbatim.
    for (const command of TRY_COMMANDS) expect(stdout).toContain(`  ${command}\n`);
    // A restart with unchanged sources does not synthesize again.
    expect(stderr).toMatch(/cdk\.out is current: reusing it/);
    expect(stderr).not.toMatch(/synthesized cdk\.out/);
    expect(existsSync(path.join(stateDir, 'local.json'))).toBe(true);
    const unsigned = await fetch(`${apiUrl}/v1/requests`);
    expect(unsigned.status).toBe(403);
    // Any AWS client with any credentials sees the hub's resources at the printed endpoint.
    const anyone = new DynamoDBClient({
      endpoint: awsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const { TableNames = [] } = await anyone.send(new ListTablesCommand({}));
    anyone.destroy();
    expect(TableNames.some((name) => name.includes('AccessTable'))).toBe(true);

    // The processes it started: make, npx/tsx/node, and moto.
    const pgid = child.pid as number;
    const started = processGroup(pgid);
    expect(started.some((p) => p.command.includes('moto-server.py'))).toBe(true);
    expect(started.length).toBeGreaterThanOrEqual(3);

    // Act: Ctrl-C.
    process.kill(-pgid, 'SIGINT');
    await exited;

    // Assess: nothing left, moto's port closed, local.json gone.
    for (let attempt = 0; attempt < 100 && started.some((p) => alive(p.pid)); attempt++)
      await new Promise((r) => setTimeout(r, 100));
    expect(started.filter((p) => alive(p.pid))).toEqual([]);
    expect(processGroup(pgid)).toEqual([]);
    await expect(fetch(`${awsEndpoint}/moto-api/`)).rejects.toThrow();
    expect(existsSync(path.join(stateDir, 'local.json'))).toBe(false);
    expect(stderr).toMatch(/stopped\./);
  });
});
