// The commands queue contract (FIFO, MessageGroupId = request id) and its dispatcher. Slack clicks,
// schedules and the reconciler send these; `process-command` validates each body with zod and runs
// the same use cases as `/v1`. A policy refusal is final (audited, not retried); anything else
// propagates so SQS retries and, in the end, dead-letters it.
import { canonicalJson } from '#domain/canonical-json.ts';
import {
  NotFoundError,
  PamError,
  RetryableError,
  SlackIdentityError,
  SlackNotConfiguredError,
  type SlackRefusalReason,
  ValidationError,
} from '#domain/errors.ts';
import type { AccessRequest } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { startScheduleName } from '#domain/schedule-names.ts';
import * as z from '#domain/zod.ts';
import type { PermissionSets, Scheduler, TupleStore, WorkQueue } from '#ports/grants.ts';
import { DeliverySchema, SCHEDULED_DELIVERY } from './delivery.ts';
import type { CoreDeps } from './deps.ts';
import { tupleGroup, tuplesOf } from './grants/tuples.ts';
import { proofOf, refuseUnproven, requesterStillEligible, unproven } from './proof.ts';
import { type SlackOrigin, SlackOriginSchema } from './slack/jobs.ts';

/** The grant engine's parts the commands worker needs (absent in a core-only set-up). */
export interface CommandGrantDeps {
  readonly scheduler: Scheduler;
  readonly provisioningQueue: WorkQueue;
  readonly permissionSets: PermissionSets;
  /** The leases, to believe an `assignment-succeeded` only when one is held. */
  readonly tuples: TupleStore;
}

/** The reason recorded when access is withdrawn because the requester left the eligible groups. */
export const REQUESTER_NOT_ELIGIBLE = 'the requester is no longer in a group eligible for this entitlement';

import {
  makeApplySystemCommand,
  makeCreateRequest,
  makeDecideRequest,
  makeSystemRevoke,
} from './requests.ts';

const requestId = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID'));
const userId = z.string().check(z.minLength(1), z.maxLength(64));
const comment = z.optional(z.string().check(z.maxLength(1000)));
const reason = z.optional(z.string().check(z.maxLength(1000)));

const delivery = DeliverySchema;

/** Exactly one of `actorId` (an ingress that resolved the caller) and `slack` (the worker resolves). */
const oneActor = z.refine(
  (command: unknown) => {
    const { actorId, slack } = command as { actorId?: unknown; slack?: unknown };
    return (actorId === undefined) !== (slack === undefined);
  },
  { message: 'expected exactly one of actorId and slack', path: ['actorId'] },
);

export const CommandMessageSchema = z.discriminatedUnion('action', [
  z
    .strictObject({
      action: z.enum(['approve', 'deny', 'cancel', 'revoke', 'review']),
      requestId,
      actorId: z.optional(userId),
      /** A decision made in Slack: the worker binds the Slack user to an Identity Store user. */
      slack: z.optional(SlackOriginSchema),
      comment,
      commandId: z.optional(z.string().check(z.maxLength(64))),
      delivery,
    })
    .check(oneActor),
  // A request made in Slack's request modal. The ingress mints the id (so a retried submission is the
  // same request) and checked the fields against the config; eligibility and policy are the worker's.
  z.strictObject({
    action: z.literal('create'),
    requestId,
    slack: SlackOriginSchema,
    entitlementId: z.string().check(z.minLength(1), z.maxLength(64)),
    accountId: z.string().check(z.regex(/^\d{12}$/)),
    durationMs: z.optional(z.int().check(z.positive())),
    reason,
    ticket: z.optional(z.string().check(z.maxLength(200))),
    delivery,
  }),
  z.strictObject({
    action: z.literal('extend'),
    requestId,
    actorId: userId,
    additionalMs: z.int().check(z.positive()),
    reason,
    commandId: z.optional(z.string().check(z.maxLength(64))),
    delivery,
  }),
  z.strictObject({ action: z.literal('timeout'), requestId, delivery }),
  z.strictObject({ action: z.literal('start'), requestId, delivery }),
  z.strictObject({
    action: z.literal('system-revoke'),
    requestId,
    reason: z.string().check(z.minLength(1), z.maxLength(500)),
    delivery,
  }),
  z.strictObject({
    action: z.literal('assignment-succeeded'),
    requestId,
    accountId: z.string().check(z.regex(/^\d{12}$/)),
    delivery,
  }),
  z.strictObject({
    action: z.literal('assignment-failed'),
    requestId,
    accountId: z.string().check(z.regex(/^\d{12}$/)),
    failure: z.string().check(z.maxLength(500)),
    delivery,
  }),
  z.strictObject({
    action: z.literal('expire'),
    requestId,
    grantVersion: z.int().check(z.positive()),
    expiresAt: z.iso.datetime(),
    delivery,
  }),
]);
export type CommandMessage = z.infer<typeof CommandMessageSchema>;

/**
 * The idempotency key of a command: its action and request, and the sender's id for the occurrence.
 * Two deliveries of one occurrence share it; two senders of the same body never do.
 */
export function deliveryKey(command: CommandMessage): string {
  return `${command.action}|${command.requestId}|${canonicalJson(command.delivery)}`;
}

export type CommandResult =
  | { readonly outcome: 'applied'; readonly request: AccessRequest }
  | { readonly outcome: 'no-op'; readonly request: AccessRequest }
  /** A `start` or `expire` delivered more than EARLY_DELIVERY_WAIT_MS early: do not remember it. */
  | { readonly outcome: 'not-due'; readonly request: AccessRequest; readonly dueAt: string }
  | {
      readonly outcome: 'refused';
      readonly code: string;
      readonly message: string;
      /** Why a Slack user was refused (code SLACK_IDENTITY). */
      readonly slackReason?: SlackRefusalReason;
    };

/**
 * How early a `start` or `expire` may arrive and still be carried out by the delivery itself: it
 * waits in the worker until due (its FIFO group keeps order meanwhile). Scheduler and Lambda clocks
 * differ by far less. Anything earlier is a no-op that is not remembered; the schedule (for a
 * start) or the reconciler's pass after the due time delivers it again.
 */
export const EARLY_DELIVERY_WAIT_MS = 60_000;

/** Waits until the clock shows `at`; throws DeliveryTooEarlyError when this invocation cannot. */
export type WaitUntil = (at: Date) => Promise<void>;

/** The invocation has too little time left to wait until the command is due: retry it then. */
export class DeliveryTooEarlyError extends Error {
  constructor(readonly dueAt: Date) {
    super(`not due until ${dueAt.toISOString()}; this invocation cannot wait that long`);
    this.name = 'DeliveryTooEarlyError';
  }
}

/** Who a Slack user is in the Identity Store (shared/app/slack/identity.ts); absent without Slack. */
export interface SlackActors {
  /** The Identity Store user id; throws a PamError (a final refusal) when the Slack user has none or is refused. */
  identify(origin: SlackOrigin): Promise<string>;
}

const UNPROVEN_MESSAGE = 'the request record is not proven by its audit chain';

export interface ProcessOptions {
  /** How this invocation waits for a command up to EARLY_DELIVERY_WAIT_MS early (absent: it cannot). */
  readonly waitUntil?: WaitUntil;
}

export function makeProcessCommand(
  deps: CoreDeps & { grants?: CommandGrantDeps; slackActors?: SlackActors },
) {
  const decideRequest = makeDecideRequest(deps);
  const createRequest = makeCreateRequest(deps);

  /** The acting user: named by an ingress that resolved them, or bound from Slack here, at decision time. */
  async function actorOf(command: {
    readonly actorId?: string;
    readonly slack?: SlackOrigin;
  }): Promise<string> {
    if (command.actorId !== undefined) return command.actorId;
    if (!command.slack || !deps.slackActors) throw new SlackNotConfiguredError();
    return deps.slackActors.identify(command.slack);
  }

  /** A request made in Slack; a redelivery of one already made is a no-op, not a second request. */
  async function create(command: Extract<CommandMessage, { action: 'create' }>): Promise<CommandResult> {
    const actorId = await actorOf(command);
    const existing = await deps.store.get(command.requestId);
    if (existing) {
      if (existing.requesterId !== actorId) throw new ValidationError('requestId: already taken');
      return { outcome: 'no-op', request: existing };
    }
    const request = await createRequest({
      requestId: command.requestId,
      actorId,
      entitlementId: command.entitlementId,
      accountId: command.accountId,
      ...optional('durationMs', command.durationMs),
      ...optional('reason', command.reason),
      ...optional('ticket', command.ticket),
    });
    return { outcome: 'applied', request };
  }
  const applySystemCommand = makeApplySystemCommand(deps);
  const systemRevoke = makeSystemRevoke(deps);

  /** Waits for a command that is due within EARLY_DELIVERY_WAIT_MS; false when it is due later. */
  async function waitIfNear(dueAt: number, options: ProcessOptions): Promise<boolean> {
    const early = dueAt - deps.clock.now().getTime();
    if (early <= 0) return true;
    if (early > EARLY_DELIVERY_WAIT_MS) return false;
    if (!options.waitUntil) throw new DeliveryTooEarlyError(new Date(dueAt));
    await options.waitUntil(new Date(dueAt));
    return true;
  }

  /** APPROVED → SCHEDULED (start schedule first) or → PROVISIONING once the start time has come. */
  async function start(requestId: string, options: ProcessOptions): Promise<CommandResult> {
    let request = await deps.store.get(requestId);
    if (!request) throw new NotFoundError(`no request '${requestId}'`);
    const startAt = request.startAt ? Date.parse(request.startAt) : undefined;
    const startable = request.status === 'APPROVED' || request.status === 'SCHEDULED';
    if (startable && startAt !== undefined && startAt > deps.clock.now().getTime()) {
      if (await waitIfNear(startAt, options)) {
        // The wait may have lasted a minute: decide on the request as it is now.
        request = (await deps.store.get(requestId)) ?? request;
      } else if (request.status === 'APPROVED') {
        if (!deps.grants) throw new Error('a scheduled start needs the grant engine');
        await deps.grants.scheduler.ensure({
          name: startScheduleName(request.id),
          at: new Date(startAt),
          target: 'commands',
          messageGroupId: request.id,
          body: { action: 'start', requestId: request.id, delivery: SCHEDULED_DELIVERY },
        });
        const { request: next, changed } = await applySystemCommand(requestId, { type: 'schedule' });
        return { outcome: changed ? 'applied' : 'no-op', request: next };
      } else {
        return { outcome: 'not-due', request, dueAt: new Date(startAt).toISOString() };
      }
    }
    if (request.status === 'APPROVED' || request.status === 'SCHEDULED') {
      // Access follows the chain: a record flipped to APPROVED by a direct write starts nothing.
      const problems = await unproven(deps, request);
      if (problems.length > 0) {
        await refuseUnproven(deps, { check: 'start', requestId: request.id, problems });
        return { outcome: 'refused', code: 'RECORD_NOT_PROVEN', message: UNPROVEN_MESSAGE };
      }
      // Eligibility is checked again when access would begin: someone who left the group gets none.
      if (!(await requesterStillEligible(deps, request))) {
        const { request: ended, changed } = await systemRevoke(request.id, REQUESTER_NOT_ELIGIBLE);
        return { outcome: changed ? 'applied' : 'no-op', request: ended };
      }
      const { request: next, changed } = await applySystemCommand(requestId, { type: 'start-provisioning' });
      return { outcome: changed ? 'applied' : 'no-op', request: next };
    }
    return { outcome: 'no-op', request };
  }

  /** An assignment is reported made: believed only when its lease says so and the chain proves the grant. */
  async function assignmentSucceeded(
    command: Extract<CommandMessage, { action: 'assignment-succeeded' }>,
  ): Promise<CommandResult> {
    const request = await deps.store.get(command.requestId);
    if (!request) throw new NotFoundError(`no request '${command.requestId}'`);
    if (request.status === 'PROVISIONING' && deps.grants) {
      const problems = await unproven(deps, request);
      const tuple = tuplesOf(request, deps.grants.permissionSets).find(
        (t) => t.accountId === command.accountId,
      );
      const lease = tuple ? await deps.grants.tuples.get(tuple) : undefined;
      if (!tuple) problems.push(`account ${command.accountId} is not a target of the request`);
      else if (!lease?.assigned || lease.pending || lease.holders[request.id] !== 'ACTIVE')
        problems.push(`no assignment is held for it in account ${command.accountId} (lease)`);
      if (problems.length > 0) {
        await refuseUnproven(deps, { check: 'assignment-succeeded', requestId: request.id, problems });
        return { outcome: 'refused', code: 'RECORD_NOT_PROVEN', message: UNPROVEN_MESSAGE };
      }
    }
    const { request: next, changed } = await applySystemCommand(command.requestId, {
      type: 'assignment-succeeded',
      accountId: command.accountId,
    });
    if (!changed) await releaseLate(next, command.accountId);
    return { outcome: changed ? 'applied' : 'no-op', request: next };
  }

  /** Ends the grant version the command names once its end has come (an early one waits or is not due). */
  async function expire(
    command: Extract<CommandMessage, { action: 'expire' }>,
    options: ProcessOptions,
  ): Promise<CommandResult> {
    const request = await deps.store.get(command.requestId);
    if (!request) throw new NotFoundError(`no request '${command.requestId}'`);
    const grant = request.grant;
    if (!grant || (request.status !== 'ACTIVE' && request.status !== 'EXTENSION_PENDING')) {
      const { request: next, changed } = await applySystemCommand(command.requestId, {
        type: 'expire',
        grantVersion: command.grantVersion,
      });
      return { outcome: changed ? 'applied' : 'no-op', request: next };
    }
    // The end is the chain's (activation plus approved extensions), never a later one written into
    // the record; a grant the chain does not prove at all ends now.
    const proof = await proofOf(deps, request.id);
    const provenEnd = proof.activated && proof.grantEnd ? proof.grantEnd : deps.clock.now().toISOString();
    if (!(await waitIfNear(Date.parse(provenEnd), options)))
      return { outcome: 'not-due', request, dueAt: provenEnd };
    const { request: next, changed } = await applySystemCommand(command.requestId, {
      type: 'expire',
      grantVersion: grant.grantVersion,
      provenEnd,
    });
    return { outcome: changed ? 'applied' : 'no-op', request: next };
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

  return async (command: CommandMessage, options: ProcessOptions = {}): Promise<CommandResult> => {
    try {
      switch (command.action) {
        case 'start':
          return await start(command.requestId, options);
        case 'expire':
          return await expire(command, options);
        case 'system-revoke': {
          const { request, changed } = await systemRevoke(command.requestId, command.reason);
          return { outcome: changed ? 'applied' : 'no-op', request };
        }
        case 'assignment-succeeded':
          return await assignmentSucceeded(command);
        case 'assignment-failed': {
          const { request, changed } = await applySystemCommand(command.requestId, {
            type: 'assignment-failed',
            accountId: command.accountId,
            failure: command.failure,
          });
          return { outcome: changed ? 'applied' : 'no-op', request };
        }
        case 'timeout': {
          const { request, changed } = await applySystemCommand(command.requestId, {
            type: 'timeout',
            approvalTimeoutMs: deps.catalog.config.approvalTimeoutMs,
          });
          return { outcome: changed ? 'applied' : 'no-op', request };
        }
        case 'create':
          return await create(command);
        case 'extend': {
          const request = await decideRequest({
            action: 'extend',
            actorId: command.actorId,
            requestId: command.requestId,
            additionalMs: command.additionalMs,
            ...optional('reason', command.reason),
          });
          return { outcome: 'applied', request };
        }
        default: {
          const request = await decideRequest({
            action: command.action,
            actorId: await actorOf(command),
            requestId: command.requestId,
            ...optional('comment', command.comment),
          });
          return { outcome: 'applied', request };
        }
      }
    } catch (error) {
      // Retrying cannot change a final answer; a lost race or an unavailable audit log may resolve.
      if (error instanceof PamError && !(error instanceof RetryableError))
        return {
          outcome: 'refused',
          code: error.code,
          message: error.message,
          ...(error instanceof SlackIdentityError ? { slackReason: error.reason } : {}),
        };
      throw error;
    }
  };
}
