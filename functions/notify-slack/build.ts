// notify-slack as wired once, for its handler and its tests: a Slack work queue record's body read as
// a job (shared/app/slack/jobs.ts), its sender checked before anything else reads it (a render only
// from react-to-change, everything a Slack user asked for only from the ingress that verified the
// signature), then the job done at most once per Slack occurrence. A job that fails is retried by
// SQS; on its last receive the failure is counted and logged (SLACK_DELIVERY_FAILED_METRIC) before it
// goes to the dead-letter queue: an access decision never waits for Slack, and Slack never loses one
// silently. Ports in, no environment, no AWS clients.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { parseJsonRecord } from '#adapters/lambda-events/parse.ts';
import { parseSendersJson, senderRoleId } from '#app/senders.ts';
import {
  JOB_SENT_BY,
  SLACK_JOB_SENDERS,
  type SlackJob,
  SlackJobSchema,
  type SlackJobSender,
  slackJobKey,
} from '#app/slack/jobs.ts';
import * as z from '#domain/zod.ts';
import { SLACK_DELIVERY_FAILED_METRIC } from '#runtime/metric-names.ts';

/** Role ids (`AROA…`) per job sender, as the stack writes them (SLACK_JOB_SENDERS). */
export type SlackJobSenders = Readonly<Record<SlackJobSender, readonly string[]>>;

const roleIds = z.array(
  z.string().check(z.regex(/^AROA[A-Z0-9]{8,124}$/, 'expected an IAM role id (AROA…)')),
);
const SendersSchema = z.strictObject({ ingress: roleIds, 'react-to-change': roleIds });

/** Reads notify-slack's senders (SLACK_JOB_SENDERS); throws (the cold start fails) when malformed. */
export function parseSlackJobSenders(json: string, from: string): SlackJobSenders {
  return parseSendersJson(SendersSchema, json, from);
}

/** Whether the job's kind may come from the role that sent it. */
export function jobSenderAccepted(
  job: SlackJob,
  senderId: string | undefined,
  senders: SlackJobSenders,
): boolean {
  const id = senderRoleId(senderId);
  const allowed = JOB_SENT_BY[job.kind];
  return id !== undefined && SLACK_JOB_SENDERS.includes(allowed) && senders[allowed].includes(id);
}

/** A Slack work queue record as this function reads it. */
export interface SlackJobRecord {
  readonly body: string;
  readonly senderId: string | undefined;
  /** How many times SQS has handed this message out (1 on the first delivery). */
  readonly receiveCount: number;
}

export interface NotifySlackOptions {
  readonly senders: SlackJobSenders;
  /** Does the job (shared/app/slack/notify.ts); throws when Slack failed, so SQS retries. */
  readonly handle: (job: SlackJob) => Promise<{ readonly outcome: string }>;
  /** Makes `section` run at most once per key; a throw out of it is not remembered. */
  readonly once: (
    section: (input: {
      readonly key: string;
      readonly job: SlackJob;
    }) => Promise<{ readonly outcome: string }>,
  ) => (input: { readonly key: string; readonly job: SlackJob }) => Promise<{ readonly outcome: string }>;
  /** The queue's maxReceiveCount: the receive on which a failure is final. */
  readonly maxReceiveCount: number;
  readonly logger: Logger;
  readonly metrics: {
    addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
  };
}

export function buildNotifySlack({
  senders,
  handle,
  once,
  maxReceiveCount,
  logger,
  metrics,
}: NotifySlackOptions) {
  const handleOnce = once(async (input) => handle(input.job));

  return async function processRecord(record: SlackJobRecord): Promise<{ readonly outcome: string }> {
    const job = parseJsonRecord(SlackJobSchema, record.body, 'job');
    logger.appendKeys({ job: job.kind, ...(job.kind === 'render' ? { requestId: job.requestId } : {}) });
    if (!jobSenderAccepted(job, record.senderId, senders)) {
      // Nothing a refused sender asks for is done; retrying cannot change who sent it.
      logger.warn('Slack job refused: its sender may not send it', {
        senderRoleId: senderRoleId(record.senderId) ?? null,
      });
      return { outcome: 'refused' };
    }
    try {
      const result = await handleOnce({ key: slackJobKey(job), job });
      logger.info('Slack job done', { outcome: result.outcome });
      return result;
    } catch (error) {
      const final = record.receiveCount >= maxReceiveCount;
      logger.error(
        final ? 'Slack job failed for the last time: dead-lettered' : 'Slack job failed; SQS retries it',
        {
          receiveCount: record.receiveCount,
          error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
        },
      );
      if (final) metrics.addMetric(SLACK_DELIVERY_FAILED_METRIC, MetricUnit.Count, 1);
      throw error;
    }
  };
}
