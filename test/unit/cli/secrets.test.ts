// No credential ever reaches the CLI's output: not the local runtime's secret key (even when the
// file around it is malformed), not the AWS secret key or session token used to sign.
import { describe, expect, it } from 'vitest';
import {
  DEPLOYED_ENV,
  fakeFetch,
  LOCAL_SECRET,
  localFileContent,
  localProject,
  REQUEST_ID,
  requestView,
  runCli,
  SECRET_ACCESS_KEY,
  SESSION_TOKEN,
  testDeps,
} from './harness.ts';

const SECRETS = [SECRET_ACCESS_KEY, SESSION_TOKEN, LOCAL_SECRET];

function expectNoSecret(run: { stdout: string; stderr: string }) {
  for (const secret of SECRETS) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
    expect(run.stdout + run.stderr).not.toContain(secret.slice(0, 12));
  }
}

describe('no credential is ever printed', () => {
  it.each([
    [
      'valid JSON, bad field next to the secret',
      localFileContent({ credentials: { secretAccessKey: LOCAL_SECRET } }),
    ],
    [
      'a secret that is not a string',
      localFileContent({ credentials: { accessKeyId: LOCAL_SECRET, secretAccessKey: 7 } }),
    ],
    ['broken JSON right after the secret', `{"credentials":{"secretAccessKey":"${LOCAL_SECRET}" oops}}`],
    ['broken JSON right before the secret', `{"credentials":{"secretAccessKey": ${LOCAL_SECRET}"}}`],
  ])('malformed local.json (%s)', async (_, content) => {
    const { cwd } = localProject(content);
    const run = await runCli(['list', '--as', 'alice'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is malformed');
    expectNoSecret(run);
  });

  it.each([
    [200, requestView()],
    [403, { error: { code: 'FORBIDDEN', message: 'no' } }],
    [403, { message: 'The security token included in the request is invalid' }],
    [500, 'oops'],
  ])('deployed, signed calls answered %d (human and --json)', async (status, body) => {
    const transport = fakeFetch(() => ({ status, body }));
    const deps = testDeps({ fetch: transport.fetch });
    for (const argv of [
      ['show', REQUEST_ID],
      ['show', REQUEST_ID, '--json'],
      ['approve', REQUEST_ID, '--json'],
    ]) {
      const run = await runCli(argv, { env: DEPLOYED_ENV, deps });
      expectNoSecret(run);
    }
    // The token was really in play: it is sent (as it must be), just never printed.
    expect(transport.calls[0]?.headers['x-amz-security-token']).toBe(SESSION_TOKEN);
  });

  it('local mode, every kind of outcome', async () => {
    const { cwd } = localProject(localFileContent());
    for (const answer of [
      { status: 200, body: requestView() },
      {
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED', message: 'body.reason: expected a string' } },
      },
      { status: 502, body: { message: 'Bad Gateway' } },
    ]) {
      const transport = fakeFetch(() => answer);
      for (const argv of [['show', REQUEST_ID], ['local', 'clock', '--json'], ['list']]) {
        const run = await runCli([...argv, '--as', 'alice'], {
          cwd,
          deps: testDeps({ fetch: transport.fetch }),
        });
        expectNoSecret(run);
      }
      expect(JSON.stringify(transport.calls)).not.toContain(LOCAL_SECRET);
    }
  });
});
