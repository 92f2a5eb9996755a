// The drift sweep's three ways in (functions/sweep-drift), each validated with zod:
// - the daily EventBridge schedule ("Scheduled Event") → a full sweep, the guarantee;
// - the EventBridge rule on CloudTrail `CreateAccountAssignment` calls not made by cloud-pam →
//   a sweep scoped to `detail.requestParameters` (targetId = account, permissionSetArn);
// - a direct invocation `{ scope: { accountId?, permissionSetArn? } }` (operators).
// `source` picks the schema, so a malformed event is refused with the fields of the kind it claims.
import type { DriftScope } from '#app/grants/drift.ts';
import { optional } from '#domain/optional.ts';
import * as z from '#domain/zod.ts';
import { parseEvent } from './parse.ts';

const accountId = z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit AWS account id'));
const permissionSetArn = z
  .string()
  .check(
    z.regex(/^arn:aws[\w-]*:sso:::permissionSet\/ssoins-[\w-]+\/ps-[\w-]+$/, 'expected a permission set ARN'),
  );

/** The CloudTrail record of a `CreateAccountAssignment` call, as EventBridge delivers it. */
export const AssignmentCallEvent = z.looseObject({
  source: z.literal('aws.sso'),
  'detail-type': z.literal('AWS API Call via CloudTrail'),
  detail: z.looseObject({
    eventSource: z.literal('sso.amazonaws.com'),
    eventName: z.literal('CreateAccountAssignment'),
    requestParameters: z.looseObject({
      targetId: accountId,
      targetType: z.literal('AWS_ACCOUNT'),
      permissionSetArn,
      principalType: z.enum(['USER', 'GROUP']),
      principalId: z.string().check(z.minLength(1), z.maxLength(64)),
    }),
  }),
});
export const ScheduledSweepEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});
export const ScopedSweepInput = z.strictObject({
  scope: z.strictObject({ accountId: z.optional(accountId), permissionSetArn: z.optional(permissionSetArn) }),
});

export interface DriftSweepInput {
  /** What to sweep; a full sweep is `{}`. */
  readonly scope: DriftScope;
  /** Who the CloudTrail call assigned (only USER assignments are swept; a GROUP one is worth a log key). */
  readonly principal?: { readonly principalType: 'USER' | 'GROUP'; readonly principalId: string };
}

/** What an invocation of the sweep asks for; anything malformed is a ValidationError naming the field. */
export function driftSweepInput(event: unknown): DriftSweepInput {
  const source = (event as { source?: unknown } | null)?.source;
  if (source === 'aws.events') {
    parseEvent(ScheduledSweepEvent, event, 'event');
    return { scope: {} };
  }
  if (source === 'aws.sso') {
    const call = parseEvent(AssignmentCallEvent, event, 'event').detail.requestParameters;
    return {
      scope: { accountId: call.targetId, permissionSetArn: call.permissionSetArn },
      principal: { principalType: call.principalType, principalId: call.principalId },
    };
  }
  const { scope } = parseEvent(ScopedSweepInput, event, 'input');
  return {
    scope: {
      ...optional('accountId', scope.accountId),
      ...optional('permissionSetArn', scope.permissionSetArn),
    },
  };
}
