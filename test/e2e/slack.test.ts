// The Slack approval bot end to end on the local runtime (issue 15), driven only by signed Slack
// payloads: the `pam slack` CLI in-process (which signs with the runtime's signing secret at the
// runtime's clock) and payloads built and signed here (./slack-support.ts) for what the CLI does not
// send (events, other workspaces, spoiled signatures). State is read through `pam show` and moto;
// what Slack shows through the stand-in's record of Web API calls and its channels.
// One runtime for the file: tests run in order and each makes its own requests.
// Strict identity binding needs a runtime synthesized with `identityBinding: strict`; it is covered
// in test/integration/slack-strict-binding.test.ts instead (a second synth and boot would double
// this file's time).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it, vi } from 'vitest';
import { signSlackRequest } from '#adapters/slack/signature.ts';
import { ENV } from '#runtime/env-names.ts';
import { perFile } from '../support/per-file.ts';
import { APPROVE, buttonsOf, DENY, slackDriver, textOf } from './slack-support.ts';
import { bootE2e } from './support.ts';

interface RequestJson {
  id: string;
  status: string;
  version: number;
  reason: string | null;
  approvals: { approverId: string; approverName: string }[];
}

const DEV = '333333333333';
const PROD = '444444444444';
const HOUR_MS = 3_600_000;
/** Slack's documented example challenge (https://api.slack.com/events/url_verification). */
const CHALLENGE = '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P';

const consoleLines: string[] = [];
const e2e = perFile(
  () => bootE2e({ log: (line) => consoleLines.push(line) }),
  (booted) => booted.stop(),
);
const bot = perFile(() => slackDriver(e2e));

async function show(id: string): Promise<RequestJson> {
  const shown = await e2e.pam('show', id, '--as', 'dave', '--json');
  expect(shown.code, shown.stderr).toBe(0);
  return shown.json<RequestJson>();
}

async function requestIds(user: string): Promise<string[]> {
  const listed = await e2e.pam('list', '--as', user, '--json');
  expect(listed.code, listed.stderr).toBe(0);
  return listed.json<{ items: { id: string }[] }>().items.map((item) => item.id);
}

/** `/pam request` in Slack, then the modal filled in and submitted: the new request's id. */
async function requestInSlack(
  user: string,
  fields: { target: string; duration: string; reason: string; ticket?: string },
): Promise<string> {
  const before = new Set(await requestIds(user));
  const opened = await bot.pam('slack', 'command', '--as', user, '/pam request');
  expect(opened.code, opened.stdout + opened.stderr).toBe(0);
  const submitted = await bot.pam(
    'slack',
    'submit',
    '--as',
    user,
    '--target',
    fields.target,
    '--duration',
    fields.duration,
    '--reason',
    fields.reason,
    ...(fields.ticket ? ['--ticket', fields.ticket] : []),
  );
  expect(submitted.code, submitted.stdout + submitted.stderr).toBe(0);
  await e2e.settle();
  const created = (await requestIds(user)).filter((id) => !before.has(id));
  expect(created).toHaveLength(1);
  return created[0] as string;
}

function posts<C extends { method: string; args: Readonly<Record<string, unknown>> }>(
  calls: readonly C[],
  channel: string,
): C[] {
  return calls.filter((call) => call.method === 'chat.postMessage' && call.args.channel === channel);
}

describe('a request made, approved and ended in Slack', () => {
  it('posts the approval message, updates it in place to ACTIVE and then expired, DMs the requester, and the assignment exists in moto', async () => {
    // Prepare
    const { standIn } = bot.slack;
    const from = standIn.calls.length;

    // Act: alice types `/pam request` and submits the modal.
    const id = await requestInSlack('alice', {
      target: `dev-readonly:${DEV}`,
      duration: '1h',
      reason: 'read the dev logs',
    });

    // Assess: the loading modal opened at once and was filled with what alice may request.
    const asked = bot.callsSince(from);
    expect(asked.filter((c) => c.method === 'views.open' && c.ok)).toHaveLength(1);
    const filled = asked.find((c) => c.method === 'views.update' && c.ok);
    expect(textOf(filled?.args.view)).toContain(`dev-readonly:${DEV}`);
    // One approval message in C0APPROVALS: who, what, and both buttons for this request.
    const posted = posts(asked, 'C0APPROVALS').filter((c) => textOf(c.args.blocks).includes(id));
    expect(posted).toHaveLength(1);
    expect(posted[0]?.ok).toBe(true);
    const postedText = textOf(posted[0]?.args);
    expect(postedText).toContain('Alice Engineer');
    expect(postedText).toContain('Read-only access to dev');
    expect(postedText).toContain('dev-readonly');
    expect(postedText).toContain('Awaiting approval');
    expect(buttonsOf(posted[0]?.args.blocks as unknown[])).toEqual([
      expect.objectContaining({
        action_id: APPROVE,
        value: id,
        text: expect.objectContaining({ text: 'Approve' }),
      }),
      expect.objectContaining({
        action_id: DENY,
        value: id,
        text: expect.objectContaining({ text: 'Deny' }),
      }),
    ]);
    const message = bot.approvalMessage(id);
    expect(message.channel).toBe('C0APPROVALS');

    // Act: bob clicks Approve.
    const beforeClick = standIn.calls.length;
    const click = await bot.pam('slack', 'click', '--as', 'bob', 'approve', id);
    expect(click.code, click.stderr).toBe(0);
    expect(click.stdout.trim()).toBe('acknowledged');
    await e2e.settle();

    // Assess: ACTIVE, approved by Bob, the assignment in moto's Identity Center.
    const active = await show(id);
    expect(active.status).toBe('ACTIVE');
    expect(active.approvals.map((a) => a.approverName)).toEqual(['Bob Ops']);
    expect(await e2e.assignments(DEV, 'PamDevReadOnly')).toContain(e2e.userId('alice'));
    // The same message updated in place (never a second post), its buttons gone, "active until".
    const afterClick = bot.callsSince(beforeClick);
    expect(posts(afterClick, 'C0APPROVALS')).toEqual([]);
    const updates = afterClick.filter((c) => c.method === 'chat.update');
    expect(updates.length).toBeGreaterThanOrEqual(1);
    for (const update of updates) {
      expect(update).toMatchObject({ ok: true, args: { channel: 'C0APPROVALS', ts: message.ts } });
    }
    const latest = updates.at(-1);
    expect(buttonsOf(latest?.args.blocks as unknown[])).toEqual([]);
    expect(textOf(latest?.args.blocks)).toMatch(/\*Active\* until <!date\^\d+\^/);
    expect(textOf(latest?.args.blocks)).toContain('Bob Ops');
    expect(bot.approvalMessage(id).ts).toBe(message.ts);
    // alice was told at each change, by DM.
    const dms = bot.dms('alice').map((dm) => dm.text);
    expect(dms.some((text) => /waiting for approval/.test(text))).toBe(true);
    expect(dms.some((text) => /is active until/.test(text))).toBe(true);

    // Act: two hours later.
    const advanced = await e2e.pam('local', 'clock', 'advance', '2h');
    expect(advanced.code, advanced.stderr).toBe(0);

    // Assess: EXPIRED, and the message (still the same one) says so.
    expect((await show(id)).status).toBe('EXPIRED');
    expect(await e2e.assignments(DEV, 'PamDevReadOnly')).not.toContain(e2e.userId('alice'));
    const ended = bot.approvalMessage(id);
    expect(ended.ts).toBe(message.ts);
    expect(textOf(ended.message.blocks)).toContain('*Expired*');
    expect(buttonsOf(ended.message.blocks)).toEqual([]);
    expect(bot.dms('alice').some((dm) => /has ended/.test(dm.text))).toBe(true);
  });
});

describe('user text in a message', () => {
  it('a reason with <!channel> and <https://evil|bank> is shown escaped: no mention, no link', async () => {
    // Prepare
    const hostile = 'deploy <!channel> <https://evil|bank> & <@U0BOB> now';
    const from = bot.slack.standIn.calls.length;

    // Act
    const id = await requestInSlack('erin', {
      target: `dev-readonly:${DEV}`,
      duration: '30m',
      reason: hostile,
    });

    // Assess: the reason is kept as typed…
    expect((await show(id)).reason).toBe(hostile);
    // …and what Slack was asked to show has only inert entities where the reason had markup.
    const [posted] = posts(bot.callsSince(from), 'C0APPROVALS').filter((c) =>
      textOf(c.args.blocks).includes(id),
    );
    const shown = textOf(posted?.args);
    expect(shown).toContain('deploy &lt;!channel&gt; &lt;https://evil|bank&gt; &amp; &lt;@U0BOB&gt; now');
    expect(shown).not.toContain('<!channel>');
    expect(shown).not.toContain('<https://evil');
    expect(shown).not.toContain('<@U0BOB>');
    // No Slack control sequence at all (a pending message has no date either).
    expect(shown).not.toMatch(/<[!@#]|<https?:/);
    // Every mrkdwn text is verbatim: Slack does not auto-link what is left.
    const mrkdwn = JSON.stringify(posted?.args.blocks).match(/"type":"mrkdwn"[^}]*}/g) ?? [];
    expect(mrkdwn.length).toBeGreaterThan(0);
    for (const text of mrkdwn) expect(text).toContain('"verbatim":true');
  });
});

describe('two approvers on one message', () => {
  it('bob and dave clicking the same Approve button (same action_id) both count: 2 of 2, ACTIVE', async () => {
    // Prepare: carol (cloud-ops) asks for prod-admin, which needs two approvals and an OPS ticket.
    const id = await requestInSlack('carol', {
      target: `prod-admin:${PROD}`,
      duration: '1h',
      reason: 'rotate the prod KMS key',
      ticket: 'OPS-123',
    });
    const message = bot.approvalMessage(id);
    expect(message.channel).toBe('C0PRODAPPROVALS');
    expect(textOf(message.message.blocks)).toContain('OPS-123');
    // Both click the button of the message as it is now, before either click is handled.
    const bobClick = bot.clickBody(bot.occurrence('bob', { message }), message, APPROVE);
    const daveClick = bot.clickBody(bot.occurrence('dave', { message }), message, APPROVE);
    const actionOf = (body: string) =>
      JSON.parse(new URLSearchParams(body).get('payload') ?? '{}') as {
        trigger_id: string;
        actions: { action_id: string; block_id: string; value: string }[];
      };
    const button = (body: string) =>
      actionOf(body).actions.map(({ action_id, block_id, value }) => ({ action_id, block_id, value }));
    expect(button(bobClick)).toEqual([{ action_id: APPROVE, block_id: expect.any(String), value: id }]);
    expect(button(daveClick)).toEqual(button(bobClick));
    expect(actionOf(bobClick).trigger_id).not.toBe(actionOf(daveClick).trigger_id);

    // Act
    const answers = [await bot.post('interactions', bobClick), await bot.post('interactions', daveClick)];
    await e2e.settle();

    // Assess
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const active = await show(id);
    expect(active.approvals.map((a) => a.approverName).sort()).toEqual(['Bob Ops', 'Dave Admin']);
    expect(active.status).toBe('ACTIVE');
    expect(await e2e.assignments(PROD, 'PamProdAdmin')).toContain(e2e.userId('carol'));
    const shown = textOf(bot.approvalMessage(id).message.blocks);
    expect(shown).toContain('2 of 2');
    expect(buttonsOf(bot.approvalMessage(id).message.blocks)).toEqual([]);
  });
});

describe('the Events API', () => {
  it('a retry of app_home_opened (same event_id, X-Slack-Retry-Num: 1) publishes the Home once', async () => {
    // Prepare
    const body = bot.homeOpenedBody('Ev0E2EHOME0001', 'bob');
    const from = bot.slack.standIn.calls.length;

    // Act: Slack's delivery, then its retry of the same event.
    const first = await bot.post('events', body);
    await e2e.settle();
    const retry = await bot.post('events', body, {
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    await e2e.settle();

    // Assess
    expect([first.status, retry.status]).toEqual([200, 200]);
    const publishes = bot.callsSince(from).filter((c) => c.method === 'views.publish');
    expect(publishes).toHaveLength(1);
    expect(publishes[0]).toMatchObject({ ok: true, args: { user_id: bot.slack.users.bob } });
  });

  it('answers url_verification with its challenge', async () => {
    // Act
    const answer = await bot.post(
      'events',
      JSON.stringify({ token: 'legacy-verification-token', challenge: CHALLENGE, type: 'url_verification' }),
    );

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ challenge: CHALLENGE });
  });
});

describe('who may not act', () => {
  it('refuses a guest, a Slack Connect user, another workspace, a non-approver and the requester, and changes nothing', async () => {
    // Prepare: alice's request, awaiting bob's or carol's approval.
    const id = await requestInSlack('alice', {
      target: `dev-readonly:${DEV}`,
      duration: '1h',
      reason: 'look at a failing job',
    });
    const before = await show(id);
    const aliceRequests = (await requestIds('alice')).length;
    const { standIn } = bot.slack;
    const from = standIn.calls.length;
    const message = bot.approvalMessage(id);

    // Act + assess: gina is a guest (with alice's email). `/pam request` shows her a refusal…
    const ginaOpens = await bot.pam('slack', 'command', '--as', 'gina', '/pam request');
    expect(ginaOpens.code, ginaOpens.stderr).toBe(0);
    const ginaView = [...standIn.views.values()].filter((v) => v.user === bot.slack.users.gina).at(-1);
    expect(textOf(ginaView?.blocks)).toMatch(/guests cannot use cloud-pam/i);
    // …a request modal she submits anyway makes no request (it would be alice's)…
    const ginaSubmits = await bot.post(
      'interactions',
      bot.requestSubmissionBody(bot.occurrence('gina'), {
        target: `dev-readonly:${DEV}`,
        durationMs: HOUR_MS,
        reason: 'as a guest',
      }),
    );
    expect(ginaSubmits.status).toBe(200);
    await e2e.settle();
    expect(await requestIds('alice')).toHaveLength(aliceRequests);
    expect(bot.dms('gina').map((dm) => dm.text)).toEqual([expect.stringMatching(/guests cannot use/i)]);
    // …and her Approve is refused.
    const ginaClicks = await bot.pam('slack', 'click', '--as', 'gina', 'approve', id);
    expect(ginaClicks.stdout).toMatch(/later: .*guests cannot use cloud-pam/i);

    // xavier is a Slack Connect user from another organization (with bob's email: bob approves).
    // Slack (and so `pam slack click`) names his own workspace as user.team_id: the ingress refuses
    // him before anything is queued.
    const xavierClicks = await bot.pam('slack', 'click', '--as', 'xavier', 'approve', id);
    expect(xavierClicks.stdout).toMatch(/HTTP 403.*not allowed/);
    const xavierFromPartner = await bot.post(
      'interactions',
      bot.clickBody(bot.occurrence('xavier', { message }), message, APPROVE, { userTeamId: 'T0PARTNER01' }),
    );
    expect(xavierFromPartner.status).toBe(403);
    // Where a payload does not say so (user.team_id ours), users.info does: the worker refuses him
    // through his click's response_url.
    const xavierAsOurs = await bot.post(
      'interactions',
      bot.clickBody(bot.occurrence('xavier', { message }), message, APPROVE),
    );
    expect(xavierAsOurs.status).toBe(200);
    await e2e.settle();
    const xavierReplies = standIn.responses.filter((r) => r.userId === bot.slack.users.xavier);
    expect(xavierReplies.at(-1)).toMatchObject({
      ok: true,
      body: { text: expect.stringMatching(/Slack Connect/) },
    });

    // A workspace that is not allow-listed: a command, a click (as bob's id) and an event.
    const otherCommand = await bot.post(
      'commands',
      bot.commandBody(bot.occurrence('bob'), 'request', { team_id: 'T0NOTALLOWED' }),
    );
    expect(otherCommand.status).toBe(200);
    expect(otherCommand.json<{ text: string }>().text).toMatch(/not allowed/i);
    const otherClick = await bot.post(
      'interactions',
      bot.clickBody(bot.occurrence('bob', { message }), message, APPROVE, { teamId: 'T0NOTALLOWED' }),
    );
    expect(otherClick.status).toBe(403);
    const otherEvent = await bot.post('events', bot.homeOpenedBody('Ev0E2EOTHER001', 'bob', 'T0NOTALLOWED'));
    expect(otherEvent.status).toBe(200);

    // erin is an engineer, not an approver: an ephemeral refusal through her click's response_url.
    const erinClicks = await bot.pam('slack', 'click', '--as', 'erin', 'approve', id);
    expect(erinClicks.code).toBe(0);
    expect(erinClicks.stdout).toMatch(/later: .*not in an approver group/);
    const erinReplies = standIn.responses.filter((r) => r.userId === bot.slack.users.erin);
    expect(erinReplies.at(-1)).toMatchObject({
      ok: true,
      body: { text: expect.stringMatching(/approver group/) },
    });
    expect(erinReplies.at(-1)?.body.response_type ?? 'ephemeral').toBe('ephemeral');

    // alice cannot approve her own request.
    const aliceClicks = await bot.pam('slack', 'click', '--as', 'alice', 'approve', id);
    expect(aliceClicks.stdout).toMatch(/later: .*cannot approve your own request/);
    await e2e.settle();

    // Assess: nothing changed — same version, no approval, no message update, no Home, no modal.
    const after = await show(id);
    expect(after).toMatchObject({ status: 'PENDING', version: before.version, approvals: [] });
    const since = bot.callsSince(from);
    expect(since.filter((c) => c.method === 'chat.update')).toEqual([]);
    expect(since.filter((c) => c.method === 'views.publish')).toEqual([]);
    // Only gina's `/pam request` opened a modal (the other workspace's command was refused first).
    expect(since.filter((c) => c.method === 'views.open')).toHaveLength(1);
    expect(await requestIds('alice')).toHaveLength(aliceRequests);
  });
});

describe('the signature', () => {
  it('refuses a wrong signature, a timestamp 301 s off either way, a missing header and a changed byte (401, nothing changes); verifies after a clock jump', async () => {
    // Prepare: erin's request, and bob's click on it, signed below in every way that must fail.
    const id = await requestInSlack('erin', {
      target: `dev-readonly:${DEV}`,
      duration: '1h',
      reason: 'check the dev queue depth',
    });
    const before = await show(id);
    const message = bot.approvalMessage(id);
    const click = bot.clickBody(bot.occurrence('bob', { message }), message, APPROVE);
    const changed = Buffer.from(click, 'utf8');
    changed[changed.length - 3] = (changed[changed.length - 3] as number) ^ 0x01;
    const verification = JSON.stringify({ token: 'x', challenge: CHALLENGE, type: 'url_verification' });

    // Act: with the runtime's clock held still, so "301 s off" is exactly that when it is checked.
    e2e.runtime.clock.freeze();
    let answers: Record<string, number>;
    let edges: number[];
    try {
      const now = bot.nowSeconds();
      answers = {
        wrongSecret: (await bot.post('interactions', click, { secret: 'not-the-signing-secret' })).status,
        zeros: (await bot.post('interactions', click, { signature: `v0=${'0'.repeat(64)}` })).status,
        past301: (await bot.post('interactions', click, { timestamp: now - 301 })).status,
        future301: (await bot.post('interactions', click, { timestamp: now + 301 })).status,
        noSignature: (await bot.post('interactions', click, { omit: ['x-slack-signature'] })).status,
        noTimestamp: (await bot.post('interactions', click, { omit: ['x-slack-request-timestamp'] })).status,
        changedByte: (
          await bot.post('interactions', changed, {
            signature: signSlackRequest({
              signingSecret: bot.slack.signingSecret,
              timestamp: now,
              rawBody: Buffer.from(click, 'utf8'),
            }),
            timestamp: now,
          })
        ).status,
      };
      // The window's edges, with a payload that changes nothing: 300 s either way still verifies.
      edges = [
        (await bot.post('events', verification, { timestamp: now - 300 })).status,
        (await bot.post('events', verification, { timestamp: now + 300 })).status,
      ];
    } finally {
      e2e.runtime.clock.thaw();
    }
    await e2e.settle();

    // Assess: every one refused, and the request untouched.
    expect(answers).toEqual({
      wrongSecret: 401,
      zeros: 401,
      past301: 401,
      future301: 401,
      noSignature: 401,
      noTimestamp: 401,
      changedByte: 401,
    });
    expect(edges).toEqual([200, 200]);
    expect(await show(id)).toMatchObject({ status: 'PENDING', version: before.version, approvals: [] });

    // Act: two hours later on the runtime's clock; this machine's clock did not move.
    expect((await e2e.pam('local', 'clock', 'advance', '2h')).code).toBe(0);
    const byMachineClock = await bot.post('interactions', click, {
      timestamp: Math.floor(Date.now() / 1000),
    });
    const byRuntimeClock = await bot.post('interactions', click);
    await e2e.settle();

    // Assess: signed at the runtime's time it verifies (and bob's approval counts); at the machine's it is stale.
    expect(byMachineClock.status).toBe(401);
    expect(byRuntimeClock.status).toBe(200);
    const approved = await show(id);
    expect(approved.approvals.map((a) => a.approverName)).toEqual(['Bob Ops']);
    expect(approved.status).toBe('ACTIVE');
  });
});

describe('Slack down', () => {
  it('a click while the Web API is down commits (or, for an approver Slack must look up, waits in the queue); the messages catch up when Slack is back', async () => {
    // Prepare: three requests, posted while Slack is up; then a clock jump past every remembered
    // Slack binding (process-command trusts one for a minute), so who is remembered is decided below.
    const { standIn } = bot.slack;
    const reason = 'Slack is about to go down';
    const warm = await requestInSlack('erin', { target: `dev-readonly:${DEV}`, duration: '1h', reason });
    const first = await requestInSlack('alice', { target: `dev-readonly:${DEV}`, duration: '2h', reason });
    const second = await requestInSlack('erin', { target: `dev-readonly:${DEV}`, duration: '2h', reason });
    expect((await e2e.pam('local', 'clock', 'advance', '2m')).code).toBe(0);
    const click = (user: string, id: string) => {
      const message = bot.approvalMessage(id);
      return bot.clickBody(bot.occurrence(user, { message }), message, APPROVE);
    };
    const firstTs = bot.approvalMessage(first).ts;
    const secondBefore = await show(second);

    // Act: with the runtime's clock held still (so bob's binding stays fresh), bob approves one
    // request while Slack is up — Slack tells process-command who he is — then Slack's Web API goes
    // down and bob and carol each click Approve (their clicks still reach the ingress).
    e2e.runtime.clock.freeze();
    let answers: number[];
    let settled: Awaited<ReturnType<typeof e2e.runtime.settle>>;
    let decided: RequestJson;
    let waiting: RequestJson;
    let shownWhileDown: string;
    try {
      expect((await bot.post('interactions', click('bob', warm))).status).toBe(200);
      await e2e.settle();
      expect((await show(warm)).approvals.map((a) => a.approverName)).toEqual(['Bob Ops']);
      standIn.down();
      answers = [
        (await bot.post('interactions', click('bob', first))).status,
        (await bot.post('interactions', click('carol', second))).status,
      ];
      settled = await e2e.runtime.settle();
      decided = await show(first);
      waiting = await show(second);
      shownWhileDown = textOf(bot.approvalMessage(first).message.blocks);
    } finally {
      standIn.up();
      e2e.runtime.clock.thaw();
    }

    // Assess: both clicks acknowledged. bob's decision committed while Slack was down, and the
    // message could not follow (notify-slack failed: the queue retries it). carol's needs Slack to
    // tell who she is: it waits in the commands queue, nothing decided and nothing lost.
    expect(answers).toEqual([200, 200]);
    expect(decided.approvals.map((a) => a.approverName)).toEqual(['Bob Ops']);
    expect(['APPROVED', 'PROVISIONING', 'ACTIVE']).toContain(decided.status);
    expect(shownWhileDown).toContain('Awaiting approval');
    expect(waiting).toMatchObject({ status: 'PENDING', version: secondBefore.version, approvals: [] });
    expect(new Set(settled.failures.map((f) => f.functionName))).toEqual(
      new Set(['notify-slack', 'process-command']),
    );
    expect(standIn.calls.some((c) => c.error === 'service_unavailable')).toBe(true);

    // Act: Slack is back; the queues retry what failed once it is visible again. The runtime hides a
    // failed message for a fixed 2 s of moto's (real) time — not the queue's visibility timeout on
    // the runtime's clock, so moving that clock would not bring it back — hence settle until done.
    await vi.waitFor(
      async () => {
        await e2e.settle();
        expect((await show(second)).status).toBe('ACTIVE');
        expect(textOf(bot.approvalMessage(first).message.blocks)).toMatch(/\*Active\* until/);
        expect(textOf(bot.approvalMessage(second).message.blocks)).toMatch(/\*Active\* until/);
      },
      { timeout: 30_000, interval: 500 },
    );

    // Assess: both messages (the same ones, updated in place) show the current state.
    expect((await show(first)).status).toBe('ACTIVE');
    const caughtUp = bot.approvalMessage(first);
    expect(caughtUp.ts).toBe(firstTs);
    expect(buttonsOf(caughtUp.message.blocks)).toEqual([]);
    expect(textOf(caughtUp.message.blocks)).toContain('Bob Ops');
    expect((await show(second)).approvals.map((a) => a.approverName)).toEqual(['Carol Ops']);
    expect(textOf(bot.approvalMessage(second).message.blocks)).toContain('Carol Ops');
  });
});

describe('a rate limit', () => {
  it('a 429 with Retry-After is waited out within the call, and the message still posts', async () => {
    // Prepare: erin's request modal is open; the next Web API call is refused with Retry-After: 1.
    const before = new Set(await requestIds('erin'));
    const opened = await bot.pam('slack', 'command', '--as', 'erin', '/pam request');
    expect(opened.code, opened.stderr).toBe(0);
    const { standIn } = bot.slack;
    const from = standIn.calls.length;
    standIn.rateLimitNext(1, 1);

    // Act: she submits it (the ingress calls no Slack method for that); the workers run.
    const submitted = await bot.pam(
      'slack',
      'submit',
      '--as',
      'erin',
      '--target',
      `dev-readonly:${DEV}`,
      '--duration',
      '1h',
      '--reason',
      'after a rate limit',
    );
    expect(submitted.code, submitted.stdout + submitted.stderr).toBe(0);
    const settled = await e2e.runtime.settle();

    // Assess: one call was rate limited and made again after Retry-After, within the same
    // invocation (no function failed, so no queue retry was needed), and the message posted.
    expect(settled.failures).toEqual([]);
    const calls = bot.callsSince(from);
    expect(calls.filter((c) => c.status === 429)).toHaveLength(1);
    const limited = calls.findIndex((c) => c.status === 429);
    const refused = calls[limited];
    expect(refused).toMatchObject({ error: 'ratelimited' });
    const again = calls.slice(limited + 1).find((c) => c.method === refused?.method);
    expect(again?.ok).toBe(true);
    expect((again?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    const [id] = (await requestIds('erin')).filter((candidate) => !before.has(candidate));
    expect(id).toBeDefined();
    const posted = posts(calls, 'C0APPROVALS').filter((c) => textOf(c.args.blocks).includes(id as string));
    expect(posted.map((c) => c.ok)).toEqual([true]);
    expect(bot.approvalMessage(id as string).channel).toBe('C0APPROVALS');
  });
});

describe('secrets', () => {
  it('no signing secret, bot token or response_url in any handler log of the run, nor on the console', async () => {
    // Prepare: one more response_url used here (a `/pam list` answered through it), so this test
    // has one of its own when run alone; then the secrets as the runtime holds them.
    const listed = await bot.pam('slack', 'command', '--as', 'bob', '/pam list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/later: /);
    const tokenArn = e2e.runtime.functions.get('slack-ingress')?.spec.environment[ENV.SLACK_BOT_TOKEN_ARN];
    expect(tokenArn).toBeDefined();
    const secrets = new SecretsManagerClient({
      endpoint: e2e.runtime.awsEndpoint,
      region: e2e.runtime.region,
      credentials: e2e.runtime.credentials,
      maxAttempts: 1,
    });
    const { SecretString: botToken } = await secrets.send(new GetSecretValueCommand({ SecretId: tokenArn }));
    secrets.destroy();
    expect(botToken).toMatch(/^xoxb-/);
    const urls = [...bot.responseUrls];
    expect(urls.length).toBeGreaterThan(0);

    // Act: every log line of the whole run.
    const logDir = path.join(e2e.stateDir, 'logs');
    const logs = readdirSync(logDir).map((file) => ({
      file,
      text: readFileSync(path.join(logDir, file), 'utf8'),
    }));
    logs.push({ file: 'console', text: consoleLines.join('\n') });

    // Assess: the logs are there (the run did log), and none holds a credential.
    expect(logs.find((log) => log.file === 'slack-ingress.log')?.text).toMatch(/Slack request accepted/);
    expect(consoleLines.some((line) => line.startsWith('slack response_url #'))).toBe(true);
    const credentials = [
      { what: 'signing secret', value: bot.slack.signingSecret },
      { what: 'bot token', value: botToken as string },
      ...urls.flatMap((url) => [
        { what: 'response_url', value: url },
        // The URL's last segment is its secret: not even that may be logged on its own.
        { what: 'response_url secret', value: new URL(url).pathname.split('/').at(-1) as string },
      ]),
    ];
    const leaks = logs.flatMap((log) =>
      credentials.filter((c) => log.text.includes(c.value)).map((c) => `${c.what} in ${log.file}`),
    );
    expect(leaks).toEqual([]);
    expect(logs.filter((log) => /xoxb-|\/hooks\//.test(log.text)).map((log) => log.file)).toEqual([]);
  });
});
