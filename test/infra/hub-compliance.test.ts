// The hub passes cdk-nag's AWS Solutions pack with every finding either fixed or acknowledged on
// the exact construct with a reason, and cfn-lint finds no errors in the synthesized templates.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '#config/load.ts';
import { defineHub, type HubStacks } from '../../infra/app.ts';

const run = promisify(execFile);

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

let app: App;
let stacks: HubStacks;
let assembly: CloudAssembly;

beforeAll(() => {
  app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'cloud-pam-cdk-')) });
  stacks = defineHub(app, loadConfigFile('infra/config/example.yaml'), { region: 'eu-west-1' });
  // Synth throws (in memory) when cdk-nag reports an unacknowledged error.
  assembly = app.synth();
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding, error or warning', () => {
    const report = JSON.parse(
      readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;
    const findings = report.pluginReports
      .filter((plugin) => plugin.pluginName === 'AwsSolutions')
      .flatMap((plugin) =>
        plugin.violations.flatMap((v) =>
          v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`),
        ),
      );
    expect(findings).toEqual([]);
  });

  it('leaves CDK’s built-in CloudFormation validation with nothing to report either', () => {
    const report = JSON.parse(
      readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;
    expect(report.pluginReports.flatMap((plugin) => plugin.violations.map((v) => v.ruleName))).toEqual([]);
  });

  it('leaves no AwsSolutions annotation on either stack', () => {
    for (const stack of [stacks.data, stacks.service]) {
      const annotations = Annotations.fromStack(stack);
      expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    }
  });

  it('acknowledges findings only on the resources they concern, each with a reason', () => {
    const acknowledgments: { path: string; id: string; reason: string; scope: IConstruct }[] = [];
    for (const construct of app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          acknowledgments.push({ path: construct.node.path, id, reason, scope: construct });
        }
      }
    }
    expect(acknowledgments.length).toBeGreaterThan(0);
    for (const ack of acknowledgments) {
      expect(Stack.isStack(ack.scope), `${ack.id} acknowledged on a whole stack`).toBe(false);
      expect(ack.scope).not.toBe(app);
      expect(ack.reason.length, `${ack.id} at ${ack.path} needs a real reason`).toBeGreaterThan(60);
      // IAM wildcards are acknowledged finding by finding, never as a whole rule.
      if (ack.id.includes('IAM5') || ack.id.includes('IAM4')) expect(ack.id).toMatch(/\[.+\]$/);
    }
    // The data stack needs no acknowledgment at all.
    expect(acknowledgments.filter((a) => a.path.startsWith(`${stacks.data.node.path}/`))).toEqual([]);
  });
});

describe('cfn-lint', () => {
  it('finds no errors in the synthesized templates', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cloud-pam-cfn-lint-'));
    const files = assembly.stacks.map((stack) => {
      const file = path.join(dir, `${stack.stackName}.template.json`);
      writeFileSync(file, JSON.stringify(stack.template, null, 2));
      return file;
    });
    expect(files).toHaveLength(2);
    const result = await run('cfn-lint', ['--non-zero-exit-code', 'error', ...files]).then(
      ({ stdout }) => ({ code: 0, output: stdout }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? 1,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );
    expect(result.output.split('\n').filter((line) => /^E\d{4}/.test(line))).toEqual([]);
    expect(result.code).toBe(0);
  });
});
