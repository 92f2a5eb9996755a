// AWS Signature Version 4 for the Slack ingress's two AWS calls (./aws-json-call.ts): a POST with a
// JSON body, no query string, signed in the Authorization header. Written out rather than taken from
// @smithy/signature-v4, which with the @smithy/core helpers it pulls in was 14 KB of the ingress's
// bundle and ~2 ms of its cold start (bench/slack-ingress); every other function keeps the SDK.
//
// The steps are AWS's (IAM User Guide, "Create a signed AWS API request"): the canonical request
// (method, the path URI-encoded twice as every service but S3 expects, the empty query, each header
// lowercased, trimmed, its inner whitespace collapsed, sorted by name, the signed header names, the
// body's SHA-256); the string to sign (algorithm, time, scope date/region/service/aws4_request, the
// canonical request's SHA-256); the signing key derived from the secret through the scope; the
// signature its HMAC. test/unit/sigv4.test.ts holds it to AWS's published test-suite signatures and,
// request by request, to @smithy/signature-v4's. The secret key and session token go into a
// signature or a header only: never into an error.
// process.getBuiltinModule, not `import`: see #adapters/http/node-http-post.ts.
const { createHash, createHmac } = process.getBuiltinModule('node:crypto');

const ALGORITHM = 'AWS4-HMAC-SHA256';

/** The Lambda execution role's, from the environment Lambda sets. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SigV4Request {
  readonly method: string;
  /** The endpoint: its host (and port) and path are signed; it may not carry a query. */
  readonly url: URL;
  /** The headers to send, besides Host, X-Amz-Date, X-Amz-Security-Token and Authorization. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface SigV4Scope {
  readonly service: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** The signing time (X-Amz-Date); AWS refuses one more than 5 minutes off. */
  readonly date: Date;
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 percent-encoding: everything but A–Z a–z 0–9 - . _ ~ (encodeURIComponent keeps !'()* too). */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The canonical URI: the path with `.` and `..` segments resolved and empty ones dropped, then each
 * character encoded again over the URL's own encoding — the "encode twice" every service but S3 asks.
 */
function canonicalPath(pathname: string): string {
  const segments: string[] = [];
  for (const segment of pathname.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${pathname.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && pathname.endsWith('/') ? '/' : ''}`;
  return uriEncode(normalized).replace(/%2F/g, '/');
}

/** `20150830T123600Z` */
function amzDateOf(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/**
 * Signing keys by credential and scope: a key is good for its day, so a warm function derives one
 * per service a day instead of four HMACs per call. Held in memory only, as the secret already is.
 */
const signingKeys = new Map<string, Buffer>();

function signingKeyOf(secretAccessKey: string, day: string, region: string, service: string): Buffer {
  const id = `${secretAccessKey}\n${day}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (key === undefined) {
    key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
    // Days and rotated credentials come and go: a handful of live keys at most.
    if (signingKeys.size >= 16) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

/** The headers to send: the request's own, Host, X-Amz-Date, the session token if any, and Authorization. */
export function signV4(request: SigV4Request, scope: SigV4Scope): Record<string, string> {
  if (request.url.search !== '') throw new Error('signV4: a URL with a query string is not signed here');
  const amzDate = amzDateOf(scope.date);
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...request.headers,
    host: request.url.host,
    'x-amz-date': amzDate,
    ...(scope.credentials.sessionToken ? { 'x-amz-security-token': scope.credentials.sessionToken } : {}),
  };
  const canonical = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (canonical.has(key)) throw new Error(`signV4: header ${key} given twice`);
    canonical.set(key, value.trim().replace(/\s+/g, ' '));
  }
  const names = [...canonical.keys()].sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method,
    canonicalPath(request.url.pathname),
    '',
    ...names.map((name) => `${name}:${canonical.get(name)}`),
    '',
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n');
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = signingKeyOf(scope.credentials.secretAccessKey, day, scope.region, scope.service);
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return {
    ...headers,
    authorization: `${ALGORITHM} Credential=${scope.credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
