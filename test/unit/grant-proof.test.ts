// What a request's audit chain proves, and what a record may claim beyond it
// (shared/domain/grant-proof.ts). Chains come from the real state machine (fixtureRequestWithChain),
// sealed as the audit log seals them; the "tampering" is a record edited after the fact.
import { describe, expect, it } from 'vitest';
import { headOf, sealEvent } from '#domain/audit.ts';
import type { AuditDraft, AuditEvent, ChainHead } from '#domain/audit-types.ts';
import { proveFromChain, unprovenClaims } from '#domain/grant-proof.ts';
import type { AccessRequest, Actor, RequestStatus } from '#domain/model.ts';
import { type Command, decide, openRequest } from '#domain/state-machine.ts';
import {
  ACCOUNTS,
  at,
  FIXTURE_ID,
  fixtureActor,
  fixtureConfig,
  fixtureEntitlement,
  fixtureRequestWithChain,
  fixtureUsers,
  PROD_ADMIN,
  READ_ONLY,
  U,
  VALID_JUSTIFICATION,
} from '../support/fakes.ts';

function sealed(drafts: readonly AuditDraft[]): AuditEvent[] {
  const events: AuditEvent[] = [];
  let head: ChainHead | undefined;
  drafts.forEach((draft, index) => {
    const event = sealEvent(draft, head, `01JNQ00000000000000000000${String(index).padStart(1, '0')}`);
    events.push(event);
    head = headOf(event);
  });
  return events;
}

function fixture(status: RequestStatus, options: Parameters<typeof fixtureRequestWithChain>[1] = {}) {
  const { request, events } = fixtureRequestWithChain(status, options);
  return { request, chain: sealed(events) };
}

const claims = (request: AccessRequest, chain: readonly AuditEvent[]) =>
  unprovenClaims(request, proveFromChain(chain));

describe('what a chain proves', () => {
  it.each([
    ['PENDING', READ_ONLY, false],
    ['APPROVED', READ_ONLY, true],
    ['APPROVED', PROD_ADMIN, true],
    ['ACTIVE', PROD_ADMIN, true],
    ['EXTENSION_PENDING', READ_ONLY, true],
    ['REVOKED', READ_ONLY, true],
  ] as const)(
    'a real %s %s request: approved=%s, and nothing unproven',
    (status, entitlementId, approved) => {
      const { request, chain } = fixture(status, { entitlementId });

      expect(proveFromChain(chain).approved).toBe(approved);
      expect(claims(request, chain)).toEqual([]);
    },
  );

  it('a break-glass activation is approved by its opening, and its grant end is the activation’s', () => {
    const { request, chain } = fixture('ACTIVE', { entitlementId: PROD_ADMIN, breakGlass: true });
    const proof = proveFromChain(chain);

    expect(proof).toMatchObject({ opened: 'break-glass', approved: true, activated: true });
    expect(proof.grantEnd).toBe(request.grant?.expiresAt);
    expect(claims(request, chain)).toEqual([]);
  });
});

describe('what one write to the record cannot claim', () => {
  it.each([
    ['an approver group added', { approverGroups: ['prod-approvers', 'everyone'] }],
    ['the quorum lowered', { required: 1 }],
    ['strict expiry switched off', { strictExpiry: false }],
    ['a group id repointed', { groupIds: { 'prod-approvers': 'g-attacker' } }],
  ] as const)('a PENDING request whose policy snapshot was rewritten: %s', (_, change) => {
    const { request, chain } = fixture('PENDING', { entitlementId: PROD_ADMIN });
    const rewritten = { ...request, snapshot: { ...request.snapshot, ...change } };

    expect(claims(request, chain)).toEqual([]);
    expect(claims(rewritten, chain)).toEqual([
      'its policy snapshot differs from the one its chain recorded when it opened',
    ]);
  });

  it('a PENDING request flipped to APPROVED (or straight to ACTIVE)', () => {
    const { request, chain } = fixture('PENDING', { entitlementId: PROD_ADMIN });

    expect(claims({ ...request, status: 'APPROVED' }, chain)).toEqual([
      expect.stringMatching(/APPROVED but its chain proves 0 distinct approval\(s\) of 2 required/),
    ]);
    expect(claims({ ...request, status: 'ACTIVE' }, chain).join(' ')).toMatch(/without grant.activated/);
  });

  it('approvals the chain does not record', () => {
    const { request, chain } = fixture('PENDING', { entitlementId: PROD_ADMIN });
    const forged = { approverId: U.bob, at: request.createdAt, personKeys: [`user:${U.bob}`] };

    expect(claims({ ...request, approvals: [forged] }, chain)).toContain(
      'it lists approvals its chain does not record',
    );
  });

  it('a later expiry, a higher grant version or an unreadable end', () => {
    const { request, chain } = fixture('ACTIVE');
    const grant = request.grant as NonNullable<AccessRequest['grant']>;
    const later = new Date(Date.parse(grant.expiresAt) + 86_400_000).toISOString();

    expect(claims({ ...request, grant: { ...grant, expiresAt: later } }, chain).join(' ')).toMatch(
      /chain proves/,
    );
    expect(claims({ ...request, grant: { ...grant, grantVersion: 7 } }, chain).join(' ')).toMatch(
      /version 7/,
    );
    expect(claims({ ...request, grant: { ...grant, expiresAt: 'never' } }, chain).join(' ')).toMatch(
      /without a grant end/,
    );
  });

  it('more accounts, a longer duration, another permission set, another start', () => {
    const { request, chain } = fixture('APPROVED');

    expect(claims({ ...request, accountIds: [request.accountId, '999999999999'] }, chain).join(' ')).toMatch(
      /targets/,
    );
    expect(claims({ ...request, durationMs: request.durationMs * 10 }, chain).join(' ')).toMatch(/duration/);
    expect(
      claims(
        { ...request, snapshot: { ...request.snapshot, permissionSetName: 'AdminEverything' } },
        chain,
      ).join(' '),
    ).toMatch(/permission set/);
    expect(claims({ ...request, startAt: '2030-01-01T00:00:00.000Z' }, chain).join(' ')).toMatch(/start/);
  });

  it('a request the chain records as ended, made live again', () => {
    const { request, chain } = fixture('REVOKED');

    expect(claims({ ...request, status: 'APPROVED' }, chain).join(' ')).toMatch(/records it REVOKED/);
  });

  it('another requester, or a chain that is not a request’s', () => {
    const { request, chain } = fixture('APPROVED');

    expect(claims({ ...request, requesterId: U.erin }, chain).join(' ')).toMatch(/opened by/);
    expect(claims(request, chain.slice(1))).toEqual([
      'its audit chain does not open with request.created or breakglass.activated',
    ]);
  });
});

describe('names on the record: for people to read, never proof', () => {
  /** An ACTIVE prod-admin grant opened, approved (2 of 2) and extended-pending by people with display names. */
  function namedActive() {
    const config = fixtureConfig();
    const named = (userId: string, displayName: string): Actor => ({
      ...fixtureActor(userId, fixtureUsers(), config),
      displayName,
    });
    const eve = named(U.eve, 'Eve Engineer');
    const opened = openRequest({
      id: FIXTURE_ID,
      requester: eve,
      entitlement: fixtureEntitlement(PROD_ADMIN, config),
      configHash: config.configHash,
      accountId: ACCOUNTS.prod,
      ...VALID_JUSTIFICATION,
      now: at(0),
    });
    const drafts: AuditDraft[] = [...opened.events];
    let request = opened.request;
    const steps: Command[] = [
      { type: 'approve', actor: named(U.alice, 'Alice Approver') },
      { type: 'approve', actor: named(U.bob, 'Bob Approver') },
      { type: 'start-provisioning' },
      { type: 'activate' },
      { type: 'extend', actor: eve, additionalMs: 3_600_000, reason: 'more' },
      { type: 'approve', actor: named(U.bob, 'Bob Approver') },
    ];
    steps.forEach((command, index) => {
      const outcome = decide(request, command, at(index + 1));
      request = outcome.request;
      drafts.push(...outcome.events);
    });
    return { request, chain: sealed(drafts) };
  }

  it('a request decided by named people records their names and its chain proves it all', () => {
    const { request, chain } = namedActive();

    expect(request.status).toBe('EXTENSION_PENDING');
    expect(request.requesterName).toBe('Eve Engineer');
    expect(request.approvals.map((approval) => approval.approverName)).toEqual([
      'Alice Approver',
      'Bob Approver',
    ]);
    expect(request.extension?.approvals.map((approval) => approval.approverName)).toEqual(['Bob Approver']);
    expect(claims(request, chain)).toEqual([]);
  });

  it('names rewritten or removed in the record claim nothing more, and make nothing unproven', () => {
    const { request, chain } = namedActive();
    const rename = <T extends { approverName?: string }>(approvals: readonly T[]) =>
      approvals.map((approval) => ({ ...approval, approverName: 'Mallory' }));
    const renamed: AccessRequest = {
      ...request,
      requesterName: 'Mallory',
      approvals: rename(request.approvals),
      extension: request.extension && {
        ...request.extension,
        approvals: rename(request.extension.approvals),
      },
    };
    const { requesterName: _dropped, ...nameless } = request;

    expect(claims(renamed, chain)).toEqual([]);
    expect(claims(nameless, chain)).toEqual([]);
  });

  it('an approval forged under a real approver’s name is still one the chain does not record', () => {
    const { request, chain } = fixture('PENDING', { entitlementId: PROD_ADMIN });
    const forged = {
      approverId: 'u-mallory',
      approverName: 'Alice Approver',
      at: request.createdAt,
      personKeys: ['user:u-mallory'],
    };

    expect(claims({ ...request, status: 'APPROVED', approvals: [forged] }, chain)).toEqual(
      expect.arrayContaining(['it lists approvals its chain does not record']),
    );
  });
});
