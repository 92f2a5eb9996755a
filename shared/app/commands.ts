// The commands queue contract (FIFO, MessageGroupId = request id) and its dispatcher. Slack clicks,
// schedules and the reconciler send these; `process-command` validates each body with zod and runs
// the same use cases as `/v1`. A policy refusal is final (audited, not retried); anything else
// propagates so SQS retries and, in the end, dead-letters it.
import { z } from 'zod';
import { PamError } from '#domain/errors.ts';
import type { AccessRequest } from '#domain/model.ts';
import type { CoreDeps } from './deps.ts';
import { makeApplySystemCommand, makeDecideRequest } from './requests.ts';

const requestId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID');
const userId = z.string().min(1).max(64);
const comment = z.string().max(1000).optional();

export const QueueCommandSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.enum(['approve', 'deny', 'cancel', 'revoke', 'review']),
    requestId,
    actorId: userId,
    comment,
    commandId: z.string().max(64).optional(),
  }),
  z.strictObject({
    action: z.literal('extend'),
    requestId,
    actorId: userId,
    additionalMs: z.number().int().positive(),
    comment,
    commandId: z.string().max(64).optional(),
  }),
  z.strictObject({ action: z.literal('timeout'), requestId }),
  z.strictObject({
    action: z.literal('expire'),
    requestId,
    grantVersion: z.number().int().positive(),
    expiresAt: z.iso.datetime(),
  }),
]);
export type QueueCommand = z.infer<typeof QueueCommandSchema>;

export type CommandResult =
  | { readonly outcome: 'applied'; readonly request: AccessRequest }
  | { readonly outcome: 'no-op'; readonly request: AccessRequest }
  | { readonly outcome: 'refused'; readonly code: string };

export function makeProcessCommand(deps: CoreDeps) {
  const decideRequest = makeDecideRequest(deps);
  const applySystemCommand = makeApplySystemCommand(deps);
  return async (command: QueueCommand): Promise<CommandResult> => {
    try {
      switch (command.action) {
        case 'timeout':
        case 'expire': {
          const systemCommand =
            command.action === 'timeout'
              ? ({ type: 'timeout', approvalTimeoutMs: deps.catalog.config.approvalTimeoutMs } as const)
              : ({ type: 'expire', grantVersion: command.grantVersion } as const);
          const { request, changed } = await applySystemCommand(command.requestId, systemCommand);
          return { outcome: changed ? 'applied' : 'no-op', request };
        }
        default: {
          const request = await decideRequest({
            action: command.action,
            actorId: command.actorId,
            requestId: command.requestId,
            ...(command.comment === undefined ? {} : { comment: command.comment }),
            ...(command.action === 'extend' ? { additionalMs: command.additionalMs } : {}),
          });
          return { outcome: 'applied', request };
        }
      }
    } catch (error) {
      if (error instanceof PamError && isFinal(error)) return { outcome: 'refused', code: error.code };
      throw error;
    }
  };
}

/** Retrying cannot change these answers; a race or an unavailable audit log can resolve on retry. */
function isFinal(error: PamError): boolean {
  return error.code !== 'CONCURRENT_MODIFICATION' && error.code !== 'AUDIT_UNAVAILABLE';
}
