// SigV4 as the Slack ingress signs its two AWS calls (shared/adapters/aws/sigv4.ts). moto does not
// check signatures, so this is where a signing mistake shows: AWS's own published examples (the
// Signature Version 4 test suite's post-vanilla and get-vanilla with its example credentials,
// copied into test/fixtures/aws/sigv4-test-suite.json — the same values the SDK's signer produces,
// asserted below too), then request after
// request against @smithy/signature-v4, the SDK's signer: paths that need encoding twice, dot
// segments, Unicode bodies, session tokens, header values with runs of whitespace, dates across a
// day's end.
import { readFileSync } from 'node:fs';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { type AwsCredentials, signV4 } from '#adapters/aws/sigv4.ts';

const { createHash, createHmac } = process.getBuiltinModule('node:crypto');

interface SuiteFile {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly service: string;
  readonly date: string;
  readonly host: string;
  readonly requests: readonly {
    readonly name: string;
    readonly method: string;
    readonly signature: string;
  }[];
}
const SUITE = JSON.parse(
  readFileSync(new URL('../fixtures/aws/sigv4-test-suite.json', import.meta.url), 'utf8'),
) as SuiteFile;

/** The test suite's example credentials (documentation values, not a key). */
const EXAMPLE: AwsCredentials = { accessKeyId: SUITE.accessKeyId, secretAccessKey: SUITE.secretAccessKey };
const SUITE_DATE = new Date(SUITE.date);

/** @smithy/signature-v4's hash over node:crypto. */
class NodeSha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash =
      secret === undefined
        ? createHash('sha256')
        : createHmac('sha256', typeof secret === 'string' ? secret : new Uint8Array(secret as ArrayBuffer));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(
      typeof data === 'string'
        ? data
        : ArrayBuffer.isView(data)
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
          : new Uint8Array(data),
    );
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

interface Case {
  readonly method?: string;
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly service?: string;
  readonly region?: string;
  readonly credentials?: AwsCredentials;
  readonly date?: Date;
}

/** What the SDK's signer puts in Authorization for the same request (no payload-hash header, as ours). */
async function smithyAuthorization(c: Case): Promise<string> {
  const url = new URL(c.url);
  const signer = new SignatureV4({
    credentials: c.credentials ?? EXAMPLE,
    region: c.region ?? 'us-east-1',
    service: c.service ?? 'service',
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: c.method ?? 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, ...(c.headers ?? {}) },
      ...(c.body === undefined ? {} : { body: c.body }),
    },
    { signingDate: c.date ?? SUITE_DATE },
  );
  return signed.headers.authorization as string;
}

function ours(c: Case): Record<string, string> {
  return signV4(
    { method: c.method ?? 'POST', url: new URL(c.url), headers: c.headers ?? {}, body: c.body ?? '' },
    {
      service: c.service ?? 'service',
      region: c.region ?? 'us-east-1',
      credentials: c.credentials ?? EXAMPLE,
      date: c.date ?? SUITE_DATE,
    },
  );
}

describe('signV4', () => {
  it.each(SUITE.requests.map((r) => [r.name, r.method, r.signature]))(
    "signs the AWS test suite's %s request as AWS publishes it",
    async (_name, method, signature) => {
      // Prepare
      const c: Case = { method, url: `https://${SUITE.host}/`, region: SUITE.region, service: SUITE.service };
      const expected = `AWS4-HMAC-SHA256 Credential=${SUITE.accessKeyId}/20150830/${SUITE.region}/${SUITE.service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`;

      // Act
      const headers = ours(c);

      // Assess
      expect(headers.authorization).toBe(expected);
      expect(headers['x-amz-date']).toBe('20150830T123600Z');
      expect(headers.host).toBe(SUITE.host);
      expect(await smithyAuthorization(c)).toBe(expected);
    },
  );

  it.each<[string, Case]>([
    [
      'an SQS SendMessage as the ingress sends it',
      {
        url: 'https://sqs.eu-west-1.amazonaws.com/',
        service: 'sqs',
        region: 'eu-west-1',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
        body: JSON.stringify({
          QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/pam.fifo',
          MessageBody: '{"a":1}',
        }),
        credentials: { ...EXAMPLE, sessionToken: 'unit-test/session+token=' },
      },
    ],
    [
      'a Secrets Manager GetSecretValue against a local endpoint with a port',
      {
        url: 'http://127.0.0.1:5000/',
        service: 'secretsmanager',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'secretsmanager.GetSecretValue',
        },
        body: '{"SecretId":"arn:aws:secretsmanager:us-east-1:111111111111:secret:pam-slack-AbCdEf"}',
      },
    ],
    ['a path that must be encoded twice', { url: 'https://example.amazonaws.com/a b/ü/€/x+y=z&(1)!*~' }],
    ['dot segments and empty segments', { url: 'https://example.amazonaws.com//a/./b/../c//d/' }],
    ['an already percent-encoded path', { url: 'https://example.amazonaws.com/%41%2Fb%20c/' }],
    [
      'a Unicode body, emoji included',
      { body: 'héllo 😀 wörld \u2028', url: 'https://example.amazonaws.com/' },
    ],
    [
      'header values with runs of whitespace, names in any case',
      {
        url: 'https://example.amazonaws.com/',
        headers: { 'X-Amz-Target': '  a   b\t\tc  ', 'Content-Type': 'text/plain;  charset=utf-8' },
      },
    ],
    [
      'a date just before a day ends',
      { url: 'https://example.amazonaws.com/', date: new Date('2026-12-31T23:59:59.999Z') },
    ],
    [
      'another region and service',
      { url: 'https://logs.ap-southeast-2.amazonaws.com/', region: 'ap-southeast-2', service: 'logs' },
    ],
  ])('signs %s exactly as the SDK does', async (_what, c) => {
    // Act
    const headers = ours(c);

    // Assess
    expect(headers.authorization).toBe(await smithyAuthorization(c));
  });

  it('sends the session token it signed, and leaves it out when there is none', () => {
    // Act
    const withToken = ours({
      url: 'https://example.amazonaws.com/',
      credentials: { ...EXAMPLE, sessionToken: 'token-1' },
    });
    const without = ours({ url: 'https://example.amazonaws.com/' });

    // Assess
    expect(withToken['x-amz-security-token']).toBe('token-1');
    expect(withToken.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
    expect(without).not.toHaveProperty('x-amz-security-token');
  });

  it('signs a changed byte of the body, the target or the time differently', () => {
    // Prepare
    const base: Case = {
      url: 'https://example.amazonaws.com/',
      headers: { 'x-amz-target': 'A.B' },
      body: '{"a":1}',
    };
    const signature = (c: Case) => ours(c).authorization;

    // Act
    const variants = [
      signature({ ...base, body: '{"a":2}' }),
      signature({ ...base, headers: { 'x-amz-target': 'A.C' } }),
      signature({ ...base, date: new Date(SUITE_DATE.getTime() + 1000) }),
      signature({ ...base, credentials: { ...EXAMPLE, secretAccessKey: `${EXAMPLE.secretAccessKey}x` } }),
    ];

    // Assess
    expect(new Set([signature(base), ...variants]).size).toBe(5);
  });

  it('refuses a URL with a query and a header given twice, naming neither credential', () => {
    // Act
    const withQuery = () => ours({ url: 'https://example.amazonaws.com/?Action=List' });
    const twice = () => ours({ url: 'https://example.amazonaws.com/', headers: { Host: 'elsewhere' } });

    // Assess
    expect(withQuery).toThrow('signV4: a URL with a query string is not signed here');
    expect(twice).toThrow('signV4: header host given twice');
    for (const attempt of [withQuery, twice]) {
      try {
        attempt();
      } catch (error) {
        expect(String(error)).not.toContain(EXAMPLE.secretAccessKey);
      }
    }
  });
});
