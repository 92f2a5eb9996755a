// Slack as the bot's e2e tests act it, on a booted local runtime (./support.ts): Slack's own wire
// formats — a slash command form, `block_actions` and `view_submission` interactions (`payload=<JSON>`),
// Events API JSON — signed with the runtime's Slack signing secret at the runtime's clock and posted
// to the gateway's `/slack/*` routes, where the real ingress verifies them; and the `pam slack` CLI
// run in-process, with every body it posts to `/slack/*` recorded. Each occurrence (trigger_id,
// response_url) is minted by the stand-in, as Slack mints them, and every response_url handed out is
// kept, so the last test can look for them in the logs. Nothing here calls a use case: state changes
// only through what the ingress accepts.
import { signSlackRequest } from '#adapters/slack/signature.ts';
import { SLACK_ACTION } from '#app/slack/ids.ts';
import { type CliDeps, defaultDeps } from '../../cli/context.ts';
import type { LocalSlack } from '../../local/slack.ts';
import type { RecordedCall, StandInMessage } from '../../local/slack-stand-in.ts';
import { runCliWith } from '../support/cli-run.ts';
import type { CliRun, E2e } from './support.ts';

export type SlackRoute = 'commands' | 'interactions' | 'events';

export interface SlackAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface SignOptions {
  /** Unix seconds written in X-Slack-Request-Timestamp (default: the runtime's clock now). */
  readonly timestamp?: number;
  /** Signs with this instead of the app's signing secret. */
  readonly secret?: string;
  /** Sends this X-Slack-Signature instead of the one computed. */
  readonly signature?: string;
  /** Headers left out. */
  readonly omit?: readonly ('x-slack-request-timestamp' | 'x-slack-signature')[];
  readonly headers?: Readonly<Record<string, string>>;
}

/** Who acts, where, and the ids Slack gives one occurrence of their action. */
export interface Occurrence {
  readonly user: string;
  readonly userId: string;
  readonly teamId: string;
  readonly triggerId: string;
  readonly responseUrl: string;
}

/** The approval message of a request as the stand-in shows it now. */
export interface ShownMessage {
  readonly channel: string;
  readonly ts: string;
  readonly message: StandInMessage;
}

export interface SlackDriver {
  readonly slack: LocalSlack;
  /** Every response_url handed out in this run (the CLI's and the hand-built payloads'). */
  readonly responseUrls: readonly string[];
  /** `pam …` in-process (as ./support.ts runs it), recording what it posts to `/slack/*`. */
  pam(...argv: string[]): Promise<CliRun>;
  /** The runtime's clock, in Unix seconds (what Slack's timestamp would be). */
  nowSeconds(): number;
  /** Posts `rawBody` to `/slack/<route>`, signed as Slack signs (or as `options` spoil it). */
  post(route: SlackRoute, rawBody: string | Buffer, options?: SignOptions): Promise<SlackAnswer>;
  occurrence(user: string, options?: { readonly message?: ShownMessage }): Occurrence;
  /** A `/pam …` slash command form body. */
  commandBody(occ: Occurrence, text: string, overrides?: Readonly<Record<string, string>>): string;
  /** A click on a button of `shown` (as the stand-in shows it) by `occ`'s user. */
  clickBody(
    occ: Occurrence,
    shown: ShownMessage,
    actionId: string,
    options?: { readonly teamId?: string; readonly userTeamId?: string },
  ): string;
  /** A `view_submission` of the request modal with these inputs. */
  requestSubmissionBody(
    occ: Occurrence,
    fields: { readonly target: string; readonly durationMs: number; readonly reason?: string },
  ): string;
  /** An Events API `event_callback` body for `app_home_opened`. */
  homeOpenedBody(eventId: string, user: string, teamId?: string): string;
  approvalMessage(requestId: string): ShownMessage;
  /** Web API calls recorded from index `from` on. */
  callsSince(from: number): readonly RecordedCall[];
  /** The DMs the app sent to `user` (as Slack shows them), oldest first. */
  dms(user: string): readonly StandInMessage[];
}

/** Every string of a Block Kit payload (text objects, values, ids) in one searchable string. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join('\n');
  if (value && typeof value === 'object') return Object.values(value).map(textOf).join('\n');
  return '';
}

/** The buttons of a message's actions blocks. */
export function buttonsOf(blocks: readonly unknown[] | undefined): {
  action_id?: string;
  value?: string;
  text?: { text?: string };
}[] {
  return (blocks ?? []).flatMap((block) => {
    const { type, elements } = block as { type?: string; elements?: unknown[] };
    return type === 'actions' ? ((elements ?? []) as { action_id?: string; value?: string }[]) : [];
  });
}

function formOf(fields: Readonly<Record<string, string>>): string {
  return new URLSearchParams(fields).toString();
}

export function slackDriver(e2e: E2e): SlackDriver {
  const slack = e2e.runtime.slack;
  if (!slack) throw new Error('the local runtime has no Slack bot (the demo config lost its slack section?)');
  const { standIn } = slack;
  const responseUrls: string[] = [];
  const gateway = e2e.runtime.apiUrl.replace(/\/+$/, '');

  /** Keeps every response_url the CLI sends, in a command form or an interaction payload. */
  const remember = (body: string | undefined) => {
    if (!body) return;
    const form = new URLSearchParams(body);
    const direct = form.get('response_url');
    if (direct) responseUrls.push(direct);
    const payload = form.get('payload');
    if (payload) {
      const url = (JSON.parse(payload) as { response_url?: unknown }).response_url;
      if (typeof url === 'string') responseUrls.push(url);
    }
  };
  const deps: CliDeps = {
    ...defaultDeps,
    fetch: async (url, init) => {
      if (new URL(url).pathname.startsWith('/slack/')) remember(init.body);
      return defaultDeps.fetch(url, init);
    },
  };

  const nowSeconds = () => Math.floor(e2e.runtime.clock.nowMs() / 1000);

  return {
    slack,
    responseUrls,
    async pam(...argv) {
      const run = await runCliWith(deps, argv, {
        env: { PAM_LOCAL_FILE: e2e.runtime.localFile },
        cwd: e2e.stateDir,
      });
      return { ...run, json: <T>() => JSON.parse(run.stdout) as T };
    },
    nowSeconds,
    async post(route, rawBody, options = {}) {
      const bytes = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
      const timestamp = String(options.timestamp ?? nowSeconds());
      const signature =
        options.signature ??
        signSlackRequest({ signingSecret: options.secret ?? slack.signingSecret, timestamp, rawBody: bytes });
      const headers: Record<string, string> = {
        'content-type': route === 'events' ? 'application/json' : 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': signature,
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        ...options.headers,
      };
      for (const name of options.omit ?? []) delete headers[name];
      const response = await fetch(`${gateway}/slack/${route}`, { method: 'POST', headers, body: bytes });
      const body = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body,
        json: <T>() => JSON.parse(body) as T,
      };
    },
    occurrence(user, options = {}) {
      const userId = slack.users[user];
      if (!userId) throw new Error(`no Slack user ${user}`);
      const responseUrl = standIn.responseUrlFor({
        userId,
        ...(options.message
          ? {
              channelId: options.message.channel,
              message: { channel: options.message.channel, ts: options.message.ts },
            }
          : {}),
      });
      responseUrls.push(responseUrl);
      return { user, userId, teamId: slack.teamId, triggerId: standIn.issueTrigger(userId), responseUrl };
    },
    commandBody(occ, text, overrides = {}) {
      return formOf({
        token: 'legacy-verification-token',
        team_id: occ.teamId,
        team_domain: 'example',
        channel_id: 'C0APPROVALS',
        channel_name: 'approvals',
        user_id: occ.userId,
        user_name: occ.user,
        command: '/pam',
        text,
        api_app_id: 'A0PAMAPP01',
        is_enterprise_install: 'false',
        response_url: occ.responseUrl,
        trigger_id: occ.triggerId,
        ...overrides,
      });
    },
    clickBody(occ, shown, actionId, options = {}) {
      const blocks = shown.message.blocks ?? [];
      const block = blocks.find((candidate) =>
        buttonsOf([candidate]).some((button) => button.action_id === actionId),
      ) as { block_id?: string } | undefined;
      const button = buttonsOf(blocks).find((candidate) => candidate.action_id === actionId);
      if (!block || !button) throw new Error(`the message has no ${actionId} button`);
      const teamId = options.teamId ?? occ.teamId;
      return formOf({
        payload: JSON.stringify({
          type: 'block_actions',
          user: { id: occ.userId, username: occ.user, name: occ.user, team_id: options.userTeamId ?? teamId },
          api_app_id: 'A0PAMAPP01',
          token: 'legacy-verification-token',
          container: {
            type: 'message',
            message_ts: shown.ts,
            channel_id: shown.channel,
            is_ephemeral: false,
          },
          trigger_id: occ.triggerId,
          team: { id: teamId, domain: 'example' },
          enterprise: null,
          is_enterprise_install: false,
          channel: { id: shown.channel, name: 'approvals' },
          message: {
            type: 'message',
            ts: shown.ts,
            text: shown.message.text,
            blocks: shown.message.blocks,
          },
          response_url: occ.responseUrl,
          actions: [
            {
              ...button,
              block_id: block.block_id ?? 'actions',
              type: 'button',
              action_ts: `${nowSeconds()}.000100`,
            },
          ],
        }),
      });
    },
    requestSubmissionBody(occ, fields) {
      const select = (value: string) => ({
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: value }, value },
      });
      return formOf({
        payload: JSON.stringify({
          type: 'view_submission',
          team: { id: occ.teamId, domain: 'example' },
          user: { id: occ.userId, username: occ.user, name: occ.user, team_id: occ.teamId },
          api_app_id: 'A0PAMAPP01',
          token: 'legacy-verification-token',
          trigger_id: occ.triggerId,
          view: {
            id: 'V0E2EFORGED',
            type: 'modal',
            callback_id: 'pam-request',
            private_metadata: '',
            hash: '1.e2e',
            blocks: [],
            state: {
              values: {
                target: { target: select(fields.target) },
                duration: { duration: select(String(fields.durationMs)) },
                reason: { reason: { type: 'plain_text_input', value: fields.reason ?? null } },
                ticket: { ticket: { type: 'plain_text_input', value: null } },
              },
            },
          },
          response_urls: [],
          is_enterprise_install: false,
          enterprise: null,
        }),
      });
    },
    homeOpenedBody(eventId, user, teamId = slack.teamId) {
      const userId = slack.users[user] ?? user;
      return JSON.stringify({
        token: 'legacy-verification-token',
        team_id: teamId,
        api_app_id: 'A0PAMAPP01',
        event: { type: 'app_home_opened', user: userId, channel: 'D0HOME0001', tab: 'home' },
        type: 'event_callback',
        event_id: eventId,
        event_time: nowSeconds(),
        authorizations: [{ team_id: teamId, user_id: 'U0PAMBOT01', is_bot: true }],
      });
    },
    approvalMessage(requestId) {
      for (const [channel, messages] of standIn.messages) {
        if (channel.startsWith('D')) continue;
        for (const message of messages.values())
          if (textOf(message.blocks).includes(requestId)) return { channel, ts: message.ts, message };
      }
      throw new Error(`no approval message for ${requestId}`);
    },
    callsSince(from) {
      return standIn.calls.slice(from);
    },
    dms(user) {
      const userId = slack.users[user];
      const channel = userId ? standIn.dmChannelOf(userId) : undefined;
      return channel ? [...(standIn.messages.get(channel)?.values() ?? [])] : [];
    },
  };
}

/** The approval button ids, for tests that name them. */
export const APPROVE = SLACK_ACTION.approve;
export const DENY = SLACK_ACTION.deny;
