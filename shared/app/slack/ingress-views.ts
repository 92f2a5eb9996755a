// What the Slack ingress shows by itself, within Slack's 3 seconds: the loading modal that
// `/pam request` opens (notify-slack fills it with views.update: shared/app/slack/render.ts builds
// the filled modal with the same callback id), the modal that asks a Deny for its reason, and the
// ephemeral answers to `/pam help`, `/pam list`, `/pam link` and refusals. Ids come from ./ids.ts;
// any text a user typed is escaped for mrkdwn (#domain/mrkdwn.ts) before it is shown.
import { escapeMrkdwn } from '#domain/mrkdwn.ts';
import type { SlackView } from '#ports/slack.ts';
import { DENY_FIELD, SLACK_CALLBACK } from './ids.ts';

const plain = (text: string) => ({ type: 'plain_text', text, emoji: true }) as const;

/** An answer to a slash command only its author sees. */
export interface EphemeralReply {
  readonly response_type: 'ephemeral';
  readonly text: string;
}

const ephemeral = (text: string): EphemeralReply => ({ response_type: 'ephemeral', text });

/** Opened at once by `/pam request`; notify-slack replaces it with what the user may request. */
export function loadingRequestModal(): SlackView {
  return {
    type: 'modal',
    callback_id: SLACK_CALLBACK.requestModal,
    title: plain('Request access'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: ':hourglass_flowing_sand: Looking up what you may request…' },
      },
    ],
  };
}

/** Opened by a Deny click: the reason is required, and `private_metadata` carries the request id. */
export function denyReasonModal(requestId: string): SlackView {
  return {
    type: 'modal',
    callback_id: SLACK_CALLBACK.denyModal,
    private_metadata: requestId,
    title: plain('Deny request'),
    submit: plain('Deny'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Deny request \`${escapeMrkdwn(requestId)}\`? The requester will see your reason.`,
        },
      },
      {
        type: 'input',
        block_id: DENY_FIELD.reason,
        label: plain('Reason'),
        element: {
          type: 'plain_text_input',
          action_id: DENY_FIELD.reason,
          multiline: true,
          max_length: 1000,
        },
      },
    ],
  };
}

/** `/pam help`, and the answer to anything `/pam` does not know (named back, escaped). */
export function helpReply(command: string, unknown?: string): EphemeralReply {
  const name = escapeMrkdwn(command);
  const lines = [
    ...(unknown !== undefined ? [`I don't know \`${name} ${escapeMrkdwn(unknown)}\`.`, ''] : []),
    '*cloud-pam*: just-in-time access to AWS accounts.',
    `• \`${name} request\` (or \`${name}\` alone): ask for access; a form opens.`,
    `• \`${name} list\`: your requests, and what waits for your approval.`,
    `• \`${name} link CODE\`: link this Slack account to your AWS identity, with the code \`pam slack link\` printed.`,
    `• \`${name} help\`: this text.`,
    'Approve or deny a request with the buttons on its approval message.',
  ];
  return ephemeral(lines.join('\n'));
}

export const listReply = (): EphemeralReply => ephemeral(':mag: Looking up your requests and approvals…');

export const linkReply = (): EphemeralReply => ephemeral(':link: Linking this Slack account…');

export function linkUsageReply(command: string): EphemeralReply {
  return ephemeral(
    `Usage: \`${escapeMrkdwn(command)} link XXXX-XXXX-XXXX\`, with the code \`pam slack link\` printed for you.`,
  );
}

export const workspaceRefusedReply = (): EphemeralReply =>
  ephemeral('This Slack workspace is not allowed to use cloud-pam.');

export const openViewFailedReply = (): EphemeralReply =>
  ephemeral('Slack could not open the request form just now. Try again in a moment.');

export const unavailableReply = (): EphemeralReply =>
  ephemeral('cloud-pam could not take this just now. Try again in a moment.');
