// The local stand-in for API Gateway (REST API, Lambda proxy integration, AWS_IAM authorization).
// Routes come from the wiring manifest. A route with AWS_IAM auth needs a caller: where API Gateway
// derives `requestContext.identity` from the SigV4 signature of an Identity Center session, the
// local gateway takes the demo user named in `x-pam-local-user` and builds the identity that user's
// PamRequester session would carry. Everything after that — resolving the caller in the Identity
// Store, every policy check — is the real handler's. A request is routed as API Gateway routes it:
// to the most specific resource that has the request's method (literal segments before `{param}`
// before `{proxy+}`), falling through to a less specific one (the `/v1/{proxy+}` catch-all) when
// the specific resource lacks the method. Each method is throttled with its own token bucket (its
// stage MethodSettings from the manifest, ./token-bucket.ts) on the runtime's clock, answering
// 429 `{"message":"Too Many Requests"}` as API Gateway does. Not emulated: the API's resource policy
// (moto evaluates no IAM either), the account-level throttle, and request validation (the handler
// validates). The `/local/…` routes (the clock) exist only here; no deployed bundle contains them.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WiringRoute } from '../infra/wiring/manifest.ts';
import { LOCAL_ROUTE_PREFIX, LOCAL_USER_HEADER } from './markers.ts';
import { TokenBucket } from './token-bucket.ts';

export const REQUESTER_PERMISSION_SET = 'PamRequester';
const MAX_BODY_BYTES = 10 * 1024 * 1024;
// Role session names: 2–64 of [\w+=,.@-] (STS). Anything else never reaches a handler.
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export interface GatewayOptions {
  readonly routes: readonly WiringRoute[];
  readonly hubAccountId: string;
  readonly organizationId: string;
  /** Seeds the `AWSReservedSSO_PamRequester_<hex>` role name, as Identity Center derives it per instance. */
  readonly instanceArn: string;
  readonly invoke: (functionName: string, event: unknown) => Promise<unknown>;
  readonly nowMs: () => number;
  /** Local-only routes under `/local/` (method + path after the prefix). */
  readonly localRoutes: Readonly<Record<string, (body: unknown) => Promise<unknown>>>;
  readonly port?: number;
  readonly log?: (line: string) => void;
}

interface CompiledRoute {
  readonly route: WiringRoute;
  readonly pattern: RegExp;
  readonly params: string[];
  /** Per path segment: 0 literal, 1 `{param}`, 2 `{proxy+}` (lower is more specific). */
  readonly rank: number[];
  /** The method's own bucket; absent when its stage sets no throttle. */
  readonly bucket?: TokenBucket;
}

function compile(route: WiringRoute): CompiledRoute {
  const params: string[] = [];
  const rank: number[] = [];
  const source = route.path
    .split('/')
    .map((part) => {
      const greedy = /^\{(\w+)\+\}$/.exec(part);
      if (greedy) {
        params.push(greedy[1] as string);
        rank.push(2);
        return '(.+)';
      }
      const single = /^\{(\w+)\}$/.exec(part);
      if (single) {
        params.push(single[1] as string);
        rank.push(1);
        return '([^/]+)';
      }
      rank.push(0);
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return {
    route,
    pattern: new RegExp(`^${source}/?$`),
    params,
    rank,
    ...(route.throttle ? { bucket: new TokenBucket(route.throttle) } : {}),
  };
}

/** Most specific first: segment by segment, then a method of its own before `ANY`. */
function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  for (let i = 0; i < Math.min(a.rank.length, b.rank.length); i++) {
    const diff = (a.rank[i] as number) - (b.rank[i] as number);
    if (diff !== 0) return diff;
  }
  if (a.rank.length !== b.rank.length) return b.rank.length - a.rank.length;
  return Number(a.route.method === 'ANY') - Number(b.route.method === 'ANY');
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('payload too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class LocalGateway {
  private readonly server: Server;
  private readonly routes: CompiledRoute[];
  private readonly roleName: string;

  constructor(private readonly options: GatewayOptions) {
    this.routes = options.routes.map(compile).sort(bySpecificity);
    const suffix = createHash('sha256').update(options.instanceArn).digest('hex').slice(0, 16);
    this.roleName = `AWSReservedSSO_${REQUESTER_PERMISSION_SET}_${suffix}`;
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        options.log?.(`gateway: ${(error as Error).message}`);
        if (!response.headersSent) send(response, 500, { message: 'Internal server error' });
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://local');
    const method = request.method ?? 'GET';
    let raw: Buffer;
    try {
      raw = await readBody(request);
    } catch {
      send(response, 413, { message: 'Request Too Long' });
      return;
    }

    if (url.pathname.startsWith(LOCAL_ROUTE_PREFIX)) {
      const handler = this.options.localRoutes[`${method} ${url.pathname.slice(LOCAL_ROUTE_PREFIX.length)}`];
      if (!handler) {
        send(response, 404, {
          error: { code: 'NOT_FOUND', message: `no local route ${method} ${url.pathname}` },
        });
        return;
      }
      let body: unknown = null;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          send(response, 400, { error: { code: 'VALIDATION', message: 'body: not JSON' } });
          return;
        }
      }
      try {
        send(response, 200, await handler(body));
      } catch (error) {
        send(response, 400, { error: { code: 'VALIDATION', message: (error as Error).message } });
      }
      return;
    }

    // API Gateway answers on /{stage}/…; the local gateway accepts the stage prefix or none.
    for (const compiled of this.routes) {
      const stagePrefix = `/${compiled.route.stage}`;
      const path = url.pathname.startsWith(`${stagePrefix}/`)
        ? url.pathname.slice(stagePrefix.length)
        : url.pathname;
      const match = compiled.pattern.exec(path);
      if (!match) continue;
      if (compiled.route.method !== 'ANY' && compiled.route.method !== method) continue;
      const event = this.proxyEvent(request, url, path, method, raw, compiled, match);
      if (!event) {
        // What API Gateway answers an unsigned call to an AWS_IAM method.
        send(response, 403, { message: 'Missing Authentication Token' });
        return;
      }
      // Only a caller who passed authentication takes a token here (an assumption: AWS does not
      // document whether a refused signature counts against the method's throttle).
      if (compiled.bucket && !compiled.bucket.take(this.options.nowMs())) {
        send(response, 429, { message: 'Too Many Requests' });
        return;
      }
      let result: unknown;
      try {
        result = await this.options.invoke(compiled.route.function, event);
      } catch (error) {
        this.options.log?.(`gateway: ${compiled.route.function} failed: ${(error as Error).message}`);
        send(response, 502, { message: 'Internal server error' });
        return;
      }
      const answer = result as {
        statusCode?: number;
        headers?: Record<string, string>;
        body?: string;
        isBase64Encoded?: boolean;
      } | null;
      if (!answer || typeof answer.statusCode !== 'number') {
        send(response, 502, { message: 'Internal server error' });
        return;
      }
      const body = answer.isBase64Encoded ? Buffer.from(answer.body ?? '', 'base64') : (answer.body ?? '');
      response.writeHead(answer.statusCode, answer.headers ?? {});
      response.end(body);
      return;
    }
    // API Gateway answers an unknown resource on an IAM-authorized API with the same 403.
    send(response, 403, { message: 'Missing Authentication Token' });
  }

  private proxyEvent(
    request: IncomingMessage,
    url: URL,
    path: string,
    method: string,
    raw: Buffer,
    compiled: CompiledRoute,
    match: RegExpExecArray,
  ) {
    const { route } = compiled;
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || name === LOCAL_USER_HEADER) continue;
      const values = Array.isArray(value) ? value : [value];
      headers[name] = values[values.length - 1] as string;
      multiValueHeaders[name] = values;
    }
    let identity: Record<string, string | null> = {};
    if (route.authorization === 'AWS_IAM') {
      const user = request.headers[LOCAL_USER_HEADER];
      if (typeof user !== 'string' || !SESSION_NAME.test(user)) return undefined;
      const account = this.options.hubAccountId;
      identity = {
        accountId: account,
        caller: `AROALOCAL${this.roleName.slice(-8).toUpperCase()}:${user}`,
        user: `AROALOCAL${this.roleName.slice(-8).toUpperCase()}:${user}`,
        userArn: `arn:aws:sts::${account}:assumed-role/${this.roleName}/${user}`,
        principalOrgId: this.options.organizationId,
        accessKey: null,
      };
    }
    const query: Record<string, string> = {};
    const multiQuery: Record<string, string[]> = {};
    for (const [key, value] of url.searchParams) {
      query[key] = value;
      multiQuery[key] = [...(multiQuery[key] ?? []), value];
    }
    const pathParameters: Record<string, string> = {};
    compiled.params.forEach((name, i) => {
      pathParameters[name] = match[i + 1] as string;
    });
    const now = this.options.nowMs();
    const hasQuery = Object.keys(query).length > 0;
    return {
      resource: route.path,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: hasQuery ? query : null,
      multiValueQueryStringParameters: hasQuery ? multiQuery : null,
      pathParameters: compiled.params.length > 0 ? pathParameters : null,
      stageVariables: null,
      requestContext: {
        accountId: this.options.hubAccountId,
        apiId: 'local',
        resourceId: route.logicalId,
        resourcePath: route.path,
        httpMethod: method,
        path: `/${route.stage}${path}`,
        stage: route.stage,
        protocol: `HTTP/${request.httpVersion}`,
        requestId: randomUUID(),
        extendedRequestId: randomUUID(),
        requestTime: new Date(now).toUTCString(),
        requestTimeEpoch: now,
        domainName: request.headers.host ?? '127.0.0.1',
        authorizer: null,
        identity: {
          apiKey: null,
          apiKeyId: null,
          cognitoAuthenticationProvider: null,
          cognitoAuthenticationType: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          clientCert: null,
          sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
          userAgent: request.headers['user-agent'] ?? null,
          ...identity,
        },
      },
      body: raw.length > 0 ? raw.toString('utf8') : null,
      isBase64Encoded: false,
    };
  }
}
