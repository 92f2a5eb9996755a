// `pam slack …`: `link` makes a one-time code that binds a Slack account to you (strict binding; works
// against a deployed API, SigV4). `command`, `click` and `submit` act as Slack would in local mode:
// they build Slack's own wire formats (a slash command form, a block_actions or view_submission
// payload), sign them with the local Slack app's signing secret at the local runtime's clock (so the
// signature still verifies after `pam local clock advance`), and post them to the local gateway's
// `/slack/*` routes, where the real ingress verifies and handles them. Then they print what the
// ingress answered and what the worker later posted to the response_url.
import { z } from 'zod';
import { signSlackRequest } from '#adapters/slack/signature.ts';
import { DENY_FIELD, REQUEST_FIELD, SLACK_ACTION, SLACK_CALLBACK } from '#app/slack/ids.ts';
import { textProblem } from '#domain/text.ts';
import { apiClient, type Mode, resolveMode } from './context.ts';
import { parseDurationFlag } from './duration.ts';
import { CliError, oneLine, UsageError } from './errors.ts';
import { ApiClient } from './http-client.ts';
import type { LocalFile } from './local-file.ts';
import { type Subcommand, type SubcommandContext, textFlag } from './subcommands.ts';

const REQUEST_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const LinkAnswer = z.object({ code: z.string(), expiresAt: z.string(), instructions: z.string() });
const Occurrence = z.object({
  teamId: z.string(),
  userId: z.string(),
  userTeamId: z.string(),
  triggerId: z.string(),
  responseUrl: z.string(),
});
const ApprovalMessage = z.object({
  channel: z.string(),
  ts: z.string(),
  text: z.string(),
  blocks: z.array(z.unknown()),
});
const OpenView = z.looseObject({
  id: z.string(),
  callback_id: z.string(),
  private_metadata: z.string(),
  blocks: z.array(z.unknown()),
  hash: z.string(),
});
const Replies = z.array(z.object({ ok: z.boolean(), text: z.string() }));
const Clock = z.object({ now: z.string() });

type LocalMode = Extract<Mode, { kind: 'local' }>;
type LocalSlack = NonNullable<LocalFile['slack']>;

function localSlack(context: SubcommandContext): { mode: LocalMode; slack: LocalSlack; user: string } {
  const mode = resolveMode(context.flags, context.io, context.deps);
  if (mode.kind !== 'local') {
    throw new UsageError(
      '`pam slack command|click|submit` act as Slack in local mode only (no .pam/local.json found, or PAM_API_URL set); in a deployed workspace use Slack itself',
    );
  }
  const slack = mode.local.slack;
  if (!slack) throw new CliError('the local runtime has no Slack bot (the config has no `slack` section)');
  const user = context.flags.as ?? context.io.env.PAM_USER;
  if (!user) {
    throw new UsageError(`pam slack needs --as <user> (Slack users: ${Object.keys(slack.users).join(', ')})`);
  }
  if (!slack.users[user]) {
    throw new UsageError(
      `--as ${oneLine(user, 40)}: no such Slack user (have ${Object.keys(slack.users).join(', ')})`,
    );
  }
  return { mode, slack, user };
}

/** The local runtime's own routes (clock, the Slack stand-in). */
function localRoutes(mode: LocalMode, context: SubcommandContext): ApiClient {
  return new ApiClient({
    baseUrl: mode.local.apiUrl,
    fetch: context.deps.fetch,
    authorize: async () => ({}),
    unreachableHint: 'is `make start` running?',
  });
}

interface SlackAnswer {
  readonly status: number;
  readonly body: string;
}

/** Posts a signed Slack request to the local ingress, timestamped with the runtime's clock. */
async function postSigned(
  context: SubcommandContext,
  mode: LocalMode,
  slack: LocalSlack,
  path: 'commands' | 'interactions',
  form: Record<string, string>,
): Promise<SlackAnswer> {
  const clock = Clock.parse(await localRoutes(mode, context).call('GET', '/local/clock'));
  const timestamp = String(Math.floor(Date.parse(clock.now) / 1000));
  const rawBody = new URLSearchParams(form).toString();
  const signature = signSlackRequest({
    signingSecret: slack.signingSecret,
    timestamp,
    rawBody: Buffer.from(rawBody, 'utf8'),
  });
  const url = `${mode.local.apiUrl.replace(/\/+$/, '')}/slack/${path}`;
  try {
    const response = await context.deps.fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': signature,
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      },
      body: rawBody,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    throw new CliError(`cannot reach ${new URL(url).origin} (is \`make start\` running?)`, 2, {
      cause: error,
    });
  }
}

/** What the ingress answered, as a person reads it. */
function answerLines(answer: SlackAnswer): string[] {
  if (answer.status !== 200)
    return [`Slack ingress answered HTTP ${answer.status}: ${oneLine(answer.body, 200)}`];
  if (answer.body.trim() === '') return ['acknowledged'];
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    return [oneLine(answer.body, 500)];
  }
  const body = parsed as { text?: unknown; response_action?: unknown; errors?: unknown };
  if (body.response_action === 'errors' && body.errors && typeof body.errors === 'object') {
    return Object.entries(body.errors as Record<string, unknown>).map(
      ([field, message]) => `error on ${field}: ${oneLine(String(message), 300)}`,
    );
  }
  if (typeof body.text === 'string') return [body.text];
  if (typeof body.response_action === 'string') return [`acknowledged (${body.response_action})`];
  return ['acknowledged'];
}

async function printOutcome(
  context: SubcommandContext,
  mode: LocalMode,
  answer: SlackAnswer,
  responseUrl: string,
): Promise<number> {
  const replies = Replies.parse(
    await localRoutes(mode, context).call('POST', '/local/slack/responses', { body: { responseUrl } }),
  );
  if (context.flags.json) {
    context.printJson({ status: answer.status, answer: answer.body, replies });
  } else {
    context.print(...answerLines(answer), ...replies.map((reply) => `later: ${reply.text}`));
  }
  return answer.status === 200 ? 0 : 1;
}

async function occurrence(context: SubcommandContext, mode: LocalMode, user: string) {
  return Occurrence.parse(
    await localRoutes(mode, context).call('POST', '/local/slack/occurrence', { body: { user } }),
  );
}

function slackUser(user: string, occ: z.infer<typeof Occurrence>) {
  return { id: occ.userId, username: user, name: user, team_id: occ.userTeamId };
}

export const SLACK_SUBCOMMANDS: readonly Subcommand[] = [
  {
    words: ['slack', 'link'],
    summary: 'make a one-time code that links your Slack account to you',
    usage: 'slack link   then type the printed /pam link <code> in Slack within 10 minutes',
    options: {},
    positionals: [],
    run: async (context) => {
      const mode = resolveMode(context.flags, context.io, context.deps);
      const api = await apiClient(mode, context.flags, context.io, context.deps);
      const answer = LinkAnswer.parse(await api.call('POST', '/v1/slack/link', { body: {} }));
      if (context.flags.json) context.printJson(answer);
      else context.print(answer.instructions, `(expires ${answer.expiresAt}; it works once)`);
      return 0;
    },
  },
  {
    words: ['slack', 'command'],
    summary: 'type a /pam command in Slack as a demo user (local mode only)',
    usage:
      'slack command --as <user> "/pam [request | list | help | link <code>]"   (/pam request opens the modal: then `pam slack submit`)',
    options: {},
    positionals: ['text'],
    run: async (context) => {
      const { mode, slack, user } = localSlack(context);
      const typed = (context.args[0] ?? '').trim();
      const problem = textProblem(typed);
      if (problem !== undefined) throw new UsageError(`text: ${problem}`);
      const [command = '', ...rest] = typed.split(/\s+/);
      if (command !== '/pam') throw new UsageError(`expected a /pam command, got "${oneLine(command, 40)}"`);
      const occ = await occurrence(context, mode, user);
      const answer = await postSigned(context, mode, slack, 'commands', {
        token: 'local',
        team_id: occ.teamId,
        team_domain: 'local',
        channel_id: 'C0APPROVALS',
        channel_name: 'local',
        user_id: occ.userId,
        user_name: user,
        command,
        text: typed.slice(command.length).trim() === '' ? '' : rest.join(' '),
        api_app_id: 'A0PAMAPP01',
        is_enterprise_install: 'false',
        response_url: occ.responseUrl,
        trigger_id: occ.triggerId,
      });
      return printOutcome(context, mode, answer, occ.responseUrl);
    },
  },
  {
    words: ['slack', 'click'],
    summary: 'click Approve or Deny on a request’s Slack message as a demo user (local mode only)',
    usage: 'slack click --as <user> approve|deny <request> [--reason <why>]   (deny asks for a reason)',
    options: { reason: { type: 'string' } },
    positionals: ['button', 'request'],
    run: async (context) => {
      const { mode, slack, user } = localSlack(context);
      const button = context.args[0];
      if (button !== 'approve' && button !== 'deny') throw new UsageError('expected approve or deny');
      const requestId = (context.args[1] ?? '').toUpperCase();
      if (!REQUEST_ID.test(requestId)) throw new UsageError('expected a request id (26-character ULID)');
      const reason = textFlag(context.values, 'reason', 1000);
      if (button === 'deny' && !reason) throw new UsageError('deny needs --reason (Slack asks for one)');
      const message = ApprovalMessage.parse(
        await localRoutes(mode, context).call('POST', '/local/slack/message', { body: { requestId } }),
      );
      const actionId = button === 'approve' ? SLACK_ACTION.approve : SLACK_ACTION.deny;
      const clicked = findButton(message.blocks, actionId, requestId);
      if (!clicked)
        throw new CliError(
          `the Slack message of ${requestId} has no ${button} button (nothing left to decide?)`,
          1,
        );
      const occ = await occurrence(context, mode, user);
      const payload = {
        type: 'block_actions',
        user: slackUser(user, occ),
        api_app_id: 'A0PAMAPP01',
        token: 'local',
        container: {
          type: 'message',
          message_ts: message.ts,
          channel_id: message.channel,
          is_ephemeral: false,
        },
        trigger_id: occ.triggerId,
        team: { id: occ.teamId, domain: 'local' },
        enterprise: null,
        is_enterprise_install: false,
        channel: { id: message.channel, name: 'approvals' },
        message: { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks },
        response_url: occ.responseUrl,
        actions: [{ ...clicked, type: 'button', action_ts: String(Date.now() / 1000) }],
      };
      const answer = await postSigned(context, mode, slack, 'interactions', {
        payload: JSON.stringify(payload),
      });
      if (button === 'approve' || answer.status !== 200)
        return printOutcome(context, mode, answer, occ.responseUrl);
      // Deny opened the reason modal: type the reason and submit it.
      const view = OpenView.parse(
        await localRoutes(mode, context).call('POST', '/local/slack/view', { body: { user } }),
      );
      const submitted = await submitView(context, mode, slack, user, view, {
        [DENY_FIELD.reason]: { [DENY_FIELD.reason]: { type: 'plain_text_input', value: reason ?? '' } },
      });
      return printOutcome(context, mode, submitted, occ.responseUrl);
    },
  },
  {
    words: ['slack', 'submit'],
    summary: 'fill in and submit the request modal `/pam request` opened (local mode only)',
    usage:
      'slack submit --as <user> --target <entitlement>:<account> --duration <duration> [--reason <why>] [--ticket <id>]',
    options: {
      target: { type: 'string' },
      duration: { type: 'string' },
      reason: { type: 'string' },
      ticket: { type: 'string' },
    },
    positionals: [],
    run: async (context) => {
      const { mode, slack, user } = localSlack(context);
      const target = textFlag(context.values, 'target', 200);
      if (!target) throw new UsageError('--target <entitlement>:<account> is required');
      const durationText = textFlag(context.values, 'duration', 40);
      if (!durationText) throw new UsageError('--duration is required (e.g. 1h)');
      const duration = parseDurationFlag(durationText);
      if (!duration.ok) throw new UsageError(`--duration: ${duration.reason}`);
      const view = OpenView.parse(
        await localRoutes(mode, context).call('POST', '/local/slack/view', { body: { user } }),
      );
      if (view.callback_id !== SLACK_CALLBACK.requestModal)
        throw new CliError('the open modal is not the request modal: type `/pam request` first', 1);
      const reason = textFlag(context.values, 'reason', 1000);
      const ticket = textFlag(context.values, 'ticket', 200);
      const select = (value: string) => ({
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: value }, value },
      });
      const text = (value: string | undefined) => ({ type: 'plain_text_input', value: value ?? null });
      const answer = await submitView(context, mode, slack, user, view, {
        [REQUEST_FIELD.target]: { [REQUEST_FIELD.target]: select(target) },
        [REQUEST_FIELD.duration]: { [REQUEST_FIELD.duration]: select(String(duration.ms)) },
        [REQUEST_FIELD.reason]: { [REQUEST_FIELD.reason]: text(reason) },
        [REQUEST_FIELD.ticket]: { [REQUEST_FIELD.ticket]: text(ticket) },
      });
      context.print(...answerLines(answer));
      return answer.status === 200 && !answer.body.includes('"errors"') ? 0 : 1;
    },
  },
];

/** A view_submission of `view` with the given input state, as the user pressing its submit button. */
async function submitView(
  context: SubcommandContext,
  mode: LocalMode,
  slack: LocalSlack,
  user: string,
  view: z.infer<typeof OpenView>,
  values: Record<string, Record<string, unknown>>,
): Promise<SlackAnswer> {
  const occ = await occurrence(context, mode, user);
  const payload = {
    type: 'view_submission',
    team: { id: occ.teamId, domain: 'local' },
    user: slackUser(user, occ),
    api_app_id: 'A0PAMAPP01',
    token: 'local',
    trigger_id: occ.triggerId,
    view: { ...view, state: { values } },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return postSigned(context, mode, slack, 'interactions', { payload: JSON.stringify(payload) });
}

/** The button with `actionId` for the request in a message's actions blocks. */
function findButton(blocks: readonly unknown[], actionId: string, requestId: string) {
  for (const block of blocks as { type?: string; block_id?: string; elements?: unknown[] }[]) {
    if (block.type !== 'actions') continue;
    for (const element of (block.elements ?? []) as {
      action_id?: string;
      value?: string;
      text?: unknown;
      style?: string;
    }[]) {
      if (element.action_id === actionId && element.value === requestId) {
        return {
          action_id: actionId,
          block_id: block.block_id ?? 'actions',
          value: requestId,
          text: element.text,
          ...(element.style ? { style: element.style } : {}),
        };
      }
    }
  }
  return undefined;
}
