// How long `make start` takes to print `ready:` after its install step, on a fresh clone: cold (no
// cdk.out: synth included) and warm (a restart with unchanged sources reuses cdk.out). Clones this
// repository's HEAD into a temp dir, installs there (not timed: that is the install step), then times
// `make start` from spawn to the `ready:` line, twice, stopping it with SIGINT in between.
// Run: `make bench-start` (or `npx tsx bench/start/run.ts`). Prints one line per run.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const source = path.resolve(import.meta.dirname, '..', '..');
const clone = mkdtempSync(path.join(tmpdir(), 'pam-bench-start-'));

function run(command: string, args: string[], cwd: string): void {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function timeStart(label: string): Promise<number> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'pam-bench-state-'));
  const started = performance.now();
  const child = spawn('make', ['--no-print-directory', 'start'], {
    cwd: clone,
    detached: true,
    env: { ...process.env, PAM_PORT: '0', PAM_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const seconds = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/^ready: /m.test(out)) resolve((performance.now() - started) / 1000);
    });
    void exited.then(() => reject(new Error(`make start exited before ready:\n${stderr}`)));
  });
  process.kill(-(child.pid as number), 'SIGINT');
  await exited;
  rmSync(stateDir, { recursive: true, force: true });
  console.log(`${label}: ready in ${seconds.toFixed(1)} s after the install step`);
  return seconds;
}

try {
  run('git', ['clone', '--quiet', source, clone], source);
  const installStarted = performance.now();
  run('make', ['--no-print-directory', 'install'], clone);
  console.log(`install step (not counted): ${((performance.now() - installStarted) / 1000).toFixed(1)} s`);
  await timeStart('cold (fresh clone, no cdk.out: synth included)');
  await timeStart('warm (restart, sources unchanged: cdk.out reused)');
} finally {
  rmSync(clone, { recursive: true, force: true });
}
