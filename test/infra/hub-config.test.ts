// How the config reaches the hub: synth refuses a config whose participating groups lack ids, and
// every function bundle carries the validated config as pam-config.json next to its handler.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, missingGroupIds } from '#config/load.ts';
import type { PamConfig } from '#domain/model.ts';
import { defineHub } from '../../infra/app.ts';
import { participatingGroups } from '../../infra/constructs/requester-access.ts';
import { functionFolders } from '../support/function-folders.ts';
import { standInEnvironment } from '../support/stand-in-environment.ts';

const run = promisify(execFile);

interface FunctionProperties {
  Code: { S3Key: string };
  Environment: { Variables: Record<string, unknown> };
}

const outdir = () => mkdtempSync(path.join(tmpdir(), 'cloud-pam-cdk-'));

describe('hub config', () => {
  it('fails synth naming every participating group that has no Identity Store id', () => {
    // Prepare
    const config = loadConfigFile('infra/config/example.yaml');
    const [first, second] = participatingGroups(config);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    const groupIds = { ...config.identityCenter.groupIds };
    delete groupIds[first as string];
    delete groupIds[second as string];
    const broken: PamConfig = { ...config, identityCenter: { ...config.identityCenter, groupIds } };
    // Act: no bundling here, the failure comes before anything would be deployed
    const app = new App({
      outdir: outdir(),
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    const synth = () => defineHub(app, broken, { region: 'eu-west-1' });
    // Assess
    expect(missingGroupIds(broken).sort()).toEqual([first, second].sort());
    expect(synth).toThrow(
      `identityCenter.groupIds has no Identity Store group id for: ${missingGroupIds(broken).join(', ')}.`,
    );
  });

  describe('function bundles', () => {
    let config: PamConfig;
    let bundles: { name: string; dir: string; environment: Record<string, string> }[];

    beforeAll(() => {
      config = loadConfigFile('infra/config/example.yaml');
      const app = new App({ outdir: outdir(), builtinCloudFormationValidation: false });
      const { service } = defineHub(app, config, { region: 'eu-west-1' });
      const assembly = app.synth();
      const template = assembly.getStackArtifact(service.artifactId).template as {
        Resources: Record<string, { Type: string; Properties: FunctionProperties }>;
      };
      bundles = Object.values(template.Resources)
        .filter((resource) => resource.Type === 'AWS::Lambda::Function')
        .map(({ Properties: fn }) => ({
          name: String(fn.Environment.Variables.POWERTOOLS_SERVICE_NAME),
          dir: path.join(assembly.directory, `asset.${fn.Code.S3Key.replace(/\.zip$/, '')}`),
          // Literals stay as deployed; tokens (table names, queue URLs and ARNs, permission set
          // ARNs) become well-formed stand-ins, so a handler that validates their shape still starts.
          environment: standInEnvironment(fn.Environment.Variables),
        }));
    });

    it('carries the validated config as pam-config.json next to each handler', () => {
      expect(bundles.map((b) => b.name).sort()).toEqual(functionFolders());
      for (const bundle of bundles) {
        expect(existsSync(path.join(bundle.dir, 'index.mjs'))).toBe(true);
        // Every bundle maps to its sources but the Slack ingress's (built without, for its cold start).
        expect(existsSync(path.join(bundle.dir, 'index.mjs.map'))).toBe(bundle.name !== 'slack-ingress');
        expect(JSON.parse(readFileSync(path.join(bundle.dir, 'pam-config.json'), 'utf8'))).toEqual(
          JSON.parse(JSON.stringify(config)),
        );
      }
    });

    it('cold-starts each bundle with exactly the environment the template gives it', async () => {
      for (const bundle of bundles) {
        const { stdout } = await run(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            "const m = await import('./index.mjs'); console.log(typeof m.handler);",
          ],
          {
            cwd: bundle.dir,
            env: {
              PATH: process.env.PATH ?? '',
              AWS_REGION: 'eu-west-1',
              LAMBDA_TASK_ROOT: bundle.dir,
              ...bundle.environment,
            },
          },
        );
        expect(stdout.trim(), bundle.name).toBe('function');
      }
    });
  });
});
