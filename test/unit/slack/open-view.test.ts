// shared/adapters/slack/open-view.ts: the ingress's one Web API call, against a recorded `fetch`,
// a clock the test moves and a sleep that only records (nothing here waits or times anything).
import { describe, expect, it } from 'vitest';
import { makeOpenView } from '#adapters/slack/open-view.ts';
import { SlackApiError } from '#ports/slack.ts';
import { fakeSlackBotToken } from '../../support/fake-tokens.ts';

const TOKEN = fakeSlackBotToken('open-view');
const TRIGGER = '12345.98765.abcdef0123456789';
const VIEW = { type: 'modal', title: { type: 'plain_text', text: 'Request access' }, blocks: [] };

function harness(answers: (() => Response | Promise<Response>)[]) {
  let now = 0;
  const calls: { url: string; init: RequestInit }[] = [];
  const sleeps: number[] = [];
  const openView = makeOpenView({
    apiUrl: 'https://slack.test/api/',
    token: async () => TOKEN,
    fetch: (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      const answer = answers.shift();
      if (!answer) throw new Error('no answer left');
      return answer();
    }) as typeof fetch,
    budgetMs: 2500,
    nowMs: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  });
  return { openView, calls, sleeps, advance: (ms: number) => (now += ms) };
}

const opened = () => Response.json({ ok: true, view: { id: 'V0OPENED001' } });
const rateLimited = (seconds: string) => () =>
  new Response('', { status: 429, headers: { 'retry-after': seconds } });

async function failureOf(promise: Promise<unknown>): Promise<SlackApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SlackApiError);
  return error as SlackApiError;
}

describe('views.open from the ingress', () => {
  it('posts the trigger and the view with the bot token, and answers the view id', async () => {
    // Prepare
    const { openView, calls } = harness([opened]);

    // Act
    const result = await openView(TRIGGER, VIEW);

    // Assess
    expect(result).toEqual({ viewId: 'V0OPENED001' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe('https://slack.test/api/views.open');
    expect(calls[0]?.init.method).toBe('POST');
    expect(new Headers(calls[0]?.init.headers).get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ trigger_id: TRIGGER, view: VIEW });
  });

  it('waits out one 429 whose Retry-After fits in the budget, then opens the view', async () => {
    // Prepare
    const { openView, calls, sleeps } = harness([rateLimited('1'), opened]);

    // Act
    const result = await openView(TRIGGER, VIEW);

    // Assess
    expect(result).toEqual({ viewId: 'V0OPENED001' });
    expect(sleeps).toEqual([1000]);
    expect(calls).toHaveLength(2);
  });

  it('gives up at once on a 429 whose Retry-After would outlast the trigger', async () => {
    // Prepare
    const { openView, calls, sleeps } = harness([rateLimited('3'), opened]);

    // Act
    const error = await failureOf(openView(TRIGGER, VIEW));

    // Assess
    expect(error.code).toBe('ratelimited');
    expect(sleeps).toEqual([]);
    expect(calls).toHaveLength(1);
  });

  it('counts the time already spent against the budget', async () => {
    // Prepare: 2 s gone by the time the 429 comes back, 1 s more would pass the 2.5 s
    const { openView, sleeps, advance } = harness([
      () => {
        advance(2000);
        return rateLimited('1')();
      },
      opened,
    ]);

    // Act
    const error = await failureOf(openView(TRIGGER, VIEW));

    // Assess
    expect(error.code).toBe('ratelimited');
    expect(sleeps).toEqual([]);
  });

  it('waits out a 429 once only', async () => {
    // Prepare
    const { openView, calls, sleeps } = harness([rateLimited('0'), rateLimited('0'), opened]);

    // Act
    const error = await failureOf(openView(TRIGGER, VIEW));

    // Assess
    expect(error.code).toBe('ratelimited');
    expect(sleeps).toEqual([0]);
    expect(calls).toHaveLength(2);
  });

  it.each<[string, () => Response | Promise<Response>, string, boolean]>([
    [
      'an ok:false answer',
      () => Response.json({ ok: false, error: 'expired_trigger_id' }),
      'expired_trigger_id',
      false,
    ],
    [
      'an error code that is not a word',
      () => Response.json({ ok: false, error: `token ${TOKEN}` }),
      'unknown_error',
      false,
    ],
    ['a 500', () => new Response('oops', { status: 500 }), 'http_500', true],
    ['a body that is not JSON', () => new Response('<html>', { status: 200 }), 'invalid_response', true],
    [
      'a network failure',
      () => {
        throw new TypeError('fetch failed');
      },
      'network_error',
      true,
    ],
  ])(
    'fails on %s with a SlackApiError that names neither token nor trigger',
    async (_label, answer, code, retryable) => {
      // Prepare
      const { openView } = harness([answer]);

      // Act
      const error = await failureOf(openView(TRIGGER, VIEW));

      // Assess
      expect(error).toMatchObject({ method: 'views.open', code, retryable });
      expect(error.message).not.toContain(TOKEN);
      expect(error.message).not.toContain(TRIGGER);
    },
  );
});
