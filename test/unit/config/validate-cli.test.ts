import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runValidateCli, validateConfigFile } from '#config/validate-cli.ts';
import { yamlWith } from './config-fixture.ts';

function tempFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'pam-config-')), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runValidateCli(
    args,
    (line) => out.push(line),
    (line) => err.push(line),
  );
  return { code, out, err };
}

describe('validate-cli', () => {
  it('validates the example by default', () => {
    expect(run([])).toEqual({ code: 0, out: ['OK infra/config/example.yaml: 4 entitlements'], err: [] });
  });

  it('prints every problem on its own line and exits 1', () => {
    // Prepare
    const file = tempFile(
      yamlWith((d) => {
        d.entitlements[0].approval.required = 0;
        d.entitlements[1].kind = 'session';
      }),
    );
    // Act
    const result = run([file]);
    // Assess
    expect(result).toEqual({
      code: 1,
      out: [],
      err: [
        'entitlements[0].approval.required: expected a number ≥ 1',
        'entitlements[1].kind: expected "aws-role" ("session" is reserved, not supported yet)',
      ],
    });
  });

  it('exits 2 when the file cannot be read', () => {
    const result = run(['/nonexistent/config.yaml']);
    expect(result.code).toBe(2);
    expect(result.err).toEqual(['/nonexistent/config.yaml: cannot read the file (ENOENT)']);
  });

  it('exits 2 on usage errors', () => {
    expect(run(['a.yaml', 'b.yaml']).code).toBe(2);
    expect(run(['--strict']).code).toBe(2);
  });

  it('returns the validated config from validateConfigFile', () => {
    const result = validateConfigFile(tempFile(yamlWith()));
    expect(result.ok).toBe(true);
    expect(result.issues).toEqual([]);
  });
});
