// The cloud assembly the local runtime hosts: `cdk synth` with the demo config into `cdk.out`, reused
// when nothing it is built from changed (the sources, the lock file, cdk.json and the config).
// Concurrent callers (test workers, a second `make start`) take a lock so one synthesizes and the
// others reuse its output.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WIRING_FILE } from '../infra/wiring/manifest.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_ASSEMBLY_DIR = path.join(REPO_ROOT, 'cdk.out');
export const DEMO_CONFIG = 'infra/config/example.yaml';
const HASH_FILE = 'pam-source-hash';
const SOURCE_DIRS = ['infra', 'functions', 'shared'];
const SOURCE_FILES = ['package-lock.json', 'cdk.json', 'tsconfig.json'];

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile()) out.push(full);
  }
}

/** SHA-256 over the path and content of every file synth reads. */
export function sourceHash(configFile: string): string {
  const files: string[] = [];
  for (const dir of SOURCE_DIRS) walk(path.join(REPO_ROOT, dir), files);
  for (const file of SOURCE_FILES) files.push(path.join(REPO_ROOT, file));
  files.push(path.resolve(REPO_ROOT, configFile));
  const hash = createHash('sha256');
  for (const file of files.sort()) {
    hash.update(path.relative(REPO_ROOT, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

export interface AssemblyOptions {
  readonly outdir?: string;
  readonly configFile?: string;
  /** Where synth's own output goes (default: inherited stderr). */
  readonly log?: (line: string) => void;
}

export interface Assembly {
  readonly dir: string;
  /** False when an earlier synth of the same sources was reused. */
  readonly synthesized: boolean;
  readonly seconds: number;
}

function isCurrent(outdir: string, hash: string): boolean {
  const file = path.join(outdir, HASH_FILE);
  return (
    existsSync(file) &&
    existsSync(path.join(outdir, WIRING_FILE)) &&
    readFileSync(file, 'utf8').trim() === hash
  );
}

async function withLock<T>(lockDir: string, run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than 10 minutes belongs to a synth that died.
      if (Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 10 * 60_000) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await run();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Synthesizes into `outdir` unless it already holds a synth of the current sources. */
export async function ensureAssembly(options: AssemblyOptions = {}): Promise<Assembly> {
  const outdir = options.outdir ?? DEFAULT_ASSEMBLY_DIR;
  const configFile = options.configFile ?? DEMO_CONFIG;
  const started = Date.now();
  const hash = sourceHash(configFile);
  if (isCurrent(outdir, hash)) return { dir: outdir, synthesized: false, seconds: 0 };
  return withLock(`${outdir}.lock`, async () => {
    if (isCurrent(outdir, hash))
      return { dir: outdir, synthesized: false, seconds: (Date.now() - started) / 1000 };
    rmSync(path.join(outdir, HASH_FILE), { force: true });
    await runSynth(outdir, configFile, options.log);
    writeFileSync(path.join(outdir, HASH_FILE), `${hash}\n`);
    return { dir: outdir, synthesized: true, seconds: (Date.now() - started) / 1000 };
  });
}

function runSynth(outdir: string, configFile: string, log?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npx',
      ['cdk', 'synth', '--no-notices', '-q', '-c', `config=${configFile}`, '-o', outdir],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) {
        resolve();
        return;
      }
      for (const line of output.trim().split('\n').slice(-20)) log?.(line);
      reject(
        new Error(`cdk synth failed (exit ${code}): ${output.trim().split('\n').slice(-5).join(' | ')}`),
      );
    });
  });
}
