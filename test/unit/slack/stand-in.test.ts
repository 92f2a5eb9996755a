// local/slack-stand-in.ts on the wire, the way Slack is called: HTTP POSTs with a bearer token and JSON or
// form bodies, answered `{ok, …}`. What it must refuse (a bad token, an unknown method, Block Kit limits, an
// expired trigger), what it records (every call, the token never), and its failure modes on demand (down,
// 429 with Retry-After). The adapter's view of the same server: test/unit/slack/web-api.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackStandIn, startSlackStandIn } from '../../../local/slack-stand-in.ts';
import { fakeSlackBotToken } from '../../support/fake-tokens.ts';

const TOKEN = fakeSlackBotToken('stand-in');
const WRONG_TOKEN = fakeSlackBotToken('wrong');
const TEAM = 'T0EXAMPLE01';
const CHANNEL = 'C0APPROVALS';
const START = Date.parse('2026-03-02T09:00:00.000Z');

let now: number;
let lines: string[];
let slack: SlackStandIn;

beforeEach(async () => {
  now = START;
  lines = [];
  slack = await startSlackStandIn({
    botToken: TOKEN,
    teamId: TEAM,
    users: [
      { id: 'U0ALICE', email: 'alice@example.com', displayName: 'alice', realName: 'Alice Example' },
      { id: 'U0BOB', email: 'bob@example.com', realName: 'Bob Example' },
      { id: 'U0GUEST', email: 'guest@example.com', isRestricted: true },
      { id: 'U0GONE', email: 'gone@example.com', deleted: true },
      {
        id: 'W0EXTERNAL',
        teamId: 'T0OTHER',
        enterpriseId: 'E0OTHER',
        email: 'ext@other.example',
        isStranger: true,
      },
    ],
    clock: () => now,
    log: (line) => lines.push(line),
  });
});

afterEach(async () => {
  await slack.close();
});

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

async function call(
  method: string,
  args: Record<string, unknown>,
  options: { token?: string | null; form?: boolean } = {},
): Promise<Answer> {
  const token = options.token === undefined ? TOKEN : options.token;
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(
      Object.entries(args).map(([k, v]): [string, string] => [
        k,
        typeof v === 'string' ? v : JSON.stringify(v),
      ]),
    ).toString();
  } else {
    headers['content-type'] = 'application/json; charset=utf-8';
    body = JSON.stringify(args);
  }
  const response = await fetch(`${slack.apiUrl}${method}`, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const modal = (blocks: unknown[], title = 'Request access') => ({
  type: 'modal',
  title: { type: 'plain_text', text: title },
  submit: { type: 'plain_text', text: 'Request' },
  blocks,
});

describe('the Web API', () => {
  it('posts a message to a channel and keeps it as Slack would show it', async () => {
    // Act
    const answer = await call('chat.postMessage', {
      channel: CHANNEL,
      text: 'hello',
      blocks: [section('*hi*')],
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ok: true, channel: CHANNEL });
    const ts = answer.body.ts as string;
    expect(ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(slack.messages.get(CHANNEL)?.get(ts)).toMatchObject({ text: 'hello', blocks: [section('*hi*')] });
  });

  it('takes form-encoded bodies with JSON-encoded blocks, as the SDK sends them', async () => {
    // Act
    const answer = await call(
      'chat.postMessage',
      { channel: CHANNEL, text: 'form', blocks: [section('from a form')] },
      { form: true },
    );

    // Assess
    expect(answer.body.ok).toBe(true);
    expect(slack.messages.get(CHANNEL)?.get(answer.body.ts as string)?.blocks).toEqual([
      section('from a form'),
    ]);
  });

  it.each([
    ['no token', null, 'not_authed'],
    ['a wrong token', WRONG_TOKEN, 'invalid_auth'],
  ])('refuses %s and changes nothing', async (_name, token, error) => {
    // Act
    const answer = await call('chat.postMessage', { channel: CHANNEL, text: 'x' }, { token });

    // Assess
    expect(answer.body).toEqual({ ok: false, error });
    expect(slack.messages.get(CHANNEL)?.size ?? 0).toBe(0);
    expect(slack.calls.at(-1)).toMatchObject({ method: 'chat.postMessage', ok: false, error });
  });

  it('refuses a method it does not know', async () => {
    // Act
    const answer = await call('chat.postMassage', { channel: CHANNEL, text: 'x' });

    // Assess
    expect(answer.body).toMatchObject({ ok: false, error: 'unknown_method', req_method: 'chat.postMassage' });
  });

  it('accepts 50 blocks and refuses 51 with invalid_blocks, saying where', async () => {
    // Prepare
    const blocks = (n: number) => Array.from({ length: n }, (_, i) => section(`line ${i}`));

    // Act
    const fifty = await call('chat.postMessage', { channel: CHANNEL, text: 'x', blocks: blocks(50) });
    const fiftyOne = await call('chat.postMessage', { channel: CHANNEL, text: 'x', blocks: blocks(51) });

    // Assess
    expect(fifty.body.ok).toBe(true);
    expect(fiftyOne.body).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(fiftyOne.body.errors).toEqual(['must be less than 51 items [json-pointer:/blocks]']);
    expect(slack.messages.get(CHANNEL)?.size).toBe(1);
  });

  it('accepts a 3,000-character section and refuses 3,001 characters', async () => {
    // Act
    const ok = await call('chat.postMessage', {
      channel: CHANNEL,
      text: 'x',
      blocks: [section('a'.repeat(3000))],
    });
    const tooLong = await call('chat.postMessage', {
      channel: CHANNEL,
      text: 'x',
      blocks: [section('a'.repeat(3001))],
    });

    // Assess
    expect(ok.body.ok).toBe(true);
    expect(tooLong.body).toMatchObject({
      ok: false,
      error: 'invalid_blocks',
      errors: ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
    });
  });

  it.each([
    [
      'a 151-character header',
      [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      '/blocks/0/text/text',
    ],
    [
      'a 76-character button',
      [
        {
          type: 'actions',
          elements: [{ type: 'button', text: { type: 'plain_text', text: 'b'.repeat(76) } }],
        },
      ],
      '/blocks/0/elements/0/text/text',
    ],
    ['mrkdwn in a header', [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }], '/blocks/0/text/type'],
    ['a section without text or fields', [{ type: 'section' }], '/blocks/0/text'],
    ['an empty text', [section('')], '/blocks/0/text/text'],
    [
      'a button value of 2,001 characters',
      [
        {
          type: 'actions',
          elements: [{ type: 'button', text: { type: 'plain_text', text: 'ok' }, value: 'v'.repeat(2001) }],
        },
      ],
      '/blocks/0/elements/0/value',
    ],
    ['a block type the stand-in cannot check', [{ type: 'video' }], '/blocks/0/type'],
  ])('refuses %s in a message', async (_name, blocks, pointer) => {
    // Act
    const answer = await call('chat.postMessage', { channel: CHANNEL, text: 'x', blocks });

    // Assess
    expect(answer.body).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(answer.body.errors as string[]).toEqual([expect.stringContaining(`[json-pointer:${pointer}]`)]);
  });

  it('refuses a message with neither text nor blocks (no_text)', async () => {
    const answer = await call('chat.postMessage', { channel: CHANNEL });
    expect(answer.body).toEqual({ ok: false, error: 'no_text' });
  });

  it('refuses a channel it does not have', async () => {
    const answer = await call('chat.postMessage', { channel: '#general', text: 'x' });
    expect(answer.body).toEqual({ ok: false, error: 'channel_not_found' });
  });

  it('sends a message to a user id to their DM, which chat.update then needs by its D… id', async () => {
    // Act
    const posted = await call('chat.postMessage', { channel: 'U0ALICE', text: 'your request' });
    const dm = posted.body.channel as string;
    const byUserId = await call('chat.update', { channel: 'U0ALICE', ts: posted.body.ts, text: 'approved' });
    const byDm = await call('chat.update', { channel: dm, ts: posted.body.ts, text: 'approved' });
    const opened = await call('conversations.open', { users: 'U0ALICE' });

    // Assess
    expect(dm).toMatch(/^D[A-Z0-9]+$/);
    expect(byUserId.body).toEqual({ ok: false, error: 'channel_not_found' });
    expect(byDm.body).toMatchObject({ ok: true, channel: dm, ts: posted.body.ts, text: 'approved' });
    expect(slack.messages.get(dm)?.get(posted.body.ts as string)).toMatchObject({ text: 'approved' });
    expect(opened.body).toMatchObject({ ok: true, channel: { id: dm } });
    expect(slack.dmChannelOf('U0ALICE')).toBe(dm);
  });

  it('answers message_not_found to chat.update of a ts it never posted', async () => {
    const answer = await call('chat.update', { channel: CHANNEL, ts: '1700000000.000001', text: 'x' });
    expect(answer.body).toEqual({ ok: false, error: 'message_not_found' });
  });

  it('updates a message in place, keeping blocks not given and replacing blocks given', async () => {
    // Prepare
    const posted = await call('chat.postMessage', {
      channel: CHANNEL,
      text: 'pending',
      blocks: [section('a')],
    });

    // Act
    await call('chat.update', { channel: CHANNEL, ts: posted.body.ts, text: 'approved' });
    const afterText = slack.messages.get(CHANNEL)?.get(posted.body.ts as string);
    await call('chat.update', { channel: CHANNEL, ts: posted.body.ts, blocks: [section('b')] });
    const afterBlocks = slack.messages.get(CHANNEL)?.get(posted.body.ts as string);

    // Assess
    expect(afterText).toMatchObject({ text: 'approved', blocks: [section('a')] });
    expect(afterBlocks).toMatchObject({ text: 'approved', blocks: [section('b')] });
    expect(afterBlocks?.edited?.ts).toMatch(/^\d{10}\.\d{6}$/);
  });

  it('keeps ephemeral messages apart from the channel', async () => {
    // Act
    const answer = await call('chat.postEphemeral', { channel: CHANNEL, user: 'U0BOB', text: 'only you' });
    const unknown = await call('chat.postEphemeral', { channel: CHANNEL, user: 'U0NOBODY', text: 'x' });

    // Assess
    expect(answer.body).toMatchObject({ ok: true, message_ts: expect.any(String) });
    expect(unknown.body).toEqual({ ok: false, error: 'user_not_in_channel' });
    expect(slack.ephemerals).toEqual([
      expect.objectContaining({ channel: CHANNEL, user: 'U0BOB', text: 'only you' }),
    ]);
    expect(slack.messages.get(CHANNEL)?.size ?? 0).toBe(0);
  });
});

describe('users', () => {
  it('answers users.info in the Slack user shape', async () => {
    // Act
    const alice = await call('users.info', { user: 'U0ALICE' }, { form: true });
    const external = await call('users.info', { user: 'W0EXTERNAL' }, { form: true });
    const nobody = await call('users.info', { user: 'U0NOBODY' }, { form: true });

    // Assess
    expect(alice.body).toMatchObject({
      ok: true,
      user: {
        id: 'U0ALICE',
        team_id: TEAM,
        deleted: false,
        is_bot: false,
        is_restricted: false,
        is_ultra_restricted: false,
        profile: { email: 'alice@example.com', display_name: 'alice', real_name: 'Alice Example' },
      },
    });
    expect(alice.body.user).not.toHaveProperty('enterprise_user');
    expect(external.body).toMatchObject({
      ok: true,
      user: { team_id: 'T0OTHER', is_stranger: true, enterprise_user: { enterprise_id: 'E0OTHER' } },
    });
    expect(nobody.body).toEqual({ ok: false, error: 'user_not_found' });
  });

  it('looks users up by email, not deactivated ones', async () => {
    // Act
    const bob = await call('users.lookupByEmail', { email: 'BOB@example.com' }, { form: true });
    const gone = await call('users.lookupByEmail', { email: 'gone@example.com' }, { form: true });
    const nobody = await call('users.lookupByEmail', { email: 'nobody@example.com' }, { form: true });

    // Assess
    expect(bob.body).toMatchObject({ ok: true, user: { id: 'U0BOB' } });
    expect(gone.body).toEqual({ ok: false, error: 'users_not_found' });
    expect(nobody.body).toEqual({ ok: false, error: 'users_not_found' });
  });
});

describe('views and triggers', () => {
  it('opens a modal with a trigger within 3 s of the stand-in clock, once', async () => {
    // Prepare
    const trigger = slack.issueTrigger('U0ALICE');
    now += 2_999;

    // Act
    const opened = await call('views.open', { trigger_id: trigger, view: modal([section('loading…')]) });
    const again = await call('views.open', { trigger_id: trigger, view: modal([section('loading…')]) });

    // Assess
    expect(opened.body).toMatchObject({ ok: true, view: { id: expect.stringMatching(/^V/), type: 'modal' } });
    const viewId = (opened.body.view as { id: string }).id;
    expect(slack.views.get(viewId)).toMatchObject({ blocks: [section('loading…')] });
    expect(again.body).toEqual({ ok: false, error: 'exchanged_trigger_id' });
  });

  it('refuses a trigger 3 s old (expired_trigger_id) and one it never issued (invalid_trigger_id)', async () => {
    // Prepare
    const trigger = slack.issueTrigger('U0ALICE');
    now += 3_000;

    // Act
    const expired = await call('views.open', { trigger_id: trigger, view: modal([section('x')]) });
    const invalid = await call('views.open', { trigger_id: '1.2.abc', view: modal([section('x')]) });

    // Assess
    expect(expired.body).toEqual({ ok: false, error: 'expired_trigger_id' });
    expect(invalid.body).toEqual({ ok: false, error: 'invalid_trigger_id' });
    expect(slack.views.size).toBe(0);
  });

  it.each([
    ['a 25-character modal title', modal([section('x')], 't'.repeat(25)), '/view/title/text'],
    [
      '101 blocks in a modal',
      modal(Array.from({ length: 101 }, () => ({ type: 'divider' }))),
      '/view/blocks',
    ],
    [
      'a static_select with 101 options',
      modal([
        {
          type: 'input',
          label: { type: 'plain_text', text: 'Entitlement' },
          element: {
            type: 'static_select',
            options: Array.from({ length: 101 }, (_, i) => ({
              text: { type: 'plain_text', text: `e${i}` },
              value: `e${i}`,
            })),
          },
        },
      ]),
      '/view/blocks/0/element/options',
    ],
    [
      'an input block without a submit button',
      {
        type: 'modal',
        title: { type: 'plain_text', text: 'x' },
        blocks: [
          {
            type: 'input',
            label: { type: 'plain_text', text: 'Reason' },
            element: { type: 'plain_text_input' },
          },
        ],
      },
      '/view/submit',
    ],
    ['a modal without a title', { type: 'modal', blocks: [] }, '/view/title'],
  ])('refuses %s (invalid_arguments, as views.* answer)', async (_name, view, pointer) => {
    // Prepare
    const trigger = slack.issueTrigger('U0ALICE');

    // Act
    const answer = await call('views.open', { trigger_id: trigger, view });

    // Assess
    expect(answer.body).toMatchObject({ ok: false, error: 'invalid_arguments' });
    const messages = (answer.body.response_metadata as { messages: string[] }).messages;
    expect(messages).toEqual([
      expect.stringMatching(new RegExp(`^\\[ERROR\\] .*\\[json-pointer:${pointer}\\]$`)),
    ]);
  });

  it('updates a view by id, refusing a stale hash, and publishes a Home tab per user', async () => {
    // Prepare
    const opened = await call('views.open', { trigger_id: slack.issueTrigger('U0ALICE'), view: modal([]) });
    const { id, hash } = opened.body.view as { id: string; hash: string };

    // Act
    const updated = await call('views.update', { view_id: id, hash, view: modal([section('filled')]) });
    const stale = await call('views.update', { view_id: id, hash, view: modal([section('late')]) });
    const missing = await call('views.update', { view_id: 'V0NOPE', view: modal([]) });
    const home = await call('views.publish', {
      user_id: 'U0BOB',
      view: { type: 'home', blocks: [section('hi')] },
    });
    const homeAgain = await call('views.publish', { user_id: 'U0BOB', view: { type: 'home', blocks: [] } });

    // Assess
    expect(updated.body).toMatchObject({ ok: true, view: { id } });
    expect(slack.views.get(id)?.blocks).toEqual([section('filled')]);
    expect(stale.body).toEqual({ ok: false, error: 'hash_conflict' });
    expect(missing.body).toEqual({ ok: false, error: 'not_found' });
    expect(home.body).toMatchObject({ ok: true, view: { type: 'home' } });
    expect((homeAgain.body.view as { id: string }).id).toBe((home.body.view as { id: string }).id);
  });
});

describe('response_url', () => {
  it('takes 5 answers within 30 minutes, then expired_url', async () => {
    // Prepare
    const url = slack.responseUrlFor({ userId: 'U0BOB', channelId: CHANNEL });
    const post = (text: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(`answer ${i}`)).status);
    const late = slack.responseUrlFor({ userId: 'U0BOB' });
    now += 30 * 60_000;
    const lateAnswer = await fetch(late, { method: 'POST', body: JSON.stringify({ text: 'late' }) });

    // Assess
    expect(url.startsWith(slack.responseUrlPrefix)).toBe(true);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 404]);
    expect(slack.responses.filter((r) => r.ok).map((r) => r.body.text)).toEqual([
      'answer 0',
      'answer 1',
      'answer 2',
      'answer 3',
      'answer 4',
    ]);
    expect(lateAnswer.status).toBe(404);
    expect(await lateAnswer.json()).toEqual({ ok: false, error: 'expired_url' });
  });

  it('replaces the message the click came from when asked', async () => {
    // Prepare
    const posted = await call('chat.postMessage', { channel: CHANNEL, text: 'pending' });
    const url = slack.responseUrlFor({
      userId: 'U0BOB',
      channelId: CHANNEL,
      message: { channel: CHANNEL, ts: posted.body.ts as string },
    });

    // Act
    const answer = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'approved by bob', replace_original: true }),
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(slack.messages.get(CHANNEL)?.get(posted.body.ts as string)).toMatchObject({
      text: 'approved by bob',
    });
  });
});

describe('recording', () => {
  it('records every call with the token redacted and logs one line per call, never the token', async () => {
    // Act
    await call('chat.postMessage', { channel: CHANNEL, text: 'hello' });
    await call(
      'chat.postMessage',
      { channel: CHANNEL, text: 'form', token: TOKEN },
      { form: true, token: null },
    );
    await call('users.info', { user: 'U0ALICE' }, { token: WRONG_TOKEN });
    const url = slack.responseUrlFor({ userId: 'U0BOB', channelId: CHANNEL });
    await fetch(url, { method: 'POST', body: JSON.stringify({ text: 'ephemeral' }) });

    // Assess
    expect(slack.calls.map((c) => [c.method, c.ok, c.error])).toEqual([
      ['chat.postMessage', true, undefined],
      ['chat.postMessage', true, undefined],
      ['users.info', false, 'invalid_auth'],
    ]);
    expect(slack.calls[1]?.args).toMatchObject({ channel: CHANNEL, text: 'form', token: '[redacted]' });
    expect(slack.calls[0]?.at).toBe(START);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/chat\.postMessage.*C0APPROVALS.*ok/);
    expect(lines[2]).toMatch(/users\.info.*U0ALICE.*invalid_auth/);
    const everything = JSON.stringify([slack.calls, slack.responses, lines]);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(WRONG_TOKEN);
    expect(lines.join('\n')).not.toContain(url);
    expect(lines.join('\n')).not.toContain(new URL(url).pathname);
  });
});

describe('failure on demand', () => {
  it('answers 503 to every call while down, and works again once up', async () => {
    // Prepare
    const url = slack.responseUrlFor({ userId: 'U0BOB', channelId: CHANNEL });
    slack.down();

    // Act
    const api = await call('chat.postMessage', { channel: CHANNEL, text: 'x' });
    const hook = await fetch(url, { method: 'POST', body: JSON.stringify({ text: 'x' }) });
    slack.up();
    const after = await call('chat.postMessage', { channel: CHANNEL, text: 'back' });

    // Assess
    expect(api.status).toBe(503);
    expect(hook.status).toBe(503);
    expect(after.body.ok).toBe(true);
    expect(slack.messages.get(CHANNEL)?.size).toBe(1);
    expect(slack.calls.map((c) => [c.status, c.error ?? 'ok'])).toEqual([
      [503, 'service_unavailable'],
      [200, 'ok'],
    ]);
  });

  it('answers 429 with Retry-After to the next n calls only, doing nothing for them', async () => {
    // Prepare
    slack.rateLimitNext(2, 7);

    // Act
    const first = await call('chat.postMessage', { channel: CHANNEL, text: '1' });
    const second = await call('users.info', { user: 'U0ALICE' });
    const third = await call('chat.postMessage', { channel: CHANNEL, text: '3' });

    // Assess
    for (const limited of [first, second]) {
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
      expect(limited.body).toEqual({ ok: false, error: 'ratelimited' });
    }
    expect(third.body.ok).toBe(true);
    expect(slack.messages.get(CHANNEL)?.size).toBe(1);
  });
});
