// `cdk synth` itself (the CLI, offline) refuses a config that breaks the guardrails, naming the
// field, before anything is bundled or deployed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function synth(configFile: string) {
  const out = mkdtempSync(join(tmpdir(), 'pam-synth-'));
  return spawnSync('npx', ['cdk', 'synth', '--no-notices', '-q', '-c', `config=${configFile}`, '-o', out], {
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    timeout: 240_000,
  });
}

describe('cdk synth with a config that breaks the guardrails', () => {
  it('fails naming the entitlement field that must say privileged: true', () => {
    // Prepare: the example config with prod-admin's privileged flag removed (it grants AdministratorAccess).
    const example = readFileSync('infra/config/example.yaml', 'utf8');
    const broken = example.replace(/^(\s+)privileged: true\n/m, '');
    expect(broken).not.toBe(example);
    const file = join(mkdtempSync(join(tmpdir(), 'pam-config-')), 'broken.yaml');
    writeFileSync(file, broken);

    // Act
    const result = synth(file);

    // Assess
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/entitlements\[\d+\]\.privileged: expected true/);
  });
});
