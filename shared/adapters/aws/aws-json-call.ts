// The two AWS calls the Slack ingress makes — SQS SendMessage and Secrets Manager GetSecretValue —
// as one signed HTTP POST each, in AWS's JSON protocol (SQS: awsJson1_0, Secrets Manager:
// awsJson1_1). The ingress has Slack's 3 s for a cold start plus its first acknowledgement; the SDK's
// SQS and Secrets Manager clients (with @smithy/core, the credential chain and the HTTP handler) were
// two thirds of its bundle and most of its cold start (bench/slack-ingress, bench/README.md). Every
// other function keeps the SDK.
//
// Signed by ./sigv4.ts (SigV4 over node:crypto, held to AWS's test suite and to the SDK's own signer;
// @smithy/signature-v4 with its helpers measured 14 KB and ~2 ms of a cold start). Sent with #adapters/http/node-http-post.ts
// rather than the global `fetch`, whose first use loads undici (~40 ms: more than this whole client).
// Credentials are the Lambda execution role's, which Lambda puts in the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: the SDK chain's first link), read at
// each call; region AWS_REGION; endpoint AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL (the local
// runtime sets it), else `https://<service>.<region>.amazonaws.com`.
//
// Failures are an AwsJsonCallError with the AWS error code (`__type`, or the `x-amzn-ErrorType`
// header) and the HTTP status; never the request body, the answer's message (it may quote the
// input), a secret value or a credential. Throttling, 5xx and network failures are retried with full
// jitter, at most MAX_ATTEMPTS times within a budget the acknowledgement can afford: a FIFO send
// repeated after a lost answer is dropped by its deduplication id, and a read is a read.
//
// test/infra/least-privilege.test.ts derives the ingress role's actions from the `X-Amz-Target`
// literals below: each operation names its target once, in its own function, so a bundle that does
// not call it does not keep it.
import { type HttpAnswer, type HttpPost, nodeHttpPost } from '#adapters/http/node-http-post.ts';
import * as z from '#domain/zod.ts';
import { type AwsCredentials, signV4 } from './sigv4.ts';

/** What one call may take in all, retries included: the acknowledgement has 3 s for everything. */
export const AWS_CALL_BUDGET_MS = 1500;
export const MAX_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 25;
const BACKOFF_CAP_MS = 250;
/** An error answer is small; a larger one is not read to the end. */
const MAX_ERROR_BODY_CHARS = 4096;

/** Codes the SDK retries as throttling or transient (@smithy/service-error-classification). */
const RETRYABLE_CODES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
]);

/**
 * A failed AWS call. `name` is the AWS error code, as the SDK names its exceptions, so logs that
 * record an error's name (#runtime/http.ts internalErrorSummary) carry it; so does `$metadata`.
 */
export class AwsJsonCallError extends Error {
  /** `sqs:SendMessage`, `secretsmanager:GetSecretValue`. */
  readonly operation: string;
  /** AWS's error code (`ResourceNotFoundException`, …), or `NetworkError`, `TimeoutError`, `InvalidResponse`, `MissingCredentials`. */
  readonly code: string;
  /** The HTTP status, when AWS answered. */
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly $metadata: { readonly httpStatusCode?: number; readonly requestId?: string };

  constructor(
    operation: string,
    code: string,
    status: number | undefined,
    retryable: boolean,
    requestId?: string,
  ) {
    super(`${operation} failed: ${code}${status === undefined ? '' : ` (HTTP ${status})`}`);
    this.name = code;
    this.operation = operation;
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    this.$metadata = {
      ...(status === undefined ? {} : { httpStatusCode: status }),
      ...(requestId === undefined ? {} : { requestId }),
    };
  }
}

export interface AwsJsonCallOptions {
  /** Where credentials, region and endpoints are read (default `process.env`, at each call). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default nodeHttpPost; `fetch` fits too. */
  readonly post?: HttpPost;
  /** Default AWS_CALL_BUDGET_MS. */
  readonly budgetMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds, for the budget (default process.hrtime: `performance` loads perf_hooks on first use). */
  readonly nowMs?: () => number;
  /** [0, 1), for the backoff's jitter (default Math.random). */
  readonly random?: () => number;
}

interface Service {
  /** SigV4 signing name and default endpoint host prefix. */
  readonly signingName: string;
  /** The suffix of `AWS_ENDPOINT_URL_<SERVICE>` (the SDK's service id, upper snake case). */
  readonly endpointEnv: string;
  readonly contentType: string;
}

const SQS: Service = {
  signingName: 'sqs',
  endpointEnv: 'SQS',
  contentType: 'application/x-amz-json-1.0',
};
const SECRETS_MANAGER: Service = {
  signingName: 'secretsmanager',
  endpointEnv: 'SECRETS_MANAGER',
  contentType: 'application/x-amz-json-1.1',
};

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `AmazonSQS.SendMessage` → `sqs:SendMessage`: how the role names it, for errors and logs. */
const operationOf = (service: Service, target: string) =>
  `${service.signingName}:${target.slice(target.lastIndexOf('.') + 1)}`;

/** AWS's error code from a JSON error answer: `com.amazonaws.sqs#QueueDoesNotExist` → `QueueDoesNotExist`. */
function errorCodeOf(type: unknown): string {
  if (typeof type !== 'string') return 'UnknownError';
  const code = type.split(':')[0]?.split('#').pop()?.trim() ?? '';
  return /^[A-Za-z0-9_.]{1,100}$/.test(code) ? code : 'UnknownError';
}

async function errorOf(service: Service, target: string, response: HttpAnswer): Promise<AwsJsonCallError> {
  let type: unknown = response.headers.get('x-amzn-errortype') ?? undefined;
  try {
    const text = (await response.text()).slice(0, MAX_ERROR_BODY_CHARS);
    // An authentication failure may come back as an XML ErrorResponse (moto answers so).
    const xmlCode = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
    if (xmlCode !== undefined) type = xmlCode;
    else {
      const parsed = JSON.parse(text) as { __type?: unknown; code?: unknown };
      type = parsed.__type ?? parsed.code ?? type;
    }
  } catch {
    // Not JSON (a proxy's page, a truncated answer): the header, if any, names it.
  }
  const code = errorCodeOf(type);
  const retryable = response.status >= 500 || response.status === 429 || RETRYABLE_CODES.has(code);
  return new AwsJsonCallError(
    operationOf(service, target),
    code,
    response.status,
    retryable,
    response.headers.get('x-amzn-requestid') ?? undefined,
  );
}

function endpointOf(
  service: Service,
  env: Readonly<Record<string, string | undefined>>,
  region: string,
): URL {
  const configured = env[`AWS_ENDPOINT_URL_${service.endpointEnv}`] || env.AWS_ENDPOINT_URL;
  return new URL(configured || `https://${service.signingName}.${region}.amazonaws.com`);
}

/** One operation: signed, sent, retried when AWS says it may be; the answer's JSON, unchecked. */
async function call(
  service: Service,
  target: string,
  input: unknown,
  options: AwsJsonCallOptions,
): Promise<unknown> {
  const env = options.env ?? process.env;
  const post = options.post ?? nodeHttpPost;
  const sleep = options.sleep ?? defaultSleep;
  const nowMs = options.nowMs ?? (() => Number(process.hrtime.bigint()) / 1e6);
  const random = options.random ?? Math.random;
  const budgetMs = options.budgetMs ?? AWS_CALL_BUDGET_MS;
  const operation = operationOf(service, target);
  const started = nowMs();

  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const region = env.AWS_REGION;
  if (!accessKeyId || !secretAccessKey || !region)
    throw new AwsJsonCallError(operation, 'MissingCredentials', undefined, false);
  const credentials: AwsCredentials = {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
  const url = endpointOf(service, env, region);
  const body = JSON.stringify(input);

  for (let attempt = 1; ; attempt++) {
    // Signed per attempt: X-Amz-Date moves with the retry.
    const signed = signV4(
      { method: 'POST', url, headers: { 'content-type': service.contentType, 'x-amz-target': target }, body },
      { service: service.signingName, region, credentials, date: new Date() },
    );
    let failure: AwsJsonCallError;
    try {
      // The transport sets Host from the URL: the same value as the one signed.
      const { host: _host, ...headers } = signed;
      const remaining = Math.max(1, Math.floor(budgetMs - (nowMs() - started)));
      const response = await post(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(remaining),
      });
      if (response.ok) {
        try {
          return await response.json();
        } catch {
          throw new AwsJsonCallError(operation, 'InvalidResponse', response.status, false);
        }
      }
      failure = await errorOf(service, target, response);
    } catch (error) {
      if (error instanceof AwsJsonCallError) throw error;
      const timedOut = (error as { name?: unknown })?.name === 'TimeoutError';
      failure = new AwsJsonCallError(operation, timedOut ? 'TimeoutError' : 'NetworkError', undefined, true);
    }
    if (!failure.retryable || attempt >= MAX_ATTEMPTS) throw failure;
    const waitMs = Math.floor(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
    // A retry that could not finish within the budget is not started.
    if (nowMs() - started + waitMs >= budgetMs) throw failure;
    await sleep(waitMs);
  }
}

const SendMessageOutput = z.object({ MessageId: z.string() });
const GetSecretValueOutput = z.object({ SecretString: z.optional(z.string()) });

function checked<T>(operation: string, schema: z.ZodMiniType<T>, answer: unknown): T {
  const result = schema.safeParse(answer);
  if (!result.success) throw new AwsJsonCallError(operation, 'InvalidResponse', 200, false);
  return result.data;
}

export interface SendMessageInput {
  readonly QueueUrl: string;
  readonly MessageBody: string;
  /** FIFO queues: the order group. */
  readonly MessageGroupId?: string;
  /** FIFO queues: a resend with this id within 5 minutes is dropped. */
  readonly MessageDeduplicationId?: string;
}

/** SQS SendMessage (`sqs:SendMessage`). */
export async function sendMessage(
  input: SendMessageInput,
  options: AwsJsonCallOptions = {},
): Promise<{ readonly MessageId: string }> {
  const answer = await call(SQS, 'AmazonSQS.SendMessage', input, options);
  return checked('sqs:SendMessage', SendMessageOutput, answer);
}

/** Secrets Manager GetSecretValue (`secretsmanager:GetSecretValue`): the string value, if it has one. */
export async function getSecretValue(
  input: { readonly SecretId: string },
  options: AwsJsonCallOptions = {},
): Promise<{ readonly SecretString?: string }> {
  const answer = await call(SECRETS_MANAGER, 'secretsmanager.GetSecretValue', input, options);
  return checked('secretsmanager:GetSecretValue', GetSecretValueOutput, answer);
}
