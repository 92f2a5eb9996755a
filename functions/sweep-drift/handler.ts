// The drift sweep (shared/app/grants/drift.ts). Three ways in, each validated with zod:
// - the daily EventBridge schedule ("Scheduled Event") → a full sweep, the guarantee;
// - the EventBridge rule on CloudTrail `CreateAccountAssignment` calls not made by cloud-pam →
//   a sweep scoped to `detail.requestParameters` (targetId = account, permissionSetArn);
// - a direct invocation `{ scope: { accountId?, permissionSetArn? } }` (operators, a re-check
//   once an assignment's grace period has passed).
// Drift mode and grace come from the bundled config, never the environment. The sweep stops a
// minute before the Lambda timeout; items that failed fail the invocation so its alarm fires.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import type { DriftReport, DriftScope } from '#app/grants/drift.ts';
import { ValidationError } from '#domain/errors.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { buildDriftSweep } from '#runtime/drift-sweep.ts';
import { readEnv } from '#runtime/env.ts';
import { CORE_ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { formatIssues } from '#runtime/http.ts';
import { logger, metrics, tracer } from '#runtime/powertools.ts';

const env = readEnv({
  ...CORE_ENV,
});
const grants = buildGrantDeps(buildCoreDeps(env));
const sweep = buildDriftSweep(grants, env.ACCESS_TABLE_NAME);

const accountId = z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id');
const permissionSetArn = z
  .string()
  .regex(/^arn:aws[\w-]*:sso:::permissionSet\/ssoins-[\w-]+\/ps-[\w-]+$/, 'expected a permission set ARN');

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
      principalId: z.string().min(1).max(64),
    }),
  }),
});
export const ScheduledSweepEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});
export const ScopedSweepInput = z.strictObject({
  scope: z.strictObject({ accountId: accountId.optional(), permissionSetArn: permissionSetArn.optional() }),
});

function parse<S extends z.ZodType>(schema: S, value: unknown, root: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(formatIssues(parsed.error.issues, root));
  return parsed.data;
}

/** The sweep's scope for an invocation; a full sweep is `{}`. */
export function scopeOf(event: unknown): DriftScope {
  const source = (event as { source?: unknown } | null)?.source;
  if (source === 'aws.events') {
    parse(ScheduledSweepEvent, event, 'event');
    return {};
  }
  if (source === 'aws.sso') {
    const call = parse(AssignmentCallEvent, event, 'event').detail.requestParameters;
    // Only USER assignments are swept (group assignments are not listed); a GROUP one is logged.
    logger.appendKeys({ principalType: call.principalType, principalId: call.principalId });
    return { accountId: call.targetId, permissionSetArn: call.permissionSetArn };
  }
  const { scope } = parse(ScopedSweepInput, event, 'input');
  return {
    ...(scope.accountId === undefined ? {} : { accountId: scope.accountId }),
    ...(scope.permissionSetArn === undefined ? {} : { permissionSetArn: scope.permissionSetArn }),
  };
}

async function handleSweep(event: unknown, context: Context): Promise<DriftReport> {
  const scope = scopeOf(event);
  logger.appendKeys({ scope });
  const report = await sweep(scope, { shouldStop: () => context.getRemainingTimeInMillis() < 60_000 });
  logger.info('drift sweep done', {
    listed: report.listed,
    assignments: report.assignments,
    drift: report.drift,
    withinGrace: report.withinGrace,
    forgotten: report.forgotten,
    truncated: report.truncated,
  });
  if (report.failures.length > 0 || report.truncated) {
    logger.error('drift sweep incomplete', { failures: report.failures, truncated: report.truncated });
    throw new Error(
      `drift sweep incomplete: ${report.failures.length} failure(s), truncated=${report.truncated}`,
    );
  }
  return report;
}

export const handler = middy(handleSweep)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(logMetrics(metrics));
