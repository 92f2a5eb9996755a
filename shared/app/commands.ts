// The commands queue contract (FIFO, MessageGroupId = request id) and its dispatcher. Slack clicks,
// schedules and the reconciler send these; `process-command` validates each body with zod and runs
// the same use cases as `/v1`. A policy refusal is final (audited, not retried); anything else
// propagates so SQS retries and, in the end, dead-letters it.
import { z } from 'zod';
import { NotFoundError, PamError } from '#domain/errors.ts';
import type { AccessRequest } from '#domain/model.ts';
import type { PermissionSets, Scheduler, WorkQueue } from '#ports/grants.ts';
import type { CoreDeps } from './deps.ts';
import { startScheduleName } from './grants/react-to-change.ts';
import { tupleGroup, tuplesOf } from './grants/tuples.ts';

/** The grant engine's parts the commands worker needs (absent in a core-only set-up). */
export interface CommandGrantDeps {
  readonly scheduler: Scheduler;
  readonly provisioningQueue: WorkQueue;
  readonly permissionSets: PermissionSets;
}

import { makeApplySystemCommand, makeDecideRequest, makeSystemRevoke } from './requests.ts';

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
  z.strictObject({ action: z.literal('start'), requestId }),
  z.strictObject({ action: z.literal('system-revoke'), requestId, reason: z.string().min(1).max(500) }),
  z.strictObject({
    action: z.literal('assignment-succeeded'),
    requestId,
    accountId: z.string().regex(/^\d{12}$/),
  }),
  z.strictObject({
    action: z.literal('assignment-failed'),
    requestId,
    accountId: z.string().regex(/^\d{12}$/),
    failure: z.string().max(500),
  }),
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

export function makeProcessCommand(deps: CoreDeps & { grants?: CommandGrantDeps }) {
  const decideRequest = makeDecideRequest(deps);
  const applySystemCommand = makeApplySystemCommand(deps);
  const systemRevoke = makeSystemRevoke(deps);

  /** APPROVED → SCHEDULED (start schedule first) or → PROVISIONING once the start time has come. */
  async function start(requestId: string): Promise<CommandResult> {
    const request = await deps.store.get(requestId);
    if (!request) throw new NotFoundError(`no request '${requestId}'`);
    const due = !request.startAt || Date.parse(request.startAt) <= deps.clock.now().getTime();
    if (request.status === 'APPROVED' && !due) {
      if (!deps.grants) throw new Error('a scheduled start needs the grant engine');
      await deps.grants.scheduler.ensure({
        name: startScheduleName(request.id),
        at: new Date(request.startAt as string),
        target: 'commands',
        messageGroupId: request.id,
        body: { action: 'start', requestId: request.id },
      });
      const { request: next, changed } = await applySystemCommand(requestId, { type: 'schedule' });
      return { outcome: changed ? 'applied' : 'no-op', request: next };
    }
    if ((request.status === 'APPROVED' || request.status === 'SCHEDULED') && due) {
      const { request: next, changed } = await applySystemCommand(requestId, { type: 'start-provisioning' });
      return { outcome: changed ? 'applied' : 'no-op', request: next };
    }
    return { outcome: 'no-op', request };
  }

  /** A result for a request that no longer wants access: release what was made for it. */
  async function releaseLate(request: AccessRequest, accountId: string): Promise<void> {
    if (!deps.grants || request.status === 'PROVISIONING' || request.status === 'ACTIVE') return;
    if (request.status === 'EXTENSION_PENDING') return;
    const tuple = tuplesOf(request, deps.grants.permissionSets).find((t) => t.accountId === accountId);
    if (tuple) {
      await deps.grants.provisioningQueue.send({
        messageGroupId: tupleGroup(tuple),
        body: { op: 'release', requestId: request.id, tuple },
      });
    }
  }

  return async (command: QueueCommand): Promise<CommandResult> => {
    try {
      switch (command.action) {
        case 'start':
          return await start(command.requestId);
        case 'system-revoke': {
          const { request, changed } = await systemRevoke(command.requestId, command.reason);
          return { outcome: changed ? 'applied' : 'no-op', request };
        }
        case 'assignment-succeeded':
        case 'assignment-failed': {
          const systemCommand =
            command.action === 'assignment-succeeded'
              ? ({ type: 'assignment-succeeded', accountId: command.accountId } as const)
              : ({
                  type: 'assignment-failed',
                  accountId: command.accountId,
                  failure: command.failure,
                } as const);
          const { request, changed } = await applySystemCommand(command.requestId, systemCommand);
          if (!changed && command.action === 'assignment-succeeded')
            await releaseLate(request, command.accountId);
          return { outcome: changed ? 'applied' : 'no-op', request };
        }
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
