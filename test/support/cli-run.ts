// Runs the pam CLI in-process with captured output and an explicit environment and working folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CliDeps } from '../../cli/context.ts';
import { main } from '../../cli/main.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCliWith(
  deps: CliDeps,
  argv: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    argv,
    {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      env: options.env ?? {},
      cwd: options.cwd ?? mkdtempSync(path.join(tmpdir(), 'pam-cwd-')),
    },
    deps,
  );
  return { code, stdout, stderr };
}
