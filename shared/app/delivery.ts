// The sender's id for one occurrence of a command (the commands queue's `delivery` field). Kept
// apart from the queue contract so every sender can import it without importing the dispatcher.
import * as z from '#domain/zod.ts';

/**
 * Which occurrence a command is: the sender's own id for it. `process-command` is idempotent per
 * delivery (24 h), never per body — the engine's bodies repeat by design (react-to-change's early
 * `start`, the start schedule and the reconciler send the same `start`), so a body key would answer
 * a due command from the cache of an early one.
 */
export const DeliverySchema = z.discriminatedUnion('by', [
  // EventBridge Scheduler fills these context attributes in when it invokes the target.
  z.strictObject({
    by: z.literal('schedule'),
    schedule: z
      .string()
      .check(
        z.regex(
          /^arn:aws[\w-]*:scheduler:[\w-]+:\d{12}:schedule\/[\w.-]+\/[\w.-]+$/,
          'expected a schedule ARN',
        ),
      ),
    at: z.iso.datetime(),
  }),
  // react-to-change: the access-table stream record the command reacts to.
  z.strictObject({
    by: z.literal('stream'),
    eventId: z.string().check(z.regex(/^[\w-]{1,128}$/, 'expected a stream eventID')),
  }),
  // The reconciler: one id per pass (its scheduled event's id), so a retried pass is one delivery.
  z.strictObject({
    by: z.literal('reconciler'),
    pass: z.string().check(z.regex(/^[\w-]{1,128}$/, 'expected a pass id')),
  }),
  // An authenticated ingress: the API Gateway request id of the call that sent it.
  z.strictObject({
    by: z.literal('api'),
    requestId: z.string().check(z.regex(/^[\w-]{1,128}$/, 'expected a request id')),
  }),
  // The Slack ingress: Slack's id for the occurrence (`trigger_id` of a command or click), never the
  // action id (the same on every click of one button: two approvers' clicks must both count).
  z.strictObject({
    by: z.literal('slack'),
    id: z.string().check(z.regex(/^[\w.-]{1,128}$/, 'expected a Slack trigger_id')),
  }),
  // The provisioning worker: the lease write that settled the assignment (tuple key and version).
  z.strictObject({
    by: z.literal('provisioning'),
    lease: z.string().check(z.regex(/^[0-9a-f]{40}$/, 'expected a lease key')),
    version: z.int().check(z.nonnegative()),
  }),
]);
export type Delivery = z.infer<typeof DeliverySchema>;

/** What a schedule's target input carries: Scheduler replaces the keywords when it fires. */
export const SCHEDULED_DELIVERY = {
  by: 'schedule',
  schedule: '<aws.scheduler.schedule-arn>',
  at: '<aws.scheduler.scheduled-time>',
} as const;
