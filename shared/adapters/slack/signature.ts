// Slack's request signing (v0): every request Slack sends carries `X-Slack-Request-Timestamp` and
// `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{raw body}" under the signing secret>`.
// The Slack ingress checks it before it reads anything else, over the body's bytes exactly as they
// arrived (a re-encoded body would not verify); the `pam slack` CLI and the tests sign with the same
// function, so what is signed and what is checked cannot drift. node:crypto only: no SDK, no clock
// (the caller passes the time, so the local runtime's clock and the tests' are the ones that count).
// process.getBuiltinModule, not `import`: see #adapters/http/node-http-post.ts.
const { createHmac, timingSafeEqual } = process.getBuiltinModule('node:crypto');

/** How far a request's timestamp may be from now, either way, before it is a replay (Slack's 5 minutes). */
export const SLACK_SIGNATURE_MAX_SKEW_SECONDS = 300;

const TIMESTAMP = /^\d{1,15}$/;
// Slack writes the HMAC in lower-case hex; anything else cannot be one of its signatures.
const SIGNATURE = /^v0=[0-9a-f]{64}$/;

export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

function hmacHex(signingSecret: string, timestamp: string, rawBody: Uint8Array): string {
  return createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex');
}

/** `v0=<hex>` for a request body sent at `timestamp` (Unix seconds, as Slack writes it). */
export function signSlackRequest(input: {
  readonly signingSecret: string;
  readonly timestamp: string | number;
  readonly rawBody: Uint8Array | string;
}): string {
  const body = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody, 'utf8') : input.rawBody;
  return `v0=${hmacHex(input.signingSecret, String(input.timestamp), body)}`;
}

/**
 * Whether a request is Slack's and recent. The reasons name what failed and never carry the secret,
 * the signature or the body (they are logged).
 */
export function verifySlackSignature(input: {
  readonly signingSecret: string;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly rawBody: Uint8Array;
  readonly nowSeconds: number;
}): SignatureCheck {
  const { timestamp, signature } = input;
  if (timestamp === undefined || timestamp === '') return { ok: false, reason: 'missing timestamp' };
  if (!TIMESTAMP.test(timestamp)) return { ok: false, reason: 'timestamp is not a number of seconds' };
  if (Math.abs(input.nowSeconds - Number(timestamp)) > SLACK_SIGNATURE_MAX_SKEW_SECONDS)
    return { ok: false, reason: 'timestamp is more than 5 minutes from now' };
  if (signature === undefined || signature === '') return { ok: false, reason: 'missing signature' };
  if (!SIGNATURE.test(signature)) return { ok: false, reason: 'signature is not v0=<64 hex digits>' };
  // Fail closed on a blank secret: an HMAC under it is one anyone can compute.
  if (input.signingSecret.length === 0) return { ok: false, reason: 'no signing secret' };
  const expected = Buffer.from(hmacHex(input.signingSecret, timestamp, input.rawBody), 'hex');
  const given = Buffer.from(signature.slice(3), 'hex');
  // Both are 32 bytes (the pattern above): timingSafeEqual compares them in constant time.
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'signature does not match' };
  return { ok: true };
}
