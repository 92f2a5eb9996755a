// Command-line parsing: every malformed line is a usage error (exit 2, one stderr line) that is
// caught before anything is sent; --help is per command and exits 0.
import { describe, expect, it } from 'vitest';
import { DEPLOYED_ENV, fakeFetch, REQUEST_ID, requestView, runCli, testDeps } from './harness.ts';

describe('pam usage errors', () => {
  it.each([
    [[], 'missing command'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['audit'], 'audit: expected a subcommand: pam audit verify'],
    [['list', '--bogus'], "list: Unknown option '--bogus'"],
    [['approve'], 'approve: missing <id>'],
    [['approve', 'not-a-ulid'], 'expected a request id (26-character ULID), got "not-a-ulid"'],
    [['approve', REQUEST_ID, 'extra'], 'approve: unexpected argument "extra"'],
    [['approve', REQUEST_ID, '--comment'], "approve: Option '--comment <value>' argument missing"],
    [['request', 'prod-admin'], '--account <12-digit account id> is required'],
    [['request', 'Prod_Admin', '--account', '444444444444'], 'expected an entitlement id'],
    [['request', 'prod-admin', '--account', '4444'], '--account: expected a 12-digit AWS account id'],
    [
      ['request', 'prod-admin', '--account', '444444444444', '--accounts', '1,2'],
      '--accounts: expected a 12-digit',
    ],
    [
      ['request', 'prod-admin', '--account', '444444444444', '--for', '2 hours'],
      '--for 2 hours: expected a duration',
    ],
    [['request', 'prod-admin', '--account', '444444444444', '--for', 'P1M'], 'years and months'],
    [
      ['request', 'prod-admin', '--account', '444444444444', '--start-at', 'tomorrow'],
      '--start-at: expected an ISO-8601',
    ],
    [
      ['request', 'prod-admin', '--account', '444444444444', '--reason', '   '],
      '--reason: expected 1–1000 characters',
    ],
    [
      ['request', 'prod-admin', '--account', '444444444444', '--reason', 'fix\rprod'],
      '--reason: control character U+000D not allowed',
    ],
    [
      ['request', 'prod-admin', '--account', '444444444444', '--reason', 'from a CRLF file\r\n'],
      '--reason: control character U+000D not allowed',
    ],
    [
      ['request', 'prod-admin', '--account', '444444444444', '--ticket', 'OPS-1\u001b[2J'],
      '--ticket: control character U+001B not allowed',
    ],
    [
      ['break-glass', 'prod-admin', '--account', '444444444444', '--reason', 'lone \ud800'],
      '--reason: not well-formed Unicode (lone surrogate U+D800)',
    ],
    [['approve', REQUEST_ID, '--comment', 'ok\u0007'], '--comment: control character U+0007 not allowed'],
    [
      ['extend', REQUEST_ID, '--by', '1h', '--reason', 'more\u0085'],
      '--reason: control character U+0085 not allowed',
    ],
    [['break-glass', 'prod-admin', '--account', '444444444444'], 'break-glass needs --reason'],
    [['extend', REQUEST_ID], 'extend needs --by <duration>'],
    [['extend', REQUEST_ID, '--by', '0m'], '--by 0m: expected a duration longer than zero'],
    [['list', '--limit', '0'], '--limit: expected a positive whole number'],
    [['list', '--approvals', '--for', '1h'], "list: Unknown option '--for'"],
    [['local', 'clock', 'advance'], 'local clock advance: missing <duration>'],
    [['local', 'clock', 'advance', 'soon'], 'soon: expected a duration'],
    [['config', 'validate'], 'config validate: missing <file>'],
    [['show', REQUEST_ID, '--as', 'alice'], '--as works only in local mode'],
  ])('pam %j → exit 2: %s', async (argv, message) => {
    // Prepare
    const transport = fakeFetch(() => ({ status: 200, body: requestView() }));
    // Act
    const run = await runCli(argv, { env: DEPLOYED_ENV, deps: testDeps({ fetch: transport.fetch }) });
    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr.startsWith('pam: ')).toBe(true);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(transport.calls).toEqual([]);
  });

  it('never repeats refused free text, and sends newlines and tabs as they are', async () => {
    const transport = fakeFetch(() => ({ status: 201, body: requestView() }));
    const deps = testDeps({ fetch: transport.fetch });
    const base = ['request', 'prod-admin', '--account', '444444444444'];
    const refused = await runCli([...base, '--reason', 'HOSTILE\r\u001b]0;pwned'], {
      env: DEPLOYED_ENV,
      deps,
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).not.toContain('HOSTILE');
    expect(refused.stderr).not.toContain('pwned');
    expect(transport.calls).toEqual([]);
    const sent = await runCli([...base, '--reason', 'line one\n\tline two'], { env: DEPLOYED_ENV, deps });
    expect(sent.code).toBe(0);
    expect(transport.calls[0]?.body).toMatchObject({ reason: 'line one\n\tline two' });
  });

  it('accepts a lowercase request id and sends it uppercased', async () => {
    const transport = fakeFetch(() => ({ status: 200, body: requestView() }));
    const run = await runCli(['show', REQUEST_ID.toLowerCase()], {
      env: DEPLOYED_ENV,
      deps: testDeps({ fetch: transport.fetch }),
    });
    expect(run.code).toBe(0);
    expect(transport.calls[0]?.url.pathname).toBe(`/prod/v1/requests/${REQUEST_ID}`);
  });

  it('takes global flags before or after the command', async () => {
    const transport = fakeFetch(() => ({ status: 200, body: requestView() }));
    const deps = testDeps({ fetch: transport.fetch });
    const before = await runCli(['--json', 'show', REQUEST_ID], { env: DEPLOYED_ENV, deps });
    const after = await runCli(['show', REQUEST_ID, '--json'], { env: DEPLOYED_ENV, deps });
    expect(before).toEqual(after);
    expect(JSON.parse(before.stdout)).toEqual(requestView());
  });
});

describe('pam --help', () => {
  it('prints every command to stdout and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    for (const command of [
      'request',
      'break-glass',
      'list',
      'approve',
      'extend',
      'audit verify',
      'local clock advance',
    ]) {
      expect(run.stdout).toContain(`  ${command} `);
    }
  });

  it.each([
    [['request', '--help'], 'usage: pam request <entitlementId> --account <12 digits>'],
    [['extend', '-h'], 'usage: pam extend <id> --by <1h|PT1H>'],
    [['audit', 'verify', '--help'], 'usage: pam audit verify [--chain <chainId>]'],
    [['local', 'clock', 'advance', '--help'], 'usage: pam local clock advance <duration>'],
    [['help'], 'usage: pam <command>'],
    [['local', '--help'], 'pam local clock, pam local clock advance'],
  ])('pam %j prints its usage', async (argv, expected) => {
    const run = await runCli(argv);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(expected);
    expect(run.stderr).toBe('');
  });
});
