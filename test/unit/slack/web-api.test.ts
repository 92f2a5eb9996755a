// shared/adapters/slack/web-api.ts (the SlackApi port over @slack/web-api) against the local Slack stand-in:
// every port method on the wire, Slack's errors mapped to SlackApiError (code, retryable), a 429 waited out
// within the adapter's budget, an outage reported as retryable, response_url confined to its prefix, and no
// token or response_url in any error. Waits go through the injected `sleep`, which moves the stand-in's
// clock: nothing here measures real time.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackStandIn, startSlackStandIn } from '../../../local/slack-stand-in.ts';
import { slackWebApi } from '../../../shared/adapters/slack/web-api.ts';
import { type SlackApi, SlackApiError } from '../../../shared/ports/slack.ts';
import { fakeSlackBotToken } from '../../support/fake-tokens.ts';

const TOKEN = fakeSlackBotToken('adapter');
const REVOKED_TOKEN = fakeSlackBotToken('revoked');
const TEAM = 'T0EXAMPLE01';
const CHANNEL = 'C0APPROVALS';
const START = Date.parse('2026-03-02T09:00:00.000Z');

let now: number;
let sleeps: number[];
let slack: SlackStandIn;
let api: SlackApi;

function adapter(options: { token?: string; maxRetryWaitMs?: number; apiUrl?: string } = {}): SlackApi {
  return slackWebApi({
    token: async () => options.token ?? TOKEN,
    apiUrl: options.apiUrl ?? slack.apiUrl,
    responseUrlPrefix: slack.responseUrlPrefix,
    ...(options.maxRetryWaitMs === undefined ? {} : { maxRetryWaitMs: options.maxRetryWaitMs }),
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  });
}

async function failure(promise: Promise<unknown>): Promise<SlackApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SlackApiError) return error;
    throw error;
  }
  throw new Error('expected a SlackApiError');
}

beforeEach(async () => {
  now = START;
  sleeps = [];
  slack = await startSlackStandIn({
    botToken: TOKEN,
    teamId: TEAM,
    users: [
      { id: 'U0ALICE', email: 'alice@example.com', displayName: 'alice', realName: 'Alice Example' },
      { id: 'U0BOB', email: 'bob@example.com', realName: 'Bob Example' },
      { id: 'U0GUEST', email: 'guest@example.com', isUltraRestricted: true },
      { id: 'U0GONE', email: 'gone@example.com', deleted: true },
      {
        id: 'W0EXT',
        teamId: 'T0OTHER',
        enterpriseId: 'E0OTHER',
        email: 'ext@other.example',
        isStranger: true,
      },
    ],
    clock: () => now,
  });
  api = adapter();
});

afterEach(async () => {
  await slack.close();
});

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('messages', () => {
  it('posts an approval message and updates it in place', async () => {
    // Act
    const posted = await api.postMessage(CHANNEL, { text: 'alice asks', blocks: [section('*pending*')] });
    await api.updateMessage(posted.channel, posted.ts, { text: 'approved', blocks: [section('*approved*')] });

    // Assess
    expect(posted.channel).toBe(CHANNEL);
    expect(slack.messages.get(CHANNEL)?.get(posted.ts)).toMatchObject({
      text: 'approved',
      blocks: [section('*approved*')],
    });
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update']);
  });

  it('DMs a user by their id and answers the D… channel to update later', async () => {
    // Act
    const dm = await api.postMessage('U0ALICE', { text: 'your request is pending' });
    await api.updateMessage(dm.channel, dm.ts, { text: 'your request was approved' });

    // Assess
    expect(dm.channel).toBe(slack.dmChannelOf('U0ALICE'));
    expect(slack.messages.get(dm.channel)?.get(dm.ts)?.text).toBe('your request was approved');
  });

  it('posts an ephemeral message', async () => {
    await api.postEphemeral(CHANNEL, 'U0BOB', { text: 'you are not an approver' });
    expect(slack.ephemerals).toEqual([
      expect.objectContaining({ user: 'U0BOB', text: 'you are not an approver' }),
    ]);
  });

  it('maps Slack refusals to SlackApiError with Slack’s code, not retryable', async () => {
    // Act
    const blocks = await failure(
      api.postMessage(CHANNEL, { text: 'x', blocks: Array.from({ length: 51 }, () => section('x')) }),
    );
    const missing = await failure(api.updateMessage(CHANNEL, '1700000000.000001', { text: 'x' }));

    // Assess
    expect([blocks.method, blocks.code, blocks.retryable]).toEqual([
      'chat.postMessage',
      'invalid_blocks',
      false,
    ]);
    expect([missing.code, missing.retryable]).toEqual(['message_not_found', false]);
    expect(sleeps).toEqual([]);
  });
});

describe('views', () => {
  it('opens a modal with a trigger, fills it, and publishes a Home tab', async () => {
    // Prepare
    const trigger = slack.issueTrigger('U0ALICE');
    const modal = (text: string) => ({
      type: 'modal',
      title: { type: 'plain_text', text: 'Request' },
      blocks: [section(text)],
    });

    // Act
    const { viewId } = await api.openView(trigger, modal('loading…'));
    await api.updateView(viewId, modal('pick an entitlement'));
    await api.publishHome('U0BOB', { type: 'home', blocks: [section('your requests')] });

    // Assess
    expect(slack.views.get(viewId)?.blocks).toEqual([section('pick an entitlement')]);
    expect([...slack.views.values()].map((v) => v.type).sort()).toEqual(['home', 'modal']);
  });

  it('reports an expired trigger as expired_trigger_id', async () => {
    // Prepare
    const trigger = slack.issueTrigger('U0ALICE');
    now += 3_000;

    // Act
    const error = await failure(
      api.openView(trigger, { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] }),
    );

    // Assess
    expect([error.method, error.code, error.retryable]).toEqual(['views.open', 'expired_trigger_id', false]);
  });
});

describe('users', () => {
  it('reads a user as cloud-pam needs them, and undefined for one Slack does not know', async () => {
    // Act
    const alice = await api.userInfo('U0ALICE');
    const bob = await api.userInfo('U0BOB');
    const guest = await api.userInfo('U0GUEST');
    const external = await api.userInfo('W0EXT');
    const nobody = await api.userInfo('U0NOBODY');

    // Assess
    expect(alice).toEqual({
      id: 'U0ALICE',
      teamId: TEAM,
      email: 'alice@example.com',
      displayName: 'alice',
      deleted: false,
      isBot: false,
      isRestricted: false,
      isUltraRestricted: false,
      isStranger: false,
    });
    expect(bob?.displayName).toBe('Bob Example');
    expect(guest?.isUltraRestricted).toBe(true);
    expect(external).toMatchObject({ teamId: 'T0OTHER', enterpriseId: 'E0OTHER', isStranger: true });
    expect(nobody).toBeUndefined();
  });

  it('looks a user up by email, undefined when none (or deactivated)', async () => {
    expect((await api.lookupUserByEmail('bob@example.com'))?.id).toBe('U0BOB');
    expect(await api.lookupUserByEmail('gone@example.com')).toBeUndefined();
    expect(await api.lookupUserByEmail('nobody@example.com')).toBeUndefined();
  });
});

describe('response_url', () => {
  it('answers through a response_url under the prefix (ephemeral unless in channel)', async () => {
    // Prepare
    const url = slack.responseUrlFor({ userId: 'U0BOB', channelId: CHANNEL });

    // Act
    await api.respond(url, { text: 'only you can see this' });
    await api.respond(url, { text: 'everyone sees this', inChannel: true });

    // Assess
    expect(slack.responses.map((r) => [r.ok, r.body.text, r.body.response_type])).toEqual([
      [true, 'only you can see this', 'ephemeral'],
      [true, 'everyone sees this', 'in_channel'],
    ]);
  });

  it('replaces the original message when asked', async () => {
    // Prepare
    const posted = await api.postMessage(CHANNEL, { text: 'pending' });
    const url = slack.responseUrlFor({ userId: 'U0BOB', channelId: CHANNEL, message: posted });

    // Act
    await api.respond(url, { text: 'approved', replaceOriginal: true });

    // Assess
    expect(slack.messages.get(CHANNEL)?.get(posted.ts)?.text).toBe('approved');
  });

  it.each([
    ['another host', 'https://hooks.slack.com.evil.example/commands/T0/1/secret'],
    ['a lookalike path beside the prefix', 'PREFIX_WITHOUT_SLASH.evil/commands/T0/1/secret'],
    ['not a URL', 'not a url'],
  ])('refuses a response_url on %s, without the URL in the error', async (_name, raw) => {
    // Prepare
    const url = raw.replace('PREFIX_WITHOUT_SLASH', slack.responseUrlPrefix.replace(/\/$/, ''));

    // Act
    const error = await failure(api.respond(url, { text: 'x' }));

    // Assess
    expect([error.method, error.code, error.retryable]).toEqual(['respond', 'response_url_refused', false]);
    expect(error.message).not.toContain('secret');
    expect(error.message).not.toContain(url);
    expect(slack.responses).toEqual([]);
  });

  it('reports a used-up response_url as expired_url, not retryable', async () => {
    // Prepare
    const url = slack.responseUrlFor({ userId: 'U0BOB', channelId: CHANNEL });
    now += 30 * 60_000;

    // Act
    const error = await failure(api.respond(url, { text: 'too late' }));

    // Assess
    expect([error.code, error.retryable]).toEqual(['expired_url', false]);
  });
});

describe('rate limits, outages and credentials', () => {
  it('waits out a 429 with Retry-After 1 and then succeeds', async () => {
    // Prepare
    slack.rateLimitNext(1, 1);

    // Act
    const posted = await api.postMessage(CHANNEL, { text: 'after the wait' });

    // Assess
    expect(sleeps).toEqual([1_000]);
    const attempts = slack.calls.filter((c) => c.method === 'chat.postMessage');
    expect(attempts.map((c) => [c.status, c.at])).toEqual([
      [429, START],
      [200, START + 1_000],
    ]);
    expect(slack.messages.get(CHANNEL)?.get(posted.ts)?.text).toBe('after the wait');
  });

  it('waits out a 429 on a response_url too', async () => {
    // Prepare
    const url = slack.responseUrlFor({ userId: 'U0BOB', channelId: CHANNEL });
    slack.rateLimitNext(1, 2);

    // Act
    await api.respond(url, { text: 'eventually' });

    // Assess
    expect(sleeps).toEqual([2_000]);
    expect(slack.responses.map((r) => r.status)).toEqual([429, 200]);
  });

  it('gives up at once, retryable, when Retry-After is beyond its budget', async () => {
    // Prepare
    api = adapter({ maxRetryWaitMs: 5_000 });
    slack.rateLimitNext(1, 30);

    // Act
    const error = await failure(api.postMessage(CHANNEL, { text: 'x' }));

    // Assess
    expect([error.code, error.retryable]).toEqual(['ratelimited', true]);
    expect(sleeps).toEqual([]);
    expect(slack.calls).toHaveLength(1);
  });

  it('reports Slack down as a retryable SlackApiError after bounded retries, and works once up', async () => {
    // Prepare
    slack.down();

    // Act
    const error = await failure(api.postMessage(CHANNEL, { text: 'x' }));
    slack.up();
    const posted = await api.postMessage(CHANNEL, { text: 'caught up' });

    // Assess
    expect([error.code, error.retryable]).toEqual(['http_503', true]);
    expect(sleeps).toEqual([250, 500]);
    expect(slack.calls.map((c) => c.status)).toEqual([503, 503, 503, 200]);
    expect(slack.messages.get(CHANNEL)?.get(posted.ts)?.text).toBe('caught up');
  });

  it('does not retry at all with no budget', async () => {
    // Prepare
    api = adapter({ maxRetryWaitMs: 0 });
    slack.down();

    // Act
    const error = await failure(api.userInfo('U0ALICE'));

    // Assess
    expect([error.method, error.code, error.retryable]).toEqual(['users.info', 'http_503', true]);
    expect(slack.calls).toHaveLength(1);
  });

  it('reports a connection failure as retryable', async () => {
    // Prepare
    const apiUrl = slack.apiUrl;
    await slack.close();
    api = adapter({ apiUrl, maxRetryWaitMs: 0 });

    // Act
    const error = await failure(api.postMessage(CHANNEL, { text: 'x' }));

    // Assess
    expect([error.code, error.retryable]).toEqual(['request_failed', true]);
  });

  it('reports a bad token as invalid_auth, not retryable, once', async () => {
    // Prepare
    api = adapter({ token: REVOKED_TOKEN });

    // Act
    const error = await failure(api.postMessage(CHANNEL, { text: 'x' }));

    // Assess
    expect([error.code, error.retryable]).toEqual(['invalid_auth', false]);
    expect(slack.calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('puts no token or response_url in any error', async () => {
    // Prepare
    const url = slack.responseUrlFor({ userId: 'U0BOB', channelId: CHANNEL });
    const lookalike = `${slack.responseUrlPrefix.replace(/\/$/, '')}.evil/commands/T0/1/secret-part`;
    const noRetries = adapter({ maxRetryWaitMs: 0 });

    // Act
    const errors = [
      await failure(adapter({ token: REVOKED_TOKEN }).postMessage(CHANNEL, { text: 'x' })),
      await failure(api.respond(lookalike, { text: 'x' })),
      await failure(api.respond('not a url secret-part', { text: 'x' })),
      await failure(api.postMessage(CHANNEL, { text: 'x', blocks: [section('a'.repeat(3001))] })),
    ];
    slack.down();
    errors.push(await failure(noRetries.respond(url, { text: 'down' })));
    errors.push(await failure(noRetries.postMessage(CHANNEL, { text: 'down' })));
    slack.up();
    now += 30 * 60_000;
    errors.push(await failure(api.respond(url, { text: 'late' })));
    await slack.close();
    errors.push(await failure(noRetries.respond(url, { text: 'unreachable' })));

    // Assess
    expect(errors.map((e) => e.code)).toEqual([
      'invalid_auth',
      'response_url_refused',
      'response_url_refused',
      'invalid_blocks',
      'http_503',
      'http_503',
      'expired_url',
      'request_failed',
    ]);
    for (const error of errors) {
      const text = `${String(error)} ${error.stack ?? ''} ${JSON.stringify(error)} ${String(error.cause ?? '')}`;
      for (const secret of [TOKEN, REVOKED_TOKEN, url, new URL(url).pathname, 'secret-part'])
        expect(text).not.toContain(secret);
    }
  });
});
