// Answers to a Slack user after the acknowledgement: a refusal of what they asked (not eligible, not
// an approver, a guest, no identity) reaches them ephemerally through the `response_url` of their
// command or click, else as a DM. The decision is already committed (or refused and audited) when
// the answer goes out, so a Slack outage loses only the answer: it is counted and logged, never
// retried into a second decision. A refusal of the Slack user themself is audited on the system chain.
import type { SlackRefusalReason } from '#domain/errors.ts';
import { escapeMrkdwn } from '#domain/mrkdwn.ts';
import type { AuditLog, Clock } from '#ports/index.ts';
import type { SlackApi, SlackReplyTarget } from '#ports/slack.ts';
import { systemRejection } from '../rejections.ts';

export interface SlackReplyDeps {
  readonly slack: Pick<SlackApi, 'respond' | 'postMessage'>;
  /** Called when an answer could not be delivered (metric + log: never the URL or the text). */
  readonly undelivered: (why: string) => void;
}

/** Sends `text` (escaped: it may quote the user's own input) to the Slack user; never throws. */
export async function replyToSlack(
  deps: SlackReplyDeps,
  target: SlackReplyTarget,
  text: string,
): Promise<void> {
  const message = { text: escapeMrkdwn(text) };
  try {
    if (target.responseUrl) await deps.slack.respond(target.responseUrl, message);
    else await deps.slack.postMessage(target.userId, message);
  } catch (error) {
    deps.undelivered(error instanceof Error && 'code' in error ? String(error.code) : 'error');
  }
}

/** Records that a Slack user was refused (workspace, guest, external, no identity) on `system`. */
export async function auditSlackRefusal(
  deps: { readonly audit: AuditLog; readonly clock: Clock },
  refusal: {
    readonly action: string;
    readonly requestId: string | null;
    readonly origin: SlackReplyTarget;
    readonly reason: SlackRefusalReason;
  },
): Promise<void> {
  await deps.audit.append(
    systemRejection(deps.clock.now(), {
      requestId: refusal.requestId,
      reason: `refused ${refusal.action} from Slack: ${refusal.reason}`,
      details: {
        check: 'slack-identity',
        action: refusal.action,
        slackReason: refusal.reason,
        slackTeamId: refusal.origin.teamId,
        slackUserId: refusal.origin.userId,
      },
    }),
  );
}
