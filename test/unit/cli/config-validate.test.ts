// `pam config validate` wraps the same validation as synth (infra/config/validate-cli.ts): every
// problem with its field path, exit 0 valid, 1 invalid, 2 unreadable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { yamlWith } from '../config/config-fixture.ts';
import { runCli } from './harness.ts';

const EXAMPLE = fileURLToPath(new URL('../../../infra/config/example.yaml', import.meta.url));

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'pam-config-'));
}

describe('pam config validate', () => {
  it('a valid file: exit 0 and the count', async () => {
    expect(await runCli(['config', 'validate', EXAMPLE])).toEqual({
      code: 0,
      stdout: `OK ${EXAMPLE}: 4 entitlements\n`,
      stderr: '',
    });
  });

  it('an invalid file: every problem with its field path, exit 1, one summary line on stderr', async () => {
    // Prepare: a relative path, resolved against the working directory.
    const cwd = tempDir();
    writeFileSync(
      path.join(cwd, 'bad.yaml'),
      yamlWith((d) => {
        d.entitlements[0].approval.required = 0;
        d.entitlements[1].kind = 'session';
      }),
    );
    // Act
    const run = await runCli(['config', 'validate', 'bad.yaml'], { cwd });
    // Assess
    expect(run.code).toBe(1);
    const issues = run.stdout.trimEnd().split('\n');
    expect(issues.length).toBeGreaterThanOrEqual(2);
    expect(issues.some((line) => line.startsWith('entitlements[0].approval.required: '))).toBe(true);
    expect(issues.some((line) => line.startsWith('entitlements[1].kind: '))).toBe(true);
    expect(run.stderr).toBe(`pam: bad.yaml is invalid: ${issues.length} problems\n`);
  });

  it('--json: the same verdict as one document', async () => {
    const run = await runCli(['config', 'validate', EXAMPLE, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ ok: true, file: EXAMPLE, entitlements: 4, issues: [] });
  });

  it('an unreadable file: exit 2, one line', async () => {
    const run = await runCli(['config', 'validate', 'missing.yaml'], { cwd: tempDir() });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^pam: .*missing\.yaml: cannot read the file \(ENOENT\)\n$/);
  });
});
