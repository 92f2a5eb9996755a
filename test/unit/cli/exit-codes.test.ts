// How answers map to exit codes: a cloud-pam refusal is 1; API Gateway's own 403, server errors,
// odd bodies and network failures are 2. Each failure is exactly one line on stderr.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { defaultDeps } from '../../../cli/context.ts';
import {
  DEPLOYED_ENV,
  fakeFetch,
  localFileContent,
  localProject,
  REQUEST_ID,
  requestView,
  runCli,
  testDeps,
} from './harness.ts';

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

describe('exit codes', () => {
  it.each([
    [
      403,
      { error: { code: 'SELF_APPROVAL', message: 'you cannot approve your own request' } },
      1,
      'pam: refused (SELF_APPROVAL): you cannot approve your own request',
    ],
    [
      409,
      { error: { code: 'INVALID_STATE', message: 'cannot approve a request that is APPROVED' } },
      1,
      'pam: refused (INVALID_STATE): cannot approve a request that is APPROVED',
    ],
    [
      404,
      { error: { code: 'NOT_FOUND', message: 'no such request' } },
      1,
      'pam: refused (NOT_FOUND): no such request',
    ],
    [
      401,
      { error: { code: 'UNAUTHENTICATED', message: 'the caller is not a session' } },
      1,
      'pam: refused (UNAUTHENTICATED): the caller is not a session',
    ],
    [
      403,
      { message: 'User: arn:aws:sts::1:assumed-role/x is not authorized to perform: execute-api:Invoke' },
      2,
      'pam: API Gateway refused the call (403: User: arn:aws:sts::1:assumed-role/x is not authorized',
    ],
    [403, { message: 'Missing Authentication Token' }, 2, 'pam: API Gateway refused the call (403: Missing'],
    [
      429,
      { message: 'Too Many Requests' },
      2,
      'pam: POST /v1/requests/01JZ8Q3K4V7N2W5X6Y8Z9A0B1C/approve failed with HTTP 429 (Too Many Requests)',
    ],
    [
      500,
      { error: { code: 'INTERNAL', message: 'internal error; the request was not completed' } },
      2,
      'pam: server error (INTERNAL, 500): internal error; the request was not completed',
    ],
    [
      503,
      { error: { code: 'AUDIT_UNAVAILABLE', message: 'the audit record could not be written' } },
      2,
      'pam: server error (AUDIT_UNAVAILABLE, 503)',
    ],
    [502, { message: 'Internal server error' }, 2, 'failed with HTTP 502 (Internal server error)'],
    [504, '<html>Gateway Timeout</html>', 2, 'failed with HTTP 504 (a body that is not JSON)'],
    [200, '<html>not json</html>', 2, 'answered 200 with a body that is not JSON'],
    [200, { unexpected: true }, 2, 'the API answered with something that is not a request'],
    [400, { error: { code: 'bad', message: 'lowercase codes are not cloud-pam codes' } }, 2, 'HTTP 400'],
  ])('HTTP %d %j → exit %d', async (status, body, code, line) => {
    // Prepare
    const transport = fakeFetch(() => ({ status, body }));
    // Act
    const run = await runCli(['approve', REQUEST_ID], {
      env: DEPLOYED_ENV,
      deps: testDeps({ fetch: transport.fetch }),
    });
    // Assess
    expect(run.code).toBe(code);
    expect(oneLine(run.stderr)).toContain(line);
    expect(run.stdout).toBe('');
  });

  it('flattens a multi-line API message into one line', async () => {
    const transport = fakeFetch(() => ({
      status: 400,
      body: {
        error: { code: 'VALIDATION_FAILED', message: 'body.reason: too long\n\u001b[31mred\u001b[0m' },
      },
    }));
    const run = await runCli(['approve', REQUEST_ID], {
      env: DEPLOYED_ENV,
      deps: testDeps({ fetch: transport.fetch }),
    });
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toBe('pam: refused (VALIDATION_FAILED): body.reason: too long [31mred [0m');
  });

  it('prints the API error document on stdout under --json, for scripts', async () => {
    const error = { error: { code: 'NOT_ELIGIBLE', message: 'not in an eligible group' } };
    const transport = fakeFetch(() => ({ status: 403, body: error }));
    const run = await runCli(['request', 'prod-admin', '--account', '444444444444', '--json'], {
      env: DEPLOYED_ENV,
      deps: testDeps({ fetch: transport.fetch }),
    });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual(error);
    expect(oneLine(run.stderr)).toBe('pam: refused (NOT_ELIGIBLE): not in an eligible group');
  });

  it('ECONNREFUSED from the transport → exit 2 with the make start hint in local mode', async () => {
    // Prepare
    const { cwd } = localProject();
    const refused = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4010'), { code: 'ECONNREFUSED' }),
    });
    const deps = testDeps({
      fetch: async () => {
        throw refused;
      },
    });
    // Act
    const run = await runCli(['list', '--as', 'alice'], { cwd, deps });
    // Assess
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toBe('pam: cannot reach http://127.0.0.1:4010 (is `make start` running?)');
  });

  it('a real refused connection (nothing listens on the port) → exit 2', async () => {
    // Prepare: take a free port, then close it so nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const { cwd } = localProject(localFileContent({ apiUrl: `http://127.0.0.1:${port}` }));
    // Act
    const run = await runCli(['show', REQUEST_ID], {
      cwd,
      env: { PAM_USER: 'bob' },
      deps: { ...defaultDeps, isProcessAlive: () => true },
    });
    // Assess
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toBe(
      `pam: cannot reach http://127.0.0.1:${port} (is \`make start\` running?)`,
    );
  });

  it('an unresolvable host → exit 2', async () => {
    const failure = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
    const run = await runCli(['list'], {
      env: DEPLOYED_ENV,
      deps: testDeps({
        fetch: async () => {
          throw failure;
        },
      }),
    });
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toBe(
      'pam: cannot reach https://abc123.execute-api.eu-west-1.amazonaws.com: the host name does not resolve (ENOTFOUND)',
    );
  });

  it('a local runtime whose pid has exited → exit 2 before any call', async () => {
    const { root, cwd } = localProject();
    const transport = fakeFetch(() => ({ status: 200, body: requestView() }));
    const run = await runCli(['show', REQUEST_ID, '--as', 'alice'], {
      cwd,
      deps: testDeps({ fetch: transport.fetch, isProcessAlive: (pid) => pid !== 4242 }),
    });
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toBe(
      `pam: the local runtime is not running (pid 4242 from ${root}/.pam/local.json has exited); start it with \`make start\``,
    );
    expect(transport.calls).toEqual([]);
  });

  it('no API URL, no local runtime and no stack → exit 2 naming the ways out', async () => {
    const run = await runCli(['list']);
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toContain(
      'pam: no API URL: set PAM_API_URL (or --api-url), run `make start` for local mode',
    );
  });

  it('finds the API URL in the stack output when PAM_API_URL is unset', async () => {
    const transport = fakeFetch(() => ({ status: 200, body: { items: [], nextToken: null } }));
    const stacks: string[] = [];
    const run = await runCli(['list', '--stack', 'CloudPam-Other'], {
      deps: testDeps({
        fetch: transport.fetch,
        stackOutputs: async (name) => {
          stacks.push(name);
          return { ApiUrl: 'https://xyz.execute-api.us-east-2.amazonaws.com/prod/' };
        },
      }),
    });
    expect(run).toEqual({ code: 0, stdout: 'no requests\n', stderr: '' });
    expect(stacks).toEqual(['CloudPam-Other']);
    expect(transport.calls[0]?.url.href).toBe(
      'https://xyz.execute-api.us-east-2.amazonaws.com/prod/v1/requests',
    );
    expect(transport.calls[0]?.headers.authorization).toMatch(/\/us-east-2\/execute-api\/aws4_request/);
  });

  it('credentials that cannot be loaded → exit 2 with the sign-in hint', async () => {
    const run = await runCli(['list', '--profile', 'pam-hub'], {
      env: DEPLOYED_ENV,
      deps: testDeps({
        credentials: () => async () => {
          throw new Error('The SSO session associated with this profile has expired.');
        },
      }),
    });
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toBe(
      'pam: no usable AWS credentials for profile pam-hub (try `aws sso login`): The SSO session associated with this profile has expired.',
    );
  });
});
