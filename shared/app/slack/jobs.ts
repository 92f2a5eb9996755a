// The Slack work queue contract (FIFO): what the Slack ingress and react-to-change hand to the
// notify-slack worker. A render job is grouped by request id, so a stale render never lands after a
// fresh one; the others by the Slack user. Each carries the sender's id for its occurrence
// (`trigger_id`, `event_id` or the stream record), which the worker remembers for 24 h so a Slack
// retry past SQS's 5-minute deduplication window is still done once.
import * as z from '#domain/zod.ts';

const teamId = z.string().check(z.regex(/^T[A-Z0-9]{2,30}$/, 'expected a Slack team id'));
const enterpriseId = z.string().check(z.regex(/^E[A-Z0-9]{2,30}$/, 'expected a Slack enterprise id'));
const slackUserId = z.string().check(z.regex(/^[UW][A-Z0-9]{2,30}$/, 'expected a Slack user id'));
const requestId = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID'));

/** Who acted in Slack, and where a deferred answer goes (`response_url`: a credential, never logged). */
export const SlackOriginSchema = z.strictObject({
  teamId,
  enterpriseId: z.optional(enterpriseId),
  userId: slackUserId,
  responseUrl: z.optional(
    z.string().check(z.maxLength(500), z.regex(/^https?:\/\/[^\s]+$/, 'expected an http(s) URL')),
  ),
});
export type SlackOrigin = z.infer<typeof SlackOriginSchema>;

/** Slack's id for one occurrence: `trigger_id` of a command or click, `event_id` of an event. */
export const SlackDeliverySchema = z.strictObject({
  by: z.literal('slack'),
  id: z.string().check(z.regex(/^[\w.-]{1,128}$/, 'expected a Slack trigger_id or event_id')),
});

export const SlackJobSchema = z.discriminatedUnion('kind', [
  // react-to-change, for every change of a request: render its approval message and DM from the
  // request's current state. `version` is the change that caused it (deduplication only: what is
  // shown is read at send time, never taken from the job).
  z.strictObject({ kind: z.literal('render'), requestId, version: z.int().check(z.positive()) }),
  // `/pam request`: the ingress opened a loading modal; fill it with what the user may request.
  z.strictObject({
    kind: z.literal('fill-request-modal'),
    viewId: z.string().check(z.regex(/^V[A-Z0-9]{2,30}$/, 'expected a Slack view id')),
    origin: SlackOriginSchema,
    delivery: SlackDeliverySchema,
  }),
  // `/pam list`: my requests and what awaits my approval, answered through response_url.
  z.strictObject({ kind: z.literal('list'), origin: SlackOriginSchema, delivery: SlackDeliverySchema }),
  // `/pam link <code>`: bind this Slack user to the Identity Store user who made the code.
  z.strictObject({
    kind: z.literal('link'),
    code: z.string().check(z.regex(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/, 'expected a link code')),
    origin: SlackOriginSchema,
    delivery: SlackDeliverySchema,
  }),
  // Events API `app_home_opened`: publish the user's App Home.
  z.strictObject({ kind: z.literal('home'), origin: SlackOriginSchema, delivery: SlackDeliverySchema }),
]);
export type SlackJob = z.infer<typeof SlackJobSchema>;

// The job's keys live in ./job-keys.ts, which builds no schema: the Slack ingress needs them and not
// the schemas above (building them is ~1.5 ms of its cold start; bench/slack-ingress).
export { slackJobGroup, slackJobKey } from './job-keys.ts';

/** The roles that put jobs on the Slack work queue. */
export const SLACK_JOB_SENDERS = ['ingress', 'react-to-change'] as const;
export type SlackJobSender = (typeof SLACK_JOB_SENDERS)[number];

/**
 * Who may send which job: renders come from the stream consumer (they carry no state, so a forged
 * one only re-renders the truth), everything a Slack user asked for from the ingress that verified
 * the signature. notify-slack checks each job's SQS `SenderId` against this.
 */
export const JOB_SENT_BY: Readonly<Record<SlackJob['kind'], SlackJobSender>> = {
  render: 'react-to-change',
  'fill-request-modal': 'ingress',
  list: 'ingress',
  link: 'ingress',
  home: 'ingress',
};

/**
 * How many times SQS hands a Slack job out before its dead-letter queue (the queue's
 * maxReceiveCount): with the visibility timeout, a Slack outage of about an hour and a half is
 * ridden out; on the last receive a failure is counted (SLACK_DELIVERY_FAILED_METRIC).
 */
export const SLACK_WORK_MAX_RECEIVES = 8;
