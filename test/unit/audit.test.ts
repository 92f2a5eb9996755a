// The audit hash chain: a golden vector that pins the format (docs/audit-events.md uses the same
// events), sealing rules, tamper detection at the right seq, and properties over arbitrary chains.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEventJson, computeHash, headOf, sealEvent, verifyChain } from '#domain/audit.ts';
import {
  AUDIT_EVENT_TYPES,
  type AuditDraft,
  type AuditEvent,
  GENESIS_HASH,
  type JsonValue,
} from '#domain/audit-types.ts';

const CHAIN = 'request#01JQ3Z8K6X2M4N5P7R9S0T1V2W';

const created: AuditDraft = {
  chainId: CHAIN,
  at: '2025-03-01T09:30:00.000Z',
  type: 'request.created',
  actorId: 'a1b2c3d4-0000-4000-8000-000000000001',
  requestId: '01JQ3Z8K6X2M4N5P7R9S0T1V2W',
  entitlementId: 'prod-readonly',
  accountId: '111122223333',
  reason: 'INC-4711: investigate failing deploy',
  details: { durationMs: 3600000, ticket: 'INC-4711' },
};

const approved: AuditDraft = {
  chainId: CHAIN,
  at: '2025-03-01T09:42:17.250Z',
  type: 'request.approved',
  actorId: 'a1b2c3d4-0000-4000-8000-000000000002',
  requestId: '01JQ3Z8K6X2M4N5P7R9S0T1V2W',
  entitlementId: 'prod-readonly',
  accountId: '111122223333',
  details: { approvals: 1, required: 1, comment: 'ok — looked at the ticket' },
};

const FIRST_HASH = 'b58cdc5c52bd90951662c824bb29017e937be9ed3eb47fed34d162a90364e26e';
const SECOND_HASH = 'ca1a91bc2f015e8bce6dcf6c47c6b620199d39bf6b65c67439742faf56181ac0';

function sealAll(drafts: readonly AuditDraft[]): AuditEvent[] {
  const events: AuditEvent[] = [];
  drafts.forEach((draft, index) => {
    const prev = events.at(-1);
    events.push(sealEvent(draft, prev && headOf(prev), `EVENT${String(index).padStart(21, '0')}`));
  });
  return events;
}

function goldenChain(): AuditEvent[] {
  const first = sealEvent(created, undefined, '01JQ3Z8K6Y0000000000000001');
  const second = sealEvent(approved, headOf(first), '01JQ3Z8K6Y0000000000000002');
  return [first, second];
}

describe('golden vector', () => {
  it('hashes the canonical JSON of every field but hash, exactly as documented', () => {
    // Act
    const [first, second] = goldenChain() as [AuditEvent, AuditEvent];

    // Assess: the literal strings are the format; changing them is a breaking change.
    expect(canonicalEventJson(first)).toBe(
      '{"accountId":"111122223333","actorId":"a1b2c3d4-0000-4000-8000-000000000001","at":"2025-03-01T09:30:00.000Z","chainId":"request#01JQ3Z8K6X2M4N5P7R9S0T1V2W","details":{"durationMs":3600000,"ticket":"INC-4711"},"entitlementId":"prod-readonly","eventId":"01JQ3Z8K6Y0000000000000001","instanceId":null,"permissionSetArn":null,"prevHash":"0000000000000000000000000000000000000000000000000000000000000000","reason":"INC-4711: investigate failing deploy","requestId":"01JQ3Z8K6X2M4N5P7R9S0T1V2W","secretArn":null,"seq":1,"sessionId":null,"type":"request.created"}',
    );
    expect(first.hash).toBe(FIRST_HASH);
    expect(canonicalEventJson(second)).toBe(
      '{"accountId":"111122223333","actorId":"a1b2c3d4-0000-4000-8000-000000000002","at":"2025-03-01T09:42:17.250Z","chainId":"request#01JQ3Z8K6X2M4N5P7R9S0T1V2W","details":{"approvals":1,"comment":"ok — looked at the ticket","required":1},"entitlementId":"prod-readonly","eventId":"01JQ3Z8K6Y0000000000000002","instanceId":null,"permissionSetArn":null,"prevHash":"b58cdc5c52bd90951662c824bb29017e937be9ed3eb47fed34d162a90364e26e","reason":null,"requestId":"01JQ3Z8K6X2M4N5P7R9S0T1V2W","secretArn":null,"seq":2,"sessionId":null,"type":"request.approved"}',
    );
    expect(second.hash).toBe(SECOND_HASH);
    expect(verifyChain([first, second])).toEqual({ ok: true, length: 2 });
  });

  it('ignores attributes outside the format when hashing (a stored event may carry storage keys)', () => {
    const [first] = goldenChain() as [AuditEvent];
    const stored = { ...first, headPartition: 'HEAD', ttl: 1 } as AuditEvent;
    expect(computeHash(stored)).toBe(FIRST_HASH);
  });
});

describe('sealEvent', () => {
  it('starts a chain at seq 1 with the 64-zero genesis prevHash', () => {
    const event = sealEvent(created, undefined, 'E1');
    expect(event.seq).toBe(1);
    expect(event.prevHash).toBe(GENESIS_HASH);
    expect(GENESIS_HASH).toBe('0'.repeat(64));
  });

  it('follows the head it is given', () => {
    const event = sealEvent(approved, { chainId: CHAIN, seq: 41, hash: 'ab'.repeat(32) }, 'E42');
    expect(event.seq).toBe(42);
    expect(event.prevHash).toBe('ab'.repeat(32));
    expect(event.hash).toBe(computeHash(event));
  });

  it('writes every absent optional field as null and absent details as {}', () => {
    const event = sealEvent(
      { chainId: 'system', at: '2025-01-01T00:00:00.000Z', type: 'system.rejected' },
      undefined,
      'E',
    );
    expect(event).toMatchObject({
      actorId: null,
      requestId: null,
      entitlementId: null,
      accountId: null,
      permissionSetArn: null,
      secretArn: null,
      instanceId: null,
      sessionId: null,
      reason: null,
      details: {},
    });
    expect(Object.values(event)).not.toContain(undefined);
  });

  it('detaches details from the caller so a later mutation cannot change the sealed event', () => {
    const details: { [key: string]: JsonValue } = { n: -0, nested: { a: 1 } };
    const event = sealEvent({ ...created, details }, undefined, 'E');
    (details.nested as { a: number }).a = 2;
    expect(event.details).toEqual({ n: 0, nested: { a: 1 } });
    expect(verifyChain([event])).toEqual({ ok: true, length: 1 });
  });

  it('refuses to seal onto the head of another chain', () => {
    expect(() => sealEvent(created, { chainId: 'system', seq: 1, hash: FIRST_HASH }, 'E')).toThrow(/chain/);
  });
});

describe('verifyChain', () => {
  const chain = sealAll([
    created,
    approved,
    { ...approved, type: 'grant.activated', at: '2025-03-01T09:43:00.000Z' },
  ]);

  it('accepts an empty chain and an intact one', () => {
    expect(verifyChain([])).toEqual({ ok: true, length: 0 });
    expect(verifyChain(chain)).toEqual({ ok: true, length: 3 });
  });

  const tampers: [string, (event: AuditEvent) => AuditEvent][] = [
    ['chainId', (e) => ({ ...e, chainId: 'request#OTHER' })],
    ['seq', (e) => ({ ...e, seq: e.seq + 10 })],
    ['eventId', (e) => ({ ...e, eventId: 'X' })],
    ['at', (e) => ({ ...e, at: '2025-03-01T09:42:17.251Z' })],
    ['type', (e) => ({ ...e, type: 'request.denied' })],
    ['actorId', (e) => ({ ...e, actorId: 'someone-else' })],
    ['requestId', (e) => ({ ...e, requestId: null })],
    ['entitlementId', (e) => ({ ...e, entitlementId: 'prod-admin' })],
    ['accountId', (e) => ({ ...e, accountId: '999999999999' })],
    ['permissionSetArn', (e) => ({ ...e, permissionSetArn: 'arn:aws:sso:::permissionSet/x' })],
    ['secretArn', (e) => ({ ...e, secretArn: '' })],
    ['instanceId', (e) => ({ ...e, instanceId: 'i-0123' })],
    ['sessionId', (e) => ({ ...e, sessionId: 's-1' })],
    ['reason', (e) => ({ ...e, reason: 'changed' })],
    ['details (value)', (e) => ({ ...e, details: { ...e.details, required: 2 } })],
    ['details (added key)', (e) => ({ ...e, details: { ...e.details, extra: true } })],
    ['prevHash', (e) => ({ ...e, prevHash: 'f'.repeat(64) })],
    ['hash', (e) => ({ ...e, hash: 'f'.repeat(64) })],
  ];

  it.each(tampers)('detects a changed %s at the seq of the changed event', (_field, tamper) => {
    for (const index of [0, 1, 2]) {
      // Prepare
      const tampered = chain.map((event, i) => (i === index ? tamper(event) : event));

      // Act
      const result = verifyChain(tampered);

      // Assess
      expect(result).toMatchObject({ ok: false, seq: index + 1 });
    }
  });

  it('detects a changed event whose hash was recomputed, at the next event (broken link)', () => {
    const second = chain[1] as AuditEvent;
    const forged = { ...second, reason: 'rewritten' };
    const rehashed = { ...forged, hash: computeHash(forged) };
    expect(verifyChain([chain[0] as AuditEvent, rehashed, chain[2] as AuditEvent])).toMatchObject({
      ok: false,
      seq: 3,
      reason: expect.stringMatching(/prevHash/),
    });
  });

  it('detects an event sealed onto the wrong predecessor', () => {
    const [first] = chain as [AuditEvent];
    const stray = sealEvent(approved, { chainId: CHAIN, seq: 1, hash: 'e'.repeat(64) }, 'E');
    expect(verifyChain([first, stray])).toMatchObject({
      ok: false,
      seq: 2,
      reason: expect.stringMatching(/prevHash/),
    });
  });

  it('detects a removed event (gap), a reordering, and a chain that does not start at 1', () => {
    const [first, second, third] = chain as [AuditEvent, AuditEvent, AuditEvent];
    expect(verifyChain([first, third])).toMatchObject({ ok: false, seq: 2 });
    expect(verifyChain([second, first, third])).toMatchObject({ ok: false, seq: 1 });
    expect(verifyChain([second, third])).toMatchObject({ ok: false, seq: 1 });
  });

  it('detects events of two chains mixed together', () => {
    const other = sealAll([
      { ...approved, chainId: 'system' },
      { ...approved, chainId: 'system' },
    ]);
    expect(verifyChain([chain[0] as AuditEvent, other[1] as AuditEvent])).toMatchObject({
      ok: false,
      seq: 2,
    });
  });

  it('with the head from a digest, detects events cut off the end', () => {
    const head = headOf(chain[2] as AuditEvent);
    expect(verifyChain(chain, head)).toEqual({ ok: true, length: 3 });
    expect(verifyChain(chain.slice(0, 2), head)).toMatchObject({ ok: false, seq: 3 });
    expect(verifyChain(chain, { ...head, hash: 'a'.repeat(64) })).toMatchObject({ ok: false, seq: 3 });
  });
});

describe('properties', () => {
  const optionalText = fc.option(fc.string({ maxLength: 20 }), { nil: null });
  const draftArb: fc.Arbitrary<AuditDraft> = fc.record({
    chainId: fc.constant('drift'),
    at: fc
      .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) })
      .map((ms) => new Date(ms).toISOString()),
    type: fc.constantFrom(...AUDIT_EVENT_TYPES),
    actorId: optionalText,
    requestId: optionalText,
    entitlementId: optionalText,
    accountId: optionalText,
    permissionSetArn: optionalText,
    secretArn: optionalText,
    instanceId: optionalText,
    sessionId: optionalText,
    reason: optionalText,
    details: fc.dictionary(
      fc.string({ maxLength: 8 }),
      fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>,
      {
        maxKeys: 4,
      },
    ),
  });

  const textFields = [
    'chainId',
    'eventId',
    'at',
    'type',
    'actorId',
    'requestId',
    'entitlementId',
    'accountId',
    'permissionSetArn',
    'secretArn',
    'instanceId',
    'sessionId',
    'reason',
    'prevHash',
    'hash',
  ] as const;

  it('any sequence of drafts sealed in order verifies', () => {
    fc.assert(
      fc.property(fc.array(draftArb, { minLength: 1, maxLength: 12 }), (drafts) => {
        const events = sealAll(drafts);
        expect(verifyChain(events)).toEqual({ ok: true, length: drafts.length });
        expect(events.map((e) => e.seq)).toEqual(drafts.map((_, i) => i + 1));
      }),
    );
  });

  it('any single mutation of any field is detected at that seq', () => {
    const mutation = fc.oneof(
      fc.record({ field: fc.constantFrom(...textFields), value: fc.string({ maxLength: 20 }) }),
      fc.record({ field: fc.constant('seq' as const), value: fc.integer({ min: -5, max: 100 }) }),
      fc.record({ field: fc.constant('details' as const), value: fc.string({ maxLength: 8 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(draftArb, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        mutation,
        (drafts, pick, { field, value }) => {
          const events = sealAll(drafts);
          const index = pick % events.length;
          const original = events[index] as AuditEvent;
          let changed: AuditEvent;
          if (field === 'details') {
            // Add a key or change the value of an existing one.
            const key = `k${value}`;
            const next = original.details[key] === 'tampered' ? 'tampered!' : 'tampered';
            changed = { ...original, details: { ...original.details, [key]: next } };
          } else {
            fc.pre(original[field] !== value);
            changed = { ...original, [field]: value } as AuditEvent;
          }
          events[index] = changed;
          expect(verifyChain(events)).toMatchObject({ ok: false, seq: index + 1 });
        },
      ),
    );
  });
});
