// The real executable, as `npx pam` runs it: bin/pam.js registers tsx and runs cli/main.ts. The AWS
// SDK's Node-version notice must not reach the user's terminal, also when an SDK client is built.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { localFileContent } from './harness.ts';

const BIN = fileURLToPath(new URL('../../../bin/pam.js', import.meta.url));

function runBin(args: string[], env: Record<string, string> = {}) {
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('PAM_')),
  );
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: mkdtempSync(path.join(tmpdir(), 'pam-bin-')),
    env: { ...cleanEnv, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('bin/pam.js', () => {
  it('--help exits 0, prints the usage and nothing on stderr', () => {
    const result = runBin(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('usage: pam <command> [arguments] [flags]');
    expect(result.stdout).toContain('audit verify');
    expect(result.stderr).toBe('');
  });

  it('builds an SDK client without the SDK warning: one error line and exit 2', async () => {
    // Prepare: a local runtime file (this process stands in for its pid) whose endpoint is closed.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'pam-bin-local-'));
    mkdirSync(path.join(dir, '.pam'));
    const file = path.join(dir, '.pam', 'local.json');
    writeFileSync(
      file,
      JSON.stringify(localFileContent({ awsEndpoint: `http://127.0.0.1:${port}`, pid: process.pid })),
    );
    // Act
    const result = runBin(['audit', 'verify'], { PAM_LOCAL_FILE: file });
    // Assess
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript|Warning:/);
    expect(result.stderr).toBe(`pam: cannot reach http://127.0.0.1:${port} (is \`make start\` running?)\n`);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
  });

  // The machine's own node (not the project's pinned Node.js 24): on this machine kind, Node.js 20.
  const machineNode = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .map((dir) => path.join(dir, 'node'))
    .find((file) => existsSync(file));
  const machineMajor = machineNode
    ? Number(
        spawnSync(machineNode, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout,
      )
    : undefined;
  const olderNode = machineMajor !== undefined && machineMajor < 24 ? machineNode : undefined;

  it.skipIf(!olderNode)("started by the machine's older node, runs on the pinned Node.js 24 instead", () => {
    const result = spawnSync(olderNode as string, [BIN, '--help'], { encoding: 'utf8', timeout: 60_000 });

    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('usage: pam <command> [arguments] [flags]');
    expect(result.status).toBe(0);
  });

  it.skipIf(!olderNode)('says in one line what it needs when the pinned Node.js is not installed', () => {
    const clone = mkdtempSync(path.join(tmpdir(), 'pam-bin-bare-'));
    mkdirSync(path.join(clone, 'bin'));
    copyFileSync(BIN, path.join(clone, 'bin', 'pam.js'));

    const result = spawnSync(olderNode as string, [path.join(clone, 'bin', 'pam.js'), '--help'], {
      encoding: 'utf8',
      timeout: 60_000,
    });

    expect(result.stderr).toMatch(
      /^pam: needs Node\.js 24 \(this is v\d+\.\d+\.\d+\); run `make install` in the clone, then `npx pam`\n$/,
    );
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
  });
});
