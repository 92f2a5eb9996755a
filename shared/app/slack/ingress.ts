// The Slack ingress: what `POST /slack/commands|interactions|events` does within Slack's 3 seconds
// (docs: the plan's flow §1, issue 15). Steps, in this order, each refusing before the next runs:
//  1. Slack configured at all (else 404, nothing read).
//  2. The body within MAX_SLACK_BODY_BYTES (413): bounds the HMAC an unauthenticated caller can buy.
//  3. The v0 signature over the raw bytes, with the timestamp within 5 minutes (401 + metric);
//     nothing of the body is parsed before.
//  4. The body read by zod (#adapters/slack/inbound.ts; 400 naming the field). `url_verification`
//     is answered here: it names no workspace, and its signature already proved it Slack's.
//  5. The workspace allow-listed: `team_id` in slack.teamIds or `enterprise_id` in
//     slack.enterpriseIds (and a user from another workspace, as Slack Connect brings, only when the
//     whole organization is allow-listed). A refusal is counted and shown where Slack can show it:
//     an ephemeral text for a command (a 4xx would show only "dispatch_failed"), 403 for an
//     interaction (Slack marks the click or the submit failed; nothing better can be said without a
//     call this step must not make), 200 for an event (nobody sees an event's answer, and a non-2xx
//     is retried three times and, repeated, makes Slack switch the app's events off).
//  6. The work: answered now (help, `url_verification`, modal field errors), a modal opened now
//     (`views.open` needs the trigger within 3 s), or handed to a FIFO queue — decisions and
//     requests to the commands queue (group = request id), the rest to the Slack work queue — with
//     a deduplication id derived from Slack's id for the occurrence (`trigger_id`, `event_id`),
//     never from `action_id` (the same on every click: two approvers must both count) or `view.id`
//     (the same when a modal is resubmitted after field errors).
// Eligibility, approver groups and identity are the workers' (their refusals reach the user through
// `response_url` or a DM): this never reads the Identity Store or the request table, and never logs
// a `response_url`, token, secret or signature.

import {
  type BlockActions,
  MAX_SLACK_BODY_BYTES,
  parseEvent,
  parseInteraction,
  parseSlashCommand,
  type SlackActor,
  type SlashCommand,
  type ViewSubmission,
} from '#adapters/slack/inbound.ts';
import { verifySlackSignature } from '#adapters/slack/signature.ts';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import { humanDuration } from '#domain/duration.ts';
import type { PamConfig, SlackConfig } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { textProblem } from '#domain/text.ts';
import type { Clock, EntitlementCatalog, IdGenerator } from '#ports/index.ts';
import type { SlackView } from '#ports/slack.ts';
import type { CommandMessage } from '../commands.ts';
import { DENY_FIELD, REQUEST_FIELD, SLACK_ACTION, SLACK_CALLBACK } from './ids.ts';
import {
  denyReasonModal,
  type EphemeralReply,
  helpReply,
  linkReply,
  linkUsageReply,
  listReply,
  loadingRequestModal,
  openViewFailedReply,
  unavailableReply,
  workspaceRefusedReply,
} from './ingress-views.ts';
import { slackJobKey } from './job-keys.ts';
import type { SlackJob, SlackOrigin } from './jobs.ts';

export const SLACK_PATHS = ['/slack/commands', '/slack/interactions', '/slack/events'] as const;
export type SlackPath = (typeof SLACK_PATHS)[number];

export interface SlackHttpRequest {
  /** The API resource (`/slack/commands`, …). */
  readonly path: string;
  /** Any case: read case-insensitively. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body's bytes as Slack sent them (base64 already decoded). */
  readonly rawBody: Uint8Array;
}

export interface SlackHttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What the ingress reports; the function maps each to a log line and, where alarmed, a metric. */
export interface SlackIngressDiagnostics {
  /** A request failed signature or timestamp checks (401). `reason` never holds the secret or signature. */
  signatureRefused(detail: { readonly path: string; readonly reason: string }): void;
  /** A workspace (or a user of another workspace) not allow-listed. */
  workspaceRefused(detail: {
    readonly path: string;
    readonly teamId: string;
    readonly enterpriseId?: string;
    readonly userTeamId?: string;
  }): void;
  /** A signed body the readers refused (400/413), named by field; never the body itself. */
  malformed(detail: { readonly path: string; readonly message: string }): void;
  /** Work accepted: what, for whom, and the deduplication id (never the trigger or a URL). */
  accepted(detail: {
    readonly path: string;
    readonly what: string;
    readonly teamId?: string;
    readonly userId?: string;
    readonly dedupId?: string;
    readonly retryNum?: string;
  }): void;
  /** A dependency failed (Secrets Manager, views.open, a queue): what failed, and the error. */
  unavailable(detail: { readonly path: string; readonly step: string; readonly error: unknown }): void;
}

export interface SlackIngressDeps {
  readonly config: PamConfig;
  readonly catalog: EntitlementCatalog;
  readonly clock: Clock;
  /** Mints the request id of a `create`. */
  readonly ids: IdGenerator;
  /** The app's signing secret (cached by the caller). */
  signingSecret(): Promise<string>;
  /** `views.open` with the bot token, within the trigger's 3 s. */
  openView(triggerId: string, view: SlackView): Promise<{ readonly viewId: string }>;
  /** The commands FIFO queue (group = request id). */
  sendCommand(message: CommandMessage, dedupId: string): Promise<void>;
  /** The Slack work FIFO queue (group = slackJobGroup(job)). */
  sendJob(job: SlackJob, dedupId: string): Promise<void>;
  readonly diagnostics: SlackIngressDiagnostics;
}

const REQUEST_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const LINK_CODE = /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/;
const ACCOUNT_ID = /^\d{12}$/;
const MINUTE_MS = 60_000;
/** The commands contract's bounds (shared/app/commands.ts). */
const MAX_REASON = 1000;
const MAX_TICKET = 200;
const MAX_COMMENT = 1000;

// ---------------------------------------------------------------------------------------------
// Responses

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;

function json(statusCode: number, body: unknown, extra: Record<string, string> = {}): SlackHttpResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...extra }, body: JSON.stringify(body) };
}

function refusal(statusCode: number, code: string, message: string, extra: Record<string, string> = {}) {
  return json(statusCode, { error: { code, message } }, extra);
}

/** Slack's acknowledgement: 200 and nothing else to show. */
const acknowledged = (): SlackHttpResponse => ({
  statusCode: 200,
  headers: { 'cache-control': 'no-store' },
  body: '',
});

const reply = (message: EphemeralReply): SlackHttpResponse => json(200, message);

const unavailable = (): SlackHttpResponse =>
  refusal(503, 'UNAVAILABLE', 'cloud-pam could not take this just now; try again');

/** Tells Slack not to retry an event: what was refused will be refused again. */
const NO_RETRY = { 'x-slack-no-retry': '1' } as const;

// ---------------------------------------------------------------------------------------------
// Keys

/** The SQS deduplication id: 64 hex, within SQS's 128, derived from the key alone. */
export function dedupIdOf(key: string): string {
  return sha256Hex(key);
}

/**
 * The key of a decision command: the same text as the worker's `deliveryKey` (shared/app/commands.ts,
 * not imported: it would bring the whole commands worker into this bundle; a test holds the two equal).
 */
export function decisionKey(command: {
  readonly action: string;
  readonly requestId: string;
  readonly delivery: unknown;
}): string {
  return `${command.action}|${command.requestId}|${canonicalJson(command.delivery)}`;
}

/**
 * The key of a `create`: the occurrence alone. The request id is minted per attempt, so a key with
 * it would let two sends of one submission make two requests.
 */
export function createKey(triggerId: string): string {
  return `create|${canonicalJson({ by: 'slack', id: triggerId })}`;
}

// ---------------------------------------------------------------------------------------------
// Allow-list

function isAdmitted(slack: SlackConfig, actor: Omit<SlackActor, 'userId'>): boolean {
  const byEnterprise = actor.enterpriseId !== undefined && slack.enterpriseIds.includes(actor.enterpriseId);
  if (!byEnterprise && !slack.teamIds.includes(actor.teamId)) return false;
  // A user whose own workspace is another (Slack Connect, or a workspace outside the list) is
  // admitted only when the whole Enterprise Grid organization is: the worker checks again
  // (users.info: guests, strangers), this only refuses early.
  if (!byEnterprise && actor.userTeamId !== undefined && !slack.teamIds.includes(actor.userTeamId))
    return false;
  return true;
}

function originOf(actor: SlackActor, responseUrl?: string): SlackOrigin {
  return {
    teamId: actor.teamId,
    ...optional('enterpriseId', actor.enterpriseId),
    userId: actor.userId,
    ...optional('responseUrl', responseUrl),
  };
}

function header(headers: SlackHttpRequest['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** `X-Slack-Retry-Num` for the log: not covered by the signature, so only a small number is kept. */
function retryNumOf(headers: SlackHttpRequest['headers']): string | undefined {
  const value = header(headers, 'x-slack-retry-num');
  return value !== undefined && /^\d{1,2}$/.test(value) ? value : undefined;
}

function isSlackPath(path: string): path is SlackPath {
  return (SLACK_PATHS as readonly string[]).includes(path);
}

// ---------------------------------------------------------------------------------------------
// The request modal's fields

/** What a `create` carries, once the modal's fields were checked against the config. */
interface RequestFields {
  readonly entitlementId: string;
  readonly accountId: string;
  readonly durationMs?: number;
  readonly reason?: string;
  readonly ticket?: string;
}

type FieldCheck =
  | { readonly ok: true; readonly fields: RequestFields }
  | { readonly ok: false; readonly errors: Readonly<Record<string, string>> };

function inputOf(submission: ViewSubmission, field: string) {
  return submission.values[field]?.[field];
}

/** Free text from an input: trimmed, absent when blank; or the problem to show on its field. */
function freeText(value: string | undefined, max: number): { text?: string; problem?: string } {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return {};
  if (trimmed.length > max) return { problem: `At most ${max} characters.` };
  const problem = textProblem(trimmed);
  // textProblem names a code point, never the text: safe to show back.
  if (problem !== undefined) return { problem: `Not accepted: ${problem}.` };
  return { text: trimmed };
}

/**
 * The config's checks of a request, each error on its field's block (Slack shows it under the
 * field). Eligibility, approvers and open-request limits are the worker's: they need the directory.
 */
export function checkRequestFields(catalog: EntitlementCatalog, submission: ViewSubmission): FieldCheck {
  const errors: Record<string, string> = {};
  const target = inputOf(submission, REQUEST_FIELD.target)?.selected;
  const separator = target?.lastIndexOf(':') ?? -1;
  const entitlementId = target !== undefined && separator > 0 ? target.slice(0, separator) : undefined;
  const accountId = target !== undefined && separator > 0 ? target.slice(separator + 1) : undefined;
  const entitlement = entitlementId !== undefined ? catalog.get(entitlementId) : undefined;
  if (target === undefined) errors[REQUEST_FIELD.target] = 'Choose what to request.';
  else if (entitlement?.kind !== 'aws-role' || accountId === undefined)
    errors[REQUEST_FIELD.target] = 'This is not an entitlement cloud-pam offers (any more).';
  else if (!ACCOUNT_ID.test(accountId) || !entitlement.target.accounts.includes(accountId))
    errors[REQUEST_FIELD.target] = 'This account is not a target of this entitlement.';

  const durationText = inputOf(submission, REQUEST_FIELD.duration)?.selected;
  let durationMs: number | undefined;
  if (durationText !== undefined) {
    durationMs = /^\d{1,13}$/.test(durationText) ? Number(durationText) : Number.NaN;
    if (!Number.isSafeInteger(durationMs) || durationMs < MINUTE_MS)
      errors[REQUEST_FIELD.duration] = 'Choose a duration of at least 1 minute.';
    else if (entitlement && durationMs > entitlement.maxDurationMs)
      errors[REQUEST_FIELD.duration] =
        `At most ${humanDuration(entitlement.maxDurationMs)} for ${entitlement.title.slice(0, 60)}.`;
  }

  const reason = freeText(inputOf(submission, REQUEST_FIELD.reason)?.value, MAX_REASON);
  if (reason.problem !== undefined) errors[REQUEST_FIELD.reason] = reason.problem;
  else if (entitlement?.requireReason && reason.text === undefined)
    errors[REQUEST_FIELD.reason] = 'A reason is required for this entitlement.';

  const ticket = freeText(inputOf(submission, REQUEST_FIELD.ticket)?.value, MAX_TICKET);
  if (ticket.problem !== undefined) errors[REQUEST_FIELD.ticket] = ticket.problem;
  else if (entitlement?.ticketPattern !== undefined) {
    // The pattern was length-capped and checked for catastrophic backtracking when the config was validated.
    if (ticket.text === undefined || !new RegExp(entitlement.ticketPattern).test(ticket.text))
      errors[REQUEST_FIELD.ticket] =
        `A ticket matching ${entitlement.ticketPattern.slice(0, 100)} is required.`;
  }

  if (Object.keys(errors).length > 0 || !entitlement || accountId === undefined) return { ok: false, errors };
  return {
    ok: true,
    fields: {
      entitlementId: entitlement.id,
      accountId,
      ...optional('durationMs', durationMs),
      ...optional('reason', reason.text),
      ...optional('ticket', ticket.text),
    },
  };
}

const fieldErrors = (errors: Readonly<Record<string, string>>) =>
  json(200, { response_action: 'errors', errors });

const CLEAR = { response_action: 'clear' } as const;

// ---------------------------------------------------------------------------------------------
// The use case

export function makeSlackIngress(deps: SlackIngressDeps) {
  const { diagnostics } = deps;

  /** Runs one send: false (and reported) when the queue cannot take it now. */
  async function send(path: string, step: string, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (error) {
      diagnostics.unavailable({ path, step, error });
      return false;
    }
  }

  async function sendJob(path: string, job: Exclude<SlackJob, { kind: 'render' }>, retryNum?: string) {
    const dedupId = dedupIdOf(slackJobKey(job));
    const sent = await send(path, 'send-job', () => deps.sendJob(job, dedupId));
    if (sent)
      diagnostics.accepted({
        path,
        what: job.kind,
        teamId: job.origin.teamId,
        userId: job.origin.userId,
        dedupId,
        ...optional('retryNum', retryNum),
      });
    return sent;
  }

  async function sendCommand(path: string, command: CommandMessage, dedupId: string) {
    const sent = await send(path, 'send-command', () => deps.sendCommand(command, dedupId));
    if (sent)
      diagnostics.accepted({
        path,
        what: command.action,
        ...optional('teamId', 'slack' in command ? command.slack?.teamId : undefined),
        ...optional('userId', 'slack' in command ? command.slack?.userId : undefined),
        dedupId,
      });
    return sent;
  }

  async function command(path: string, slash: SlashCommand): Promise<SlackHttpResponse> {
    const origin = originOf(slash, slash.responseUrl);
    const delivery = { by: 'slack', id: slash.triggerId } as const;
    const [first = '', second] = slash.text.trim().split(/\s+/);
    const subcommand = first.toLowerCase();

    if (subcommand === '' || subcommand === 'request') {
      let viewId: string;
      try {
        ({ viewId } = await deps.openView(slash.triggerId, loadingRequestModal()));
      } catch (error) {
        diagnostics.unavailable({ path, step: 'open-view', error });
        return reply(openViewFailedReply());
      }
      const sent = await sendJob(path, { kind: 'fill-request-modal', viewId, origin, delivery });
      return sent ? acknowledged() : reply(unavailableReply());
    }
    if (subcommand === 'list') {
      const sent = await sendJob(path, { kind: 'list', origin, delivery });
      return reply(sent ? listReply() : unavailableReply());
    }
    if (subcommand === 'link') {
      const code = second?.toUpperCase();
      if (code === undefined || !LINK_CODE.test(code)) return reply(linkUsageReply(slash.command));
      const sent = await sendJob(path, { kind: 'link', code, origin, delivery });
      return reply(sent ? linkReply() : unavailableReply());
    }
    if (subcommand === 'help') return reply(helpReply(slash.command));
    return reply(helpReply(slash.command, first.slice(0, 40)));
  }

  async function blockActions(path: string, payload: BlockActions): Promise<SlackHttpResponse> {
    const action = payload.actions.find(
      (candidate) => candidate.actionId === SLACK_ACTION.approve || candidate.actionId === SLACK_ACTION.deny,
    );
    // Anything else (a select changed in a modal, a link button): nothing to do.
    if (!action) return acknowledged();
    if (action.value === undefined || !REQUEST_ID.test(action.value)) {
      diagnostics.malformed({ path, message: 'payload.actions.value: expected a request id' });
      return refusal(400, 'VALIDATION_FAILED', 'payload.actions.value: expected a request id');
    }
    const requestId = action.value;

    if (action.actionId === SLACK_ACTION.deny) {
      try {
        await deps.openView(payload.triggerId, denyReasonModal(requestId));
      } catch (error) {
        diagnostics.unavailable({ path, step: 'open-view', error });
        return unavailable();
      }
      diagnostics.accepted({
        path,
        what: 'deny-form',
        teamId: payload.actor.teamId,
        userId: payload.actor.userId,
      });
      return acknowledged();
    }

    const approve: CommandMessage = {
      action: 'approve',
      requestId,
      slack: originOf(payload.actor, payload.responseUrl),
      delivery: { by: 'slack', id: payload.triggerId },
    };
    return (await sendCommand(path, approve, dedupIdOf(decisionKey(approve))))
      ? acknowledged()
      : unavailable();
  }

  async function viewSubmission(path: string, submission: ViewSubmission): Promise<SlackHttpResponse> {
    const delivery = { by: 'slack', id: submission.triggerId } as const;
    // A view submission carries no response_url: the worker answers a refusal by DM.
    const origin = originOf(submission.actor);

    if (submission.callbackId === SLACK_CALLBACK.requestModal) {
      const checked = checkRequestFields(deps.catalog, submission);
      if (!checked.ok) return fieldErrors(checked.errors);
      const create: CommandMessage = {
        action: 'create',
        requestId: deps.ids.next(),
        slack: origin,
        ...checked.fields,
        delivery,
      };
      return (await sendCommand(path, create, dedupIdOf(createKey(submission.triggerId))))
        ? json(200, CLEAR)
        : unavailable();
    }

    if (submission.callbackId === SLACK_CALLBACK.denyModal) {
      if (!REQUEST_ID.test(submission.privateMetadata))
        return fieldErrors({ [DENY_FIELD.reason]: 'This form no longer names a request. Click Deny again.' });
      const reason = freeText(inputOf(submission, DENY_FIELD.reason)?.value, MAX_COMMENT);
      if (reason.problem !== undefined) return fieldErrors({ [DENY_FIELD.reason]: reason.problem });
      if (reason.text === undefined) return fieldErrors({ [DENY_FIELD.reason]: 'Say why you deny it.' });
      const deny: CommandMessage = {
        action: 'deny',
        requestId: submission.privateMetadata,
        slack: origin,
        comment: reason.text,
        delivery,
      };
      return (await sendCommand(path, deny, dedupIdOf(decisionKey(deny)))) ? json(200, CLEAR) : unavailable();
    }

    // A modal of someone else's (or an old one): closing it is all Slack needs.
    return acknowledged();
  }

  function malformed(path: string, parsed: { readonly message: string }, extra: Record<string, string> = {}) {
    diagnostics.malformed({ path, message: parsed.message });
    return refusal(400, 'VALIDATION_FAILED', parsed.message, extra);
  }

  function refuseWorkspace(path: SlackPath, actor: Omit<SlackActor, 'userId'>): SlackHttpResponse {
    diagnostics.workspaceRefused({
      path,
      teamId: actor.teamId,
      ...optional('enterpriseId', actor.enterpriseId),
      ...optional('userTeamId', actor.userTeamId),
    });
    if (path === '/slack/commands') return reply(workspaceRefusedReply());
    if (path === '/slack/interactions')
      return refusal(403, 'FORBIDDEN', 'this Slack workspace is not allowed to use cloud-pam');
    return { ...acknowledged(), headers: { ...acknowledged().headers, ...NO_RETRY } };
  }

  return async function handle(request: SlackHttpRequest): Promise<SlackHttpResponse> {
    const slack = deps.config.slack;
    if (!slack) return refusal(404, 'SLACK_NOT_CONFIGURED', 'Slack is not configured');
    const { path, rawBody } = request;
    if (!isSlackPath(path)) return refusal(404, 'NOT_FOUND', 'no such Slack endpoint');
    if (rawBody.byteLength > MAX_SLACK_BODY_BYTES) {
      const message = `body is larger than ${MAX_SLACK_BODY_BYTES / 1024} KiB`;
      diagnostics.malformed({ path, message });
      return refusal(413, 'VALIDATION_FAILED', message, path === '/slack/events' ? NO_RETRY : {});
    }

    let signingSecret: string;
    try {
      signingSecret = await deps.signingSecret();
    } catch (error) {
      diagnostics.unavailable({ path, step: 'signing-secret', error });
      return unavailable();
    }
    const signature = verifySlackSignature({
      signingSecret,
      timestamp: header(request.headers, 'x-slack-request-timestamp'),
      signature: header(request.headers, 'x-slack-signature'),
      rawBody,
      nowSeconds: Math.floor(deps.clock.now().getTime() / 1000),
    });
    if (!signature.ok) {
      diagnostics.signatureRefused({ path, reason: signature.reason });
      return refusal(401, 'UNAUTHENTICATED', 'invalid signature');
    }

    if (path === '/slack/commands') {
      const parsed = parseSlashCommand(rawBody);
      if (!parsed.ok) return malformed(path, parsed);
      if (parsed.value.kind === 'ssl-check') return acknowledged();
      if (!isAdmitted(slack, parsed.value)) return refuseWorkspace(path, parsed.value);
      return command(path, parsed.value);
    }

    if (path === '/slack/interactions') {
      const parsed = parseInteraction(rawBody);
      if (!parsed.ok) return malformed(path, parsed);
      const interaction = parsed.value;
      if (interaction.kind === 'other') return acknowledged();
      if (!isAdmitted(slack, interaction.actor)) return refuseWorkspace(path, interaction.actor);
      return interaction.kind === 'block_actions'
        ? blockActions(path, interaction)
        : viewSubmission(path, interaction);
    }

    const parsed = parseEvent(rawBody);
    // A signed event that cannot be read will not be readable on a retry either.
    if (!parsed.ok) return malformed(path, parsed, NO_RETRY);
    const event = parsed.value;
    if (event.kind === 'url_verification') return json(200, { challenge: event.challenge });
    if (event.kind === 'other') return acknowledged();
    if (!isAdmitted(slack, event)) return refuseWorkspace(path, event);
    // Only the App Home tab has something to show; the messages tab and other events need nothing.
    if (event.kind !== 'app_home_opened' || (event.tab !== undefined && event.tab !== 'home'))
      return acknowledged();
    const sent = await sendJob(
      path,
      {
        kind: 'home',
        origin: {
          teamId: event.teamId,
          ...optional('enterpriseId', event.enterpriseId),
          userId: event.userId,
        },
        delivery: { by: 'slack', id: event.eventId },
      },
      retryNumOf(request.headers),
    );
    // Not sent: Slack retries the event (same event_id, so the same deduplication id).
    return sent ? acknowledged() : unavailable();
  };
}
