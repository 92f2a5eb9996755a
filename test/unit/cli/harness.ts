// Runs the pam CLI in-process with captured output, an explicit environment and a scripted outside
// world: a fake fetch that records every call, fixed credentials, and a local runtime "alive" unless
// a test says otherwise.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CliDeps } from '../../../cli/context.ts';
import type { FetchInit, FetchLike } from '../../../cli/http-client.ts';
import { runCliWith } from '../../support/cli-run.ts';

// Obviously fake values, shaped like the real thing only where a test needs it.
export const TEST_ACCESS_KEY_ID = 'TESTKEYIDCLIHARNESS1';
export const SECRET_ACCESS_KEY = 'test-secret-access-key/never-printed+0123';
export const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjSESSIONTOKENSHOULDNEVERPRINT';
export const LOCAL_SECRET = 'local-secret-Zm9vYmFyYmF6cXV4';

export interface RecordedCall {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export type Responder = (
  call: RecordedCall,
) => { status: number; body: unknown; headers?: Record<string, string> } | Promise<never>;

/**
 * A fetch that records calls and answers with `respond` (JSON-encoding the body unless a string),
 * with the response headers it names (none otherwise: then the CLI knows no server time).
 */
export function fakeFetch(respond: Responder): { fetch: FetchLike; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const fetch: FetchLike = async (url: string, init: FetchInit) => {
    const call: RecordedCall = {
      url: new URL(url),
      method: init.method,
      headers: init.headers,
      body: init.body === undefined ? undefined : JSON.parse(init.body),
    };
    calls.push(call);
    const answer = await respond(call);
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const headers = new Headers(answer.headers ?? {});
    return { status: answer.status, headers, text: async () => text };
  };
  return { fetch, calls };
}

/** The CLI's own clock in tests (what it uses when an answer carries no server time). */
export const LOCAL_NOW = Date.parse('2026-11-26T19:00:00.000Z');

export function testDeps(overrides: Partial<CliDeps> = {}): CliDeps {
  return {
    fetch: async () => {
      throw new Error('no fetch expected');
    },
    credentials: () => async () => ({
      accessKeyId: TEST_ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
      sessionToken: SESSION_TOKEN,
    }),
    defaultRegion: async () => undefined,
    stackOutputs: async () => {
      throw new Error('Stack with id CloudPam-HubService does not exist');
    },
    dynamoClient: () => {
      throw new Error('no DynamoDB client expected');
    },
    isProcessAlive: () => true,
    now: () => LOCAL_NOW,
    ...overrides,
  };
}

export type { CliRun } from '../../support/cli-run.ts';

export function runCli(
  argv: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; deps?: CliDeps } = {},
) {
  return runCliWith(options.deps ?? testDeps(), argv, options);
}

export function localFileContent(overrides: Record<string, unknown> = {}) {
  return {
    apiUrl: 'http://127.0.0.1:4010',
    awsEndpoint: 'http://127.0.0.1:4566',
    region: 'us-east-1',
    hubAccountId: '111111111111',
    credentials: { accessKeyId: 'TESTKEYIDLOCALMODE01', secretAccessKey: LOCAL_SECRET },
    accessTableName: 'pam-access',
    auditTableName: 'pam-audit',
    users: ['alice', 'bob', 'carol'],
    pid: 4242,
    startedAt: '2026-11-26T18:00:00.000Z',
    ...overrides,
  };
}

/** A project directory with `.pam/local.json`; returns a subdirectory of it to run from. */
export function localProject(content: unknown = localFileContent()): { root: string; cwd: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'pam-local-'));
  mkdirSync(path.join(root, '.pam'));
  writeFileSync(
    path.join(root, '.pam', 'local.json'),
    typeof content === 'string' ? content : JSON.stringify(content),
  );
  const cwd = path.join(root, 'infra', 'config');
  mkdirSync(cwd, { recursive: true });
  return { root, cwd };
}

export const REQUEST_ID = '01JZ8Q3K4V7N2W5X6Y8Z9A0B1C';

export function requestView(overrides: Record<string, unknown> = {}) {
  return {
    id: REQUEST_ID,
    status: 'PENDING',
    requesterId: 'user-alice',
    entitlementId: 'prod-admin',
    entitlementTitle: 'Admin in prod',
    accountId: '444444444444',
    accountIds: ['444444444444'],
    permissionSetName: 'ProdAdmin',
    duration: 'PT2H',
    reason: 'Rotate the TLS certificate',
    ticket: 'OPS-1',
    startAt: null,
    approvals: [],
    approvalsRequired: 2,
    approverGroups: ['cloud-ops'],
    denial: null,
    cancellation: null,
    revocation: null,
    extension: null,
    grant: null,
    breakGlass: null,
    failure: null,
    version: 1,
    createdAt: '2026-11-26T18:00:00.000Z',
    updatedAt: '2026-11-26T18:00:00.000Z',
    endedAt: null,
    ...overrides,
  };
}

/** Deployed-mode environment with a fixed API URL (calls then go to the fake fetch). */
export const DEPLOYED_ENV = { PAM_API_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod' };
