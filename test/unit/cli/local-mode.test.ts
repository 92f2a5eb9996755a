// Local mode: `.pam/local.json` is found from the working directory up (or via PAM_LOCAL_FILE),
// validated, and the calls carry `x-pam-local-user` instead of a signature. PAM_API_URL wins.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLocalFile } from '../../../cli/local-file.ts';
import {
  DEPLOYED_ENV,
  fakeFetch,
  localFileContent,
  localProject,
  REQUEST_ID,
  requestView,
  runCli,
  TEST_ACCESS_KEY_ID,
  testDeps,
} from './harness.ts';

describe('local mode', () => {
  it('finds .pam/local.json in a parent directory and sends the user header, unsigned', async () => {
    // Prepare
    const { cwd } = localProject();
    const transport = fakeFetch(() => ({ status: 200, body: requestView() }));
    // Act
    const run = await runCli(['approve', REQUEST_ID, '--as', 'bob'], {
      cwd,
      deps: testDeps({ fetch: transport.fetch }),
    });
    // Assess
    expect(run.code).toBe(0);
    expect(transport.calls[0]?.url.href).toBe(`http://127.0.0.1:4010/v1/requests/${REQUEST_ID}/approve`);
    expect(transport.calls[0]?.headers['x-pam-local-user']).toBe('bob');
    expect(transport.calls[0]?.headers.authorization).toBeUndefined();
    expect(Object.keys(transport.calls[0]?.headers ?? {}).some((h) => h.startsWith('x-amz-'))).toBe(false);
  });

  it('takes the user from PAM_USER; --as wins over it', async () => {
    const { cwd } = localProject();
    const transport = fakeFetch(() => ({ status: 200, body: { items: [], nextToken: null } }));
    const deps = testDeps({ fetch: transport.fetch });
    await runCli(['list'], { cwd, env: { PAM_USER: 'carol' }, deps });
    await runCli(['list', '--as', 'alice'], { cwd, env: { PAM_USER: 'carol' }, deps });
    expect(transport.calls.map((call) => call.headers['x-pam-local-user'])).toEqual(['carol', 'alice']);
  });

  it('without a user, exits 2 naming the demo users', async () => {
    const { cwd } = localProject();
    const run = await runCli(['list'], { cwd });
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: 'pam: local mode needs --as <user> or PAM_USER (demo users: alice, bob, carol)\n',
    });
  });

  it('PAM_LOCAL_FILE points at the file from anywhere', async () => {
    const { root } = localProject(localFileContent({ apiUrl: 'http://127.0.0.1:5999' }));
    const transport = fakeFetch(() => ({ status: 200, body: requestView() }));
    await runCli(['show', REQUEST_ID, '--as', 'alice'], {
      env: { PAM_LOCAL_FILE: path.join(root, '.pam', 'local.json') },
      deps: testDeps({ fetch: transport.fetch }),
    });
    expect(transport.calls[0]?.url.origin).toBe('http://127.0.0.1:5999');
  });

  it('PAM_API_URL wins over a local runtime: deployed, signed, no user header', async () => {
    const { cwd } = localProject();
    const transport = fakeFetch(() => ({ status: 200, body: requestView() }));
    await runCli(['show', REQUEST_ID], {
      cwd,
      env: { ...DEPLOYED_ENV, PAM_USER: 'alice' },
      deps: testDeps({ fetch: transport.fetch }),
    });
    expect(transport.calls[0]?.url.host).toBe('abc123.execute-api.eu-west-1.amazonaws.com');
    expect(transport.calls[0]?.headers.authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${TEST_ACCESS_KEY_ID}/`),
    );
    expect(transport.calls[0]?.headers['x-pam-local-user']).toBeUndefined();
  });
});

describe('local.json validation', () => {
  function fileWith(content: unknown): string {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'pam-lf-')), 'local.json');
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }

  it('accepts the documented shape (and an optional session token)', () => {
    const content = localFileContent({
      credentials: { accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 'c' },
    });
    expect(readLocalFile(fileWith(content))).toEqual(content);
  });

  it.each([
    [{ apiUrl: 'ftp://127.0.0.1' }, 'apiUrl: expected an http(s) URL'],
    [{ awsEndpoint: undefined }, 'awsEndpoint: '],
    [{ region: 'moon' }, 'region: expected an AWS region'],
    [{ hubAccountId: '42' }, 'hubAccountId: expected a 12-digit AWS account id'],
    [{ credentials: { accessKeyId: 'a' } }, 'credentials.secretAccessKey: '],
    [{ auditTableName: '' }, 'auditTableName: expected a table name'],
    [{ users: 'alice' }, 'users: '],
    [{ pid: -1 }, 'pid: '],
    [{ startedAt: 'yesterday' }, 'startedAt: '],
  ])('refuses %j', (overrides, message) => {
    const file = fileWith(localFileContent(overrides));
    expect(() => readLocalFile(file)).toThrow(`${file} is malformed: `);
    expect(() => readLocalFile(file)).toThrow(message);
  });

  it('a malformed file is exit 2 with one line, before any call', async () => {
    const { root, cwd } = localProject('{"apiUrl": ');
    const transport = fakeFetch(() => ({ status: 200, body: requestView() }));
    const run = await runCli(['list', '--as', 'alice'], { cwd, deps: testDeps({ fetch: transport.fetch }) });
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `pam: ${root}/.pam/local.json is malformed: not valid JSON (restart the local runtime with \`make start\`)\n`,
    });
    expect(transport.calls).toEqual([]);
  });

  it('PAM_LOCAL_FILE naming a missing file is exit 2', async () => {
    const run = await runCli(['list', '--as', 'alice'], {
      env: { PAM_LOCAL_FILE: '/nonexistent/local.json' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('pam: cannot read /nonexistent/local.json (ENOENT); is `make start` running?\n');
  });
});
