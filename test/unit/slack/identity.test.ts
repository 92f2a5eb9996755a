// shared/app/slack/identity.ts: a Slack user becomes an Identity Store user only after every check
// holds (allow-listed workspace, a live full member of it, no bot, guest or Slack Connect stranger),
// by email or — in strict mode — only by a link made with the SigV4 CLI. Bindings are cached for a
// minute of the (fake) clock; refusals and groups are not.
import { describe, expect, it } from 'vitest';
import type { SlackActors } from '#app/commands.ts';
import { makeSlackActors, SLACK_REFUSAL_MESSAGE } from '#app/slack/identity.ts';
import { SlackIdentityError, type SlackRefusalReason } from '#domain/errors.ts';
import type { SlackConfig, SlackIdentityBinding } from '#domain/model.ts';
import type { SlackUserInfo, SlackUserRef } from '#ports/slack.ts';
import { FakeClock, type FixtureUser, InMemoryDirectory } from '../../support/fakes.ts';
import { FakeSlackUsers, InMemorySlackStore, slackUser } from '../../support/slack-identity-fakes.ts';

const TEAM = 'T0EXAMPLE01';
const GRID = 'E0GRID00001';
const GRID_TEAM = 'T0GRIDTEAM1';

function config(identityBinding: SlackIdentityBinding = 'email'): SlackConfig {
  return { teamIds: [TEAM], enterpriseIds: [GRID], approversChannel: 'C0APPROVALS', identityBinding };
}

const PEOPLE: FixtureUser[] = [
  { userId: 'u-alice', email: 'alice@example.com' },
  { userId: 'u-erin', email: 'erin@example.com' },
  { userId: 'u-dan', email: 'dan@example.com', active: false },
  // Two Identity Store users whose emails differ only in case.
  { userId: 'u-pat-1', email: 'Pat@example.com' },
  { userId: 'u-pat-2', email: 'pat@example.com' },
];

const ALICE = slackUser('U0ALICE', { email: 'alice@example.com' });
const from = (userId: string, teamId = TEAM, enterpriseId?: string): SlackUserRef => ({
  teamId,
  userId,
  ...(enterpriseId ? { enterpriseId } : {}),
});

function world(options: { binding?: SlackIdentityBinding; users?: SlackUserInfo[]; ttlMs?: number } = {}) {
  const clock = new FakeClock();
  const slack = new FakeSlackUsers(options.users ?? [ALICE]);
  const directory = new InMemoryDirectory(PEOPLE);
  const slackStore = new InMemorySlackStore();
  const actors = makeSlackActors({
    config: config(options.binding),
    slack,
    directory,
    slackStore,
    clock,
    ...(options.ttlMs === undefined ? {} : { cacheTtlMs: options.ttlMs }),
  });
  return { clock, slack, directory, slackStore, actors };
}

async function refusalOf(promise: Promise<unknown>): Promise<SlackIdentityError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof SlackIdentityError)) throw new Error(`expected a SlackIdentityError, got ${error}`);
  return error;
}

describe('a Slack user cloud-pam will not act for', () => {
  const cases: [string, SlackUserRef, SlackUserInfo | undefined, SlackRefusalReason][] = [
    ['a workspace outside the allow-list', from('U0ALICE', 'T0ELSEWHERE'), ALICE, 'workspace'],
    [
      'a workspace of an Enterprise Grid org outside the allow-list',
      from('U0ALICE', 'T0ELSEWHERE', 'E0OTHERORG1'),
      ALICE,
      'workspace',
    ],
    ['a user Slack does not know', from('U0GHOST'), undefined, 'deleted'],
    ['a deactivated user', from('U0GONE'), slackUser('U0GONE', { deleted: true }), 'deleted'],
    ['a bot', from('U0BOT'), slackUser('U0BOT', { isBot: true }), 'bot'],
    ['a multi-channel guest', from('U0GUEST'), slackUser('U0GUEST', { isRestricted: true }), 'guest'],
    ['a single-channel guest', from('U0GUEST'), slackUser('U0GUEST', { isUltraRestricted: true }), 'guest'],
    [
      'a Slack Connect user of another organization',
      from('U0STRANGER'),
      slackUser('U0STRANGER', { isStranger: true }),
      'external',
    ],
    [
      'a user whose home workspace is not allow-listed',
      from('U0VISITOR'),
      slackUser('U0VISITOR', { teamId: 'T0ELSEWHERE' }),
      'external',
    ],
    [
      'a user whose email no Identity Store user has',
      from('U0NOBODY'),
      slackUser('U0NOBODY', { email: 'nobody@example.com' }),
      'no-identity',
    ],
    [
      'a user whose Slack profile shows no email',
      from('U0NOMAIL'),
      slackUser('U0NOMAIL', { email: undefined }),
      'no-identity',
    ],
    [
      'a user whose Identity Store user is disabled',
      from('U0DAN'),
      slackUser('U0DAN', { email: 'dan@example.com' }),
      'no-identity',
    ],
    [
      'a user whose email two Identity Store users have, in different case',
      from('U0PAT'),
      slackUser('U0PAT', { email: 'Pat@example.com' }),
      'no-identity',
    ],
  ];

  it.each(cases)('refuses %s', async (_name, origin, info, reason) => {
    // Prepare
    const { actors } = world({ users: info ? [info] : [] });

    // Act
    const refusal = await refusalOf(actors.identify(origin));

    // Assess
    expect(refusal.reason).toBe(reason);
    expect(refusal.code).toBe('SLACK_IDENTITY');
    if (info?.email) expect(refusal.message.toLowerCase()).not.toContain(info.email.toLowerCase());
    expect(refusal.message).not.toMatch(/@/);
  });

  it('refuses a workspace outside the allow-list without asking Slack about the user', async () => {
    const { actors, slack } = world();

    await refusalOf(actors.identify(from('U0ALICE', 'T0ELSEWHERE')));

    expect(slack.calls).toEqual([]);
  });

  it('checks in order: a bot that is also a guest and a stranger is refused as a bot, a guest stranger as a guest', async () => {
    const { actors } = world({
      users: [
        slackUser('U0ALL', { isBot: true, isRestricted: true, isStranger: true }),
        slackUser('U0BOTH', { isUltraRestricted: true, isStranger: true, teamId: 'T0ELSEWHERE' }),
      ],
    });

    expect((await refusalOf(actors.identify(from('U0ALL')))).reason).toBe('bot');
    expect((await refusalOf(actors.identify(from('U0BOTH')))).reason).toBe('guest');
  });

  it('refuses an answer from users.info about another user', async () => {
    // Prepare: Slack (or a stand-in) answers for U0ALICE when asked about U0MALLORY.
    const { actors } = world();
    const lying = makeSlackActors({
      config: config(),
      slack: { userInfo: async () => ALICE },
      directory: new InMemoryDirectory(PEOPLE),
      slackStore: new InMemorySlackStore(),
      clock: new FakeClock(),
    });

    // Act
    const refusal = await refusalOf(lying.identify(from('U0MALLORY')));

    // Assess
    expect(refusal.reason).toBe('deleted');
    expect(await actors.identify(from('U0ALICE'))).toBe('u-alice');
  });
});

describe('email binding (the default)', () => {
  it('binds a member to the Identity Store user with the same email', async () => {
    const { actors, directory } = world();

    expect(await actors.identify(from('U0ALICE'))).toBe('u-alice');
    expect(directory.groupsOfCount()).toBe(0);
  });

  it('matches the email without regard to case', async () => {
    const { actors } = world({ users: [slackUser('U0ALICE', { email: 'Alice@Example.COM' })] });

    expect(await actors.identify(from('U0ALICE'))).toBe('u-alice');
  });

  it('admits any workspace of an allow-listed Enterprise Grid org', async () => {
    const { actors } = world({
      users: [slackUser('W0ALICE', { email: 'alice@example.com', teamId: GRID_TEAM, enterpriseId: GRID })],
    });

    expect(await actors.identify(from('W0ALICE', GRID_TEAM, GRID))).toBe('u-alice');
  });

  it('satisfies the commands worker contract (SlackActors)', async () => {
    const { actors } = world();
    const slackActors: SlackActors = actors;

    expect(
      await slackActors.identify({ teamId: TEAM, userId: 'U0ALICE', responseUrl: 'https://hooks.example/x' }),
    ).toBe('u-alice');
  });
});

describe('strict binding', () => {
  it('refuses a Slack user whose email matches but who never linked', async () => {
    // Prepare: U0ALICE's Slack email is alice@example.com, an active Identity Store user's.
    const { actors } = world({ binding: 'strict' });

    // Act
    const refusal = await refusalOf(actors.identify(from('U0ALICE')));

    // Assess
    expect(refusal.reason).toBe('not-linked');
    expect(refusal.message).toBe(SLACK_REFUSAL_MESSAGE.notLinked);
    expect(refusal.message).toContain('pam slack link');
  });

  it('accepts the user after a link, bound to whom the link names and never to the email', async () => {
    // Prepare: the link says erin, the Slack email says alice.
    const { actors, slackStore, clock } = world({ binding: 'strict' });
    await refusalOf(actors.identify(from('U0ALICE')));
    await slackStore.putLink({
      teamId: TEAM,
      slackUserId: 'U0ALICE',
      userId: 'u-erin',
      linkedAt: clock.now().toISOString(),
    });

    // Act
    const userId = await actors.identify(from('U0ALICE'));

    // Assess
    expect(userId).toBe('u-erin');
  });

  it('refuses a link to an Identity Store user that is disabled or gone', async () => {
    const { actors, slackStore, directory, clock } = world({
      binding: 'strict',
      users: [ALICE, slackUser('U0ERIN')],
    });
    const linkedAt = clock.now().toISOString();
    await slackStore.putLink({ teamId: TEAM, slackUserId: 'U0ALICE', userId: 'u-dan', linkedAt });
    await slackStore.putLink({ teamId: TEAM, slackUserId: 'U0ERIN', userId: 'u-erin', linkedAt });
    directory.remove('u-erin');

    expect((await refusalOf(actors.identify(from('U0ALICE')))).reason).toBe('no-identity');
    expect((await refusalOf(actors.identify(from('U0ERIN')))).reason).toBe('no-identity');
  });

  it('still refuses a linked guest', async () => {
    const { actors, slackStore, clock } = world({
      binding: 'strict',
      users: [slackUser('U0ALICE', { isRestricted: true })],
    });
    await slackStore.putLink({
      teamId: TEAM,
      slackUserId: 'U0ALICE',
      userId: 'u-alice',
      linkedAt: clock.now().toISOString(),
    });

    expect((await refusalOf(actors.identify(from('U0ALICE')))).reason).toBe('guest');
  });
});

describe('the binding cache', () => {
  it('asks Slack once within the TTL and again once it has passed', async () => {
    // Prepare
    const { actors, slack, clock } = world({ ttlMs: 60_000 });

    // Act
    await actors.identify(from('U0ALICE'));
    clock.advance(59_999);
    await actors.identify(from('U0ALICE'));
    const callsWithinTtl = slack.calls.length;
    clock.advance(1);
    await actors.identify(from('U0ALICE'));

    // Assess
    expect(callsWithinTtl).toBe(1);
    expect(slack.calls).toEqual(['U0ALICE', 'U0ALICE']);
  });

  it('notices a member turned guest once the cached binding expires', async () => {
    // Prepare
    const { actors, slack, clock } = world();
    expect(await actors.identify(from('U0ALICE'))).toBe('u-alice');
    slack.set({ ...ALICE, isRestricted: true });

    // Act
    const stillCached = await actors.identify(from('U0ALICE'));
    clock.advance(60_000);
    const refusal = await refusalOf(actors.identify(from('U0ALICE')));

    // Assess
    expect(stillCached).toBe('u-alice');
    expect(refusal.reason).toBe('guest');
  });

  it('does not remember a refusal: the next call asks again', async () => {
    // Prepare
    const { actors, slack } = world({ users: [slackUser('U0ALICE', { isRestricted: true })] });
    await refusalOf(actors.identify(from('U0ALICE')));
    slack.set(ALICE);

    // Act
    const userId = await actors.identify(from('U0ALICE'));

    // Assess
    expect(userId).toBe('u-alice');
    expect(slack.calls).toEqual(['U0ALICE', 'U0ALICE']);
  });

  it('keeps the workspace check in front of the cache', async () => {
    const { actors } = world();
    await actors.identify(from('U0ALICE'));

    expect((await refusalOf(actors.identify(from('U0ALICE', 'T0ELSEWHERE')))).reason).toBe('workspace');
  });

  it('does not trust a binding cached at a time the clock has since gone back before', async () => {
    const { actors, slack, clock } = world();
    await actors.identify(from('U0ALICE'));

    clock.advance(-1);
    await actors.identify(from('U0ALICE'));

    expect(slack.calls).toHaveLength(2);
  });
});
