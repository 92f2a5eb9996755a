// `npx tsx infra/config/validate-cli.ts [file]`: validates an entitlement config the way synth
// does. Prints `OK <file>: N entitlements`, or every problem on its own line. Exit codes: 0 valid,
// 1 invalid, 2 usage or unreadable file. `validateConfigFile` is the core the `pam` CLI wraps.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { validateConfigText } from '#config/load.ts';
import type { PamConfig } from '#domain/model.ts';

export const DEFAULT_CONFIG_FILE = 'infra/config/example.yaml';

export type FileValidation =
  | { readonly ok: true; readonly issues: readonly []; readonly config: PamConfig }
  | { readonly ok: false; readonly issues: readonly string[]; readonly unreadable?: true };

/** Validates a config file; never throws. `unreadable` is set when the file could not be read. */
export function validateConfigFile(path: string): FileValidation {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { ok: false, issues: [`${path}: cannot read the file (${reason})`], unreadable: true };
  }
  const result = validateConfigText(text, path);
  return result.ok ? { ok: true, issues: [], config: result.config } : { ok: false, issues: result.issues };
}

const USAGE = `usage: validate-cli [file]   (default ${DEFAULT_CONFIG_FILE})`;

/** Runs the CLI; returns the exit code. Output goes through the given writers so tests can capture it. */
export function runValidateCli(
  args: readonly string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): number {
  if (args.includes('-h') || args.includes('--help')) {
    out(USAGE);
    return 0;
  }
  if (args.length > 1 || args.some((arg) => arg.startsWith('-'))) {
    err(USAGE);
    return 2;
  }
  const file = args[0] ?? DEFAULT_CONFIG_FILE;
  const result = validateConfigFile(file);
  if (result.ok) {
    const count = result.config.entitlements.length;
    out(`OK ${file}: ${count} ${count === 1 ? 'entitlement' : 'entitlements'}`);
    return 0;
  }
  for (const issue of result.issues) err(issue);
  return 'unreadable' in result && result.unreadable ? 2 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = runValidateCli(process.argv.slice(2));
}
