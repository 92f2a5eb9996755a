// shared/adapters/aws/aws-json-call.ts: what goes on the wire (signed, the JSON protocol's headers,
// the endpoint chosen from the environment), which failures are retried and for how long, and that a
// failure carries AWS's code and status but nothing of the input or the credentials. Against a
// recorded HTTP POST, a clock the test moves and a sleep that only records; moto checks the real
// protocol (test/integration/aws-json-call.test.ts). nodeHttpPost is checked against a local server.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  AWS_CALL_BUDGET_MS,
  AwsJsonCallError,
  getSecretValue,
  MAX_ATTEMPTS,
  sendMessage,
} from '#adapters/aws/aws-json-call.ts';
import type { HttpAnswer, HttpPostInit } from '#adapters/http/node-http-post.ts';
import { nodeHttpPost } from '#adapters/http/node-http-post.ts';

const ENV = {
  AWS_ACCESS_KEY_ID: 'ASIAUNITTEST00000001',
  AWS_SECRET_ACCESS_KEY: 'unit-test-secret-access-key',
  AWS_SESSION_TOKEN: 'unit-test-session-token',
  AWS_REGION: 'eu-west-1',
};
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/111111111111/pam-commands.fifo';
const BODY = '{"action":"approve","reason":"a body that must never be repeated"}';

function answer(status: number, body: unknown, headers: Record<string, string> = {}): HttpAnswer {
  const text = JSON.stringify(body);
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (name) => headers[name.toLowerCase()] ?? null },
    text: async () => text,
    json: async () => JSON.parse(text),
    body: null,
  };
}

function harness(answers: (() => HttpAnswer | Promise<HttpAnswer>)[], env: Record<string, string> = ENV) {
  let now = 0;
  const calls: { url: string; init: HttpPostInit }[] = [];
  const sleeps: number[] = [];
  const options = {
    env,
    post: async (url: string | URL, init: HttpPostInit) => {
      calls.push({ url: String(url), init });
      now += 10;
      const next = answers.shift();
      if (!next) throw new Error('no answer left');
      return next();
    },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    nowMs: () => now,
    random: () => 0.5,
  };
  return { options, calls, sleeps, advance: (ms: number) => (now += ms) };
}

const send = (options: ReturnType<typeof harness>['options']) =>
  sendMessage(
    { QueueUrl: QUEUE, MessageBody: BODY, MessageGroupId: 'g-1', MessageDeduplicationId: 'd'.repeat(64) },
    options,
  );

/** Everything an error shows: its message and its own fields. */
const shown = (error: unknown) => JSON.stringify({ ...(error as object), message: (error as Error).message });

describe('the request', () => {
  it('POSTs SendMessage to the regional endpoint in awsJson1_0, signed for sqs with the session token', async () => {
    // Prepare
    const h = harness([() => answer(200, { MessageId: 'm-1' })]);

    // Act
    const sent = await send(h.options);

    // Assess
    expect(sent).toEqual({ MessageId: 'm-1' });
    expect(h.calls).toHaveLength(1);
    const [{ url, init }] = h.calls as [{ url: string; init: HttpPostInit }];
    expect(url).toBe('https://sqs.eu-west-1.amazonaws.com/');
    expect(JSON.parse(init.body)).toEqual({
      QueueUrl: QUEUE,
      MessageBody: BODY,
      MessageGroupId: 'g-1',
      MessageDeduplicationId: 'd'.repeat(64),
    });
    expect(init.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AmazonSQS.SendMessage',
      'x-amz-security-token': ENV.AWS_SESSION_TOKEN,
    });
    expect(init.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAUNITTEST00000001\/\d{8}\/eu-west-1\/sqs\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    // No X-Amz-Content-Sha256: only S3 asks for the payload hash as a header (it is in the signature).
    expect(init.headers).not.toHaveProperty('x-amz-content-sha256');
  });

  it('POSTs GetSecretValue in awsJson1_1 signed for secretsmanager, at AWS_ENDPOINT_URL_SECRETS_MANAGER before AWS_ENDPOINT_URL', async () => {
    // Prepare
    const h = harness([() => answer(200, { ARN: 'arn', Name: 'n', SecretString: 's3cr3t' })], {
      ...ENV,
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:5000',
    });

    // Act
    const read = await getSecretValue({ SecretId: 'pam/slack-signing' }, h.options);

    // Assess
    expect(read).toEqual({ SecretString: 's3cr3t' });
    expect(h.calls[0]?.url).toBe('http://127.0.0.1:5000/');
    expect(h.calls[0]?.init.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.GetSecretValue',
    });
    expect(h.calls[0]?.init.headers.authorization).toContain('/eu-west-1/secretsmanager/aws4_request');
  });

  it('sends SQS to AWS_ENDPOINT_URL when no SQS endpoint is set (the local runtime)', async () => {
    // Prepare
    const h = harness([() => answer(200, { MessageId: 'm-1' })], {
      ...ENV,
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
    });

    // Act
    await send(h.options);

    // Assess
    expect(h.calls[0]?.url).toBe('http://127.0.0.1:4566/');
  });

  it.each(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'])(
    'refuses to call without %s, and calls nothing',
    async (name) => {
      // Prepare
      const h = harness([], { ...ENV, [name]: '' });

      // Act
      const error = await send(h.options).catch((caught: unknown) => caught);

      // Assess
      expect(error).toMatchObject({ code: 'MissingCredentials', retryable: false });
      expect(h.calls).toEqual([]);
    },
  );
});

describe('failures', () => {
  it('retries a throttle and returns what the next attempt answers', async () => {
    // Prepare
    const h = harness([
      () => answer(400, { __type: 'com.amazonaws.sqs#ThrottlingException', message: 'Rate exceeded' }),
      () => answer(200, { MessageId: 'm-2' }),
    ]);

    // Act
    const sent = await send(h.options);

    // Assess
    expect(sent).toEqual({ MessageId: 'm-2' });
    expect(h.calls).toHaveLength(2);
    expect(h.sleeps).toEqual([25]);
  });

  it(`gives up on 5xx after ${MAX_ATTEMPTS} attempts with backoff, with AWS's code, status and request id`, async () => {
    // Prepare
    const failing = () =>
      answer(500, { __type: 'InternalFailure', message: `${BODY} echoed` }, { 'x-amzn-requestid': 'req-1' });
    const h = harness([failing, failing, failing, failing]);

    // Act
    const error = await send(h.options).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AwsJsonCallError);
    expect(error).toMatchObject({
      name: 'InternalFailure',
      code: 'InternalFailure',
      status: 500,
      retryable: true,
      operation: 'sqs:SendMessage',
      $metadata: { httpStatusCode: 500, requestId: 'req-1' },
    });
    expect(h.calls).toHaveLength(MAX_ATTEMPTS);
    expect(h.sleeps).toEqual([25, 50]);
  });

  it('does not retry a client error, and shows neither the input, the answer message nor the credentials', async () => {
    // Prepare
    const h = harness([
      () => answer(400, { __type: 'AccessDeniedException', message: `not allowed: ${BODY}` }),
      () => answer(200, { MessageId: 'never' }),
    ]);

    // Act
    const error = await send(h.options).catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ code: 'AccessDeniedException', status: 400, retryable: false });
    expect(h.calls).toHaveLength(1);
    for (const hidden of [BODY, 'never be repeated', QUEUE, ...Object.values(ENV)])
      expect(shown(error)).not.toContain(hidden);
  });

  it('takes the error code from x-amzn-ErrorType when the body is not JSON', async () => {
    // Prepare
    const h = harness([
      () => ({
        ...answer(403, null, {
          'x-amzn-errortype': 'UnrecognizedClientException:http://internal.amazon.com/',
        }),
        text: async () => '<html>forbidden</html>',
      }),
    ]);

    // Act
    const error = await send(h.options).catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ code: 'UnrecognizedClientException', status: 403, retryable: false });
  });

  it('takes the error code from an XML ErrorResponse (a refused signature, as moto answers it)', async () => {
    // Prepare
    const h = harness([
      () => ({
        ...answer(403, null),
        text: async () =>
          '<?xml version="1.0"?><ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>…</Message></Error></Errors></ErrorResponse>',
      }),
    ]);

    // Act
    const error = await send(h.options).catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403, retryable: false });
  });

  it('retries a network failure as a NetworkError', async () => {
    // Prepare
    const h = harness([
      () => Promise.reject(new TypeError('socket hang up')),
      () => answer(200, { MessageId: 'm-3' }),
    ]);

    // Act
    const sent = await send(h.options);

    // Assess
    expect(sent).toEqual({ MessageId: 'm-3' });
    expect(h.calls).toHaveLength(2);
  });

  it('starts no retry that would end past the budget', async () => {
    // Prepare: the first attempt comes back just before the budget runs out
    const h = harness([
      () => {
        h.advance(AWS_CALL_BUDGET_MS - 20);
        return answer(503, { __type: 'ServiceUnavailable' });
      },
      () => answer(200, { MessageId: 'too late' }),
    ]);

    // Act
    const error = await send(h.options).catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ code: 'ServiceUnavailable', status: 503 });
    expect(h.calls).toHaveLength(1);
    expect(h.sleeps).toEqual([]);
  });

  it('refuses an answer that is not what the operation returns', async () => {
    // Prepare
    const h = harness([() => answer(200, { Unexpected: true })]);

    // Act
    const error = await send(h.options).catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ code: 'InvalidResponse', retryable: false });
  });
});

describe('nodeHttpPost', () => {
  it('answers like fetch, and rejects with the signal’s TimeoutError when the server does not answer', async () => {
    // Prepare: a server that answers /ok and never answers anything else
    const server = createServer((request, response) => {
      request.resume();
      if (request.url === '/ok') {
        response.writeHead(201, { 'x-amzn-requestid': 'r-1', 'content-type': 'application/json' });
        response.end(JSON.stringify({ echoed: request.headers['x-amz-target'] }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    try {
      // Act
      const ok = await nodeHttpPost(`${base}/ok`, {
        method: 'POST',
        headers: { 'x-amz-target': 'AmazonSQS.SendMessage' },
        body: '{}',
      });
      const silent = await nodeHttpPost(`${base}/silent`, {
        method: 'POST',
        headers: {},
        body: '{}',
        signal: AbortSignal.timeout(50),
      }).catch((caught: unknown) => caught);

      // Assess
      expect({ status: ok.status, ok: ok.ok, requestId: ok.headers.get('X-Amzn-RequestId') }).toEqual({
        status: 201,
        ok: true,
        requestId: 'r-1',
      });
      expect(await ok.json()).toEqual({ echoed: 'AmazonSQS.SendMessage' });
      expect((silent as Error).name).toBe('TimeoutError');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
