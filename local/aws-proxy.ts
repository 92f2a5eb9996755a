// An HTTP proxy between AWS SDK v3 clients and moto that the test process controls: it counts every
// call, keeps a log of them, and injects faults. For the integration tests that run the real Lambda
// handlers in worker threads (they build their own SDK clients from `AWS_ENDPOINT_URL`, so no test
// can add SDK middleware to them — test/support/fault-injection.ts is the middleware-era
// equivalent) and, later, for the local runtime. It lives in local/ and is imported only by tests and
// the local runtime: it is never bundled into a function.
//
// Forwarding: every request (method, path and query, headers, body) goes to `upstream` — or to
// `routes[service]` — and the response (status, headers, body) comes back. Bodies are buffered
// (requests are small JSON). The Host header passes through unchanged, so moto builds URLs that point
// back at the proxy (SQS queue URLs: the SQS client sends to its QueueUrl, which would otherwise skip
// the proxy); so do `Authorization` (moto keys an account by its access key) and `x-moto-account-id`.
//
// How a call is identified (observed with SDK v3 against moto 5.2.1):
// - service: the signing name in the SigV4 credential scope of `Authorization`
//   (`Credential=AKID/20261129/us-east-1/<service>/aws4_request`), `unknown` without one:
//     DynamoDBClient `dynamodb`, DynamoDBStreamsClient `dynamodb` too (not `streams.dynamodb`; its
//     targets are `DynamoDBStreams_20120810.*`), SQSClient `sqs`, SSOAdminClient `sso`,
//     IdentitystoreClient `identitystore`, SchedulerClient `scheduler`, IAMClient `iam`,
//     STSClient `sts`, KMSClient `kms`.
// - operation:
//     awsJson 1.0/1.1 — after the last `.` of `X-Amz-Target`: `DynamoDB_20120810.PutItem`,
//       `AmazonSQS.SendMessage` (SQS is JSON 1.0 now), `SWBExternalService.CreateAccountAssignment`,
//       `AWSIdentityStore.DescribeUser`, `TrentService.ListKeys` (KMS);
//     awsQuery (IAM, STS: form-encoded POST) — the `Action` parameter;
//     restJson1 (EventBridge Scheduler) — method and path: POST/PUT/GET/DELETE `/schedules/{name}`
//       CreateSchedule/UpdateSchedule/GetSchedule/DeleteSchedule, GET `/schedules` ListSchedules,
//       POST/GET/DELETE `/schedule-groups/{name}` CreateScheduleGroup/GetScheduleGroup/
//       DeleteScheduleGroup, GET `/schedule-groups` ListScheduleGroups, POST/GET/DELETE `/tags/{arn}`
//       TagResource/ListTagsForResource/UntagResource;
//     anything else — `Unknown`.
// - input: the parsed JSON request body when the body is JSON, otherwise undefined.
//
// Faults (`inject`: first matching rule in insertion order; each match uses up one of `times`, taken
// before forwarding so concurrent calls cannot both take the last one):
// - throttle — not forwarded; answered as AWS answers a throttle: HTTP 400, `ThrottlingException`
//   (awsQuery: `Throttling`, as IAM and STS name it). The SDK retries it unless `maxAttempts` is 1.
// - error — not forwarded (the call never happened); answered with that status and error type.
// - lose-response — forwarded (the call happened), then answered with an error (default 500
//   `InternalFailure`): a crash after the call, before the caller learned the result. A 500 is
//   retried by the SDK when `maxAttempts` > 1, which sends the call again, as on AWS.
// A lose-response or status injection whose forward fails (upstream unreachable) is given back.
// - status — forwarded, then the operation status of the response (`AccountAssignmentCreationStatus`,
//   `AccountAssignmentDeletionStatus`, `PermissionSetProvisioningStatus`) is rewritten to
//   IN_PROGRESS (FailureReason dropped) or FAILED (FailureReason set), as fault-injection.ts's
//   rewriteStatus does. What the service did is unchanged: on moto the assignment exists. A response
//   without such a member is answered 500 and the rule keeps its injection (a wrong rule is loud);
//   when the service answers an error, that error is relayed and the injection is given back.
// `crashAfter(n)`: the n-th call from now (0: the next one), over every service, is answered with a
// non-retryable HTTP 400 `InjectedCrash` instead of being forwarded (`{ after: true }`: forwarded
// first); a 500 would be retried away by the SDK. `answer(fn)`: an interceptor that answers a call
// with HTTP 200 and the JSON value it returns, without forwarding (JSON protocols only: on an awsQuery
// call it is a 500). Order per call: crash point, then fault rules, then interceptors, then
// forwarding. Every call is counted, injected ones included. An unreachable upstream is a 502.
//
// `actAs(accessKeyId, senderId)`: SQS stamps each message with its sender's id (`SenderId`); moto
// stamps one constant id on all. Calls signed with a registered access key are remembered as sent by
// that identity (SendMessage, SendMessageBatch, by MessageId) and their messages are received with
// that `SenderId` — so each local function, running under its own assumed role, is seen as itself.
// Error answers use the protocol's shape: JSON (`x-amzn-ErrorType` header, `{"__type","message"}`)
// for the JSON protocols, the `<ErrorResponse>` XML (as moto and AWS answer) for awsQuery. Request
// bodies are never logged or echoed: errors the proxy makes carry no body of any request.

import { randomUUID } from 'node:crypto';
import {
  Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { listen } from './http-listener.ts';
import { readBody } from './read-body.ts';

export type Fault =
  /** Not forwarded: HTTP 400 ThrottlingException (awsQuery: Throttling). */
  | { readonly kind: 'throttle' }
  /** Not forwarded: answered with this error. */
  | { readonly kind: 'error'; readonly status: number; readonly type: string; readonly message?: string }
  /** Forwarded, then answered with this error instead of the response (default 500 InternalFailure). */
  | { readonly kind: 'lose-response'; readonly status?: number; readonly type?: string }
  /** Forwarded, then the response's operation status rewritten. */
  | {
      readonly kind: 'status';
      readonly status: 'IN_PROGRESS' | 'FAILED';
      /** For FAILED (default: 'Injected failure'). */
      readonly failureReason?: string;
    };

export interface FaultRule {
  /** Signing name, e.g. 'sso'; every service when absent. */
  readonly service?: string;
  /** Operation name, e.g. 'CreateAccountAssignment'. */
  readonly operation: string;
  /** How many of the next matching calls get the fault; after that they pass through. */
  readonly times: number;
  readonly fault: Fault;
  /** Narrows the rule to calls whose parsed JSON input it accepts. */
  readonly when?: (input: unknown) => boolean;
}

export interface CallInfo {
  /** SigV4 signing name, e.g. 'dynamodb', 'sso'; 'unknown' for an unsigned request. */
  readonly service: string;
  /** e.g. 'PutItem'; 'Unknown' when not recognised. */
  readonly operation: string;
  /** The parsed JSON request body, undefined when the body is not JSON. */
  readonly input: unknown;
}

export type Injection = Fault['kind'] | 'crash' | 'answer';

export interface ProxyCall extends CallInfo {
  /** HTTP status the caller received. */
  readonly status: number;
  /** Set when the proxy shaped the answer. */
  readonly injected?: Injection;
}

/** Answers a call in place of the service when it returns something other than undefined. */
export type Interceptor = (call: CallInfo) => unknown | undefined;

export interface AwsProxyOptions {
  /** Base URL every call is forwarded to (moto), e.g. http://127.0.0.1:5000. */
  readonly upstream: string;
  /** Signing name → base URL for services answered elsewhere (e.g. a fake Identity Center for `sso`). */
  readonly routes?: Readonly<Record<string, string>>;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Port to listen on (default: a free one). */
  readonly port?: number;
  /**
   * When moto enforces IAM it refuses keys it never issued. A call signed with a key neither given
   * an identity (`actAs`) nor `trust`ed — a person's AWS client with throwaway credentials — is signed
   * again with these (the local administrator), so anyone can still inspect the local state.
   */
  readonly resignUnknownAs?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface AwsProxy {
  /** Base URL to give SDK clients (`endpoint`, `AWS_ENDPOINT_URL`). */
  readonly endpoint: string;
  /** The latest calls, oldest first (at most 5,000). */
  readonly calls: ReadonlyArray<ProxyCall>;
  /** Calls per `<service>:<Operation>`, e.g. `sso:CreateAccountAssignment`, injected ones included. */
  counts(): Record<string, number>;
  /** Forgets the counts, the total and the calls log. */
  resetCounts(): void;
  /** Calls since the start or the last `resetCounts`. */
  total(): number;
  inject(rule: FaultRule): void;
  /** Injections still to come, over all rules. */
  remaining(): number;
  clearFaults(): void;
  /** The n-th call from now (0: the next) fails with a non-retryable InjectedCrash; `after`: once forwarded. */
  crashAfter(n: number, options?: { readonly after?: boolean }): void;
  /** True once the crash point has fired, or when none is set. */
  crashed(): boolean;
  clearCrash(): void;
  /** Registers an interceptor; the returned function unregisters it. */
  answer(fn: Interceptor): () => void;
  /**
   * Calls signed with `accessKeyId` act as `senderId`: the SQS messages they send are received with it
   * as their `SenderId` (for an assumed role `<RoleId>:<session>`), as SQS stamps them. moto stamps
   * one constant id on every message; this gives each local function its own.
   */
  actAs(accessKeyId: string, senderId: string): void;
  /** A key moto issued (forwarded as signed, never re-signed). */
  trust(accessKeyId: string): void;
  /** Calls signed with this key are the service side: forwarded, never faulted, crashed or counted. */
  passThrough(accessKeyId: string): void;
  /** Sends a service's calls to another base URL, or back to `upstream` with undefined. */
  routeTo(service: string, upstream: string | undefined): void;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

const CALL_LOG_LIMIT = 5_000;
const SENT_BY_LIMIT = 200_000;
const SENDER_OPERATIONS = new Set(['SendMessage', 'SendMessageBatch', 'ReceiveMessage']);
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const STATUS_MEMBERS = [
  'AccountAssignmentCreationStatus',
  'AccountAssignmentDeletionStatus',
  'PermissionSetProvisioningStatus',
] as const;
// Not forwarded either way: they describe one connection, or a body the proxy re-frames.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'content-length',
]);

type Protocol = 'json' | 'restJson' | 'query';

interface Identified extends CallInfo {
  readonly protocol: Protocol;
  /** Response content type for JSON answers (awsJson mirrors the request's version). */
  readonly jsonContentType: string;
}

interface Upstream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

interface Answer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
  readonly injected?: Injection;
}

interface ActiveRule {
  readonly rule: FaultRule;
  left: number;
}

class ForwardError extends Error {}

const SCHEDULER_ROUTES: ReadonlyArray<readonly [string, RegExp, string]> = [
  ['POST', /^\/schedules\/[^/]+$/, 'CreateSchedule'],
  ['PUT', /^\/schedules\/[^/]+$/, 'UpdateSchedule'],
  ['GET', /^\/schedules\/[^/]+$/, 'GetSchedule'],
  ['DELETE', /^\/schedules\/[^/]+$/, 'DeleteSchedule'],
  ['GET', /^\/schedules\/?$/, 'ListSchedules'],
  ['POST', /^\/schedule-groups\/[^/]+$/, 'CreateScheduleGroup'],
  ['GET', /^\/schedule-groups\/[^/]+$/, 'GetScheduleGroup'],
  ['DELETE', /^\/schedule-groups\/[^/]+$/, 'DeleteScheduleGroup'],
  ['GET', /^\/schedule-groups\/?$/, 'ListScheduleGroups'],
  ['POST', /^\/tags\/.+$/, 'TagResource'],
  ['GET', /^\/tags\/.+$/, 'ListTagsForResource'],
  ['DELETE', /^\/tags\/.+$/, 'UntagResource'],
];

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function signingService(headers: IncomingHttpHeaders, url: URL): string {
  const credential =
    /Credential=([^,\s]+)/.exec(header(headers, 'authorization') ?? '')?.[1] ??
    url.searchParams.get('X-Amz-Credential') ??
    '';
  // AKID/date/region/service/aws4_request
  const parts = credential.split('/');
  return parts.length >= 5 && parts[parts.length - 1] === 'aws4_request'
    ? (parts[parts.length - 2] as string)
    : 'unknown';
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function identify(request: IncomingMessage, url: URL, body: Buffer): Identified {
  const service = signingService(request.headers, url);
  const contentType = header(request.headers, 'content-type') ?? '';
  const target = header(request.headers, 'x-amz-target');
  const input = parseJson(body);
  if (target) {
    const operation = target.slice(target.lastIndexOf('.') + 1) || 'Unknown';
    const jsonContentType = contentType.startsWith('application/x-amz-json')
      ? contentType
      : 'application/x-amz-json-1.1';
    return { service, operation, input, protocol: 'json', jsonContentType };
  }
  if (contentType.startsWith('application/x-www-form-urlencoded') || url.searchParams.has('Action')) {
    const form = contentType.startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(body.toString('utf8'))
      : url.searchParams;
    const operation = form.get('Action') ?? url.searchParams.get('Action') ?? 'Unknown';
    return { service, operation, input, protocol: 'query', jsonContentType: 'application/json' };
  }
  const method = request.method ?? 'GET';
  const route =
    service === 'scheduler'
      ? SCHEDULER_ROUTES.find(([m, pattern]) => m === method && pattern.test(url.pathname))
      : undefined;
  return {
    service,
    operation: route?.[2] ?? 'Unknown',
    input,
    protocol: 'restJson',
    jsonContentType: 'application/json',
  };
}

function xmlEscape(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

/** An error in the shape the call's protocol answers errors with. */
function errorAnswer(
  call: Identified,
  status: number,
  type: string,
  message: string,
  injected: Injection | undefined,
): Answer {
  const requestId = randomUUID();
  if (call.protocol === 'query') {
    const side = status >= 500 ? 'Receiver' : 'Sender';
    const body = Buffer.from(
      `<ErrorResponse><Error><Type>${side}</Type><Code>${xmlEscape(type)}</Code>` +
        `<Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
    return {
      status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body,
      ...(injected ? { injected } : {}),
    };
  }
  return {
    status,
    headers: {
      'content-type': call.protocol === 'json' ? call.jsonContentType : 'application/json',
      'x-amzn-errortype': type,
      'x-amzn-requestid': requestId,
    },
    body: Buffer.from(JSON.stringify({ __type: type, message })),
    ...(injected ? { injected } : {}),
  };
}

function relay(upstream: Upstream): Answer {
  return { status: upstream.status, headers: upstream.headers, body: upstream.body };
}

/** The response with its operation status rewritten, or undefined when it carries none. */
function rewriteStatus(body: Buffer, fault: Extract<Fault, { kind: 'status' }>): Buffer | undefined {
  const output = parseJson(body);
  if (typeof output !== 'object' || output === null) return undefined;
  const record = output as Record<string, unknown>;
  const member = STATUS_MEMBERS.find((key) => typeof record[key] === 'object' && record[key] !== null);
  if (!member) return undefined;
  const { FailureReason: _dropped, ...status } = record[member] as Record<string, unknown>;
  const rewritten =
    fault.status === 'FAILED'
      ? { ...status, Status: 'FAILED', FailureReason: fault.failureReason ?? 'Injected failure' }
      : { ...status, Status: 'IN_PROGRESS' };
  return Buffer.from(JSON.stringify({ ...record, [member]: rewritten }));
}

export async function startAwsProxy(options: AwsProxyOptions): Promise<AwsProxy> {
  const routes = new Map<string, string>(Object.entries(options.routes ?? {}));
  const counts = new Map<string, number>();
  let total = 0;
  let calls: ProxyCall[] = [];
  const rules: ActiveRule[] = [];
  const interceptors: Interceptor[] = [];
  /** Access key id → the SenderId SQS would stamp on what it sends (`actAs`). */
  const identities = new Map<string, string>();
  const passingThrough = new Set<string>();
  const trusted = new Set<string>(options.resignUnknownAs ? [options.resignUnknownAs.accessKeyId] : []);
  /** MessageId → SenderId of the messages sent through the proxy (bounded; oldest dropped first). */
  const sentBy = new Map<string, string>();
  let crash: { left: number; after: boolean } | undefined;
  const inFlight = new Set<{ destroy(): void }>();
  const httpAgent = new Agent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true });
  let closing = false;

  async function forward(
    base: string,
    request: IncomingMessage,
    body: Buffer,
    stripEncoding: boolean,
  ): Promise<Upstream> {
    const target = new URL(base);
    const prefix = target.pathname.replace(/\/+$/, '');
    let headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      if (stripEncoding && name === 'accept-encoding') continue;
      headers[name] = value;
    }
    if (body.length > 0 || request.headers['content-length'] !== undefined)
      headers['content-length'] = body.length;
    const key = accessKeyOf(request);
    if (options.resignUnknownAs && key && !trusted.has(key) && !identities.has(key))
      headers = await resign(request, headers, body, options.resignUnknownAs);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const outgoing = send(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: request.method,
          path: `${prefix}${request.url ?? '/'}`,
          headers,
          agent: target.protocol === 'https:' ? httpsAgent : httpAgent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            inFlight.delete(outgoing);
            resolve({
              status: response.statusCode ?? 502,
              headers: response.headers,
              body: Buffer.concat(chunks),
            });
          });
          response.on('error', (error) => {
            inFlight.delete(outgoing);
            reject(
              new ForwardError(`${target.origin}: ${(error as NodeJS.ErrnoException).code ?? error.name}`),
            );
          });
        },
      );
      inFlight.add(outgoing);
      outgoing.on('error', (error) => {
        inFlight.delete(outgoing);
        reject(new ForwardError(`${target.origin}: ${(error as NodeJS.ErrnoException).code ?? error.name}`));
      });
      outgoing.end(body);
    });
  }

  function takeRule(call: Identified): ActiveRule | 'when-threw' | undefined {
    for (const entry of rules) {
      const { rule } = entry;
      if (entry.left <= 0 || rule.operation !== call.operation) continue;
      if (rule.service !== undefined && rule.service !== call.service) continue;
      if (rule.when) {
        try {
          if (!rule.when(call.input)) continue;
        } catch {
          return 'when-threw';
        }
      }
      entry.left--;
      return entry;
    }
    return undefined;
  }

  function interceptorAnswer(call: Identified): Answer | undefined {
    for (const fn of [...interceptors]) {
      let value: unknown;
      try {
        value = fn({ service: call.service, operation: call.operation, input: call.input });
      } catch {
        return errorAnswer(
          call,
          500,
          'InjectedFaultMisconfigured',
          'aws-proxy: an answer() interceptor threw',
          'answer',
        );
      }
      if (value === undefined) continue;
      if (call.protocol === 'query')
        return errorAnswer(
          call,
          500,
          'InjectedFaultMisconfigured',
          `aws-proxy: answer() cannot answer ${call.service}:${call.operation} (query protocol answers XML)`,
          'answer',
        );
      return {
        status: 200,
        headers: { 'content-type': call.jsonContentType, 'x-amzn-requestid': randomUUID() },
        body: Buffer.from(JSON.stringify(value)),
        injected: 'answer',
      };
    }
    return undefined;
  }

  async function handle(request: IncomingMessage, body: Buffer, call: Identified): Promise<Answer> {
    const base = routes.get(call.service) ?? options.upstream;
    const crashError = () => errorAnswer(call, 400, 'InjectedCrash', 'injected crash', 'crash');

    if (crash) {
      if (crash.left <= 0) {
        const { after } = crash;
        crash = undefined;
        if (after) await forward(base, request, body, false).catch(() => undefined);
        return crashError();
      }
      crash.left--;
    }

    const entry = takeRule(call);
    if (entry === 'when-threw')
      return errorAnswer(
        call,
        500,
        'InjectedFaultMisconfigured',
        'aws-proxy: a fault rule’s when() threw',
        undefined,
      );
    if (entry) {
      const { fault } = entry.rule;
      switch (fault.kind) {
        case 'throttle':
          return call.protocol === 'query'
            ? errorAnswer(call, 400, 'Throttling', 'Rate exceeded (injected)', 'throttle')
            : errorAnswer(call, 400, 'ThrottlingException', 'Rate exceeded (injected)', 'throttle');
        case 'error':
          return errorAnswer(
            call,
            fault.status,
            fault.type,
            fault.message ?? `${fault.type} (injected)`,
            'error',
          );
        case 'lose-response': {
          try {
            await forward(base, request, body, false);
          } catch (error) {
            // The call may never have happened: the injection is still owed.
            entry.left++;
            throw error;
          }
          return errorAnswer(
            call,
            fault.status ?? 500,
            fault.type ?? 'InternalFailure',
            'response lost (injected)',
            'lose-response',
          );
        }
        case 'status': {
          let upstream: Upstream;
          try {
            upstream = await forward(base, request, body, true);
          } catch (error) {
            entry.left++;
            throw error;
          }
          // The service failed the call itself: nothing to rewrite, so the injection is still owed.
          if (upstream.status < 200 || upstream.status >= 300 || request.method === 'HEAD') {
            entry.left++;
            return relay(upstream);
          }
          const encoding = header(upstream.headers, 'content-encoding');
          const rewritten =
            encoding && encoding !== 'identity' ? undefined : rewriteStatus(upstream.body, fault);
          if (!rewritten) {
            // A rule on an operation without an operation status is a mistake in the test.
            entry.left++;
            return errorAnswer(
              call,
              500,
              'InjectedFaultMisconfigured',
              `aws-proxy: ${call.service}:${call.operation} returned no operation status to rewrite`,
              undefined,
            );
          }
          const { 'x-amz-crc32': _crc, ...headers } = upstream.headers;
          return { status: upstream.status, headers, body: rewritten, injected: 'status' };
        }
      }
    }

    const answered = interceptorAnswer(call);
    if (answered) return answered;
    return passThrough(request, body, call);
  }

  /** Forwarded as it is (senders stamped, denials in the service's protocol): no fault, no count. */
  async function passThrough(request: IncomingMessage, body: Buffer, call: Identified): Promise<Answer> {
    const base = routes.get(call.service) ?? options.upstream;
    if (call.service === 'sqs' && SENDER_OPERATIONS.has(call.operation) && call.protocol === 'json') {
      const upstream = await forward(base, request, body, true);
      return deniedInProtocol(call, stampSenders(call.operation, upstream, senderOf(request)));
    }
    return deniedInProtocol(call, await forward(base, request, body, call.protocol !== 'query'));
  }

  /** The SenderId of the caller, when its access key was given an identity with `actAs`. */
  function senderOf(request: IncomingMessage): string | undefined {
    const key = accessKeyOf(request);
    return key ? identities.get(key) : undefined;
  }

  /**
   * SQS stamps each message with its sender; moto stamps one constant id on all. So: remember which
   * identity sent each message (by MessageId), and give it back on every receive.
   */
  function stampSenders(operation: string, upstream: Upstream, sender: string | undefined): Upstream {
    if (upstream.status !== 200) return upstream;
    const output = parseJson(upstream.body) as Record<string, unknown> | undefined;
    if (typeof output !== 'object' || output === null) return upstream;
    const remember = (id: unknown) => {
      if (typeof id !== 'string' || sender === undefined) return;
      sentBy.set(id, sender);
      if (sentBy.size > SENT_BY_LIMIT) sentBy.delete(sentBy.keys().next().value as string);
    };
    if (operation === 'SendMessage') remember(output.MessageId);
    if (operation === 'SendMessageBatch' && Array.isArray(output.Successful))
      for (const entry of output.Successful) remember((entry as Record<string, unknown>).MessageId);
    if (operation !== 'ReceiveMessage' || !Array.isArray(output.Messages)) return upstream;
    const messages = output.Messages.map((message: Record<string, unknown>) => {
      const attributes = message.Attributes as Record<string, unknown> | undefined;
      const id = typeof message.MessageId === 'string' ? sentBy.get(message.MessageId) : undefined;
      if (!attributes || attributes.SenderId === undefined) return message;
      // A message from a caller without an identity keeps moto's stamp (an IAM user's id).
      return id ? { ...message, Attributes: { ...attributes, SenderId: id } } : message;
    });
    const { 'x-amz-crc32': _crc, ...headers } = upstream.headers;
    return { ...upstream, headers, body: Buffer.from(JSON.stringify({ ...output, Messages: messages })) };
  }

  function send(response: ServerResponse, answer: Answer, head: boolean): void {
    if (response.destroyed || response.writableEnded) return;
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name.toLowerCase())) continue;
      headers[name] = value;
    }
    if (head) {
      const length = answer.headers['content-length'];
      if (length !== undefined) headers['content-length'] = length;
      response.writeHead(answer.status, headers);
      response.end();
      return;
    }
    headers['content-length'] = answer.body.length;
    response.writeHead(answer.status, headers);
    response.end(answer.body);
  }

  function record(call: ProxyCall): void {
    calls.push(call);
    if (calls.length > CALL_LOG_LIMIT) calls.splice(0, calls.length - CALL_LOG_LIMIT);
  }

  const listener = await listen((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://proxy.invalid');
      let body: Buffer;
      try {
        body = await readBody(request, MAX_BODY_BYTES);
      } catch {
        // Too large (the request is destroyed) or aborted: nobody is left to answer.
        response.destroy();
        return;
      }
      const call = identify(request, url, body);
      const caller = accessKeyOf(request);
      if (caller && passingThrough.has(caller)) {
        // The service side (an event source, a schedule firing): never faulted, never counted.
        let plain: Answer;
        try {
          plain = await passThrough(request, body, call);
        } catch (error) {
          const detail = error instanceof ForwardError ? error.message : 'internal error';
          plain = errorAnswer(call, 502, 'BadGateway', `aws-proxy: upstream failed (${detail})`, undefined);
        }
        send(response, plain, request.method === 'HEAD');
        return;
      }
      const key = `${call.service}:${call.operation}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      total++;
      let answer: Answer;
      try {
        answer = await handle(request, body, call);
      } catch (error) {
        // Unreachable upstream: a 502 the SDK treats as transient. No request content in the message.
        const detail = error instanceof ForwardError ? error.message : 'internal error';
        answer = errorAnswer(call, 502, 'BadGateway', `aws-proxy: upstream failed (${detail})`, undefined);
      }
      record({
        service: call.service,
        operation: call.operation,
        input: call.input,
        status: answer.status,
        ...(answer.injected ? { injected: answer.injected } : {}),
      });
      send(response, answer, request.method === 'HEAD');
    })().catch(() => {
      // e.g. an injected error type that is no valid header value: the caller sees a dropped connection.
      response.destroy();
    });
  }, options);

  return {
    endpoint: listener.base,
    get calls(): ReadonlyArray<ProxyCall> {
      return calls;
    },
    counts: () => Object.fromEntries(counts),
    resetCounts() {
      counts.clear();
      total = 0;
      calls = [];
    },
    total: () => total,
    inject(rule) {
      rules.push({ rule, left: Math.max(0, Math.floor(rule.times)) });
    },
    remaining: () => rules.reduce((sum, entry) => sum + entry.left, 0),
    clearFaults() {
      rules.length = 0;
    },
    crashAfter(n, crashOptions) {
      crash = { left: Math.max(0, Math.floor(n)), after: crashOptions?.after === true };
    },
    crashed: () => crash === undefined,
    clearCrash() {
      crash = undefined;
    },
    actAs(accessKeyId, senderId) {
      identities.set(accessKeyId, senderId);
    },
    trust(accessKeyId) {
      trusted.add(accessKeyId);
    },
    passThrough(accessKeyId) {
      passingThrough.add(accessKeyId);
    },
    answer(fn) {
      interceptors.push(fn);
      return () => {
        const at = interceptors.indexOf(fn);
        if (at >= 0) interceptors.splice(at, 1);
      };
    },
    routeTo(service, upstream) {
      if (upstream === undefined) routes.delete(service);
      else routes.set(service, upstream);
    },
    async close() {
      if (closing) return;
      closing = true;
      for (const outgoing of inFlight) outgoing.destroy();
      const closed = listener.close();
      httpAgent.destroy();
      httpsAgent.destroy();
      await closed;
    },
  };
}

function accessKeyOf(request: IncomingMessage): string | undefined {
  return /Credential=([A-Za-z0-9]+)\//.exec(String(request.headers.authorization ?? ''))?.[1];
}

/** The same request signed with `credentials` (SigV4, the original credential scope's service and region). */
async function resign(
  request: IncomingMessage,
  headers: OutgoingHttpHeaders,
  body: Buffer,
  credentials: { readonly accessKeyId: string; readonly secretAccessKey: string },
): Promise<OutgoingHttpHeaders> {
  const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
    String(request.headers.authorization ?? ''),
  );
  if (!scope?.[1] || !scope[2]) return headers;
  const url = new URL(request.url ?? '/', 'http://proxy.invalid');
  const unsigned: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || lower === 'authorization' || lower.startsWith('x-amz-date')) continue;
    if (lower === 'x-amz-security-token' || lower === 'x-amz-content-sha256') continue;
    unsigned[lower] = Array.isArray(value) ? value.join(',') : String(value);
  }
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const known = query[name];
    query[name] = known === undefined ? value : [...(Array.isArray(known) ? known : [known]), value];
  }
  const signer = new SignatureV4({ service: scope[2], region: scope[1], credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method: request.method ?? 'GET',
    protocol: 'http:',
    hostname: String(unsigned.host ?? 'localhost').split(':')[0] as string,
    path: url.pathname,
    query,
    headers: unsigned,
    body,
  });
  return signed.headers;
}

/**
 * moto answers a call its IAM enforcement refuses with IAM's XML `AccessDenied`, whatever the
 * service's protocol; AWS answers JSON services with their own `AccessDeniedException`. Rewritten so a
 * function sees the error it would see in AWS (a missing grant reads as one, not as a parse error).
 */
function deniedInProtocol(call: Identified, upstream: Upstream): Answer {
  if (upstream.status !== 403 || call.protocol === 'query') return relay(upstream);
  const text = upstream.body.toString('utf8');
  if (!text.startsWith('<') || !/<Code>AccessDenied<\/Code>/.test(text)) return relay(upstream);
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? 'Access denied';
  return errorAnswer(call, 403, 'AccessDeniedException', message, undefined);
}
