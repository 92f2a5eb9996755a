// Slack in the local runtime: the Web API stand-in (./slack-stand-in.ts) with a Slack account for each
// demo person (and two it must refuse: a guest and a Slack Connect user of another organization), the
// Slack app's credentials (a fresh signing secret and bot token per start, stored in moto's Secrets
// Manager exactly where the stack's secrets are), and the local-only routes the CLI's `pam slack`
// uses to act as Slack would: mint a trigger_id and response_url, find a request's approval message,
// read the modal a user has open. Requests still reach the ingress signed, through the gateway, so
// the real verification runs.
import { randomBytes } from 'node:crypto';
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { SlackConfig } from '#domain/model.ts';
import { ENV } from '#runtime/env-names.ts';
import { DEMO_EMAIL_DOMAIN, DEMO_USERS } from './identity.ts';
import { type SlackStandIn, type SlackStandInUser, startSlackStandIn } from './slack-stand-in.ts';

/** Someone cloud-pam must refuse even though an Identity Store user has the same email. */
export const SLACK_GUEST = 'gina';
export const SLACK_EXTERNAL = 'xavier';
/** The Slack Connect partner's workspace (not allow-listed). */
export const PARTNER_TEAM_ID = 'T0PARTNER01';

/** `alice` → `U0ALICE`: stable, readable Slack user ids for the demo people. */
export function slackIdOf(name: string): string {
  return `U0${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`;
}

export interface LocalSlack {
  readonly standIn: SlackStandIn;
  /** Signs the CLI's requests (kept in `.pam/local.json`, mode 0600). */
  readonly signingSecret: string;
  readonly teamId: string;
  /** Demo name → Slack user id (guest and external included). */
  readonly users: Readonly<Record<string, string>>;
  /** Writes the app's credentials into the secrets the functions read. */
  storeSecrets(
    client: SecretsManagerClient,
    arns: { readonly signingSecret?: string; readonly botToken?: string },
  ): Promise<void>;
  /** What Slack's URLs become for the hosted functions. */
  readonly environment: Readonly<Record<string, string>>;
  /** `/local/slack/…` routes (method + path after `/local/`). */
  readonly localRoutes: Readonly<Record<string, (body: unknown) => Promise<unknown>>>;
}

const userBody = z.strictObject({ user: z.string().min(1).max(64) });
const requestBody = z.strictObject({ requestId: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/) });
const responsesBody = z.strictObject({ responseUrl: z.string().url() });

export async function startLocalSlack(options: {
  readonly config: SlackConfig;
  readonly channels: readonly string[];
  readonly nowMs: () => number;
  /** Runs the event sources until nothing is left (the answers a command caused have been sent). */
  readonly settle: () => Promise<unknown>;
  readonly log: (line: string) => void;
}): Promise<LocalSlack> {
  const teamId = options.config.teamIds[0] ?? 'T0LOCAL0001';
  const people: SlackStandInUser[] = DEMO_USERS.map((user) => ({
    id: slackIdOf(user.name),
    teamId,
    name: user.name,
    email: `${user.name}@${DEMO_EMAIL_DOMAIN}`,
    displayName: user.displayName,
    realName: user.displayName,
  }));
  people.push(
    {
      id: slackIdOf(SLACK_GUEST),
      teamId,
      name: SLACK_GUEST,
      // A guest with an Identity Store user's email is still a guest.
      email: `alice@${DEMO_EMAIL_DOMAIN}`,
      displayName: 'Gina Guest',
      isRestricted: true,
    },
    {
      id: slackIdOf(SLACK_EXTERNAL),
      teamId: PARTNER_TEAM_ID,
      name: SLACK_EXTERNAL,
      email: `bob@${DEMO_EMAIL_DOMAIN}`,
      displayName: 'Xavier Partner',
      isStranger: true,
    },
  );
  const botToken = `xoxb-local-${randomBytes(16).toString('hex')}`;
  const signingSecret = randomBytes(32).toString('hex');
  const standIn = await startSlackStandIn({
    botToken,
    teamId,
    users: people,
    channels: options.channels,
    clock: options.nowMs,
    log: options.log,
  });
  const users = Object.fromEntries(people.map((p) => [p.name ?? p.id, p.id]));
  const homeTeam = new Map(people.map((p) => [p.id, p.teamId ?? teamId]));
  const idOf = (body: unknown) => {
    const { user } = userBody.parse(body);
    const id = users[user];
    if (!id)
      throw new Error(`user: no Slack user ${JSON.stringify(user)} (have ${Object.keys(users).join(', ')})`);
    return id;
  };

  return {
    standIn,
    signingSecret,
    teamId,
    users,
    environment: {
      [ENV.SLACK_API_URL]: standIn.apiUrl,
      [ENV.SLACK_RESPONSE_URL_PREFIX]: standIn.responseUrlPrefix,
    },
    async storeSecrets(client, arns) {
      if (arns.signingSecret)
        await client.send(
          new PutSecretValueCommand({ SecretId: arns.signingSecret, SecretString: signingSecret }),
        );
      if (arns.botToken)
        await client.send(new PutSecretValueCommand({ SecretId: arns.botToken, SecretString: botToken }));
    },
    localRoutes: {
      // What Slack puts in a payload for one occurrence: who (and where), a trigger, a response_url.
      'POST slack/occurrence': async (body) => {
        const userId = idOf(body);
        return {
          teamId,
          userId,
          // A Slack Connect user acts in our workspace but belongs to another (`user.team_id`).
          userTeamId: homeTeam.get(userId) ?? teamId,
          triggerId: standIn.issueTrigger(userId),
          responseUrl: standIn.responseUrlFor({ userId }),
        };
      },
      // The approval message of a request as Slack shows it now (to click its buttons).
      'POST slack/message': async (body) => {
        const { requestId } = requestBody.parse(body);
        for (const [channel, messages] of standIn.messages) {
          if (channel.startsWith('D')) continue; // DMs mention the request too; the approval message is in a channel
          for (const message of [...messages.values()].reverse()) {
            if (hasRequestId(message, requestId))
              return { channel, ts: message.ts, text: message.text, blocks: message.blocks ?? [] };
          }
        }
        throw new Error(`requestId: no approval message for ${requestId} (has notify-slack posted it?)`);
      },
      // The modal a user has open, newest first (after `/pam request` or a Deny click).
      'POST slack/view': async (body) => {
        const userId = idOf(body);
        const view = [...standIn.views.values()]
          .reverse()
          .find((v) => v.type === 'modal' && v.user === userId);
        if (!view) throw new Error('user: has no open modal');
        return view;
      },
      // Waits until the work a command caused is done, then what was posted to its response_url.
      'POST slack/responses': async (body) => {
        const { responseUrl } = responsesBody.parse(body);
        await options.settle();
        // …/hooks/<kind>/<team>/<hook id>/<secret>
        const hook = new URL(responseUrl).pathname.split('/').filter(Boolean).at(-2);
        return standIn.responses
          .filter((response) => response.hook === hook)
          .map((response) => ({
            ok: response.ok,
            text: response.body.text ?? '',
            blocks: response.body.blocks ?? [],
          }));
      },
    },
  };
}

/** Whether a message's footer names the request (a message without buttons still says its id). */
function hasRequestId(
  message: { readonly text: string; readonly blocks?: readonly unknown[] },
  requestId: string,
) {
  return message.text.includes(requestId) || JSON.stringify(message.blocks ?? []).includes(requestId);
}
