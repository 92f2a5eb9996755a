// The notify-slack worker's use case over in-memory fakes: approval messages posted once and then
// updated in place from the request's current state, never backwards; the requester told once per
// change; Slack failures thrown for SQS to retry; and the `/pam` answers (modal, list, link, home).
import { beforeEach, describe, expect, it } from 'vitest';
import { makeCreateRequest, makeDecideRequest } from '#app/requests.ts';
import type { SlackOrigin } from '#app/slack/jobs.ts';
import { makeEntitlementsFor, makeSlackLists, makeSlackWorker } from '#app/slack/notify.ts';
import { SlackIdentityError } from '#domain/errors.ts';
import type { AccessRequest } from '#domain/model.ts';
import { SlackApiError, type SlackMessage, type SlackUserInfo, type SlackView } from '#ports/slack.ts';
import {
  ACCOUNTS,
  fixtureConfig,
  fixtureEntitlements,
  fixtureRequest,
  fixtureUsers,
  makeTestDeps,
  PROD_ADMIN,
  READ_ONLY,
  U,
  VALID_JUSTIFICATION,
} from '../../support/fakes.ts';
import { FakeSlackApi, InMemorySlackStore, slackUser } from '../../support/slack-fakes.ts';

const TEAM = 'T0EXAMPLE01';
const RESPONSE_URL = 'https://hooks.slack.com/commands/T0EXAMPLE01/1234/s3cr3tResponseToken';
const GOOD_CODE = 'ABCD-EFGH-JKMN';
const BAD_CODE = 'ZZZZ-ZZZZ-ZZZZ';
const EXPIRED_CODE = 'EEEE-EEEE-EEEE';
const EVE_EMAIL = 'eve@example.com';

type Json = Record<string, unknown>;

/** `responseUrl: null`: a job without one (an App Home click). */
function origin(userId: string, responseUrl: string | null = RESPONSE_URL): SlackOrigin {
  return { teamId: TEAM, userId, ...(responseUrl === null ? {} : { responseUrl }) };
}

const delivery = { by: 'slack', id: '1234.5678.abcdef' } as const;

function buttons(message: unknown): Json[] {
  const found: Json[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value && typeof value === 'object') {
      if ((value as Json).type === 'button') found.push(value as Json);
      for (const child of Object.values(value)) walk(child);
    }
  };
  walk(message);
  return found;
}

interface World {
  readonly slack: FakeSlackApi;
  readonly slackStore: InMemorySlackStore;
  readonly logs: { level: string; message: string; details?: unknown }[];
  readonly worker: ReturnType<typeof makeSlackWorker>;
  readonly test: ReturnType<typeof makeTestDeps>;
  create(entitlementId?: string): Promise<AccessRequest>;
  approve(requestId: string, actorId?: string): Promise<AccessRequest>;
  render(
    request: Pick<AccessRequest, 'id' | 'version'>,
  ): ReturnType<ReturnType<typeof makeSlackWorker>['handle']>;
  /** chat.postMessage calls into channels (not DMs). */
  posts(): Json[];
  /** DMs to the requester. */
  dms(): Json[];
}

function makeWorld(
  options: { binding?: 'email' | 'strict'; slackUsers?: readonly SlackUserInfo[] } = {},
): World {
  const entitlements = fixtureEntitlements().map((entitlement) =>
    entitlement.id === PROD_ADMIN
      ? { ...entitlement, approval: { ...entitlement.approval, slackChannel: 'C0PRODAPPROVALS' } }
      : entitlement,
  );
  const config = fixtureConfig({
    entitlements,
    slack: {
      teamIds: [TEAM],
      enterpriseIds: [],
      approversChannel: 'C0APPROVALS',
      identityBinding: options.binding ?? 'email',
    },
  });
  const users = fixtureUsers().map((user) => ({ ...user, email: `${user.userId.slice(2)}@example.com` }));
  const test = makeTestDeps({ config, users });
  const slack = new FakeSlackApi(
    options.slackUsers ?? [slackUser('U0EVE', EVE_EMAIL), slackUser('U0ALICE', 'alice@example.com')],
  );
  const slackStore = new InMemorySlackStore();
  const logs: World['logs'] = [];
  const identities = new Map([
    ['U0EVE', U.eve],
    ['U0ALICE', U.alice],
  ]);
  const worker = makeSlackWorker({
    store: test.store,
    catalog: test.catalog,
    slack,
    slackStore,
    directory: test.directory,
    actors: {
      identify: async (from) => {
        const userId = identities.get(from.userId);
        if (!userId)
          throw new SlackIdentityError(
            'not-linked',
            'this Slack account is not linked: run `pam slack link`',
          );
        return userId;
      },
    },
    lists: makeSlackLists(test.deps),
    entitlementsFor: makeEntitlementsFor(test.deps),
    // As shared/app/slack/link.ts answers: the issuer's id, or a refusal naming what is wrong.
    linkCodes: {
      consume: async (code) => {
        if (code === GOOD_CODE) return U.eve;
        if (code === EXPIRED_CODE) return undefined;
        throw new SlackIdentityError('not-linked', 'That link code is unknown, already used or expired.');
      },
    },
    clock: test.clock,
    log: {
      info: (message, details) => logs.push({ level: 'info', message, details }),
      warn: (message, details) => logs.push({ level: 'warn', message, details }),
    },
  });
  const createRequest = makeCreateRequest(test.deps);
  const decide = makeDecideRequest(test.deps);
  const channels = new Set(['C0APPROVALS', 'C0PRODAPPROVALS']);
  return {
    slack,
    slackStore,
    logs,
    worker,
    test,
    create: (entitlementId = READ_ONLY) =>
      createRequest({ actorId: U.eve, entitlementId, accountId: ACCOUNTS.dev, ...VALID_JUSTIFICATION }),
    approve: (requestId, actorId = U.alice) => decide({ action: 'approve', actorId, requestId }),
    render: (request) => worker.handle({ kind: 'render', requestId: request.id, version: request.version }),
    posts: () => slack.sent('chat.postMessage').filter((call) => channels.has(call.channel as string)),
    dms: () => slack.sent('chat.postMessage').filter((call) => call.channel === 'U0EVE'),
  };
}

describe('render: the approval message', () => {
  let world: World;
  beforeEach(() => {
    world = makeWorld();
  });

  it('posts the first render in the approvers channel and remembers channel, ts and version', async () => {
    // Prepare
    const request = await world.create();

    // Act
    const outcome = await world.render(request);

    // Assess
    expect(outcome).toMatchObject({ kind: 'render', outcome: 'posted', dm: 'sent', version: 1 });
    const [post] = world.posts();
    expect(post?.channel).toBe('C0APPROVALS');
    expect(buttons(post?.message).map((button) => button.value)).toEqual([request.id, request.id]);
    expect(await world.slackStore.getMessage(request.id)).toEqual({
      requestId: request.id,
      channel: 'C0APPROVALS',
      ts: '1772442000.000002',
      renderedVersion: 1,
      requesterSlackId: 'U0EVE',
      notifiedVersion: 1,
    });
  });

  it("posts in the entitlement's own channel when it names one", async () => {
    const request = await world.create(PROD_ADMIN);

    await world.render(request);

    expect(world.posts().map((post) => post.channel)).toEqual(['C0PRODAPPROVALS']);
  });

  it('updates the message in place at a later version, and the buttons disappear after approval', async () => {
    // Prepare
    const created = await world.create();
    await world.render(created);
    const approved = await world.approve(created.id);

    // Act
    const outcome = await world.render(approved);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'updated', version: 2 });
    expect(world.posts()).toHaveLength(1);
    const [update] = world.slack.sent('chat.update');
    expect(update).toMatchObject({ channel: 'C0APPROVALS', ts: '1772442000.000002' });
    expect(buttons(update?.message)).toEqual([]);
    expect(JSON.stringify(update?.message)).toContain('*Approved*');
    expect((await world.slackStore.getMessage(created.id))?.renderedVersion).toBe(2);
  });

  it('renders the current state, not the version the job names', async () => {
    // Prepare: the request moved on before its first render ran.
    const created = await world.create();
    await world.approve(created.id);

    // Act
    await world.render(created);

    // Assess
    const [post] = world.posts();
    expect(buttons(post?.message)).toEqual([]);
    expect(JSON.stringify(post?.message)).toContain('version 2');
    expect((await world.slackStore.getMessage(created.id))?.renderedVersion).toBe(2);
  });

  it('never renders an older version over a newer one: a late job changes nothing', async () => {
    // Prepare
    const created = await world.create();
    const approved = await world.approve(created.id);
    await world.render(approved);
    const before = world.slack.calls.length;

    // Act
    const outcome = await world.render(created);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'up-to-date' });
    expect(world.slack.calls).toHaveLength(before);
    expect((await world.slackStore.getMessage(created.id))?.renderedVersion).toBe(2);
  });

  it('shows the current state again when a newer render was recorded while its own was in flight', async () => {
    // Prepare: while v2's render is being recorded, another render of v3 (revoked) gets there first.
    const created = await world.create();
    await world.render(created);
    const approved = await world.approve(created.id);
    const revoke = makeDecideRequest(world.test.deps);
    world.slackStore.beforeNextPut(async (ref) => {
      const revoked = await revoke({ action: 'revoke', actorId: U.eve, requestId: created.id });
      await world.slackStore.putMessage({ ...ref, renderedVersion: revoked.version });
    });

    // Act
    const outcome = await world.render(approved);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'superseded', version: 2 });
    const last = world.slack.sent('chat.update').at(-1);
    expect(JSON.stringify(last?.message)).toContain('*Revoked*');
    expect((await world.slackStore.getMessage(created.id))?.renderedVersion).toBe(3);
  });

  it('renders a request of an entitlement no longer configured from its snapshot, in the default channel', async () => {
    // Prepare
    const retired = {
      ...fixtureRequest('PENDING', { entitlementId: PROD_ADMIN }),
      entitlementId: 'retired-admin',
    };
    await world.test.store.save({ request: retired, expectedVersion: null, events: [] });

    // Act
    await world.render(retired);

    // Assess
    const [post] = world.posts();
    expect(post?.channel).toBe('C0APPROVALS');
    expect(JSON.stringify(post?.message)).toContain('Production administrator');
    expect(JSON.stringify(post?.message)).toContain('retired-admin');
  });

  it('answers a render of an unknown request with nothing sent', async () => {
    const outcome = await world.render({ id: '01JNQ0000000000000000000ZZ', version: 1 });

    expect(outcome).toMatchObject({ outcome: 'no-request' });
    expect(world.slack.calls).toEqual([]);
  });

  it('re-posts when the message was deleted in Slack', async () => {
    // Prepare
    const created = await world.create();
    await world.render(created);
    const approved = await world.approve(created.id);
    world.slack.failNext('chat.update', 'message_not_found');

    // Act
    const outcome = await world.render(approved);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'posted' });
    expect(world.posts()).toHaveLength(2);
    expect((await world.slackStore.getMessage(created.id))?.ts).toBe('1772442000.000004');
  });
});

describe('render: the requester is told once per change', () => {
  it('DMs the requester at each change, once per version', async () => {
    // Prepare
    const world = makeWorld();
    const created = await world.create();

    // Act
    await world.render(created);
    await world.render(created); // a redelivery of the same job
    const approved = await world.approve(created.id);
    await world.render(approved);
    await world.render(approved);

    // Assess
    const texts = world.dms().map((dm) => (dm.message as SlackMessage).text);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain('is waiting for approval (0 of 1)');
    expect(texts[1]).toContain('was approved');
    // The requester's Slack id was looked up once, then remembered.
    expect(world.slack.sent('users.lookupByEmail')).toHaveLength(1);
  });

  it('skips the DM of a requester with no Slack account, logs it without email or id, and still posts', async () => {
    // Prepare
    const world = makeWorld({ slackUsers: [] });
    const created = await world.create();

    // Act
    const outcome = await world.render(created);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'posted', dm: 'skipped' });
    expect(world.posts()).toHaveLength(1);
    expect(world.dms()).toEqual([]);
    expect(world.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        details: expect.objectContaining({ reason: 'no-slack-user' }),
      }),
    );
    const logged = JSON.stringify(world.logs);
    expect(logged).not.toContain(EVE_EMAIL);
    expect(logged).not.toContain(U.eve);
    // Skipped is final for that version: a redelivery does not look again.
    await world.render(created);
    expect(world.slack.sent('users.lookupByEmail')).toHaveLength(1);
  });

  it('in strict binding mode, never finds the requester by email', async () => {
    const world = makeWorld({ binding: 'strict' });
    const created = await world.create();

    const outcome = await world.render(created);

    expect(outcome).toMatchObject({ outcome: 'posted', dm: 'skipped' });
    expect(world.slack.sent('users.lookupByEmail')).toEqual([]);
  });

  it('does not DM a Slack account cloud-pam would not act for (a guest)', async () => {
    const world = makeWorld({ slackUsers: [slackUser('U0EVE', EVE_EMAIL, { isRestricted: true })] });
    const created = await world.create();

    const outcome = await world.render(created);

    expect(outcome).toMatchObject({ dm: 'skipped' });
    expect(world.dms()).toEqual([]);
  });

  it('a DM Slack refuses for good is skipped and forgotten; the message is still updated', async () => {
    // Prepare
    const world = makeWorld();
    const created = await world.create();
    world.slack.failNext('chat.postMessage', 'cannot_dm_bot', { channel: 'U0EVE' });

    // Act
    const outcome = await world.render(created);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'posted', dm: 'skipped' });
    expect(world.posts()).toHaveLength(1);
    expect((await world.slackStore.getMessage(created.id))?.requesterSlackId).toBeUndefined();
  });
});

describe('render: Slack failures', () => {
  it('throws while Slack is down (so SQS retries) and a retry catches up with the current state', async () => {
    // Prepare
    const world = makeWorld();
    const created = await world.create();
    await world.render(created);
    const approved = await world.approve(created.id);
    world.slack.down = true;

    // Act
    const failed = world.render(approved);

    // Assess
    await expect(failed).rejects.toBeInstanceOf(SlackApiError);
    await expect(failed).rejects.toMatchObject({ retryable: true });
    expect((await world.slackStore.getMessage(created.id))?.renderedVersion).toBe(1);

    // Act: Slack is back; the queue redelivers.
    world.slack.down = false;
    const outcome = await world.render(approved);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'updated', dm: 'sent', version: 2 });
    const [update] = world.slack.sent('chat.update');
    expect(JSON.stringify(update?.message)).toContain('*Approved*');
    expect(world.dms()).toHaveLength(2);
    expect((await world.slackStore.getMessage(created.id))?.renderedVersion).toBe(2);
  });

  it('throws when the approvers channel refuses the post, and remembers nothing', async () => {
    const world = makeWorld();
    const created = await world.create();
    world.slack.failNext('chat.postMessage', 'not_in_channel', { channel: 'C0APPROVALS' });

    await expect(world.render(created)).rejects.toMatchObject({ code: 'not_in_channel' });

    expect(await world.slackStore.getMessage(created.id)).toBeUndefined();
  });
});

describe('/pam request: filling the modal', () => {
  it('fills the loading modal with what the user may request', async () => {
    // Prepare
    const world = makeWorld();

    // Act
    const outcome = await world.worker.handle({
      kind: 'fill-request-modal',
      viewId: 'V0LOADING01',
      origin: origin('U0EVE'),
      delivery,
    });

    // Assess
    expect(outcome).toMatchObject({ kind: 'fill-request-modal', outcome: 'done' });
    const [update] = world.slack.sent('views.update');
    expect(update?.viewId).toBe('V0LOADING01');
    const values = JSON.stringify(update?.view).match(/"value":"[a-z-]+:\d{12}"/g);
    expect(values).toEqual([
      `"value":"${READ_ONLY}:${ACCOUNTS.dev}"`,
      `"value":"${READ_ONLY}:${ACCOUNTS.prod}"`,
      `"value":"${PROD_ADMIN}:${ACCOUNTS.dev}"`,
      `"value":"${PROD_ADMIN}:${ACCOUNTS.prod}"`,
      `"value":"sandbox:${ACCOUNTS.dev}"`,
    ]);
  });

  it('shows a user who may request nothing the empty state', async () => {
    const world = makeWorld();

    await world.worker.handle({
      kind: 'fill-request-modal',
      viewId: 'V0LOADING01',
      origin: origin('U0ALICE'),
      delivery,
    });

    const [update] = world.slack.sent('views.update');
    expect(JSON.stringify(update?.view)).toContain('nothing you may request');
    expect((update?.view as SlackView | undefined)?.submit).toBeUndefined();
    expect(update?.view).toBeDefined();
  });

  it('shows a refused Slack user why, in the modal', async () => {
    const world = makeWorld();

    const outcome = await world.worker.handle({
      kind: 'fill-request-modal',
      viewId: 'V0LOADING01',
      origin: origin('U0STRANGER'),
      delivery,
    });

    expect(outcome).toMatchObject({ outcome: 'refused', code: 'SLACK_IDENTITY' });
    const [update] = world.slack.sent('views.update');
    expect(JSON.stringify(update?.view)).toContain('not linked');
  });
});

describe('/pam list, /pam link and the App Home', () => {
  it('answers /pam list through the response_url, and never logs it', async () => {
    // Prepare
    const world = makeWorld();
    const created = await world.create();

    // Act
    const outcome = await world.worker.handle({ kind: 'list', origin: origin('U0ALICE'), delivery });

    // Assess
    expect(outcome).toMatchObject({ kind: 'list', outcome: 'done' });
    const [answer] = world.slack.sent('response_url');
    expect(answer?.responseUrl).toBe(RESPONSE_URL);
    const text = JSON.stringify(answer?.message);
    expect(text).toContain('*Awaiting your approval* (1)');
    expect(text).toContain(created.id);
    expect(JSON.stringify(world.logs)).not.toContain('s3cr3t');
  });

  it('answers by DM when the job carries no response_url', async () => {
    const world = makeWorld();

    await world.worker.handle({ kind: 'list', origin: origin('U0EVE', null), delivery });

    expect(world.slack.sent('chat.postMessage').map((call) => call.channel)).toEqual(['U0EVE']);
  });

  it('refuses /pam list to a Slack user without an identity, ephemerally', async () => {
    const world = makeWorld();

    const outcome = await world.worker.handle({ kind: 'list', origin: origin('U0STRANGER'), delivery });

    expect(outcome).toMatchObject({ outcome: 'refused', code: 'SLACK_IDENTITY' });
    expect(JSON.stringify(world.slack.sent('response_url'))).toContain('not linked');
  });

  it.each([
    [GOOD_CODE, 'linked', 'now linked'],
    [BAD_CODE, 'refused', 'unknown, already used or expired'],
    [EXPIRED_CODE, 'invalid-code', 'not valid or has expired'],
  ])('answers /pam link %s and never logs the code', async (code, expected, says) => {
    const world = makeWorld();

    const outcome = await world.worker.handle({ kind: 'link', code, origin: origin('U0NEW'), delivery });

    expect(outcome).toMatchObject({ kind: 'link', outcome: expected });
    expect(JSON.stringify(world.slack.sent('response_url'))).toContain(says);
    expect(JSON.stringify(world.logs)).not.toContain(code);
    expect(JSON.stringify(outcome)).not.toContain(code);
  });

  it('publishes the App Home with Approve and Deny on what awaits the approver', async () => {
    // Prepare
    const world = makeWorld();
    const created = await world.create();

    // Act
    await world.worker.handle({ kind: 'home', origin: origin('U0ALICE'), delivery });

    // Assess
    const [publish] = world.slack.sent('views.publish');
    expect(publish?.userId).toBe('U0ALICE');
    expect(buttons(publish?.view).map((button) => button.value)).toEqual([created.id, created.id]);
  });

  it('publishes a refusal as the App Home of a Slack user without an identity', async () => {
    const world = makeWorld();

    await world.worker.handle({ kind: 'home', origin: origin('U0STRANGER'), delivery });

    const [publish] = world.slack.sent('views.publish');
    expect(JSON.stringify(publish?.view)).toContain('not linked');
  });
});
