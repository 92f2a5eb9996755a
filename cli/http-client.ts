// The CLI's HTTP client for the /v1 API and the local runtime's routes. It takes a `fetch`-like
// function and an authorizer (SigV4 in deployed mode, the local user header in local mode), so tests
// can drive it with a fake transport or a real server. It maps every answer to the CLI's exit codes:
// a cloud-pam refusal (4xx with `{error:{code,message}}`) is exit 1; API Gateway's own answers (its
// 403 `{"message":…}`), 5xx, unreadable bodies and network failures are exit 2. It also keeps the
// server's time from each answer's `Date` header, so human output can count a grant's time left on
// the server's clock (the local runtime's clock may have been moved) rather than this machine's.
import { optional } from '#domain/optional.ts';
import { CliError, oneLine, RefusedError } from './errors.ts';

export interface FetchInit {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}
export interface FetchResponse {
  readonly status: number;
  /** Absent in fakes that set none (the CLI then knows no server time). */
  readonly headers?: { get(name: string): string | null };
  text(): Promise<string>;
}
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponse>;

/** What is about to be sent; the authorizer returns the headers to add (it must not change the rest). */
export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  /** Query parameters exactly as encoded into `url` (for signing). */
  readonly query: Readonly<Record<string, string>>;
  /** Headers, including `host`, which the transport derives from the URL itself. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}
export type Authorizer = (request: OutgoingRequest) => Promise<Record<string, string>>;

export interface ApiClientOptions {
  /** Base URL, stage path included (`https://…/prod`, `http://127.0.0.1:4010`). */
  readonly baseUrl: string;
  readonly fetch: FetchLike;
  readonly authorize: Authorizer;
  /** Added to "cannot reach" lines, e.g. "is `make start` running?". */
  readonly unreachableHint?: string;
  /** Added to the line for API Gateway's own 403 (who may call the API). */
  readonly forbiddenHint?: string;
  readonly timeoutMs?: number;
}

export interface CallOptions {
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
}

/** RFC 3986 encoding, the one SigV4 canonicalises with, so the sent and the signed query agree. */
export function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{error:{code,message}}` with a cloud-pam code (upper snake case), else undefined. */
function pamErrorOf(body: unknown): { code: string; message: string } | undefined {
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const { code, message } = body.error;
  if (typeof code !== 'string' || !/^[A-Z][A-Z_]*$/.test(code) || typeof message !== 'string')
    return undefined;
  return { code, message };
}

function networkCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export class ApiClient {
  private readonly base: URL;
  private lastServerTime: number | undefined;

  constructor(private readonly options: ApiClientOptions) {
    this.base = new URL(options.baseUrl.replace(/\/+$/, ''));
  }

  /**
   * The server's time (epoch ms, to the second) in the `Date` header of the last answer, when it
   * had a valid one: `/v1` answers carry the server clock's time there.
   */
  get serverTime(): number | undefined {
    return this.lastServerTime;
  }

  /** Calls `method path` and returns the parsed JSON of a 2xx answer; throws a CliError otherwise. */
  async call(method: string, path: string, call: CallOptions = {}): Promise<unknown> {
    const query: Record<string, string> = {};
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) query[key] = String(value);
    }
    const url = new URL(this.base.href);
    url.pathname = `${this.base.pathname.replace(/\/+$/, '')}${path}`;
    url.search = Object.keys(query)
      .sort()
      .map((key) => `${rfc3986(key)}=${rfc3986(query[key] ?? '')}`)
      .join('&');
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const headers: Record<string, string> = {
      host: url.host,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    const extra = await this.options.authorize({
      method,
      url,
      query,
      headers,
      ...optional('body', body),
    });
    // The transport sets Host from the URL; passing it again is refused by some fetch implementations.
    const { host: _host, ...sent } = { ...headers, ...extra };

    let response: FetchResponse;
    let text: string;
    try {
      response = await this.options.fetch(url.href, {
        method,
        headers: sent,
        ...optional('body', body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
      text = await response.text();
    } catch (error) {
      throw this.unreachable(error);
    }
    const date = Date.parse(response.headers?.get('date') ?? '');
    this.lastServerTime = Number.isNaN(date) ? undefined : date;
    return this.interpret(method, path, response.status, text);
  }

  private unreachable(error: unknown): CliError {
    const origin = this.base.origin;
    const hint = this.options.unreachableHint ? ` (${this.options.unreachableHint})` : '';
    const name = (error as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new CliError(`no answer from ${origin} in time${hint}`, 2, { cause: error });
    }
    const code = networkCode(error);
    if (code === 'ECONNREFUSED')
      return new CliError(`cannot reach ${origin}${hint || ' (connection refused)'}`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return new CliError(`cannot reach ${origin}: the host name does not resolve (${code})`);
    }
    const reason = code ?? oneLine(error instanceof Error ? error.message : String(error), 120);
    return new CliError(`cannot reach ${origin} (${reason})${hint}`, 2, { cause: error });
  }

  private interpret(method: string, path: string, status: number, text: string): unknown {
    let body: unknown;
    let parsed = true;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (status >= 200 && status < 300) {
      if (!parsed) throw new CliError(`${method} ${path} answered ${status} with a body that is not JSON`);
      return body;
    }
    const pamError = pamErrorOf(body);
    if (pamError && status >= 400 && status < 500) {
      throw new RefusedError(pamError.code, status, oneLine(pamError.message), body);
    }
    if (pamError) {
      throw new CliError(`server error (${pamError.code}, ${status}): ${oneLine(pamError.message)}`);
    }
    const gatewayMessage =
      isRecord(body) && typeof body.message === 'string' ? oneLine(body.message) : undefined;
    if (status === 403) {
      const hint = this.options.forbiddenHint ? `; ${this.options.forbiddenHint}` : '';
      return this.fail(
        `API Gateway refused the call (403${gatewayMessage ? `: ${gatewayMessage}` : ''})${hint}`,
      );
    }
    const what = gatewayMessage ?? (parsed ? 'no message' : 'a body that is not JSON');
    return this.fail(`${method} ${path} failed with HTTP ${status} (${what})`);
  }

  private fail(line: string): never {
    throw new CliError(line);
  }
}
