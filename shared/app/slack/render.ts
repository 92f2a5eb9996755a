// What cloud-pam shows in Slack, as Block Kit JSON: the approval message of a request (posted in the
// approvers' channel and updated in place at every change), the requester's DM line, the request
// modal, `/pam list`, the App Home and short answers. Pure: a request (as stored) and a clock
// reading in, a payload out.
//
// Two rules hold for every builder:
// - User text (reasons, tickets, comments, names, titles, failures) goes through `escapeMrkdwn`
//   before it meets our markup, and every mrkdwn object is `verbatim`, so nothing a requester types
//   can ping a channel, mention someone, forge a link or turn `@here` into a mention. Reasons and
//   comments are block quotes (every line quoted, so a newline cannot step out of the quote) and
//   tickets inline code: they read as data, not as our words.
// - Every payload is within Block Kit's limits however large the input (a 1 MB reason, 1,000
//   approvals, 10,000 targets): text is cut to each field's limit (`truncate` never leaves half a
//   character, entity or `<…>` token), lists are capped with "and N more". Slack refuses a payload
//   past a limit outright (`invalid_blocks`), which would leave an approval message stale, so the
//   builders enforce them and `blockKitProblems` checks them.

import { humanDuration } from '#domain/duration.ts';
import {
  type AccessRequest,
  type Approval,
  type Decision,
  type Entitlement,
  targetAccounts,
} from '#domain/model.ts';
import { cleanText, escapeMrkdwn, truncate } from '#domain/mrkdwn.ts';
import { SYSTEM_ACTOR_ID } from '#domain/state-machine.ts';
import type { SlackBlock, SlackMessage, SlackView } from '#ports/slack.ts';
import { REQUEST_FIELD, SLACK_ACTION, SLACK_CALLBACK } from './ids.ts';

/** Block Kit's documented limits (characters are counted as UTF-16 code units here: never fewer). */
export const BLOCK_KIT_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  /** A message's top-level `text` (Slack truncates beyond; we never send near it). */
  messageText: 40_000,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  actionId: 255,
  blockId: 255,
  options: 100,
  optionGroups: 100,
  optionText: 75,
  optionValue: 150,
  optionGroupLabel: 75,
  placeholder: 150,
  inputLabel: 2000,
  inputHint: 2000,
  inputMaxLength: 3000,
  modalTitle: 24,
  modalButton: 24,
  callbackId: 255,
  privateMetadata: 3000,
} as const;
const L = BLOCK_KIT_LIMITS;

// Budgets of our own, well inside the limits, so a message stays readable.
const NAME_MAX = 80;
const TITLE_MAX = 200;
const REASON_MAX = 1500;
const REASON_LINES = 25;
const COMMENT_MAX = 600;
const TICKET_MAX = 128;
const FAILURE_MAX = 500;
const LIST_LINE_MAX = 450;
const ACCOUNTS_SHOWN = 10;
const NAMES_SHOWN = 10;
const LIST_ITEMS = 20;
const HOME_AWAITING = 20;
const HOME_MINE = 25;
/** The CLI command that does what a Slack view cannot (every target, every duration). */
const CLI_HINT = '`pam request`';

// ---------------------------------------------------------------------------------------------
// Text

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Durations as people write them (`2h`, `1h 30m`): the CLI's and Slack's one spelling. */
export const formatDuration = humanDuration;

/**
 * A time as Slack shows it in each reader's own time zone (`<!date^…>`), with a UTC fallback for
 * clients that cannot. An unreadable time is shown as the (escaped) text it is.
 */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  const text = new Date(ms).toISOString();
  const fallback = `${text.slice(0, 10)} ${text.slice(11, 16)} UTC`;
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/**
 * User text for mrkdwn: escaped, then cut to `max`. Only a bounded head is escaped, so a 1 MB
 * reason costs as much as a short one; a head that is cut says so with `…`.
 */
function esc(text: string, max: number): string {
  const bound = 2 * max + 16;
  const head = text.length > bound ? text.slice(0, bound) : text;
  const escaped = escapeMrkdwn(head);
  return truncate(head === text ? escaped : `${escaped}…`, max);
}

/** On one line (newlines and tabs become spaces). */
function flat(text: string): string {
  return text.replace(/\s*[\n\t]\s*/g, ' ');
}

/** Plain text (never parsed by Slack: not escaped, only cleaned), cut to `max`, never empty. */
function plain(text: string, max: number): SlackBlock {
  const clean = flat(cleanText(text.length > 4 * max ? text.slice(0, 4 * max) : text)).trim();
  return { type: 'plain_text', text: truncate(clean === '' ? '-' : clean, max), emoji: true };
}

/** A mrkdwn object of text we composed (user parts already escaped), cut to `max`. */
function md(text: string, max: number = L.sectionText): SlackBlock {
  return { type: 'mrkdwn', text: truncate(text === '' ? '-' : text, max), verbatim: true };
}

function section(text: string): SlackBlock {
  return { type: 'section', text: md(text) };
}

function header(text: string): SlackBlock {
  return { type: 'header', text: plain(text, L.headerText) };
}

function context(text: string): SlackBlock {
  return { type: 'context', elements: [md(text, L.contextText)] };
}

/** User text as a block quote: every line quoted, so no line of it reads as ours. */
function quote(text: string, max: number): string {
  const lines = esc(text.trim(), max).split('\n');
  const shown = lines.length > REASON_LINES ? [...lines.slice(0, REASON_LINES), '…'] : lines;
  return shown.map((line) => `>${line}`).join('\n');
}

/** A ticket as inline code (a backtick in it would end the code span early, so it is shown as ˋ). */
function code(text: string, max: number): string {
  return `\`${esc(flat(text).replaceAll('`', 'ˋ').trim() || '-', max)}\``;
}

/** The name people read: the recorded display name, else the id; the system shows as cloud-pam. */
function who(name: string | undefined, id: string): string {
  const clean = name === undefined ? '' : cleanText(name).trim();
  if (clean !== '') return esc(flat(clean), NAME_MAX);
  if (id === SYSTEM_ACTOR_ID || id.startsWith(`${SYSTEM_ACTOR_ID}:`)) return 'cloud-pam';
  return esc(id, NAME_MAX);
}

function requester(request: AccessRequest): string {
  return who(request.requesterName, request.requesterId);
}

function title(request: AccessRequest): string {
  return esc(flat(request.snapshot.entitlementTitle), TITLE_MAX);
}

function accounts(request: AccessRequest): string {
  const all = targetAccounts(request);
  const shown = all.slice(0, ACCOUNTS_SHOWN).map((account) => esc(account, 20));
  return all.length > ACCOUNTS_SHOWN
    ? `${shown.join(', ')} and ${all.length - ACCOUNTS_SHOWN} more`
    : shown.join(', ');
}

function shortAccounts(request: AccessRequest): string {
  const all = targetAccounts(request);
  const first = esc(all[0] ?? request.accountId, 20);
  return all.length > 1 ? `${first} +${all.length - 1}` : first;
}

/** `Alice, Bob and 3 more`. */
function names(approvals: readonly Approval[]): string {
  const shown = approvals
    .slice(0, NAMES_SHOWN)
    .map((approval) => who(approval.approverName, approval.approverId));
  const more = approvals.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

function decidedBy(decision: Decision | undefined): string {
  return decision ? ` by ${who(decision.actorName, decision.actorId)}` : '';
}

/** The decider's comment on a line of its own, as a quote (nothing when there is none). */
function comment(decision: Decision | undefined): string {
  return decision?.comment?.trim() ? `\n${quote(decision.comment, COMMENT_MAX)}` : '';
}

/** The decider's comment inline (one-line answers). */
function inlineComment(decision: Decision | undefined): string {
  return decision?.comment?.trim() ? `: “${esc(flat(decision.comment.trim()), COMMENT_MAX)}”` : '';
}

function pendingApprovals(request: AccessRequest): readonly Approval[] {
  return request.status === 'EXTENSION_PENDING' ? (request.extension?.approvals ?? []) : request.approvals;
}

function counted(request: AccessRequest): string {
  return `${pendingApprovals(request).length} of ${request.snapshot.required}`;
}

/** Something can still be decided on it: approve and deny apply. */
function decidable(request: AccessRequest): boolean {
  return request.status === 'PENDING' || request.status === 'EXTENSION_PENDING';
}

function until(request: AccessRequest, now: Date): string {
  const expiresAt = request.grant?.expiresAt;
  if (!expiresAt) return '';
  const ending = Date.parse(expiresAt) <= now.getTime() ? ' · ending now' : '';
  return ` until ${slackDate(expiresAt)}${ending}`;
}

// ---------------------------------------------------------------------------------------------
// The approval message

/** The approval message's status line: what is true of the request now. */
function statusLine(request: AccessRequest, now: Date): string {
  switch (request.status) {
    case 'PENDING':
      return `:hourglass_flowing_sand: *Awaiting approval* · ${counted(request)}`;
    case 'APPROVED':
      return request.startAt
        ? `:white_check_mark: *Approved* · starts ${slackDate(request.startAt)}`
        : ':white_check_mark: *Approved* · access is being set up';
    case 'SCHEDULED':
      return `:calendar: *Scheduled* · starts ${request.startAt ? slackDate(request.startAt) : 'soon'}`;
    case 'PROVISIONING': {
      const all = targetAccounts(request).length;
      const done = request.provisioned?.length ?? 0;
      return `:gear: *Provisioning* · setting up access${all > 1 ? ` (${done} of ${all} accounts)` : ''}`;
    }
    case 'ACTIVE':
      return `:large_green_circle: *Active*${until(request, now)}`;
    case 'EXTENSION_PENDING': {
      const extension = request.extension;
      const asked = extension ? ` +${formatDuration(extension.additionalMs)}` : '';
      return `:large_green_circle: *Active*${until(request, now)}\n:hourglass_flowing_sand: *Extension of${asked} asked*`;
    }
    case 'DENIED':
      return `:x: *Denied*${decidedBy(request.denial)}${comment(request.denial)}`;
    case 'CANCELLED':
      return `:heavy_minus_sign: *Cancelled*${decidedBy(request.cancellation)}${comment(request.cancellation)}`;
    case 'TIMED_OUT':
      return ':alarm_clock: *Timed out* · no decision in time';
    case 'FAILED':
      return `:warning: *Failed* · ${esc(flat(request.failure ?? 'access could not be set up'), FAILURE_MAX)}`;
    case 'EXPIRED': {
      const endedAt = request.endedAt ?? request.grant?.expiresAt;
      return `:checkered_flag: *Expired*${endedAt ? ` ${slackDate(endedAt)}` : ''}`;
    }
    case 'REVOKED':
      return `:no_entry: *Revoked*${decidedBy(request.revocation)}${comment(request.revocation)}`;
  }
}

function detailFields(request: AccessRequest): SlackBlock[] {
  const all = targetAccounts(request);
  const fields = [
    `*Requester*\n${requester(request)}`,
    `*Entitlement*\n${title(request)} (${code(request.entitlementId, 70)})`,
    `*${all.length > 1 ? `Accounts (${all.length})` : 'Account'}*\n${accounts(request)}`,
    `*Duration*\n${formatDuration(request.durationMs)}`,
  ];
  if (request.startAt) fields.push(`*Starts*\n${slackDate(request.startAt)}`);
  if (request.ticket) fields.push(`*Ticket*\n${code(request.ticket, TICKET_MAX)}`);
  return fields.slice(0, L.sectionFields).map((field) => md(field, L.fieldText));
}

function approvalsLine(request: AccessRequest): string | undefined {
  if (request.status === 'EXTENSION_PENDING') {
    const extension = request.extension;
    if (!extension) return undefined;
    const given = extension.approvals.length > 0 ? ` · ${names(extension.approvals)}` : '';
    const reason = extension.reason?.trim() ? `\n*Why longer*\n${quote(extension.reason, REASON_MAX)}` : '';
    return `*Extension approvals:* ${counted(request)}${given}${reason}`;
  }
  if (request.breakGlass) return undefined;
  if (request.approvals.length === 0) {
    if (request.status !== 'PENDING')
      return request.snapshot.autoApprove ? '*Approvals:* auto-approved' : undefined;
    return `*Approvals:* 0 of ${request.snapshot.required}`;
  }
  return `*Approvals:* ${request.approvals.length} of ${request.snapshot.required} · ${names(request.approvals)}`;
}

function breakGlassLine(request: AccessRequest): string | undefined {
  const breakGlass = request.breakGlass;
  if (!breakGlass) return undefined;
  return breakGlass.reviewStatus === 'REVIEWED'
    ? `:rotating_light: *Break-glass activation* · reviewed${decidedBy(breakGlass.review)}${comment(breakGlass.review)}`
    : ':rotating_light: *Break-glass activation* · review required';
}

function decisionButtons(request: AccessRequest, blockId?: string): SlackBlock {
  const extension = request.status === 'EXTENSION_PENDING';
  return {
    type: 'actions',
    ...(blockId ? { block_id: blockId } : {}),
    elements: [
      {
        type: 'button',
        action_id: SLACK_ACTION.approve,
        style: 'primary',
        text: plain(extension ? 'Approve extension' : 'Approve', L.buttonText),
        value: request.id,
      },
      {
        type: 'button',
        action_id: SLACK_ACTION.deny,
        style: 'danger',
        text: plain(extension ? 'Deny extension' : 'Deny', L.buttonText),
        value: request.id,
      },
    ],
  };
}

/** One word or two for a status (notification text, lists). */
function statusWord(request: AccessRequest): string {
  return request.status.toLowerCase().replace('_', ' ');
}

/**
 * The approval message of a request, from its current state: who, what, where, how long, why, the
 * ticket, approvals so far, a status line, and Approve / Deny while something can be decided.
 * `entitlement` (the configured one, when it still exists) adds its description; everything else
 * comes from the request and its snapshot, so a request of a removed entitlement still renders.
 */
export function approvalMessage(
  request: AccessRequest,
  options: { readonly entitlement?: Entitlement; readonly now: Date },
): SlackMessage {
  const blocks: SlackBlock[] = [
    header(`Access request: ${request.snapshot.entitlementTitle}`),
    section(statusLine(request, options.now)),
    { type: 'section', fields: detailFields(request) },
  ];
  if (request.reason?.trim()) blocks.push(section(`*Reason*\n${quote(request.reason, REASON_MAX)}`));
  const approvals = approvalsLine(request);
  if (approvals) blocks.push(section(approvals));
  const breakGlass = breakGlassLine(request);
  if (breakGlass) blocks.push(section(breakGlass));
  if (decidable(request)) blocks.push(decisionButtons(request));
  const description = options.entitlement?.description?.trim();
  const about = description ? `${esc(flat(description), 300)} · ` : '';
  blocks.push(
    context(
      `${about}Request ${code(request.id, 40)} · version ${request.version} · permission set ${code(request.snapshot.permissionSetName, 64)}`,
    ),
  );
  const text = `${requester(request)} asks for ${title(request)} in ${shortAccounts(request)} (${statusWord(request)})`;
  return { text: truncate(text, L.sectionText), blocks };
}

// ---------------------------------------------------------------------------------------------
// The requester's DM

function dmLine(request: AccessRequest, now: Date): string {
  const what = `*${title(request)}* in ${shortAccounts(request)}`;
  switch (request.status) {
    case 'PENDING': {
      const by = request.approvals.length > 0 ? `; approved so far by ${names(request.approvals)}` : '';
      return `:hourglass_flowing_sand: Your request for ${what} is waiting for approval (${counted(request)})${by}.`;
    }
    case 'APPROVED': {
      const by = request.approvals.length > 0 ? ` by ${names(request.approvals)}` : '';
      const next = request.startAt ? `it starts ${slackDate(request.startAt)}` : 'access is being set up';
      return `:white_check_mark: Your request for ${what} was approved${by}; ${next}.`;
    }
    case 'SCHEDULED':
      return `:calendar: Your access to ${what} starts ${request.startAt ? slackDate(request.startAt) : 'soon'}.`;
    case 'PROVISIONING':
      return `:gear: Your access to ${what} is being set up.`;
    case 'ACTIVE': {
      const expiresAt = request.grant?.expiresAt;
      if (!expiresAt) return `:large_green_circle: Your access to ${what} is active.`;
      const left = Date.parse(expiresAt) - now.getTime();
      const remaining = left > 0 ? `${formatDuration(Math.ceil(left / MINUTE) * MINUTE)} left` : 'ending now';
      return `:large_green_circle: Your access to ${what} is active until ${slackDate(expiresAt)} (${remaining}).`;
    }
    case 'EXTENSION_PENDING': {
      const additional = request.extension ? ` +${formatDuration(request.extension.additionalMs)}` : '';
      return `:hourglass_flowing_sand: Your access to ${what}: the extension of${additional} is waiting for approval (${counted(request)}).`;
    }
    case 'DENIED':
      return `:x: Your request for ${what} was denied${decidedBy(request.denial)}${inlineComment(request.denial)}.`;
    case 'CANCELLED':
      return `:heavy_minus_sign: Your request for ${what} was cancelled${
        request.cancellation && request.cancellation.actorId !== request.requesterId
          ? decidedBy(request.cancellation)
          : ''
      }.`;
    case 'TIMED_OUT':
      return `:alarm_clock: Your request for ${what} timed out without a decision.`;
    case 'FAILED':
      return `:warning: Your access to ${what} could not be set up: ${esc(flat(request.failure ?? 'unknown failure'), FAILURE_MAX)}.`;
    case 'EXPIRED':
      return `:checkered_flag: Your access to ${what} has ended.`;
    case 'REVOKED':
      return `:no_entry: Your access to ${what} was revoked${decidedBy(request.revocation)}${inlineComment(request.revocation)}.`;
  }
}

/** The requester's DM about a change: one short line for the request's current status. */
export function requesterDm(request: AccessRequest, options: { readonly now: Date }): SlackMessage {
  const line = truncate(dmLine(request, options.now), L.sectionText);
  return {
    text: line,
    blocks: [section(line), context(`Request ${code(request.id, 40)}`)],
  };
}

// ---------------------------------------------------------------------------------------------
// The request modal

/** The durations offered, as people ask for them; the longest maximum is added when not among them. */
const DURATION_LADDER = [
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  4 * HOUR,
  8 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  3 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  60 * DAY,
  90 * DAY,
];

function option(text: string, value: string): SlackBlock {
  return { text: plain(text, L.optionText), value };
}

function targetOption(entitlement: Entitlement, account: string): SlackBlock {
  // `title — account`: the account is what tells two options apart, so the title gives way.
  const suffix = ` — ${account}`;
  const room = Math.max(L.optionText - suffix.length, 1);
  const name = truncate(flat(cleanText(entitlement.title)).trim() || entitlement.id, room);
  return option(`${name}${suffix}`, `${entitlement.id}:${account}`);
}

function modal(titleText: string, blocks: SlackBlock[], extra: Record<string, unknown> = {}): SlackView {
  return {
    type: 'modal',
    title: plain(titleText, L.modalTitle),
    close: plain('Close', L.modalButton),
    blocks,
    ...extra,
  };
}

/** `Read-only, Production administrator and 3 more`. */
function entitlementNames(entitlements: readonly Entitlement[]): string {
  const shown = entitlements.slice(0, 5).map((entitlement) => flat(cleanText(entitlement.title)).trim());
  const more = entitlements.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/**
 * The `/pam request` modal over the entitlements the user may request: a target (entitlement and
 * account; grouped by entitlement when there are several), a duration (up to the longest maximum
 * among them: a longer pick for a shorter entitlement comes back as a field error), a reason and a
 * ticket (optional here; whether the chosen entitlement requires them is checked on submit). At most
 * `maxOptions` (≤ 100) targets are offered; the rest are counted and left to the CLI.
 */
export function requestModal(options: {
  readonly entitlements: readonly Entitlement[];
  readonly maxOptions?: number;
}): SlackView {
  const entitlements = options.entitlements.filter((entitlement) => entitlement.target.accounts.length > 0);
  if (entitlements.length === 0) {
    return modal('Request access', [
      section(
        `There is nothing you may request through cloud-pam. Ask your administrator which group grants the access you need; ${CLI_HINT} lists what you may request.`,
      ),
    ]);
  }
  const limit = Math.min(Math.max(Math.floor(options.maxOptions ?? L.options), 1), L.options);
  const total = entitlements.reduce((sum, entitlement) => sum + entitlement.target.accounts.length, 0);
  const groups: { entitlement: Entitlement; options: SlackBlock[] }[] = [];
  let offered = 0;
  for (const entitlement of entitlements) {
    if (offered >= limit) break;
    const accountsOffered = entitlement.target.accounts.slice(0, limit - offered);
    groups.push({
      entitlement,
      options: accountsOffered.map((account) => targetOption(entitlement, account)),
    });
    offered += accountsOffered.length;
  }
  const targetElement: Record<string, unknown> = {
    type: 'static_select',
    action_id: REQUEST_FIELD.target,
    placeholder: plain('Entitlement and account', L.placeholder),
  };
  if (groups.length > 1) {
    targetElement.option_groups = groups.map((group) => ({
      label: plain(group.entitlement.title, L.optionGroupLabel),
      options: group.options,
    }));
  } else {
    targetElement.options = groups[0]?.options ?? [];
  }
  if (offered === 1) targetElement.initial_option = groups[0]?.options[0];

  const longest = Math.max(...entitlements.map((entitlement) => entitlement.maxDurationMs));
  const durations = DURATION_LADDER.filter((ms) => ms <= longest);
  if (!durations.includes(longest)) durations.push(longest);
  const durationOptions = durations.map((ms) => option(formatDuration(ms), String(ms)));
  const preferred = entitlements[0]?.defaultDurationMs;
  const initialDuration = durationOptions[durations.indexOf(preferred ?? -1)];
  const maxima = [...new Set(entitlements.map((entitlement) => entitlement.maxDurationMs))];
  const durationHint =
    maxima.length === 1
      ? `Up to ${formatDuration(longest)}.`
      : `Each entitlement has its own maximum (up to ${formatDuration(longest)}); a longer choice is refused with its limit.`;

  const needReason = entitlements.filter((entitlement) => entitlement.requireReason);
  const needTicket = entitlements.filter((entitlement) => entitlement.ticketPattern !== undefined);

  const blocks: SlackBlock[] = [
    {
      type: 'input',
      block_id: REQUEST_FIELD.target,
      label: plain('What and where', L.inputLabel),
      element: targetElement,
    },
  ];
  if (offered < total) {
    blocks.push(
      context(
        `${total - offered} more targets are not listed here (Slack shows at most ${limit}); use ${CLI_HINT} for them.`,
      ),
    );
  }
  blocks.push(
    {
      type: 'input',
      block_id: REQUEST_FIELD.duration,
      label: plain('How long', L.inputLabel),
      hint: plain(durationHint, L.inputHint),
      element: {
        type: 'static_select',
        action_id: REQUEST_FIELD.duration,
        placeholder: plain('Duration', L.placeholder),
        options: durationOptions,
        ...(initialDuration ? { initial_option: initialDuration } : {}),
      },
    },
    {
      type: 'input',
      block_id: REQUEST_FIELD.reason,
      optional: true,
      label: plain('Reason', L.inputLabel),
      ...(needReason.length > 0
        ? { hint: plain(`Required for ${entitlementNames(needReason)}.`, L.inputHint) }
        : {}),
      element: {
        type: 'plain_text_input',
        action_id: REQUEST_FIELD.reason,
        multiline: true,
        max_length: 1000,
        placeholder: plain('What you need it for', L.placeholder),
      },
    },
    {
      type: 'input',
      block_id: REQUEST_FIELD.ticket,
      optional: true,
      label: plain('Ticket', L.inputLabel),
      ...(needTicket.length > 0
        ? { hint: plain(`Required for ${entitlementNames(needTicket)}.`, L.inputHint) }
        : {}),
      element: {
        type: 'plain_text_input',
        action_id: REQUEST_FIELD.ticket,
        max_length: TICKET_MAX,
        placeholder: plain('e.g. OPS-1234', L.placeholder),
      },
    },
  );
  return modal('Request access', blocks, {
    callback_id: SLACK_CALLBACK.requestModal,
    submit: plain('Request', L.modalButton),
    close: plain('Cancel', L.modalButton),
  });
}

/** A modal that only says why nothing can be done (a refused Slack user, a lookup that failed). */
export function refusalView(text: string): SlackView {
  return modal('cloud-pam', [section(`:no_entry: ${esc(text, 2900)}`)]);
}

// ---------------------------------------------------------------------------------------------
// Lists, App Home and short answers

function shortStatus(request: AccessRequest, now: Date): string {
  switch (request.status) {
    case 'PENDING':
      return `awaiting approval (${counted(request)})`;
    case 'SCHEDULED':
      return `scheduled, starts ${request.startAt ? slackDate(request.startAt) : 'soon'}`;
    case 'ACTIVE': {
      const expiresAt = request.grant?.expiresAt;
      if (!expiresAt) return 'active';
      const left = Date.parse(expiresAt) - now.getTime();
      return left > 0
        ? `active until ${slackDate(expiresAt)} (${formatDuration(Math.ceil(left / MINUTE) * MINUTE)} left)`
        : 'active, ending now';
    }
    case 'EXTENSION_PENDING':
      return `active; extension +${formatDuration(request.extension?.additionalMs ?? 0)} awaiting approval (${counted(request)})`;
    default:
      return statusWord(request);
  }
}

function myLine(request: AccessRequest, now: Date): string {
  return truncate(
    `• *${title(request)}* · ${shortAccounts(request)} · ${formatDuration(request.durationMs)} · ${shortStatus(request, now)} · ${code(request.id, 40)}`,
    LIST_LINE_MAX,
  );
}

function awaitingLine(request: AccessRequest, now: Date): string {
  const reason = request.status === 'EXTENSION_PENDING' ? request.extension?.reason : request.reason;
  const why = reason?.trim() ? ` · “${esc(flat(reason.trim()), 120)}”` : '';
  const length =
    request.status === 'EXTENSION_PENDING' && request.extension
      ? `+${formatDuration(request.extension.additionalMs)}`
      : formatDuration(request.durationMs);
  return truncate(
    `• *${title(request)}* · ${shortAccounts(request)} · ${length} · from ${requester(request)} · ${shortStatus(request, now)}${why} · ${code(request.id, 40)}`,
    LIST_LINE_MAX,
  );
}

/** Lines packed into as few sections as fit (each ≤ 3000 characters). */
function packed(lines: readonly string[]): SlackBlock[] {
  const blocks: SlackBlock[] = [];
  let current = '';
  for (const line of lines) {
    if (current !== '' && current.length + 1 + line.length > L.sectionText) {
      blocks.push(section(current));
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') blocks.push(section(current));
  return blocks;
}

function listed(
  requests: readonly AccessRequest[],
  shown: number,
  line: (request: AccessRequest) => string,
): string[] {
  const lines = requests.slice(0, shown).map(line);
  if (requests.length > shown)
    lines.push(`…and ${requests.length - shown} more; \`pam list\` shows them all.`);
  return lines;
}

/** `/pam list`: what awaits my approval, then my requests (newest first), each a line. */
export function listMessage(options: {
  readonly mine: readonly AccessRequest[];
  readonly awaiting: readonly AccessRequest[];
  readonly now: Date;
}): SlackMessage {
  const { mine, awaiting, now } = options;
  const blocks: SlackBlock[] = [
    section(`*Awaiting your approval* (${awaiting.length})`),
    ...(awaiting.length === 0
      ? [section('Nothing awaits your approval.')]
      : packed(listed(awaiting, LIST_ITEMS, (request) => awaitingLine(request, now)))),
    { type: 'divider' },
    section(`*Your requests* (${mine.length})`),
    ...(mine.length === 0
      ? [section(`You have no requests. Ask for access with \`/pam request\` or ${CLI_HINT}.`)]
      : packed(listed(mine, LIST_ITEMS, (request) => myLine(request, now)))),
  ];
  return {
    text: `${awaiting.length} awaiting your approval, ${mine.length} of your requests`,
    blocks: blocks.slice(0, L.messageBlocks),
  };
}

/** The App Home: what awaits my approval (with Approve / Deny), then my requests. */
export function homeView(options: {
  readonly mine: readonly AccessRequest[];
  readonly awaiting: readonly AccessRequest[];
  readonly now: Date;
}): SlackView {
  const { mine, awaiting, now } = options;
  const blocks: SlackBlock[] = [header('Awaiting your approval')];
  if (awaiting.length === 0) blocks.push(section('Nothing awaits your approval.'));
  for (const request of awaiting.slice(0, HOME_AWAITING)) {
    blocks.push(section(awaitingLine(request, now)), decisionButtons(request, `pam-decide-${request.id}`));
  }
  if (awaiting.length > HOME_AWAITING)
    blocks.push(
      context(`…and ${awaiting.length - HOME_AWAITING} more; \`/pam list\` or \`pam list --approvals\`.`),
    );
  blocks.push({ type: 'divider' }, header('Your requests'));
  blocks.push(
    ...(mine.length === 0
      ? [section('You have no requests.')]
      : packed(listed(mine, HOME_MINE, (request) => myLine(request, now)))),
  );
  blocks.push(context(`Ask for access with \`/pam request\` or ${CLI_HINT}.`));
  return { type: 'home', blocks: blocks.slice(0, L.viewBlocks) };
}

/** The App Home of someone cloud-pam does not act for: only why. */
export function homeNoticeView(text: string): SlackView {
  return { type: 'home', blocks: [header('cloud-pam'), section(`:no_entry: ${esc(text, 2900)}`)] };
}

/** An ephemeral refusal (the text is a PamError message or ours; escaped all the same). */
export function refusalMessage(text: string): SlackMessage {
  const line = `:no_entry: ${esc(text, 2900)}`;
  return { text: line, blocks: [section(line)] };
}

/** The answer to `/pam link` with a good code. */
export function linkedMessage(): SlackMessage {
  const line =
    ':link: Your Slack account is now linked to your cloud-pam identity: what you request or approve here is done as that user.';
  return { text: line, blocks: [section(line)] };
}

// ---------------------------------------------------------------------------------------------
// Block Kit limits, checked

type Json = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Checker {
  readonly problems: string[] = [];

  problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  string(value: unknown, path: string, max: number, required = true) {
    if (value === undefined && !required) return;
    if (typeof value !== 'string') return this.problem(path, 'expected a string');
    if (value.length < 1) return this.problem(path, 'must not be empty');
    if (value.length > max) this.problem(path, `${value.length} characters, more than ${max}`);
  }

  text(value: unknown, path: string, max: number, options: { plainOnly?: boolean; required?: boolean } = {}) {
    if (value === undefined && options.required === false) return;
    if (!isRecord(value)) return this.problem(path, 'expected a text object');
    if (value.type !== 'plain_text' && value.type !== 'mrkdwn')
      return this.problem(path, 'expected type plain_text or mrkdwn');
    if (options.plainOnly && value.type !== 'plain_text') this.problem(path, 'must be plain_text');
    this.string(value.text, path, max);
  }

  array(value: unknown, path: string, min: number, max: number): readonly unknown[] {
    if (!Array.isArray(value)) {
      this.problem(path, 'expected an array');
      return [];
    }
    if (value.length < min) this.problem(path, `${value.length} items, fewer than ${min}`);
    if (value.length > max) this.problem(path, `${value.length} items, more than ${max}`);
    return value;
  }

  option(value: unknown, path: string): string | undefined {
    if (!isRecord(value)) {
      this.problem(path, 'expected an option');
      return undefined;
    }
    this.text(value.text, `${path}.text`, L.optionText, { plainOnly: true });
    this.string(value.value, `${path}.value`, L.optionValue);
    return typeof value.value === 'string' ? value.value : undefined;
  }

  element(value: unknown, path: string) {
    if (!isRecord(value)) return this.problem(path, 'expected an element');
    this.string(value.action_id, `${path}.action_id`, L.actionId, false);
    switch (value.type) {
      case 'button':
        this.text(value.text, `${path}.text`, L.buttonText, { plainOnly: true });
        this.string(value.value, `${path}.value`, L.buttonValue, false);
        this.string(value.url, `${path}.url`, L.url, false);
        if (value.style !== undefined && value.style !== 'primary' && value.style !== 'danger')
          this.problem(`${path}.style`, 'expected primary or danger');
        return;
      case 'static_select': {
        this.text(value.placeholder, `${path}.placeholder`, L.placeholder, {
          plainOnly: true,
          required: false,
        });
        const values: (string | undefined)[] = [];
        if ((value.options === undefined) === (value.option_groups === undefined))
          return this.problem(path, 'expected options or option_groups (one of them)');
        if (value.options !== undefined) {
          const options = this.array(value.options, `${path}.options`, 1, L.options);
          for (const [index, item] of options.entries())
            values.push(this.option(item, `${path}.options[${index}]`));
        } else {
          const groups = this.array(value.option_groups, `${path}.option_groups`, 1, L.optionGroups);
          for (const [index, group] of groups.entries()) {
            const at = `${path}.option_groups[${index}]`;
            if (!isRecord(group)) {
              this.problem(at, 'expected an option group');
              continue;
            }
            this.text(group.label, `${at}.label`, L.optionGroupLabel, { plainOnly: true });
            const options = this.array(group.options, `${at}.options`, 1, L.options);
            for (const [i, item] of options.entries()) values.push(this.option(item, `${at}.options[${i}]`));
          }
          if (values.length > L.options)
            this.problem(`${path}.option_groups`, `${values.length} options, more than ${L.options}`);
        }
        if (new Set(values).size !== values.length) this.problem(path, 'option values repeat');
        if (value.initial_option !== undefined) {
          const initial = this.option(value.initial_option, `${path}.initial_option`);
          if (!values.includes(initial)) this.problem(`${path}.initial_option`, 'is not one of the options');
        }
        return;
      }
      case 'plain_text_input': {
        this.text(value.placeholder, `${path}.placeholder`, L.placeholder, {
          plainOnly: true,
          required: false,
        });
        const max = value.max_length ?? L.inputMaxLength;
        if (typeof max !== 'number' || max < 1 || max > L.inputMaxLength)
          this.problem(`${path}.max_length`, `expected 1 to ${L.inputMaxLength}`);
        this.string(value.initial_value, `${path}.initial_value`, typeof max === 'number' ? max : 0, false);
        return;
      }
      default:
        this.problem(`${path}.type`, `element type ${String(value.type)} is not one cloud-pam checks`);
    }
  }

  block(value: unknown, path: string) {
    if (!isRecord(value)) return this.problem(path, 'expected a block');
    this.string(value.block_id, `${path}.block_id`, L.blockId, false);
    switch (value.type) {
      case 'section': {
        if (value.text === undefined && value.fields === undefined)
          this.problem(path, 'a section needs text or fields');
        this.text(value.text, `${path}.text`, L.sectionText, { required: false });
        if (value.fields !== undefined) {
          const fields = this.array(value.fields, `${path}.fields`, 1, L.sectionFields);
          for (const [index, field] of fields.entries())
            this.text(field, `${path}.fields[${index}]`, L.fieldText);
        }
        if (value.accessory !== undefined) this.element(value.accessory, `${path}.accessory`);
        return;
      }
      case 'header':
        return this.text(value.text, `${path}.text`, L.headerText, { plainOnly: true });
      case 'context': {
        const elements = this.array(value.elements, `${path}.elements`, 1, L.contextElements);
        for (const [index, element] of elements.entries())
          this.text(element, `${path}.elements[${index}]`, L.contextText);
        return;
      }
      case 'actions': {
        const elements = this.array(value.elements, `${path}.elements`, 1, L.actionsElements);
        for (const [index, element] of elements.entries())
          this.element(element, `${path}.elements[${index}]`);
        const ids = elements.map((element) => (isRecord(element) ? element.action_id : undefined));
        if (new Set(ids).size !== ids.length)
          this.problem(`${path}.elements`, 'action_id repeats in a block');
        return;
      }
      case 'input':
        this.text(value.label, `${path}.label`, L.inputLabel, { plainOnly: true });
        this.text(value.hint, `${path}.hint`, L.inputHint, { plainOnly: true, required: false });
        return this.element(value.element, `${path}.element`);
      case 'divider':
        return;
      default:
        this.problem(`${path}.type`, `block type ${String(value.type)} is not one cloud-pam checks`);
    }
  }
}

/**
 * Where a message or view breaks Block Kit's limits (as `path: problem`); empty when Slack would
 * accept it as far as these limits go. Views are told apart by `type` (`modal`, `home`).
 */
export function blockKitProblems(payload: SlackMessage | SlackView): string[] {
  const check = new Checker();
  const record = payload as Json;
  const isView = record.type === 'modal' || record.type === 'home';
  if (isView) {
    if (record.type === 'modal') {
      check.text(record.title, 'title', L.modalTitle, { plainOnly: true });
      check.text(record.submit, 'submit', L.modalButton, { plainOnly: true, required: false });
      check.text(record.close, 'close', L.modalButton, { plainOnly: true, required: false });
    }
    check.string(record.callback_id, 'callback_id', L.callbackId, false);
    check.string(record.private_metadata, 'private_metadata', L.privateMetadata, false);
  } else {
    check.string(record.text, 'text', L.messageText);
  }
  const blocks =
    record.blocks === undefined && !isView
      ? []
      : check.array(record.blocks, 'blocks', 0, isView ? L.viewBlocks : L.messageBlocks);
  const blockIds = blocks.map((block) => (isRecord(block) ? block.block_id : undefined)).filter(Boolean);
  if (new Set(blockIds).size !== blockIds.length) check.problem('blocks', 'block_id repeats');
  for (const [index, block] of blocks.entries()) check.block(block, `blocks[${index}]`);
  return check.problems;
}
