// shared/app/slack/link.ts: the one-time code of strict binding — drawn at random from an alphabet
// without look-alikes, stored only as its hash, good once for ten minutes, audited; typed in Slack it
// binds that Slack account (a member of an allow-listed workspace, never a guest, stranger or bot)
// to the code's issuer, replacing any earlier link, and strict identification then accepts it.
import { describe, expect, it } from 'vitest';
import { makeSlackActors } from '#app/slack/identity.ts';
import {
  LINK_CODE_ALPHABET,
  LINK_CODE_TTL_MS,
  linkCodeHash,
  makeConsumeSlackLinkCode,
  makeCreateSlackLinkCode,
  normalizeLinkCode,
} from '#app/slack/link.ts';
import { SlackIdentityError } from '#domain/errors.ts';
import type { SlackConfig } from '#domain/model.ts';
import type { SlackUserRef } from '#ports/slack.ts';
import { FakeClock, InMemoryAuditLog, InMemoryDirectory, SequentialIds } from '../../support/fakes.ts';
import { FakeSlackUsers, InMemorySlackStore, slackUser } from '../../support/slack-identity-fakes.ts';

const TEAM = 'T0EXAMPLE01';
const CONFIG: SlackConfig = {
  teamIds: [TEAM],
  enterpriseIds: [],
  approversChannel: 'C0APPROVALS',
  identityBinding: 'strict',
};
const ALICE_SLACK: SlackUserRef = { teamId: TEAM, userId: 'U0ALICE' };

/** Bytes 0, 1, 2, … (each picks that symbol of the alphabet), then a second run from `start`. */
function pinnedBytes(...starts: number[]) {
  const runs = [...starts];
  return (size: number) => {
    const start = runs.shift() ?? 0;
    return Uint8Array.from({ length: size }, (_, i) => start + i);
  };
}

function world(options: { randomBytes?: (size: number) => Uint8Array } = {}) {
  const clock = new FakeClock();
  const audit = new InMemoryAuditLog(new SequentialIds(clock));
  const slackStore = new InMemorySlackStore();
  const directory = new InMemoryDirectory([
    { userId: 'u-alice', email: 'alice@example.com' },
    { userId: 'u-erin', email: 'erin@example.com' },
  ]);
  const slack = new FakeSlackUsers([
    slackUser('U0ALICE', { email: 'alice@example.com' }),
    slackUser('U0GUEST', { isRestricted: true }),
    slackUser('U0STRANGER', { isStranger: true }),
  ]);
  const create = makeCreateSlackLinkCode({
    slackStore,
    audit,
    clock,
    ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}),
  });
  const consume = makeConsumeSlackLinkCode({ config: CONFIG, slack, slackStore, directory, audit, clock });
  const actors = makeSlackActors({ config: CONFIG, slack, slackStore, directory, clock, cacheTtlMs: 0 });
  return { clock, audit, slackStore, directory, slack, create, consume, actors };
}

async function refusalOf(promise: Promise<unknown>): Promise<SlackIdentityError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof SlackIdentityError)) throw new Error(`expected a SlackIdentityError, got ${error}`);
  return error;
}

describe('making a link code', () => {
  it('draws 12 symbols of the alphabet, grouped XXXX-XXXX-XXXX, valid ten minutes', async () => {
    // Prepare: bytes 0..11, then 244..255 (masked to 5 bits: 20..31).
    const { create, clock } = world({ randomBytes: pinnedBytes(0, 244) });

    // Act
    const first = await create({ actorId: 'u-alice' });
    const second = await create({ actorId: 'u-alice' });

    // Assess
    expect(first).toEqual({
      code: '0123-4567-89AB',
      expiresAt: new Date(clock.now().getTime() + LINK_CODE_TTL_MS).toISOString(),
    });
    expect(second.code).toBe('MNPQ-RSTV-WXYZ');
    expect(LINK_CODE_TTL_MS).toBe(600_000);
  });

  it('uses an alphabet of 32 symbols without I, L, O or U (60 random bits a code)', async () => {
    const { create } = world();

    const { code } = await create({ actorId: 'u-alice' });

    expect(new Set(LINK_CODE_ALPHABET).size).toBe(32);
    expect(LINK_CODE_ALPHABET).not.toMatch(/[ILOU]/);
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  });

  it('stores only the hash of the code and audits the issue on `system` without the code', async () => {
    const { create, slackStore, audit } = world();

    const { code, expiresAt } = await create({ actorId: 'u-alice' });

    expect(slackStore.codeHashes()).toEqual([linkCodeHash(code)]);
    const [event] = await audit.readChain('system');
    expect(event).toMatchObject({
      type: 'slack.link_code_issued',
      actorId: 'u-alice',
      details: { expiresAt },
    });
    expect(JSON.stringify(audit.all())).not.toContain(code);
    expect(JSON.stringify(audit.all())).not.toContain(linkCodeHash(code));
  });

  it('makes no code when the audit log cannot be written', async () => {
    const { create, slackStore, audit } = world();
    audit.unavailable = true;

    await expect(create({ actorId: 'u-alice' })).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });

    expect(slackStore.codeHashes()).toEqual([]);
  });
});

describe('typing a link code in Slack', () => {
  it('links the Slack user to the issuer, audits it, and strict identification then accepts them', async () => {
    // Prepare
    const { create, consume, actors, audit, slackStore } = world();
    const { code } = await create({ actorId: 'u-alice' });
    const before = await refusalOf(actors.identify(ALICE_SLACK));

    // Act
    const linked = await consume(code, ALICE_SLACK);

    // Assess
    expect(before.reason).toBe('not-linked');
    expect(linked).toBe('u-alice');
    expect(await actors.identify(ALICE_SLACK)).toBe('u-alice');
    expect(slackStore.allLinks()).toEqual([
      { teamId: TEAM, slackUserId: 'U0ALICE', userId: 'u-alice', linkedAt: '2026-03-02T09:00:00.000Z' },
    ]);
    expect((await audit.readChain('system')).map((event) => [event.type, event.actorId])).toEqual([
      ['slack.link_code_issued', 'u-alice'],
      ['slack.linked', 'u-alice'],
    ]);
    expect((await audit.readChain('system'))[1]?.details).toEqual({
      slackTeamId: TEAM,
      slackEnterpriseId: null,
      slackUserId: 'U0ALICE',
      replacedUserId: null,
    });
  });

  it('works once', async () => {
    const { create, consume } = world();
    const { code } = await create({ actorId: 'u-alice' });
    await consume(code, ALICE_SLACK);

    const again = await refusalOf(consume(code, ALICE_SLACK));

    expect(again.reason).toBe('not-linked');
    expect(again.message).toMatch(/unknown, already used or expired/);
  });

  it('works until ten minutes have passed, not after', async () => {
    // Prepare
    const { create, consume, clock } = world({ randomBytes: pinnedBytes(0, 100) });
    const early = await create({ actorId: 'u-alice' });
    const late = await create({ actorId: 'u-alice' });

    // Act
    clock.advance(LINK_CODE_TTL_MS - 1);
    const inTime = await consume(early.code, ALICE_SLACK);
    clock.advance(1);
    const expired = await refusalOf(consume(late.code, ALICE_SLACK));

    // Assess
    expect(inTime).toBe('u-alice');
    expect(expired.reason).toBe('not-linked');
  });

  it('refuses a code nobody made', async () => {
    const { consume } = world();

    expect((await refusalOf(consume('ZZZZ-ZZZZ-ZZZZ', ALICE_SLACK))).reason).toBe('not-linked');
    expect((await refusalOf(consume('not a code', ALICE_SLACK))).reason).toBe('not-linked');
  });

  it('accepts the code as people type it: any case, no dashes, O for 0, I or L for 1', async () => {
    const { create, consume } = world({ randomBytes: pinnedBytes(0) });
    const { code } = await create({ actorId: 'u-alice' });

    const linked = await consume(' oL23 4567-89ab ', ALICE_SLACK);

    expect(code).toBe('0123-4567-89AB');
    expect(normalizeLinkCode('oi23 4567 89ab')).toBe(code);
    expect(normalizeLinkCode('0123-4567-89AU')).toBeUndefined();
    expect(linked).toBe('u-alice');
  });

  it.each([
    ['a guest', { teamId: TEAM, userId: 'U0GUEST' }, 'guest'],
    ['a Slack Connect stranger', { teamId: TEAM, userId: 'U0STRANGER' }, 'external'],
    ['a workspace outside the allow-list', { teamId: 'T0ELSEWHERE', userId: 'U0ALICE' }, 'workspace'],
  ] as const)('refuses %s without using the code up', async (_name, origin, reason) => {
    // Prepare
    const { create, consume, slackStore } = world();
    const { code } = await create({ actorId: 'u-alice' });

    // Act
    const refusal = await refusalOf(consume(code, origin));

    // Assess
    expect(refusal.reason).toBe(reason);
    expect(slackStore.allLinks()).toEqual([]);
    expect(await consume(code, ALICE_SLACK)).toBe('u-alice');
  });

  it('refuses a code whose issuer has since been disabled', async () => {
    const { create, consume, directory, slackStore } = world();
    const { code } = await create({ actorId: 'u-erin' });
    directory.setActive('u-erin', false);

    expect((await refusalOf(consume(code, ALICE_SLACK))).reason).toBe('no-identity');
    expect(slackStore.allLinks()).toEqual([]);
  });

  it('replaces an earlier link of the same Slack user and says whom it replaced', async () => {
    // Prepare
    const { create, consume, actors, audit } = world();
    await consume((await create({ actorId: 'u-erin' })).code, ALICE_SLACK);
    expect(await actors.identify(ALICE_SLACK)).toBe('u-erin');

    // Act
    await consume((await create({ actorId: 'u-alice' })).code, ALICE_SLACK);

    // Assess
    expect(await actors.identify(ALICE_SLACK)).toBe('u-alice');
    expect((await audit.readChain('system')).at(-1)).toMatchObject({
      type: 'slack.linked',
      actorId: 'u-alice',
      details: { replacedUserId: 'u-erin' },
    });
  });

  it('writes no link when the audit log cannot be written', async () => {
    const { create, consume, audit, slackStore } = world();
    const { code } = await create({ actorId: 'u-alice' });
    audit.unavailable = true;

    await expect(consume(code, ALICE_SLACK)).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });

    expect(slackStore.allLinks()).toEqual([]);
  });
});
