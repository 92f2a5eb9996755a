// process-command as wired once, for its handler and its tests: a record's body parsed as a command
// (shared/adapters/lambda-events/queue-records.ts), its sender checked before anything else reads it,
// then the command processed at most once per delivery. A command that arrives early and is not due
// yet comes back as `not-due` and is not remembered, so its due delivery still runs. Ports in (the
// at-most-once wrapper included: Powertools Idempotency on DynamoDB in the function), no environment,
// no AWS clients.
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { parseCommandMessage } from '#adapters/lambda-events/queue-records.ts';
import type { SlackActors } from '#app/commands.ts';
import { type CommandMessage, deliveryKey, makeProcessCommand, type ProcessOptions } from '#app/commands.ts';
import type { GrantDeps } from '#app/grants/deps.ts';
import { auditRefusedSender, type CommandSenders, checkSender } from '#app/senders.ts';
import type { SlackOrigin } from '#app/slack/jobs.ts';
import { auditSlackRefusal, replyToSlack, type SlackReplyDeps } from '#app/slack/replies.ts';
import type { SlackRefusalReason } from '#domain/errors.ts';
import { COMMAND_SENDER_REFUSED_METRIC, SLACK_USER_REFUSED_METRIC } from '#runtime/metric-names.ts';

/** The section that must run at most once per delivery key (`input.key`). */
export type ProcessOnce = (
  input: { readonly key: string; readonly command: CommandMessage },
  options: ProcessOptions,
) => Promise<{ readonly outcome: string }>;

/** The Slack bot's part in the worker: who a Slack user is, and how to answer them. */
export interface ProcessCommandSlack {
  readonly actors: SlackActors;
  readonly reply: SlackReplyDeps;
}

export interface ProcessCommandOptions {
  /** Who may send which command (COMMAND_SENDERS). */
  readonly senders: CommandSenders;
  /** Present when the deployment has a Slack bot. */
  readonly slack?: ProcessCommandSlack;
  /** Makes `section` run at most once per key; a throw out of it is not remembered. */
  readonly once: (section: ProcessOnce) => ProcessOnce;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'addMetric'>;
}

/** A commands-queue record as this function reads it. */
export interface CommandRecord {
  readonly body: string;
  /** SQS's `SenderId` attribute: the sending role's unique id and session. */
  readonly senderId: string | undefined;
}

/** Thrown out of the at-most-once section so that an early command is not remembered. */
class NotDueYet extends Error {
  constructor(readonly dueAt: string) {
    super(`not due until ${dueAt}`);
    this.name = 'NotDueYet';
  }
}

export function buildProcessCommand(
  deps: GrantDeps,
  { senders, once, logger, metrics, slack }: ProcessCommandOptions,
) {
  const processCommand = makeProcessCommand({
    ...deps,
    ...(slack ? { slackActors: slack.actors } : {}),
    grants: {
      scheduler: deps.scheduler,
      provisioningQueue: deps.provisioningQueue,
      permissionSets: deps.permissionSets,
      tuples: deps.tuples,
    },
  });

  const processOnce = once(async (input, options) => {
    const result = await processCommand(input.command, options);
    if (result.outcome === 'not-due') throw new NotDueYet(result.dueAt);
    if (result.outcome === 'refused') {
      logger.info('command refused', { code: result.code });
      metrics.addMetric('CommandRefused', MetricUnit.Count, 1);
      const origin = 'slack' in input.command ? input.command.slack : undefined;
      if (origin && slack) await answerSlackRefusal(input.command, origin, result);
    } else {
      logger.info('command processed', { outcome: result.outcome, status: result.request.status });
    }
    return { outcome: result.outcome };
  });

  /**
   * Tells the Slack user why nothing happened. A refusal of the Slack user themself (workspace,
   * guest, external, no identity) is also audited and counted; a policy refusal was audited by the
   * use case. Inside the at-most-once section, so a redelivery does not answer twice.
   */
  async function answerSlackRefusal(
    command: CommandMessage,
    origin: SlackOrigin,
    refusal: { readonly message: string; readonly slackReason?: SlackRefusalReason },
  ): Promise<void> {
    if (!slack) return;
    if (refusal.slackReason) {
      metrics.addMetric(SLACK_USER_REFUSED_METRIC, MetricUnit.Count, 1);
      await auditSlackRefusal(deps, {
        action: command.action,
        requestId: command.requestId,
        origin,
        reason: refusal.slackReason,
      });
    }
    await replyToSlack(
      slack.reply,
      origin,
      `cloud-pam could not ${command.action} ${command.requestId}: ${refusal.message}`,
    );
  }

  /**
   * One record. A malformed one throws (it can never succeed: DLQ and alarm); so does a delivery
   * too early to wait for in this invocation (DeliveryTooEarlyError, `options.waitUntil`).
   */
  return async function processRecord(record: CommandRecord, options: ProcessOptions) {
    const command = parseCommandMessage(record.body);
    logger.appendKeys({
      requestId: command.requestId,
      action: command.action,
      delivery: command.delivery.by,
    });
    // Who sent it decides whether it is read at all: a decision from anything but an ingress, or an
    // engine fact from anything but the function that knows it, is refused and never retried.
    const verdict = checkSender(command.action, record.senderId, senders);
    if (!verdict.accepted) {
      logger.warn('command refused: sender may not send it', {
        senderRoleId: verdict.senderRoleId ?? null,
        sentAs: verdict.sentAs,
      });
      metrics.addMetric(COMMAND_SENDER_REFUSED_METRIC, MetricUnit.Count, 1);
      await auditRefusedSender(deps, { action: command.action, requestId: command.requestId, verdict });
      return { outcome: 'refused' };
    }
    try {
      return await processOnce({ key: deliveryKey(command), command }, options);
    } catch (error) {
      if (error instanceof NotDueYet) {
        logger.info('command not due yet; not remembered', { dueAt: error.dueAt });
        return { outcome: 'not-due' };
      }
      throw error;
    }
  };
}
