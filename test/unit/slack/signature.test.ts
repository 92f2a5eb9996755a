// shared/adapters/slack/signature.ts: Slack's v0 request signing, checked against Slack's own worked
// example (test/fixtures/slack/signing.json, copied from the shared vectors) and against everything a
// forger or a replay could change.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { signSlackRequest, verifySlackSignature } from '#adapters/slack/signature.ts';

const vector = z
  .object({
    signingSecret: z.string(),
    timestamp: z.string(),
    body: z.string(),
    expectedSignature: z.string(),
  })
  .parse(JSON.parse(readFileSync(new URL('../../fixtures/slack/signing.json', import.meta.url), 'utf8')));

const NOW = Number(vector.timestamp);
const body = Buffer.from(vector.body, 'utf8');

function check(overrides: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) {
  return verifySlackSignature({
    signingSecret: vector.signingSecret,
    timestamp: vector.timestamp,
    signature: vector.expectedSignature,
    rawBody: body,
    nowSeconds: NOW,
    ...overrides,
  });
}

describe('Slack request signatures (v0)', () => {
  it("signs Slack's documented example as Slack does", () => {
    // Act
    const signature = signSlackRequest({
      signingSecret: vector.signingSecret,
      timestamp: vector.timestamp,
      rawBody: body,
    });

    // Assess
    expect(signature).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
    expect(signature).toBe(vector.expectedSignature);
  });

  it("verifies Slack's documented example", () => {
    // Act
    const result = check();

    // Assess
    expect(result).toEqual({ ok: true });
  });

  it.each([
    ['exactly 300 s late', NOW + 300],
    ['exactly 300 s early', NOW - 300],
  ])('accepts a timestamp %s', (_label, nowSeconds) => {
    // Act
    const result = check({ nowSeconds });

    // Assess
    expect(result).toEqual({ ok: true });
  });

  it('verifies a body that arrived base64-encoded, once decoded to its bytes', () => {
    // Prepare: API Gateway hands a binary body over as base64.
    const encoded = body.toString('base64');

    // Act
    const result = check({ rawBody: Buffer.from(encoded, 'base64') });

    // Assess
    expect(result).toEqual({ ok: true });
  });

  it('signs and verifies bytes that are not UTF-8 exactly as they came, not as text', () => {
    // Prepare: the HMAC of the bytes, computed here without the module (an independent oracle).
    const raw = Uint8Array.from([0x61, 0xff, 0xfe, 0x00, 0x62]);
    const oracle = createHmac('sha256', 's3cret')
      .update(Buffer.concat([Buffer.from(`v0:${NOW}:`), raw]))
      .digest('hex');

    // Act
    const signature = signSlackRequest({ signingSecret: 's3cret', timestamp: NOW, rawBody: raw });
    const result = check({ signingSecret: 's3cret', rawBody: raw, signature: `v0=${oracle}` });

    // Assess
    expect(signature).toBe(`v0=${oracle}`);
    expect(result).toEqual({ ok: true });
  });

  const flipped = Buffer.from(body);
  flipped[40] = (flipped[40] as number) ^ 0x01;
  const wrongSignature = `v0=${'0'.repeat(64)}`;

  it.each<[string, Partial<Parameters<typeof verifySlackSignature>[0]>, string]>([
    ['a wrong signature', { signature: wrongSignature }, 'signature does not match'],
    [
      'the right signature under another secret',
      { signingSecret: '8f742231b10e8888abcd99yyyzzz85a6' },
      'signature does not match',
    ],
    ['one changed byte of body', { rawBody: flipped }, 'signature does not match'],
    [
      'a body with one byte more',
      { rawBody: Buffer.concat([body, Buffer.from('&')]) },
      'signature does not match',
    ],
    ['a timestamp 301 s in the past', { nowSeconds: NOW + 301 }, 'timestamp is more than 5 minutes from now'],
    [
      'a timestamp 301 s in the future',
      { nowSeconds: NOW - 301 },
      'timestamp is more than 5 minutes from now',
    ],
    ['a missing timestamp header', { timestamp: undefined }, 'missing timestamp'],
    ['an empty timestamp header', { timestamp: '' }, 'missing timestamp'],
    [
      'a timestamp that is not a number',
      { timestamp: '1531420618.5' },
      'timestamp is not a number of seconds',
    ],
    ['a missing signature header', { signature: undefined }, 'missing signature'],
    ['an upper-case signature', { signature: vector.expectedSignature.toUpperCase() }, 'signature is not'],
    ['a v1 signature', { signature: vector.expectedSignature.replace('v0=', 'v1=') }, 'signature is not'],
    ['a truncated signature', { signature: vector.expectedSignature.slice(0, -2) }, 'signature is not'],
    ['an empty signing secret', { signingSecret: '' }, 'no signing secret'],
  ])('refuses %s', (_label, overrides, reason) => {
    // Act
    const result = check(overrides);

    // Assess
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.reason).toContain(reason);
  });

  it('never names the secret or the signature in a reason', () => {
    // Prepare
    const cases = [
      check({ signature: wrongSignature }),
      check({ signature: `${vector.expectedSignature}00` }),
      check({ nowSeconds: NOW + 1000 }),
      check({ rawBody: flipped }),
    ];

    // Assess
    for (const result of cases) {
      expect(result.ok).toBe(false);
      const text = JSON.stringify(result);
      expect(text).not.toContain(vector.signingSecret);
      expect(text).not.toContain(vector.expectedSignature.slice(3, 20));
      expect(text).not.toContain('0'.repeat(20));
    }
  });
});
