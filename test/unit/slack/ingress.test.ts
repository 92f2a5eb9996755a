// The Slack ingress as deployed: functions/slack-ingress/handler.ts with its whole middy chain, its
// environment and a bundled config file. Its three outbound calls — Secrets Manager GetSecretValue
// and SQS SendMessage (signed AWS JSON-protocol POSTs, no SDK) and Slack's views.open — reach a local
// HTTP server through AWS_ENDPOINT_URL and SLACK_API_URL, as they reach moto and the Slack stand-in
// in the local runtime: Secrets Manager holds the signing secret and bot token, SQS records every
// send, views.open answers as told. Every request is signed as Slack signs it. What is asserted is
// what leaves the function: the HTTP answer Slack sees, the SQS sends (queue, group, deduplication
// id, a body the workers' schemas accept), the views opened, and what is written to the log.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { signSlackRequest } from '#adapters/slack/signature.ts';
import { CommandMessageSchema, deliveryKey } from '#app/commands.ts';
import { DENY_FIELD, REQUEST_FIELD, SLACK_ACTION, SLACK_CALLBACK } from '#app/slack/ids.ts';
import { makeSlackIngress } from '#app/slack/ingress.ts';
import { SlackJobSchema, slackJobKey } from '#app/slack/jobs.ts';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import type { PamConfig } from '#domain/model.ts';
import { bundledConfigText } from '#runtime/bundled-config.ts';
import { ENV } from '#runtime/env-names.ts';
import { SLACK_SIGNATURE_REFUSED_METRIC, SLACK_USER_REFUSED_METRIC } from '#runtime/metric-names.ts';
import { fakeSlackBotToken } from '../../support/fake-tokens.ts';
import {
  ACCOUNTS,
  FakeClock,
  FIXTURE_EPOCH,
  fixtureCatalog,
  fixtureConfig,
  PROD_ADMIN,
  READ_ONLY,
  SequentialIds,
  ULID_PATTERN,
} from '../../support/fakes.ts';

// ---------------------------------------------------------------------------------------------
// The world

const SECRET = 'slack-ingress-test-signing-secret-5f0e';
const BOT_TOKEN = fakeSlackBotToken('ingress');
const SIGNING_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:pam-slack-signing-AbCdEf';
const TOKEN_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:pam-slack-bot-token-AbCdEf';
const COMMANDS_QUEUE = 'https://sqs.us-east-1.amazonaws.com/111111111111/pam-commands.fifo';
const SLACK_QUEUE = 'https://sqs.us-east-1.amazonaws.com/111111111111/pam-slack.fifo';
/** The local server's Web API base URL (set once it listens). */
let SLACK_API = '';
/** The function's role credentials, as Lambda gives them: never logged either. */
const AWS_SECRET_KEY = 'ingress-test-aws-secret-access-key';
const AWS_SESSION = 'ingress-test-aws-session-token';

const TEAM = 'T0EXAMPLE01';
const ORG = 'E0EXAMPLE01';
const ORG_TEAM = 'T0ORGWORK01';
const OTHER_TEAM = 'T0ELSEWHERE';
const ALICE = 'U0ALICE0001';
const BOB = 'U0BOB000001';
const CAROL = 'U0CAROL0001';
/** A credential: must never be logged. */
const RESPONSE_URL = 'https://hooks.slack.com/commands/T0EXAMPLE01/1234567890/sEcReTrEsPoNsEpArT';
const REQUEST_ID = '01JNQ0000000000000000000AA';
const LOADING_VIEW = 'V0LOADING01';

const HOUR = 3_600_000;

function slackConfig(): PamConfig {
  const { configHash: _ignored, ...rest } = fixtureConfig({
    slack: {
      teamIds: [TEAM],
      enterpriseIds: [ORG],
      approversChannel: 'C0APPROVALS',
      identityBinding: 'email',
    },
  });
  return { ...rest, configHash: sha256Hex(canonicalJson(rest)) };
}

interface AwsCall {
  /** `X-Amz-Target`: `AmazonSQS.SendMessage`, `secretsmanager.GetSecretValue`. */
  readonly target: string;
  readonly input: Record<string, string | undefined>;
}
/** Every AWS call received, in order. */
const awsCalls: AwsCall[] = [];
/** Secrets Manager: secret id → value. */
const secretValues = new Map<string, string>();
/** SQS answers 503 (retried by the client, then given up) while true. */
let queueDown = false;

interface SlackCall {
  readonly url: string;
  readonly authorization: string | null;
  readonly body: { trigger_id: string; view: Record<string, unknown> };
}
const slackCalls: SlackCall[] = [];
/** What views.open answers next (one per call; then `ok` with LOADING_VIEW). */
const slackAnswers: (() => Response)[] = [];

const lambdaContext = {
  functionName: 'slack-ingress',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:111111111111:function:slack-ingress',
  memoryLimitInMB: '512',
  awsRequestId: 'ingress-test',
  logGroupName: '/aws/lambda/slack-ingress',
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 10_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
} as unknown as Context;

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let handler: Handler;
let server: Server;

/** AWS's JSON-protocol answer: the output, or `{__type, message}` with the error's status. */
function awsAnswer(call: AwsCall): { status: number; body: unknown } {
  if (call.target === 'secretsmanager.GetSecretValue') {
    const value = secretValues.get(call.input.SecretId ?? '');
    if (value === undefined)
      return {
        status: 400,
        body: {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        },
      };
    return { status: 200, body: { ARN: call.input.SecretId, Name: 'secret', SecretString: value } };
  }
  if (call.target === 'AmazonSQS.SendMessage') {
    if (queueDown)
      return {
        status: 503,
        body: { __type: 'com.amazonaws.sqs#ServiceUnavailable', message: 'queue unavailable' },
      };
    return { status: 200, body: { MessageId: `m-${awsCalls.length}` } };
  }
  return { status: 400, body: { __type: 'UnknownOperationException' } };
}

/** The function's outside world on one loopback port: AWS (`POST /` with X-Amz-Target) and Slack's Web API. */
function startWorld(): Promise<number> {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const target = request.headers['x-amz-target'];
      if (typeof target === 'string') {
        const call: AwsCall = { target, input: JSON.parse(body) };
        awsCalls.push(call);
        const answer = awsAnswer(call);
        response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(answer.body));
        return;
      }
      slackCalls.push({
        url: `${SLACK_API.replace(/\/api\/$/, '')}${request.url}`,
        authorization: request.headers.authorization ?? null,
        body: JSON.parse(body),
      });
      const answer = slackAnswers.shift()?.() ?? Response.json({ ok: true, view: { id: LOADING_VIEW } });
      response.writeHead(answer.status, Object.fromEntries(answer.headers));
      response.end(await answer.text());
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}
/** Everything the function wrote (log lines, EMF metrics) since the file began. */
const written: string[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slack-ingress-test-'));
  const configFile = join(dir, 'pam-config.json');
  writeFileSync(configFile, bundledConfigText(slackConfig()));
  const port = await startWorld();
  SLACK_API = `http://127.0.0.1:${port}/api/`;
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;
  process.env.AWS_ACCESS_KEY_ID = 'ASIAINGRESSTEST00001';
  process.env.AWS_SECRET_ACCESS_KEY = AWS_SECRET_KEY;
  process.env.AWS_SESSION_TOKEN = AWS_SESSION;
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_SERVICE_NAME = 'slack-ingress';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'CloudPam';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env[ENV.PAM_CONFIG_FILE] = configFile;
  process.env[ENV.SLACK_SIGNING_SECRET_ARN] = SIGNING_ARN;
  process.env[ENV.SLACK_BOT_TOKEN_ARN] = TOKEN_ARN;
  process.env[ENV.SLACK_API_URL] = SLACK_API;
  process.env[ENV.COMMANDS_QUEUE_URL] = COMMANDS_QUEUE;
  process.env[ENV.SLACK_QUEUE_URL] = SLACK_QUEUE;
  handler = (await import('../../../functions/slack-ingress/handler.ts')).handler as unknown as Handler;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(FIXTURE_EPOCH);
  awsCalls.length = 0;
  secretValues.clear();
  secretValues.set(SIGNING_ARN, SECRET);
  secretValues.set(TOKEN_ARN, BOT_TOKEN);
  queueDown = false;
  slackCalls.length = 0;
  slackAnswers.length = 0;
  const record = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(record);
  vi.spyOn(process.stderr, 'write').mockImplementation(record);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------------------------
// Slack's requests

const nowSeconds = () => Math.floor(Date.now() / 1000);
let triggers = 0;
/** A fresh trigger_id, shaped as Slack's. */
const trigger = () => `${1_000_000 + ++triggers}.1234567890.0a1b2c3d4e5f60718293a4b5c6d7e8f9`;

type Resource = '/slack/commands' | '/slack/interactions' | '/slack/events';

interface SignOptions {
  readonly timestamp?: number;
  readonly secret?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly base64?: boolean;
}

function slackEvent(
  resource: Resource,
  body: string | Buffer,
  options: SignOptions = {},
): APIGatewayProxyEvent {
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const timestamp = options.timestamp ?? nowSeconds();
  const headers: Record<string, string | undefined> = {
    // API Gateway keeps the sender's spelling: Slack's is this one.
    'Content-Type': resource === '/slack/events' ? 'application/json' : 'application/x-www-form-urlencoded',
    'X-Slack-Request-Timestamp': String(timestamp),
    'X-Slack-Signature': signSlackRequest({
      signingSecret: options.secret ?? SECRET,
      timestamp,
      rawBody: raw,
    }),
    ...options.headers,
  };
  return {
    resource,
    path: resource,
    httpMethod: 'POST',
    headers: Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined)),
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'apigw-1', resourcePath: resource, httpMethod: 'POST', stage: 'prod' },
    body: options.base64 ? raw.toString('base64') : raw.toString('utf8'),
    isBase64Encoded: options.base64 ?? false,
  } as unknown as APIGatewayProxyEvent;
}

function slashCommand(text: string, fields: Record<string, string> = {}): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: TEAM,
    team_domain: 'example',
    channel_id: 'C0GENERAL01',
    channel_name: 'general',
    user_id: ALICE,
    user_name: 'alice',
    command: '/pam',
    text,
    api_app_id: 'A0PAMAPP001',
    is_enterprise_install: 'false',
    response_url: RESPONSE_URL,
    trigger_id: trigger(),
    ...fields,
  }).toString();
}

const interaction = (payload: unknown) =>
  new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

function click(
  actionId: string,
  options: { user?: string; userTeam?: string; team?: string; value?: string; triggerId?: string } = {},
) {
  return interaction({
    type: 'block_actions',
    user: { id: options.user ?? BOB, username: 'bob', name: 'bob', team_id: options.userTeam ?? TEAM },
    api_app_id: 'A0PAMAPP001',
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: '1772442000.000100',
      channel_id: 'C0APPROVALS',
      is_ephemeral: false,
    },
    trigger_id: options.triggerId ?? trigger(),
    team: { id: options.team ?? TEAM, domain: 'example' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: 'C0APPROVALS', name: 'approvals' },
    message: { type: 'message', ts: '1772442000.000100', text: 'Request', blocks: [] },
    response_url: RESPONSE_URL,
    actions: [
      {
        action_id: actionId,
        block_id: 'decision',
        text: { type: 'plain_text', text: 'Approve' },
        value: options.value ?? REQUEST_ID,
        type: 'button',
        action_ts: '1772442001.000200',
      },
    ],
  });
}

type Inputs = Record<string, Record<string, unknown>>;

function submit(
  callbackId: string,
  values: Inputs,
  options: { privateMetadata?: string; triggerId?: string } = {},
) {
  return interaction({
    type: 'view_submission',
    team: { id: TEAM, domain: 'example' },
    user: { id: ALICE, username: 'alice', name: 'alice', team_id: TEAM },
    api_app_id: 'A0PAMAPP001',
    token: 'legacy-verification-token',
    trigger_id: options.triggerId ?? trigger(),
    view: {
      id: 'V0REQUEST01',
      team_id: TEAM,
      type: 'modal',
      blocks: [],
      private_metadata: options.privateMetadata ?? '',
      callback_id: callbackId,
      state: { values },
      hash: '1772442000.abcdef',
      title: { type: 'plain_text', text: 'Request access' },
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  });
}

const select = (field: string, value: string) => ({
  [field]: {
    [field]: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: value }, value } },
  },
});
const input = (field: string, value: string | null) => ({
  [field]: { [field]: { type: 'plain_text_input', value } },
});

function requestForm(
  fields: { target?: string; durationMs?: number; reason?: string | null; ticket?: string | null } = {},
) {
  return {
    ...select(REQUEST_FIELD.target, fields.target ?? `${READ_ONLY}:${ACCOUNTS.dev}`),
    ...select(REQUEST_FIELD.duration, String(fields.durationMs ?? HOUR)),
    ...input(REQUEST_FIELD.reason, fields.reason === undefined ? 'look at the logs' : fields.reason),
    ...input(REQUEST_FIELD.ticket, fields.ticket === undefined ? null : fields.ticket),
  };
}

function homeOpened(eventId: string, options: { tab?: string; team?: string } = {}) {
  return JSON.stringify({
    token: 'legacy-verification-token',
    team_id: options.team ?? TEAM,
    api_app_id: 'A0PAMAPP001',
    event: {
      type: 'app_home_opened',
      user: ALICE,
      channel: 'D0ALICE001',
      tab: options.tab ?? 'home',
      event_ts: '1',
    },
    type: 'event_callback',
    event_id: eventId,
    event_time: 1772442000,
    authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: 'U0PAMBOT001', is_bot: true }],
    is_ext_shared_channel: false,
  });
}

// ---------------------------------------------------------------------------------------------
// What left the function

interface Sent {
  readonly queue: string | undefined;
  readonly group: string | undefined;
  readonly dedupId: string | undefined;
  readonly body: Record<string, unknown>;
}

function sent(): Sent[] {
  return awsCalls
    .filter((call) => call.target === 'AmazonSQS.SendMessage')
    .map(({ input }) => ({
      queue: input.QueueUrl,
      group: input.MessageGroupId,
      dedupId: input.MessageDeduplicationId,
      body: JSON.parse(input.MessageBody ?? 'null'),
    }));
}

/** GetSecretValue calls for one secret. */
const secretReads = (secretId: string) =>
  awsCalls.filter(
    (call) => call.target === 'secretsmanager.GetSecretValue' && call.input.SecretId === secretId,
  );

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function invoke(event: APIGatewayProxyEvent) {
  const result = await handler(event, lambdaContext);
  return { ...result, json: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : undefined };
}

/** The metric names of the EMF lines written since `from`. */
function metricsSince(from: number): string[] {
  return written
    .slice(from)
    .filter((line) => line.includes('"_aws"'))
    .flatMap((line) =>
      (JSON.parse(line)._aws.CloudWatchMetrics as { Metrics: { Name: string }[] }[]).flatMap((set) =>
        set.Metrics.map((metric) => metric.Name),
      ),
    );
}

// ---------------------------------------------------------------------------------------------

describe('the Slack ingress', () => {
  describe('before anything is read', () => {
    it('answers url_verification with its challenge', async () => {
      // Prepare
      const body = JSON.stringify({
        token: 'legacy',
        challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
        type: 'url_verification',
      });

      // Act
      const answer = await invoke(slackEvent('/slack/events', body));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.json).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
      expect(sent()).toEqual([]);
    });

    it.each<[string, SignOptions]>([
      ['signed with another secret', { secret: 'not-the-signing-secret' }],
      ['sent 301 s ago', { timestamp: Math.floor(FIXTURE_EPOCH.getTime() / 1000) - 301 }],
      ['dated 301 s ahead', { timestamp: Math.floor(FIXTURE_EPOCH.getTime() / 1000) + 301 }],
      ['without a signature header', { headers: { 'X-Slack-Signature': undefined } }],
      ['without a timestamp header', { headers: { 'X-Slack-Request-Timestamp': undefined } }],
    ])('refuses a request %s with 401, counted, and sends nothing', async (_label, options) => {
      // Prepare
      const from = written.length;
      const event = slackEvent('/slack/interactions', click(SLACK_ACTION.approve), options);

      // Act
      const answer = await invoke(event);

      // Assess
      expect(answer.statusCode).toBe(401);
      expect(answer.json).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'invalid signature' } });
      expect(sent()).toEqual([]);
      expect(slackCalls).toEqual([]);
      expect(metricsSince(from)).toContain(SLACK_SIGNATURE_REFUSED_METRIC);
    });

    it('refuses a body changed by one byte after signing', async () => {
      // Prepare
      const event = slackEvent('/slack/commands', slashCommand('list'));
      event.body = (event.body as string).replace('team_domain=example', 'team_domain=exampla');

      // Act
      const answer = await invoke(event);

      // Assess
      expect(answer.statusCode).toBe(401);
      expect(sent()).toEqual([]);
    });

    it('verifies a body API Gateway handed over base64-encoded, over its bytes', async () => {
      // Prepare
      const event = slackEvent('/slack/commands', slashCommand('list'), { base64: true });

      // Act
      const answer = await invoke(event);

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(sent()).toHaveLength(1);
      expect(sent()[0]?.body).toMatchObject({ kind: 'list' });
    });

    it('reads the signing secret from Secrets Manager once per 5 minutes, not per request', async () => {
      // Prepare: past any earlier test's cache
      vi.setSystemTime(FIXTURE_EPOCH.getTime() + 60 * 60_000);

      // Act: three requests two minutes apart, then one past the 5 minutes
      for (const minute of [60, 62, 64, 65.5]) {
        vi.setSystemTime(FIXTURE_EPOCH.getTime() + minute * 60_000);
        await invoke(slackEvent('/slack/commands', slashCommand('help')));
      }

      // Assess
      expect(secretReads(SIGNING_ARN)).toHaveLength(2);
    });

    it("answers 503 when the signing secret cannot be read, logging AWS's error code and nothing of the secret", async () => {
      // Prepare: past every earlier read's 5 minutes, and no such secret
      vi.setSystemTime(FIXTURE_EPOCH.getTime() + 3 * 60 * 60_000);
      secretValues.delete(SIGNING_ARN);
      const from = written.length;

      // Act
      const answer = await invoke(slackEvent('/slack/commands', slashCommand('list')));

      // Assess
      expect(answer.statusCode).toBe(503);
      expect(sent()).toEqual([]);
      const failure = written.slice(from).find((line) => line.includes('Slack request not taken'));
      expect(JSON.parse(failure ?? '{}')).toMatchObject({
        step: 'signing-secret',
        errorName: 'ResourceNotFoundException',
        httpStatusCode: 400,
      });
    });

    it('refuses a 1 MB body cleanly, signed or not, and sends nothing', async () => {
      // Prepare
      const huge = `${slashCommand('list')}&filler=${'a'.repeat(1_000_000)}`;

      // Act
      const answer = await invoke(slackEvent('/slack/commands', huge));

      // Assess
      expect(answer.statusCode).toBe(413);
      expect(answer.json).toEqual({
        error: { code: 'VALIDATION_FAILED', message: 'body is larger than 512 KiB' },
      });
      expect(sent()).toEqual([]);
    });

    it.each<[string, Resource, string, string]>([
      [
        'a lone surrogate percent-encoded in a command',
        '/slack/commands',
        slashCommand('list').replace('text=list', 'text=%ED%A0%80'),
        'form: a field is not valid percent-encoded UTF-8',
      ],
      [
        'a lone surrogate escaped in an interaction',
        '/slack/interactions',
        click(SLACK_ACTION.approve).replace('decision', '%5Cud800'),
        'payload.actions[0].block_id: not well-formed Unicode (lone surrogate U+D800)',
      ],
      [
        'a control character in a command',
        '/slack/commands',
        slashCommand('list').replace('text=list', 'text=li%1Bst'),
        'command.text: control character U+001B not allowed',
      ],
      ['bytes that are not UTF-8', '/slack/commands', 'text=\udfff', 'not valid UTF-8'],
      ['an interaction without its payload', '/slack/interactions', 'nothing=here', 'form.payload: missing'],
      ['an event that is not JSON', '/slack/events', '{"type":', 'event: not JSON'],
    ])(
      'refuses %s with 400 naming what is wrong, and sends nothing',
      async (_label, resource, body, message) => {
        // Prepare: 'bytes that are not UTF-8' are sent as such (base64, as API Gateway hands bytes over)
        const bytes = body === 'text=\udfff' ? Buffer.from([0x74, 0x3d, 0xed, 0xbf, 0xbf]) : undefined;

        // Act
        const answer = await invoke(
          bytes ? slackEvent(resource, bytes, { base64: true }) : slackEvent(resource, body),
        );

        // Assess
        expect(answer.statusCode).toBe(400);
        expect(answer.json?.error).toMatchObject({ message: expect.stringContaining(message) });
        expect(sent()).toEqual([]);
        expect(slackCalls).toEqual([]);
      },
    );
  });

  describe('the workspace allow-list', () => {
    it('answers a command from another workspace with an ephemeral refusal, counted, and sends nothing', async () => {
      // Prepare
      const from = written.length;

      // Act
      const answer = await invoke(
        slackEvent('/slack/commands', slashCommand('request', { team_id: OTHER_TEAM })),
      );

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.json).toEqual({
        response_type: 'ephemeral',
        text: 'This Slack workspace is not allowed to use cloud-pam.',
      });
      expect(sent()).toEqual([]);
      expect(slackCalls).toEqual([]);
      expect(metricsSince(from)).toContain(SLACK_USER_REFUSED_METRIC);
    });

    it.each([
      ['a click from another workspace', { team: OTHER_TEAM, userTeam: OTHER_TEAM }],
      ['a Slack Connect user clicking in an allow-listed workspace', { userTeam: OTHER_TEAM }],
    ])('refuses %s with 403 and sends nothing', async (_label, options) => {
      // Act
      const answer = await invoke(slackEvent('/slack/interactions', click(SLACK_ACTION.approve, options)));

      // Assess
      expect(answer.statusCode).toBe(403);
      expect(sent()).toEqual([]);
    });

    it('acknowledges an event from another workspace without acting on it or inviting a retry', async () => {
      // Act
      const answer = await invoke(
        slackEvent('/slack/events', homeOpened('Ev0OTHER001', { team: OTHER_TEAM })),
      );

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.headers?.['x-slack-no-retry']).toBe('1');
      expect(sent()).toEqual([]);
    });

    it('admits any workspace of an allow-listed Enterprise Grid organization', async () => {
      // Act
      const answer = await invoke(
        slackEvent('/slack/commands', slashCommand('list', { team_id: ORG_TEAM, enterprise_id: ORG })),
      );

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(sent()).toHaveLength(1);
      expect(sent()[0]?.body).toMatchObject({
        origin: { teamId: ORG_TEAM, enterpriseId: ORG, userId: ALICE },
      });
    });
  });

  describe('/pam', () => {
    it('answers /pam help inline, sending nothing', async () => {
      // Act
      const answer = await invoke(slackEvent('/slack/commands', slashCommand('help')));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.json).toMatchObject({ response_type: 'ephemeral' });
      expect(answer.json?.text).toContain('`/pam request`');
      expect(sent()).toEqual([]);
      expect(slackCalls).toEqual([]);
    });

    it('answers an unknown subcommand with help, its text made inert', async () => {
      // Act
      const answer = await invoke(slackEvent('/slack/commands', slashCommand('<!channel> hi')));

      // Assess
      expect(answer.json?.text).toContain("I don't know `/pam &lt;!channel&gt;`.");
      expect(answer.json?.text).not.toContain('<!channel>');
      expect(sent()).toEqual([]);
    });

    it.each(['request', '', 'REQUEST please'])(
      "'/pam %s' opens the loading modal with the bot token and asks notify-slack to fill it",
      async (text) => {
        // Prepare
        const triggerId = trigger();

        // Act
        const answer = await invoke(
          slackEvent('/slack/commands', slashCommand(text, { trigger_id: triggerId })),
        );

        // Assess: the modal
        expect(answer.statusCode).toBe(200);
        expect(answer.body).toBe('');
        expect(slackCalls).toHaveLength(1);
        expect(slackCalls[0]).toMatchObject({
          url: `${SLACK_API}views.open`,
          authorization: `Bearer ${BOT_TOKEN}`,
          body: { trigger_id: triggerId, view: { type: 'modal', callback_id: SLACK_CALLBACK.requestModal } },
        });
        // Assess: the job
        const job = SlackJobSchema.parse(sent()[0]?.body);
        expect(sent()).toHaveLength(1);
        expect(job).toEqual({
          kind: 'fill-request-modal',
          viewId: LOADING_VIEW,
          origin: { teamId: TEAM, userId: ALICE, responseUrl: RESPONSE_URL },
          delivery: { by: 'slack', id: triggerId },
        });
        expect(sent()[0]).toMatchObject({
          queue: SLACK_QUEUE,
          group: `${TEAM}:${ALICE}`,
          dedupId: sha256(`fill-request-modal|${TEAM}:${ALICE}|${triggerId}`),
        });
        expect(sent()[0]?.dedupId).toBe(sha256(slackJobKey(job)));
      },
    );

    it('waits out one 429 from views.open when its Retry-After fits in the 3 s', async () => {
      // Prepare
      slackAnswers.push(() => new Response(null, { status: 429, headers: { 'retry-after': '0' } }));

      // Act
      const answer = await invoke(slackEvent('/slack/commands', slashCommand('request')));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(slackCalls).toHaveLength(2);
      expect(sent()).toHaveLength(1);
    });

    it('tells the user when Slack cannot open the modal, and sends nothing', async () => {
      // Prepare
      slackAnswers.push(() => Response.json({ ok: false, error: 'expired_trigger_id' }));

      // Act
      const answer = await invoke(slackEvent('/slack/commands', slashCommand('request')));

      // Assess
      expect(answer.json).toEqual({
        response_type: 'ephemeral',
        text: 'Slack could not open the request form just now. Try again in a moment.',
      });
      expect(sent()).toEqual([]);
      expect(written.join('')).toContain('expired_trigger_id');
    });

    it("'/pam list' asks notify-slack for the list and says it is looking", async () => {
      // Act
      const answer = await invoke(slackEvent('/slack/commands', slashCommand('list')));

      // Assess
      expect(answer.json).toMatchObject({ response_type: 'ephemeral' });
      expect(SlackJobSchema.parse(sent()[0]?.body)).toMatchObject({
        kind: 'list',
        origin: { userId: ALICE },
      });
    });

    it("'/pam link CODE' hands the code to notify-slack; a malformed code gets the usage", async () => {
      // Act
      const linked = await invoke(slackEvent('/slack/commands', slashCommand('link abcd-2345-WXYZ')));
      const sentAfterGood = sent().length;
      const usage = await invoke(slackEvent('/slack/commands', slashCommand('link 1234')));

      // Assess
      expect(linked.statusCode).toBe(200);
      expect(SlackJobSchema.parse(sent()[0]?.body)).toMatchObject({ kind: 'link', code: 'ABCD-2345-WXYZ' });
      expect(usage.json?.text).toContain('Usage: `/pam link XXXX-XXXX-XXXX`');
      expect(sent()).toHaveLength(sentAfterGood);
    });

    it('tells the user when the queue cannot take the work', async () => {
      // Prepare
      queueDown = true;

      // Act
      const answer = await invoke(slackEvent('/slack/commands', slashCommand('list')));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.json?.text).toContain('could not take this just now');
    });
  });

  describe('Approve and Deny', () => {
    it('sends an Approve click to the commands queue as a Slack decision, deduplicated by its trigger_id', async () => {
      // Prepare
      const triggerId = trigger();

      // Act
      const answer = await invoke(
        slackEvent('/slack/interactions', click(SLACK_ACTION.approve, { triggerId })),
      );

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(sent()).toHaveLength(1);
      const command = CommandMessageSchema.parse(sent()[0]?.body);
      expect(command).toEqual({
        action: 'approve',
        requestId: REQUEST_ID,
        slack: { teamId: TEAM, userId: BOB, responseUrl: RESPONSE_URL },
        delivery: { by: 'slack', id: triggerId },
      });
      expect(sent()[0]).toMatchObject({ queue: COMMANDS_QUEUE, group: REQUEST_ID });
      // The worker's own delivery key, hashed: both sides name the occurrence the same way.
      expect(sent()[0]?.dedupId).toBe(sha256(deliveryKey(command)));
    });

    it('counts two approvers clicking the same Approve button as two decisions', async () => {
      // Act: same button (action_id, value), two people, two triggers
      await invoke(slackEvent('/slack/interactions', click(SLACK_ACTION.approve, { user: BOB })));
      await invoke(slackEvent('/slack/interactions', click(SLACK_ACTION.approve, { user: CAROL })));

      // Assess
      const [first, second] = sent();
      expect(sent()).toHaveLength(2);
      expect(first?.body).toMatchObject({ action: 'approve', slack: { userId: BOB } });
      expect(second?.body).toMatchObject({ action: 'approve', slack: { userId: CAROL } });
      expect(first?.dedupId).not.toBe(second?.dedupId);
      expect(first?.group).toBe(second?.group);
    });

    it('refuses a click whose value is not a request id, sending nothing', async () => {
      // Act
      const answer = await invoke(
        slackEvent('/slack/interactions', click(SLACK_ACTION.approve, { value: 'not-a-ulid' })),
      );

      // Assess
      expect(answer.statusCode).toBe(400);
      expect(sent()).toEqual([]);
    });

    it('acknowledges a click on any other button without acting', async () => {
      // Act
      const answer = await invoke(slackEvent('/slack/interactions', click('some-other-button')));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(sent()).toEqual([]);
      expect(slackCalls).toEqual([]);
    });

    it('opens the deny-reason modal on Deny, carrying the request id', async () => {
      // Prepare
      const triggerId = trigger();

      // Act
      const answer = await invoke(slackEvent('/slack/interactions', click(SLACK_ACTION.deny, { triggerId })));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(sent()).toEqual([]);
      expect(slackCalls).toHaveLength(1);
      expect(slackCalls[0]?.body).toMatchObject({
        trigger_id: triggerId,
        view: { callback_id: SLACK_CALLBACK.denyModal, private_metadata: REQUEST_ID },
      });
      expect(JSON.stringify(slackCalls[0]?.body.view)).toContain(`"block_id":"${DENY_FIELD.reason}"`);
    });

    it('sends the deny with its reason when the modal is submitted', async () => {
      // Prepare
      const triggerId = trigger();
      const form = input(DENY_FIELD.reason, '  not during the freeze  ');

      // Act
      const answer = await invoke(
        slackEvent(
          '/slack/interactions',
          submit(SLACK_CALLBACK.denyModal, form, { privateMetadata: REQUEST_ID, triggerId }),
        ),
      );

      // Assess
      expect(answer.json).toEqual({ response_action: 'clear' });
      const command = CommandMessageSchema.parse(sent()[0]?.body);
      expect(command).toEqual({
        action: 'deny',
        requestId: REQUEST_ID,
        slack: { teamId: TEAM, userId: ALICE },
        comment: 'not during the freeze',
        delivery: { by: 'slack', id: triggerId },
      });
      expect(sent()[0]?.dedupId).toBe(sha256(deliveryKey(command)));
    });

    it('asks for a reason on the modal when a deny has none, sending nothing', async () => {
      // Act
      const answer = await invoke(
        slackEvent(
          '/slack/interactions',
          submit(SLACK_CALLBACK.denyModal, input(DENY_FIELD.reason, '   '), { privateMetadata: REQUEST_ID }),
        ),
      );

      // Assess
      expect(answer.json).toEqual({
        response_action: 'errors',
        errors: { [DENY_FIELD.reason]: 'Say why you deny it.' },
      });
      expect(sent()).toEqual([]);
    });
  });

  describe('the request modal', () => {
    it('sends a valid request as one create with a fresh request id, and closes the modal', async () => {
      // Prepare
      const triggerId = trigger();

      // Act
      const answer = await invoke(
        slackEvent('/slack/interactions', submit(SLACK_CALLBACK.requestModal, requestForm(), { triggerId })),
      );
      await invoke(slackEvent('/slack/interactions', submit(SLACK_CALLBACK.requestModal, requestForm())));

      // Assess
      expect(answer.json).toEqual({ response_action: 'clear' });
      const [first, second] = sent();
      const create = CommandMessageSchema.parse(first?.body);
      expect(create).toEqual({
        action: 'create',
        requestId: expect.stringMatching(ULID_PATTERN),
        slack: { teamId: TEAM, userId: ALICE },
        entitlementId: READ_ONLY,
        accountId: ACCOUNTS.dev,
        durationMs: HOUR,
        reason: 'look at the logs',
        delivery: { by: 'slack', id: triggerId },
      });
      expect(first).toMatchObject({ queue: COMMANDS_QUEUE, group: create.requestId });
      expect(first?.dedupId).toBe(sha256(`create|{"by":"slack","id":"${triggerId}"}`));
      expect(second?.body.requestId).not.toBe(create.requestId);
    });

    it.each<[string, Parameters<typeof requestForm>[0], Record<string, string>]>([
      [
        'a duration above the maximum',
        {
          target: `${PROD_ADMIN}:${ACCOUNTS.prod}`,
          durationMs: 3 * HOUR,
          reason: 'incident',
          ticket: 'OPS-1',
        },
        { [REQUEST_FIELD.duration]: 'At most 2h for Production administrator.' },
      ],
      [
        'a duration under a minute',
        { durationMs: 1_000 },
        { [REQUEST_FIELD.duration]: 'Choose a duration of at least 1 minute.' },
      ],
      [
        'an account that is not a target',
        { target: `${READ_ONLY}:${ACCOUNTS.other}` },
        { [REQUEST_FIELD.target]: 'This account is not a target of this entitlement.' },
      ],
      [
        'an entitlement that does not exist',
        { target: `retired:${ACCOUNTS.dev}` },
        { [REQUEST_FIELD.target]: 'This is not an entitlement cloud-pam offers (any more).' },
      ],
      [
        'no reason and no ticket where both are required',
        { target: `${PROD_ADMIN}:${ACCOUNTS.prod}`, reason: null, ticket: 'JIRA-1' },
        {
          [REQUEST_FIELD.reason]: 'A reason is required for this entitlement.',
          [REQUEST_FIELD.ticket]: 'A ticket matching ^OPS-[0-9]{1,6}$ is required.',
        },
      ],
      [
        'a reason over 1000 characters',
        { reason: 'x'.repeat(1001) },
        { [REQUEST_FIELD.reason]: 'At most 1000 characters.' },
      ],
      [
        'a reason with a lone surrogate',
        { reason: 'broken \ud800 text' },
        { [REQUEST_FIELD.reason]: 'Not accepted: not well-formed Unicode (lone surrogate U+D800).' },
      ],
    ])('puts %s on its field and sends nothing', async (_label, fields, errors) => {
      // Act
      const answer = await invoke(
        slackEvent('/slack/interactions', submit(SLACK_CALLBACK.requestModal, requestForm(fields))),
      );

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.json).toEqual({ response_action: 'errors', errors });
      expect(sent()).toEqual([]);
    });
  });

  describe('the Events API', () => {
    it('sends the same deduplication id when Slack retries an event', async () => {
      // Act
      const first = await invoke(slackEvent('/slack/events', homeOpened('Ev0HOME0001')));
      const retry = await invoke(
        slackEvent('/slack/events', homeOpened('Ev0HOME0001'), {
          headers: { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' },
        }),
      );

      // Assess
      expect([first.statusCode, retry.statusCode]).toEqual([200, 200]);
      const [one, two] = sent();
      expect(sent()).toHaveLength(2);
      expect(SlackJobSchema.parse(one?.body)).toEqual({
        kind: 'home',
        origin: { teamId: TEAM, userId: ALICE },
        delivery: { by: 'slack', id: 'Ev0HOME0001' },
      });
      expect(one?.dedupId).toBe(sha256(`home|${TEAM}:${ALICE}|Ev0HOME0001`));
      expect(two?.dedupId).toBe(one?.dedupId);
    });

    it('does nothing when the messages tab is opened', async () => {
      // Act
      const answer = await invoke(
        slackEvent('/slack/events', homeOpened('Ev0MSGS0001', { tab: 'messages' })),
      );

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(sent()).toEqual([]);
    });

    it('asks Slack to retry an event the queue could not take', async () => {
      // Prepare
      queueDown = true;

      // Act
      const answer = await invoke(slackEvent('/slack/events', homeOpened('Ev0HOME0002')));

      // Assess
      expect(answer.statusCode).toBe(503);
      expect(answer.headers?.['x-slack-no-retry']).toBeUndefined();
    });
  });

  it('never writes the signing secret, the bot token, a signature or a response_url to its log', async () => {
    // Prepare: a mix of accepted, refused and failed requests
    const forged = slackEvent('/slack/commands', slashCommand('list'), { secret: 'forged' });
    const from = written.length;

    // Act
    await invoke(slackEvent('/slack/commands', slashCommand('request')));
    await invoke(slackEvent('/slack/interactions', click(SLACK_ACTION.approve)));
    await invoke(forged);
    slackAnswers.push(() => Response.json({ ok: false, error: 'invalid_auth' }));
    await invoke(slackEvent('/slack/commands', slashCommand('request')));

    // Assess
    const log = written.slice(from).join('');
    expect(log).toContain('Slack request accepted');
    expect(log).toContain('Slack request refused: signature');
    for (const secret of [
      SECRET,
      BOT_TOKEN,
      RESPONSE_URL,
      'sEcReTrEsPoNsEpArT',
      'legacy-verification-token',
      AWS_SECRET_KEY,
      AWS_SESSION,
    ])
      expect(log).not.toContain(secret);
    expect(log).not.toContain(forged.headers['X-Slack-Signature']?.slice(3));
    expect(log).not.toMatch(/v0=[0-9a-f]{64}/);
  });
});

describe('the Slack ingress without Slack configured', () => {
  it('refuses every request with 404 before reading its secret', async () => {
    // Prepare
    const signingSecret = vi.fn(async () => SECRET);
    const handle = makeSlackIngress({
      config: fixtureConfig(),
      catalog: fixtureCatalog(),
      clock: new FakeClock(),
      ids: new SequentialIds(),
      signingSecret,
      openView: async () => ({ viewId: LOADING_VIEW }),
      sendCommand: async () => {},
      sendJob: async () => {},
      diagnostics: {
        signatureRefused: () => {},
        workspaceRefused: () => {},
        malformed: () => {},
        accepted: () => {},
        unavailable: () => {},
      },
    });
    const event = slackEvent('/slack/commands', slashCommand('help'));

    // Act
    const answer = await handle({
      path: '/slack/commands',
      headers: event.headers,
      rawBody: Buffer.from(event.body ?? ''),
    });

    // Assess
    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'SLACK_NOT_CONFIGURED', message: 'Slack is not configured' },
    });
    expect(signingSecret).not.toHaveBeenCalled();
  });
});
