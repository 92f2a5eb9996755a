// The SlackApi port over Slack's Web API, with @slack/web-api's WebClient
// (https://docs.slack.dev/tools/node-slack-sdk/web-api/), pointed at `apiUrl` (`SLACK_API_URL`:
// https://slack.com/api/ in AWS, the local runtime's stand-in, local/slack-stand-in.ts, locally — the SDK's
// documented `slackApiUrl`, https://docs.slack.dev/tools/node-slack-sdk/web-api/#custom-api-url), and
// `respond` over plain fetch to a `response_url`
// (https://docs.slack.dev/interactivity/handling-user-interaction).
//
// Waiting. Slack answers a rate-limited call HTTP 429 with `Retry-After: <seconds>`
// (https://docs.slack.dev/apis/web-api/rate-limits); a Lambda must wait that out, but never longer than its
// budget (`maxRetryWaitMs`, default 10 s, for all waits of one port call together). The SDK's own waiting
// cannot be bounded: with `rejectRateLimitedCalls: false` it sleeps whatever Retry-After says (60 s is
// possible) before its retry policy is consulted, and pauses its shared queue meanwhile. So the SDK makes
// one attempt per request (`retryConfig: { retries: 0 }`, `rejectRateLimitedCalls: true`: a 429 comes back
// as WebAPIRateLimitedError with its Retry-After) and this adapter does the waiting: a 429 is retried after
// Retry-After, a 5xx or a network failure after 250 ms then 500 ms, each only while the waits so far plus
// the next stay within the budget — otherwise the call fails at once with a retryable SlackApiError and the
// queue that fed the caller retries later. Waits go through `sleep` (injectable: the tests move the
// stand-in's clock instead of waiting). A retry after a timeout may repeat a message that Slack did post;
// the notifier renders from current state, so a repeat shows the same thing.
//
// Errors. Every failure is a SlackApiError: `code` is Slack's `error` string (`invalid_auth`,
// `channel_not_found`, …), `http_<status>` for a 5xx (whatever its body), `ratelimited` past the budget,
// `request_failed` for a network failure or timeout, `response_url_refused` for a response_url outside
// `responseUrlPrefix`; retryable for rate limits, 5xx, network failures and Slack's transient
// `internal_error`/`fatal_error`/`service_unavailable`/`request_timeout`. Neither the token nor a
// response_url ever reaches a message or a cause: SlackApiError carries only the method and the code, the
// SDK's logger is silenced (its debug lines would print request bodies), and the SDK never sends the token
// elsewhere (`allowAbsoluteUrls: false`). A response_url is posted to only when it lies under
// `responseUrlPrefix` (a credential-bearing URL from a payload must not make cloud-pam POST anywhere).
import {
  type FetchFunction,
  type Logger,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import * as z from '#domain/zod.ts';
import type { SlackApi, SlackMessage, SlackUserInfo, SlackView } from '#ports/slack.ts';
import { SlackApiError } from '#ports/slack.ts';

export interface SlackWebApiOptions {
  /** The bot token (`xoxb-…`), read per call (cached by the caller: Powertools Parameters). */
  readonly token: () => Promise<string>;
  /** The Web API base URL (`https://slack.com/api/`). */
  readonly apiUrl: string;
  /** `respond` posts only to URLs under this prefix (`https://hooks.slack.com/`); must end with `/`. */
  readonly responseUrlPrefix: string;
  /** All waits of one call together (Retry-After, back-off) never exceed this (default 10,000 ms). */
  readonly maxRetryWaitMs?: number;
  /** One HTTP request's timeout (default 5,000 ms). */
  readonly requestTimeoutMs?: number;
  readonly fetch?: typeof globalThis.fetch;
  /** How to wait (default: a timer). */
  readonly sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_MAX_RETRY_WAIT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Waits before the 2nd and 3rd attempt after a 5xx or a network failure. */
const BACKOFF_MS = [250, 500] as const;
/** Attempts of one call, whatever the budget (a server answering 429 with Retry-After 0 forever). */
const MAX_ATTEMPTS = 6;
/** Slack's `error` strings that say "try again later" (the common errors of every method page). */
const TRANSIENT_CODES = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
/** Slack's error strings are snake_case words; anything else (a proxy's HTML) is not echoed. */
const CODE = /^[a-z0-9_]{1,64}$/;

const SILENT: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

const PostedSchema = z.looseObject({ channel: z.string(), ts: z.string() });
const ViewSchema = z.looseObject({ view: z.looseObject({ id: z.string() }) });
const UserSchema = z.looseObject({
  user: z.looseObject({
    id: z.string(),
    team_id: z.string(),
    name: z.optional(z.string()),
    real_name: z.optional(z.nullable(z.string())),
    deleted: z.optional(z.boolean()),
    is_bot: z.optional(z.boolean()),
    is_restricted: z.optional(z.boolean()),
    is_ultra_restricted: z.optional(z.boolean()),
    is_stranger: z.optional(z.boolean()),
    profile: z.optional(
      z.looseObject({
        email: z.optional(z.nullable(z.string())),
        display_name: z.optional(z.nullable(z.string())),
        real_name: z.optional(z.nullable(z.string())),
      }),
    ),
    enterprise_user: z.optional(z.looseObject({ enterprise_id: z.optional(z.string()) })),
  }),
});

/** A 429 the adapter may wait out (`respond`'s own; the SDK's is WebAPIRateLimitedError). */
class RetryAfter extends Error {
  constructor(readonly ms: number) {
    super('rate limited');
  }
}

interface Verdict {
  readonly error: SlackApiError;
  /** Wait this long before trying again (a 429). */
  readonly retryAfterMs?: number;
  /** Worth trying again within this call (429, 5xx, network), not only later from the queue. */
  readonly again: boolean;
}

const codeOf = (value: unknown, fallback: string) =>
  typeof value === 'string' && CODE.test(value) ? value : fallback;

function errorField(body: unknown): unknown {
  if (typeof body !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as { error?: unknown }).error : undefined;
  } catch {
    return undefined;
  }
}

/** An HTTP failure: a 5xx is `http_<status>` (a gateway's body is not Slack's word), a 4xx Slack's error. */
function httpVerdict(method: string, status: number, body: unknown): Verdict {
  const transient = status >= 500 || status === 408;
  const code = transient ? `http_${status}` : codeOf(errorField(body), `http_${status}`);
  return { error: new SlackApiError(method, code, transient), again: transient };
}

function classify(method: string, error: unknown): Verdict {
  if (error instanceof SlackApiError) return { error, again: error.retryable };
  if (error instanceof RetryAfter)
    return { error: new SlackApiError(method, 'ratelimited', true), retryAfterMs: error.ms, again: true };
  if (error instanceof WebAPIRateLimitedError)
    return {
      error: new SlackApiError(method, 'ratelimited', true),
      retryAfterMs: error.retryAfter * 1000,
      again: true,
    };
  if (error instanceof WebAPIPlatformError) {
    const code = codeOf(error.data.error, 'unexpected_response');
    // Not retried here: "it's possible some aspect of the operation succeeded" (fatal_error, internal_error).
    return { error: new SlackApiError(method, code, TRANSIENT_CODES.has(code)), again: false };
  }
  if (error instanceof WebAPIHTTPError) return httpVerdict(method, error.statusCode, error.body);
  if (error instanceof WebAPIRequestError)
    return { error: new SlackApiError(method, 'request_failed', true), again: true };
  return { error: new SlackApiError(method, 'unexpected_error', false), again: false };
}

function parse<T>(method: string, schema: z.ZodMiniType<T>, result: unknown): T {
  const parsed = schema.safeParse(result);
  if (!parsed.success) throw new SlackApiError(method, 'invalid_response', false);
  return parsed.data;
}

function toUserInfo(answer: z.infer<typeof UserSchema>): SlackUserInfo {
  const user = answer.user;
  const displayName =
    user.profile?.display_name || user.profile?.real_name || user.real_name || user.name || user.id;
  const email = user.profile?.email || undefined;
  const enterpriseId = user.enterprise_user?.enterprise_id || undefined;
  return {
    id: user.id,
    teamId: user.team_id,
    ...(enterpriseId ? { enterpriseId } : {}),
    ...(email ? { email } : {}),
    displayName,
    deleted: user.deleted ?? false,
    isBot: user.is_bot ?? false,
    isRestricted: user.is_restricted ?? false,
    isUltraRestricted: user.is_ultra_restricted ?? false,
    isStranger: user.is_stranger ?? false,
  };
}

function baseUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`slackWebApi: ${name} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`slackWebApi: ${name} must be http(s)`);
  if (!url.href.endsWith('/')) throw new Error(`slackWebApi: ${name} must end with /`);
  return url.href;
}

function messageArgs(message: SlackMessage): Record<string, unknown> {
  return { text: message.text, ...(message.blocks ? { blocks: [...message.blocks] } : {}) };
}

export function slackWebApi(options: SlackWebApiOptions): SlackApi {
  const apiUrl = baseUrl('apiUrl', options.apiUrl);
  const responseUrlPrefix = baseUrl('responseUrlPrefix', options.responseUrlPrefix);
  const maxRetryWaitMs = options.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  if (!Number.isFinite(maxRetryWaitMs) || maxRetryWaitMs < 0)
    throw new Error('slackWebApi: maxRetryWaitMs must be ≥ 0');

  // One client per token value: a rotated token gets a new client, the old one is dropped.
  let cached: { readonly token: string; readonly client: WebClient } | undefined;
  async function client(): Promise<WebClient> {
    const token = await options.token();
    if (cached?.token !== token)
      cached = {
        token,
        client: new WebClient(token, {
          slackApiUrl: apiUrl,
          logger: SILENT,
          retryConfig: { retries: 0 },
          rejectRateLimitedCalls: true,
          timeout: requestTimeoutMs,
          allowAbsoluteUrls: false,
          ...(options.fetch ? { fetch: options.fetch as unknown as FetchFunction } : {}),
        }),
      };
    return cached.client;
  }

  async function withRetries<T>(method: string, attempt: () => Promise<T>): Promise<T> {
    let waited = 0;
    let backoffs = 0;
    for (let attempts = 1; ; attempts++) {
      try {
        return await attempt();
      } catch (failure) {
        const verdict = classify(method, failure);
        if (!verdict.again || attempts >= MAX_ATTEMPTS) throw verdict.error;
        const wait = verdict.retryAfterMs ?? BACKOFF_MS[backoffs++];
        if (wait === undefined || waited + wait > maxRetryWaitMs) throw verdict.error;
        waited += wait;
        await sleep(wait);
      }
    }
  }

  async function call(method: string, args: Record<string, unknown>): Promise<unknown> {
    const web = await client();
    return withRetries(method, () => web.apiCall(method, args));
  }

  async function lookup(method: string, args: Record<string, unknown>, notFound: string) {
    try {
      return toUserInfo(parse(method, UserSchema, await call(method, args)));
    } catch (error) {
      if (error instanceof SlackApiError && error.code === notFound) return undefined;
      throw error;
    }
  }

  /** The URL to post to, or a refusal that does not repeat it (it is a credential). */
  function allowedResponseUrl(responseUrl: string): string {
    const refused = () => new SlackApiError('respond', 'response_url_refused', false);
    let url: URL;
    try {
      url = new URL(responseUrl);
    } catch {
      throw refused();
    }
    if (url.username !== '' || url.password !== '' || !url.href.startsWith(responseUrlPrefix))
      throw refused();
    return url.href;
  }

  async function postToResponseUrl(url: string, body: string): Promise<void> {
    let response: Response;
    try {
      response = await fetchFn(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch {
      // No cause kept: fetch's errors may name the URL.
      throw new SlackApiError('respond', 'request_failed', true);
    }
    const text = await response.text().catch(() => '');
    if (response.status === 429) {
      const seconds = Number(response.headers.get('retry-after'));
      if (Number.isInteger(seconds) && seconds >= 0) throw new RetryAfter(seconds * 1000);
      throw new SlackApiError('respond', 'ratelimited', true);
    }
    if (response.status < 200 || response.status > 299)
      throw httpVerdict('respond', response.status, text).error;
    const error = errorField(text);
    if (error !== undefined) throw new SlackApiError('respond', codeOf(error, 'unexpected_response'), false);
  }

  return {
    async postMessage(channel, message) {
      const posted = parse(
        'chat.postMessage',
        PostedSchema,
        await call('chat.postMessage', { channel, ...messageArgs(message) }),
      );
      return { channel: posted.channel, ts: posted.ts };
    },

    async updateMessage(channel, ts, message) {
      await call('chat.update', { channel, ts, ...messageArgs(message) });
    },

    async postEphemeral(channel, user, message) {
      await call('chat.postEphemeral', { channel, user, ...messageArgs(message) });
    },

    async openView(triggerId, view: SlackView) {
      const opened = parse(
        'views.open',
        ViewSchema,
        await call('views.open', { trigger_id: triggerId, view }),
      );
      return { viewId: opened.view.id };
    },

    async updateView(viewId, view) {
      await call('views.update', { view_id: viewId, view });
    },

    async publishHome(userId, view) {
      await call('views.publish', { user_id: userId, view });
    },

    userInfo(userId) {
      return lookup('users.info', { user: userId }, 'user_not_found');
    },

    lookupUserByEmail(email) {
      return lookup('users.lookupByEmail', { email }, 'users_not_found');
    },

    async respond(responseUrl, message) {
      const url = allowedResponseUrl(responseUrl);
      const body = JSON.stringify({
        ...messageArgs(message),
        response_type: message.inChannel ? 'in_channel' : 'ephemeral',
        ...(message.replaceOriginal === undefined ? {} : { replace_original: message.replaceOriginal }),
      });
      await withRetries('respond', () => postToResponseUrl(url, body));
    },
  };
}
