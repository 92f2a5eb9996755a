// The Block Kit builders: user text inert, buttons only while something can be decided, one status
// line per status, durations as people write them, and every payload within Block Kit's limits
// however large the inputs.
import { describe, expect, it } from 'vitest';
import { REQUEST_FIELD, SLACK_ACTION, SLACK_CALLBACK } from '#app/slack/ids.ts';
import {
  approvalMessage,
  blockKitProblems,
  formatDuration,
  homeView,
  linkedMessage,
  listMessage,
  refusalMessage,
  refusalView,
  requesterDm,
  requestModal,
  slackDate,
} from '#app/slack/render.ts';
import { type AccessRequest, type Approval, REQUEST_STATUSES, type RequestStatus } from '#domain/model.ts';
import type { SlackMessage, SlackView } from '#ports/slack.ts';
import {
  ACCOUNTS,
  at,
  fixtureEntitlement,
  fixtureEntitlements,
  fixtureRequest,
  grantOf,
  PROD_ADMIN,
  READ_ONLY,
  SANDBOX,
} from '../../support/fakes.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = at(30);
const HOSTILE = '<!channel> <https://evil|bank> & <@U123> @here';

type Json = Record<string, unknown>;

/** Every block (of a message or view). */
function blocksOf(payload: SlackMessage | SlackView): Json[] {
  return ((payload as { blocks?: Json[] }).blocks ?? []) as Json[];
}

/** Every button anywhere in the payload. */
function buttonsOf(payload: SlackMessage | SlackView): Json[] {
  const found: Json[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value && typeof value === 'object') {
      if ((value as Json).type === 'button') found.push(value as Json);
      for (const child of Object.values(value)) walk(child);
    }
  };
  walk(payload);
  return found;
}

/** Every text object of type mrkdwn in the payload, plus the message's top-level text. */
function mrkdwnTexts(payload: SlackMessage | SlackView): Json[] {
  const found: Json[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value && typeof value === 'object') {
      if ((value as Json).type === 'mrkdwn') found.push(value as Json);
      for (const child of Object.values(value)) walk(child);
    }
  };
  walk(blocksOf(payload));
  return found;
}

function allText(payload: SlackMessage | SlackView): string {
  return JSON.stringify(payload);
}

/**
 * Everything Slack parses for mentions and links: a message's top-level text and every mrkdwn
 * object (plain_text is shown as it is, never parsed).
 */
function parsedText(payload: SlackMessage | SlackView): string {
  const top = typeof (payload as { text?: unknown }).text === 'string' ? (payload as SlackMessage).text : '';
  return [top, ...mrkdwnTexts(payload).map((object) => String(object.text))].join('\n');
}

function expectInert(payload: SlackMessage | SlackView): void {
  const text = parsedText(payload);
  expect(text).not.toContain('<!channel>');
  expect(text).not.toContain('<https://evil');
  expect(text).not.toContain('<@U123>');
}

function named(request: AccessRequest): AccessRequest {
  return {
    ...request,
    requesterName: 'Eve Example',
    approvals: request.approvals.map((approval) => ({
      ...approval,
      approverName: `Name of ${approval.approverId}`,
    })),
    ...(request.denial
      ? { denial: { ...request.denial, actorName: 'Alice Approver', comment: 'not today' } }
      : {}),
    ...(request.revocation
      ? { revocation: { ...request.revocation, actorName: 'Eve Example', comment: 'done early' } }
      : {}),
  };
}

function expectValid(payload: SlackMessage | SlackView): void {
  expect(blockKitProblems(payload)).toEqual([]);
}

describe('approvalMessage', () => {
  it('renders a hostile reason, ticket, name and comment inert', () => {
    // Prepare
    const request: AccessRequest = {
      ...fixtureRequest('DENIED'),
      reason: HOSTILE,
      ticket: HOSTILE,
      requesterName: HOSTILE,
      denial: { actorId: 'u-alice', actorName: HOSTILE, at: at(1).toISOString(), comment: HOSTILE },
    };

    // Act
    const message = approvalMessage(request, { now: NOW });

    // Assess
    expectInert(message);
    const text = parsedText(message);
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).toContain('&lt;https://evil|bank&gt; &amp; &lt;@U123&gt;');
    // verbatim: bare `@here` and URLs are left as they are, not turned into mentions or links.
    for (const object of mrkdwnTexts(message)) expect(object.verbatim).toBe(true);
    expectValid(message);
  });

  it('says who, what, where, how long, why and the ticket', () => {
    // Prepare
    const request = named(fixtureRequest('PENDING', { entitlementId: PROD_ADMIN, durationMs: 90 * MINUTE }));

    // Act
    const message = approvalMessage(request, { entitlement: fixtureEntitlement(PROD_ADMIN), now: NOW });

    // Assess
    const text = allText(message);
    expect(text).toContain('Eve Example');
    expect(text).toContain('Production administrator');
    expect(text).toContain(PROD_ADMIN);
    expect(text).toContain(ACCOUNTS.dev);
    expect(text).toContain('1h 30m');
    expect(text).toContain('>incident INC-42 needs a look');
    expect(text).toContain('`OPS-1234`');
    expect(text).toContain('0 of 2');
    expect(text).toContain(`version ${request.version}`);
    expect(text).toContain(request.id);
    expectValid(message);
  });

  it('counts approvals so far by name', () => {
    // Prepare
    const pending = fixtureRequest('PENDING', { entitlementId: PROD_ADMIN });
    const approval: Approval = {
      approverId: 'u-alice',
      approverName: 'Alice Approver',
      at: at(1).toISOString(),
      personKeys: ['user:u-alice'],
    };

    // Act
    const message = approvalMessage({ ...pending, approvals: [approval] }, { now: NOW });

    // Assess
    expect(allText(message)).toContain('1 of 2');
    expect(allText(message)).toContain('Alice Approver');
  });

  it('shows the id of a person whose name is not recorded', () => {
    const message = approvalMessage(fixtureRequest('APPROVED'), { now: NOW });

    expect(allText(message)).toContain('u-alice');
    expect(allText(message)).toContain('u-eve');
  });

  it.each(REQUEST_STATUSES.map((status) => [status, status === 'PENDING' || status === 'EXTENSION_PENDING']))(
    '%s: Approve and Deny buttons present: %s',
    (status, decidable) => {
      // Prepare
      const request = fixtureRequest(
        status as RequestStatus,
        status === 'SCHEDULED' ? { startAt: at(120) } : {},
      );

      // Act
      const buttons = buttonsOf(approvalMessage(request, { now: NOW }));

      // Assess
      if (!decidable) {
        expect(buttons).toEqual([]);
        return;
      }
      expect(buttons.map((button) => [button.action_id, button.style, button.value])).toEqual([
        [SLACK_ACTION.approve, 'primary', request.id],
        [SLACK_ACTION.deny, 'danger', request.id],
      ]);
    },
  );

  const active = fixtureRequest('ACTIVE');
  const expiresEpoch = Date.parse(grantOf(active).expiresAt) / 1000;
  it.each<[RequestStatus, string]>([
    ['PENDING', '*Awaiting approval* · 0 of 1'],
    ['APPROVED', '*Approved* · access is being set up'],
    ['SCHEDULED', '*Scheduled* · starts <!date^'],
    ['PROVISIONING', '*Provisioning* · setting up access'],
    ['ACTIVE', `*Active* until <!date^${expiresEpoch}^{date_short_pretty} {time}|`],
    ['EXTENSION_PENDING', '*Extension of +1h asked*'],
    ['DENIED', '*Denied* by Alice Approver'],
    ['CANCELLED', '*Cancelled* by u-eve'],
    ['TIMED_OUT', '*Timed out* · no decision in time'],
    ['FAILED', '*Failed* · CreateAccountAssignment FAILED'],
    ['EXPIRED', '*Expired* <!date^'],
    ['REVOKED', '*Revoked* by Eve Example'],
  ])('%s renders its status line', (status, line) => {
    // Prepare
    const request = named(
      fixtureRequest(status, status === 'SCHEDULED' ? { startAt: at(120) } : { entitlementId: READ_ONLY }),
    );

    // Act
    const message = approvalMessage(request, { now: NOW });

    // Assess
    expect(allText(message)).toContain(line);
    expectValid(message);
  });

  it('says with a denial its comment, as quoted data', () => {
    const message = approvalMessage(named(fixtureRequest('DENIED')), { now: NOW });

    expect(allText(message)).toContain('>not today');
  });

  it('renders a request of an entitlement no longer configured from its snapshot', () => {
    const request = { ...fixtureRequest('PENDING'), entitlementId: 'gone-away' };

    const message = approvalMessage(request, { now: NOW });

    expect(allText(message)).toContain('Read-only');
    expect(allText(message)).toContain('gone-away');
    expectValid(message);
  });

  it('stays within Block Kit limits for a 1 MB reason, 1,000 approvals and 5,000 accounts', () => {
    // Prepare
    const huge = `${HOSTILE}\n`.repeat(30_000).slice(0, 1_000_000);
    const approvals: Approval[] = Array.from({ length: 1000 }, (_, index) => ({
      approverId: `u-${index}`,
      approverName: `${'Approver '.repeat(30)}${index}`,
      at: at(1).toISOString(),
      personKeys: [`user:u-${index}`],
    }));
    const base = fixtureRequest('EXTENSION_PENDING');
    const request: AccessRequest = {
      ...base,
      reason: huge,
      ticket: huge,
      requesterName: huge,
      approvals,
      accountIds: Array.from({ length: 5000 }, (_, index) => String(100000000000 + index)),
      snapshot: { ...base.snapshot, entitlementTitle: huge },
      failure: huge,
      ...(base.extension ? { extension: { ...base.extension, reason: huge, approvals } } : {}),
    };

    // Act
    const oneLine = HOSTILE.repeat(40_000).slice(0, 1_000_000);
    const messages = [
      approvalMessage(request, { now: NOW }),
      approvalMessage({ ...request, reason: oneLine, status: 'PENDING' }, { now: NOW }),
      approvalMessage({ ...request, status: 'PENDING' }, { now: NOW }),
      approvalMessage(
        {
          ...request,
          status: 'DENIED',
          denial: { actorId: 'x', actorName: huge, at: NOW.toISOString(), comment: huge },
        },
        { now: NOW },
      ),
      approvalMessage({ ...request, status: 'FAILED' }, { now: NOW }),
      requesterDm({ ...request, status: 'FAILED' }, { now: NOW }),
      requesterDm(request, { now: NOW }),
    ];

    // Assess
    for (const message of messages) {
      expectValid(message);
      expectInert(message);
      expect(JSON.stringify(message).length).toBeLessThan(60_000);
    }
  });
});

describe('durations', () => {
  it.each([
    [2 * HOUR, '2h'],
    [30 * MINUTE, '30m'],
    [90 * MINUTE, '1h 30m'],
    [24 * HOUR, '1d'],
    [26 * HOUR + 5 * MINUTE, '1d 2h 5m'],
    [45_000, '45s'],
  ])('%i ms prints as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('a 2-hour request shows 2h, not PT2H', () => {
    const message = approvalMessage(fixtureRequest('PENDING', { durationMs: 2 * HOUR }), { now: NOW });

    expect(allText(message)).toContain('2h');
    expect(allText(message)).not.toContain('PT2H');
  });

  it('a Slack date carries a readable fallback', () => {
    expect(slackDate('2026-03-02T09:30:00.000Z')).toBe(
      '<!date^1772443800^{date_short_pretty} {time}|2026-03-02 09:30 UTC>',
    );
  });
});

describe('requesterDm', () => {
  it.each<[RequestStatus, string]>([
    ['PENDING', 'is waiting for approval (0 of 1)'],
    ['APPROVED', 'was approved'],
    ['SCHEDULED', 'starts <!date^'],
    ['PROVISIONING', 'is being set up'],
    ['ACTIVE', 'is active until <!date^'],
    ['EXTENSION_PENDING', 'extension of +1h is waiting for approval'],
    ['DENIED', 'was denied by Alice Approver'],
    ['CANCELLED', 'was cancelled'],
    ['TIMED_OUT', 'timed out'],
    ['FAILED', 'could not be set up'],
    ['EXPIRED', 'has ended'],
    ['REVOKED', 'was revoked by Eve Example'],
  ])('%s: one short line', (status, line) => {
    // Prepare
    const request = named(fixtureRequest(status, status === 'SCHEDULED' ? { startAt: at(120) } : {}));

    // Act
    const dm = requesterDm(request, { now: NOW });

    // Assess
    expect(dm.text).toContain(line);
    expect(dm.text).toContain('Read-only');
    expect(dm.text.split('\n')).toHaveLength(1);
    expectValid(dm);
  });

  it('says how long an active grant has left', () => {
    const request = fixtureRequest('ACTIVE');
    const now = new Date(Date.parse(grantOf(request).expiresAt) - 90 * MINUTE);

    expect(requesterDm(request, { now }).text).toContain('1h 30m left');
  });
});

describe('requestModal', () => {
  it('offers each account of each entitlement as `<entitlementId>:<accountId>`, with durations up to the longest maximum', () => {
    // Prepare
    const entitlements = fixtureEntitlements().filter((e) => e.id !== SANDBOX);

    // Act
    const view = requestModal({ entitlements });

    // Assess
    expectValid(view);
    expect(view.type).toBe('modal');
    expect(view.callback_id).toBe(SLACK_CALLBACK.requestModal);
    const blocks = blocksOf(view);
    const byId = (id: string) => blocks.find((block) => block.block_id === id) as Json;
    for (const id of Object.values(REQUEST_FIELD)) {
      expect(byId(id).type).toBe('input');
      expect((byId(id).element as Json).action_id).toBe(id);
    }
    const target = byId(REQUEST_FIELD.target).element as Json;
    expect(target.type).toBe('static_select');
    const groups = target.option_groups as { label: Json; options: { text: Json; value: string }[] }[];
    const options = groups.flatMap((group) => group.options);
    expect(options.map((option) => option.value)).toEqual([
      `${READ_ONLY}:${ACCOUNTS.dev}`,
      `${READ_ONLY}:${ACCOUNTS.prod}`,
      `${PROD_ADMIN}:${ACCOUNTS.dev}`,
      `${PROD_ADMIN}:${ACCOUNTS.prod}`,
    ]);
    expect(options[0]?.text.text).toBe(`Read-only — ${ACCOUNTS.dev}`);
    const duration = byId(REQUEST_FIELD.duration).element as Json;
    const durations = duration.options as { text: Json; value: string }[];
    expect(durations.map((option) => option.text.text)).toEqual(['15m', '30m', '1h', '2h', '4h']);
    expect(durations.map((option) => option.value)).toEqual(
      [15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR].map(String),
    );
    expect((byId(REQUEST_FIELD.reason).element as Json).multiline).toBe(true);
    expect(view.submit).toBeDefined();
  });

  it('offers the longest maximum itself when it is not on the usual ladder', () => {
    const entitlement = { ...fixtureEntitlement(READ_ONLY), maxDurationMs: 3 * HOUR };

    const view = requestModal({ entitlements: [entitlement] });

    const duration = blocksOf(view).find((block) => block.block_id === REQUEST_FIELD.duration) as Json;
    const options = (duration.element as Json).options as { text: Json }[];
    expect(options.map((option) => option.text.text)).toEqual(['15m', '30m', '1h', '2h', '3h']);
  });

  it('lists up to maxOptions targets and says how many were left out', () => {
    // Prepare
    const entitlements = fixtureEntitlements();

    // Act
    const view = requestModal({ entitlements, maxOptions: 3 });

    // Assess
    expectValid(view);
    const target = blocksOf(view).find((block) => block.block_id === REQUEST_FIELD.target) as Json;
    const element = target.element as Json;
    const options = [
      ...((element.options as unknown[]) ?? []),
      ...((element.option_groups as { options: unknown[] }[]) ?? []).flatMap((group) => group.options),
    ];
    expect(options).toHaveLength(3);
    expect(allText(view)).toContain('2 more targets are not listed');
    expect(allText(view)).toContain('pam request');
  });

  it('stays within Block Kit limits for 500 entitlements of 20 accounts with long titles', () => {
    const template = fixtureEntitlement(READ_ONLY);
    const entitlements = Array.from({ length: 500 }, (_, index) => ({
      ...template,
      id: `entitlement-${index}`,
      title: `${HOSTILE} ${'T'.repeat(200)}`,
      maxDurationMs: (index + 1) * HOUR,
      target: {
        ...template.target,
        accounts: Array.from({ length: 20 }, (_, a) => String(100000000000 + a)),
      },
    }));

    const view = requestModal({ entitlements });

    expectValid(view);
    expect(allText(view)).toContain('9900 more targets are not listed');
  });

  it('shows an empty state when the user may request nothing', () => {
    const view = requestModal({ entitlements: [] });

    expectValid(view);
    expect(view.submit).toBeUndefined();
    expect(allText(view)).toContain('nothing you may request');
  });
});

describe('lists, home and short answers', () => {
  const mine = [named(fixtureRequest('ACTIVE')), { ...fixtureRequest('PENDING'), reason: HOSTILE }];
  const awaiting = [{ ...fixtureRequest('PENDING', { entitlementId: PROD_ADMIN }), requesterName: HOSTILE }];

  it('lists my requests and what awaits my approval', () => {
    const message = listMessage({ mine, awaiting, now: NOW });

    const text = allText(message);
    expect(text).toContain('Your requests');
    expect(text).toContain('Awaiting your approval');
    expect(text).toContain('Production administrator');
    expectInert(message);
    expectValid(message);
  });

  it('says so when both lists are empty', () => {
    const message = listMessage({ mine: [], awaiting: [], now: NOW });

    expect(allText(message)).toContain('You have no requests');
    expect(allText(message)).toContain('Nothing awaits your approval');
  });

  it('publishes a home view with Approve and Deny on what awaits me', () => {
    const view = homeView({ mine, awaiting, now: NOW });

    expect(view.type).toBe('home');
    expect(buttonsOf(view).map((button) => [button.action_id, button.value])).toEqual([
      [SLACK_ACTION.approve, awaiting[0]?.id],
      [SLACK_ACTION.deny, awaiting[0]?.id],
    ]);
    expectInert(view);
    expectValid(view);
  });

  it('stays within Block Kit limits with 1,000 requests on each side', () => {
    const many = Array.from({ length: 1000 }, (_, index) => ({
      ...fixtureRequest('PENDING'),
      id: `01JNQ${String(index).padStart(21, '0')}`,
      reason: 'x'.repeat(5000),
      requesterName: 'N'.repeat(5000),
    }));

    const message = listMessage({ mine: many, awaiting: many, now: NOW });
    const view = homeView({ mine: many, awaiting: many, now: NOW });

    expectValid(message);
    expectValid(view);
    expect(allText(message)).toContain('more');
  });

  it('escapes a refusal and keeps it ephemeral-sized', () => {
    const message = refusalMessage(HOSTILE);

    expectInert(message);
    expect(message.text).toContain('&lt;!channel&gt;');
    expectValid(message);
    expectValid(refusalView(HOSTILE));
    expectInert(refusalView(HOSTILE));
  });

  it('confirms a link', () => {
    expect(linkedMessage().text).toContain('linked');
    expectValid(linkedMessage());
  });
});

describe('blockKitProblems', () => {
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

  it.each<[string, SlackMessage | SlackView, string]>([
    [
      '51 blocks in a message',
      { text: 'x', blocks: Array.from({ length: 51 }, () => section('x')) },
      'blocks',
    ],
    ['a section of 3001 characters', { text: 'x', blocks: [section('x'.repeat(3001))] }, 'blocks[0].text'],
    ['an empty text', { text: 'x', blocks: [section('')] }, 'blocks[0].text'],
    [
      'a modal title of 25 characters',
      { type: 'modal', title: { type: 'plain_text', text: 'x'.repeat(25) }, blocks: [] },
      'title',
    ],
    [
      '101 blocks in a view',
      { type: 'home', blocks: Array.from({ length: 101 }, () => section('x')) },
      'blocks',
    ],
    [
      'a button text of 76 characters',
      {
        text: 'x',
        blocks: [
          {
            type: 'actions',
            elements: [
              { type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'x'.repeat(76) } },
            ],
          },
        ],
      },
      'blocks[0].elements[0].text',
    ],
    [
      'a header of 151 characters',
      { text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }] },
      'blocks[0].text',
    ],
    [
      '101 options',
      {
        type: 'modal',
        title: { type: 'plain_text', text: 'x' },
        blocks: [
          {
            type: 'input',
            label: { type: 'plain_text', text: 'x' },
            element: {
              type: 'static_select',
              action_id: 'a',
              options: Array.from({ length: 101 }, (_, i) => ({
                text: { type: 'plain_text', text: 'x' },
                value: String(i),
              })),
            },
          },
        ],
      },
      'blocks[0].element.options',
    ],
    [
      'an option text of 76 characters',
      {
        type: 'modal',
        title: { type: 'plain_text', text: 'x' },
        blocks: [
          {
            type: 'input',
            label: { type: 'plain_text', text: 'x' },
            element: {
              type: 'static_select',
              action_id: 'a',
              options: [{ text: { type: 'plain_text', text: 'x'.repeat(76) }, value: 'v' }],
            },
          },
        ],
      },
      'blocks[0].element.options[0].text',
    ],
  ])('finds %s', (_name, payload, where) => {
    const problems = blockKitProblems(payload);

    expect(problems.some((problem) => problem.startsWith(where))).toBe(true);
  });
});
