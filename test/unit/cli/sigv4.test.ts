// Deployed mode signs each call with SigV4 over exactly what it sends. A real node:http server on
// loopback receives the calls of the real CLI (real fetch, the real credential chain reading static
// credentials from the environment); the test recomputes the signature from what arrived, with its
// own SignatureV4 over a node:crypto hash, and it must match the Authorization header.
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultDeps } from '../../../cli/context.ts';
import { REQUEST_ID, requestView, runCli } from './harness.ts';

const ACCESS_KEY_ID = 'AKIDSIGV4TESTEXAMPLE';
const SECRET = 'sigv4-test-secret-key-0123456789abcdef';
const TOKEN = 'sigv4-test-session-token';
const REGION = 'eu-central-1';

/** SHA-256 / HMAC-SHA256 from node:crypto, so the check does not reuse the CLI's hash library. */
class NodeSha256 implements Checksum {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    throw new Error('not needed');
  }
}
function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

interface Received {
  readonly method: string;
  readonly rawUrl: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let server: Server;
let baseUrl: string;
const received: Received[] = [];
let respond: (request: Received) => { status: number; body: unknown } = () => ({ status: 200, body: {} });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        rawUrl: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      const answer = respond(request);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  vi.unstubAllEnvs();
  vi.stubEnv('AWS_ACCESS_KEY_ID', ACCESS_KEY_ID);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', SECRET);
  vi.stubEnv('AWS_SESSION_TOKEN', TOKEN);
  vi.stubEnv('AWS_PROFILE', undefined);
  return () => vi.unstubAllEnvs();
});

function amzDate(text: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) throw new Error(`bad x-amz-date ${text}`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

/** Recomputes the Authorization header from the received request alone. */
async function expectedAuthorization(
  request: Received,
  signedHeaders: readonly string[],
  body = request.body,
) {
  const url = new URL(request.rawUrl, 'http://placeholder');
  const query: Record<string, string> = {};
  for (const pair of url.search.slice(1).split('&').filter(Boolean)) {
    const [key = '', value = ''] = pair.split('=');
    query[decodeURIComponent(key)] = decodeURIComponent(value);
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(request.headers[name]);
  // The payload hash comes from the body that arrived, never from the header that claims it.
  if ('x-amz-content-sha256' in headers)
    headers['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
  const signer = new SignatureV4({
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, sessionToken: TOKEN },
    region: REGION,
    service: 'execute-api',
    sha256: NodeSha256,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: url.pathname,
      query,
      headers,
      ...(body === '' ? {} : { body }),
    },
    { signingDate: amzDate(String(request.headers['x-amz-date'])) },
  );
  return signed.headers.authorization;
}

function signedHeadersOf(authorization: string): string[] {
  return /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
}

const env = () => ({ PAM_API_URL: baseUrl, AWS_REGION: REGION });

describe('SigV4 in deployed mode', () => {
  it('signs a POST with a body: the signature recomputed from what arrived matches', async () => {
    // Prepare
    respond = () => ({ status: 201, body: requestView() });
    // Act
    const run = await runCli(
      ['request', 'prod-admin', '--account', '444444444444', '--for', '2h', '--reason', 'Rotate the cert ✓'],
      { env: env(), deps: defaultDeps },
    );
    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(received).toHaveLength(1);
    const [request] = received;
    if (!request) throw new Error('no request received');
    const authorization = String(request.headers.authorization);
    expect(request.method).toBe('POST');
    expect(request.rawUrl).toBe('/prod/v1/requests');
    expect(JSON.parse(request.body)).toEqual({
      entitlementId: 'prod-admin',
      accountId: '444444444444',
      duration: 'PT2H',
      reason: 'Rotate the cert ✓',
    });
    expect(authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/\\d{8}/${REGION}/execute-api/aws4_request, `),
    );
    expect(request.headers['x-amz-security-token']).toBe(TOKEN);
    const signed = signedHeadersOf(authorization);
    expect(signed).toEqual(
      expect.arrayContaining(['host', 'x-amz-date', 'x-amz-security-token', 'content-type']),
    );
    expect(await expectedAuthorization(request, signed)).toBe(authorization);
    // The check can fail: the same request with one byte of the body changed does not match.
    expect(await expectedAuthorization(request, signed, request.body.replace('PT2H', 'PT3H'))).not.toBe(
      authorization,
    );
  });

  it('signs GETs with a query (limit and an awkward nextToken) page after page', async () => {
    // Prepare: the first page hands back a token full of characters that need encoding.
    const token = 'eyJwayI6IlJFUSMwMSJ9+/= and more!*';
    respond = (request) => {
      const next = new URL(request.rawUrl, 'http://x').searchParams.get('nextToken');
      return {
        status: 200,
        body: next === null ? { items: [requestView()], nextToken: token } : { items: [], nextToken: null },
      };
    };
    // Act
    const run = await runCli(['list', '--limit', '7', '--json'], { env: env(), deps: defaultDeps });
    // Assess
    expect(run.code).toBe(0);
    expect(received.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(received[0]?.rawUrl).toBe('/prod/v1/requests?limit=7');
    expect(new URL(received[1]?.rawUrl ?? '', 'http://x').searchParams.get('nextToken')).toBe(token);
    expect(new URL(received[1]?.rawUrl ?? '', 'http://x').searchParams.get('limit')).toBe('6');
    for (const request of received) {
      const authorization = String(request.headers.authorization);
      const signed = signedHeadersOf(authorization);
      expect(signed).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'x-amz-security-token']));
      expect(request.headers['x-amz-security-token']).toBe(TOKEN);
      expect(await expectedAuthorization(request, signed)).toBe(authorization);
    }
    expect(JSON.parse(run.stdout)).toEqual({ items: [requestView()], nextToken: null });
  });

  it('signs the decision routes with the request id in the path', async () => {
    respond = () => ({ status: 200, body: requestView({ status: 'APPROVED' }) });
    const run = await runCli(['approve', REQUEST_ID, '--comment', 'ok'], { env: env(), deps: defaultDeps });
    expect(run.code).toBe(0);
    const [request] = received;
    if (!request) throw new Error('no request received');
    expect(request.rawUrl).toBe(`/prod/v1/requests/${REQUEST_ID}/approve`);
    const authorization = String(request.headers.authorization);
    expect(await expectedAuthorization(request, signedHeadersOf(authorization))).toBe(authorization);
  });
});
