// Human output: a request as a short block, lists as aligned tables. The API's answers are parsed
// with lenient zod schemas first (only the fields shown), so a surprising answer is a clear error
// rather than `undefined` on screen; `--json` bypasses all of this and prints the API's document.
// People appear by the name recorded when they acted (their id when the record predates names),
// durations as people write them (`1h 30m`), and an active grant with the time it has left at `now`:
// the server's time when the API said it, else this machine's (see cli/subcommands.ts).
import { z } from 'zod';
import { fieldPath } from '#domain/text.ts';
import { humanIsoDuration, timeLeft } from './duration.ts';
import { CliError, oneLine } from './errors.ts';

const text = z.string();
const optionalText = z.string().nullable().optional();
const actorRecord = z
  .object({ actorId: text, actorName: z.string().optional(), at: text, comment: z.string().optional() })
  .nullable()
  .optional();
const approval = z.object({
  approverId: text,
  approverName: z.string().optional(),
  at: text,
  comment: z.string().optional(),
});

export const RequestViewSchema = z.object({
  id: text,
  status: text,
  requesterId: text,
  requesterName: optionalText,
  entitlementId: text,
  entitlementTitle: z.string().optional(),
  accountId: text,
  accountIds: z.array(text).optional(),
  permissionSetName: z.string().optional(),
  duration: text,
  reason: optionalText,
  ticket: optionalText,
  startAt: optionalText,
  approvals: z.array(approval).default([]),
  approvalsRequired: z.number(),
  approverGroups: z.array(text).default([]),
  denial: actorRecord,
  cancellation: actorRecord,
  revocation: actorRecord,
  extension: z
    .object({
      requestedBy: text,
      at: text,
      additional: text,
      reason: optionalText,
      approvals: z.array(approval).default([]),
    })
    .nullable()
    .optional(),
  grant: z
    .object({ grantVersion: z.number(), startedAt: text, expiresAt: text, totalDuration: text })
    .nullable()
    .optional(),
  breakGlass: z.object({ activatedBy: text, reviewStatus: text, review: actorRecord }).nullable().optional(),
  failure: optionalText,
  createdAt: text,
  endedAt: optionalText,
});
export type RequestView = z.infer<typeof RequestViewSchema>;

export const EntitlementViewSchema = z.object({
  id: text,
  title: text,
  kind: text,
  accounts: z.array(text),
  permissionSetName: text,
  maxDuration: text,
  defaultDuration: text,
  requireReason: z.boolean(),
  ticketPattern: z.string().optional(),
  approvalsRequired: z.number(),
  autoApprove: z.boolean(),
  eligible: z.boolean(),
  breakGlass: z.boolean(),
});
export type EntitlementView = z.infer<typeof EntitlementViewSchema>;

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextToken: z.string().nullable().optional() });
}

/** Parses an API answer for display; a mismatch is exit 2 naming what was expected. */
export function parseAnswer<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${fieldPath('', issue.path)}` : '';
    throw new CliError(`the API answered with something that is not ${what}${where}`);
  }
  return parsed.data;
}

/** Aligned columns, two spaces apart, no trailing spaces. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [headers, ...rows].map((row) => row.map((cell) => oneLine(cell, 80)));
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function accounts(view: RequestView): string {
  const all = view.accountIds ?? [view.accountId];
  return all.length > 1 ? `${all[0]} +${all.length - 1}` : (all[0] ?? view.accountId);
}

/** Statuses in which the grant is held, so its time left means something. */
const HOLDING = new Set(['ACTIVE', 'EXTENSION_PENDING']);

/** Who the requester is to people: the name recorded, else the id (records made before names). */
function requester(view: RequestView): string {
  return view.requesterName || view.requesterId;
}

/** Someone the view names by id: the requester's name when it is them (extension, break-glass). */
function personOf(view: RequestView, userId: string): string {
  return userId === view.requesterId ? requester(view) : userId;
}

function approvers(approvals: RequestView['approvals']): string {
  return approvals.map((a) => a.approverName || a.approverId).join(', ');
}

/** How long the grant has left (`1h 12m`) while it is held; undefined otherwise. */
function grantLeft(view: RequestView, now: number): string | undefined {
  if (!view.grant || !HOLDING.has(view.status)) return undefined;
  return timeLeft(view.grant.expiresAt, now);
}

function decided(label: string, record: RequestView['denial']): string[] {
  if (!record) return [];
  const who = record.actorName || record.actorId;
  return [`${label} by ${who} at ${record.at}${record.comment ? ` — ${record.comment}` : ''}`];
}

/**
 * A request as a block: the id and status, then one labelled line per field that has a value.
 * `now` (epoch ms) counts an active grant's time left.
 */
export function requestBlock(view: RequestView, now: number): string[] {
  const lines: [string, string][] = [];
  const add = (label: string, value: string | null | undefined) => {
    if (value) lines.push([label, value]);
  };
  add(
    'entitlement',
    `${view.entitlementId}${view.entitlementTitle ? ` — ${view.entitlementTitle}` : ''}` +
      (view.permissionSetName ? ` (${view.permissionSetName})` : ''),
  );
  add('accounts', (view.accountIds ?? [view.accountId]).join(', '));
  add('duration', humanIsoDuration(view.duration));
  add('requester', requester(view));
  const approvedBy = approvers(view.approvals);
  add(
    'approvals',
    `${view.approvals.length} of ${view.approvalsRequired}` +
      (approvedBy ? ` (${approvedBy})` : '') +
      (view.approverGroups.length ? `; approver groups: ${view.approverGroups.join(', ')}` : ''),
  );
  add('reason', view.reason);
  add('ticket', view.ticket);
  add('starts', view.startAt);
  if (view.grant) {
    const left = grantLeft(view, now);
    add(
      'grant',
      `${view.grant.startedAt} → ${view.grant.expiresAt} (v${view.grant.grantVersion})${left ? `, ${left} left` : ''}`,
    );
  }
  if (view.extension) {
    const ext = view.extension;
    const extApprovers = approvers(ext.approvals);
    add(
      'extension',
      `+${humanIsoDuration(ext.additional)} requested by ${personOf(view, ext.requestedBy)} at ${ext.at} ` +
        `(${ext.approvals.length} of ${view.approvalsRequired} approvals${extApprovers ? `: ${extApprovers}` : ''})` +
        (ext.reason ? ` — ${ext.reason}` : ''),
    );
  }
  if (view.breakGlass) {
    add(
      'break-glass',
      `${view.breakGlass.reviewStatus}, activated by ${personOf(view, view.breakGlass.activatedBy)}`,
    );
    for (const line of decided('reviewed', view.breakGlass.review)) add('review', line);
  }
  for (const line of decided('denied', view.denial)) add('denial', line);
  for (const line of decided('cancelled', view.cancellation)) add('cancellation', line);
  for (const line of decided('revoked', view.revocation)) add('revocation', line);
  add('failure', view.failure);
  add('created', view.createdAt);
  add('ended', view.endedAt);
  const width = Math.max(...lines.map(([label]) => label.length));
  return [
    `${view.id}  ${oneLine(view.status)}`,
    ...lines.map(([label, value]) => `  ${label.padEnd(width)}  ${oneLine(value)}`),
  ];
}

/** `now` (epoch ms) counts each active grant's time left. */
export function myRequestsTable(views: readonly RequestView[], now: number): string[] {
  if (views.length === 0) return ['no requests'];
  return table(
    ['ID', 'STATUS', 'ENTITLEMENT', 'ACCOUNT', 'DURATION', 'EXPIRES', 'LEFT', 'CREATED'],
    views.map((v) => [
      v.id,
      v.status,
      v.entitlementId,
      accounts(v),
      humanIsoDuration(v.duration),
      v.grant?.expiresAt ?? '-',
      grantLeft(v, now) ?? '-',
      v.createdAt,
    ]),
  );
}

export function approvalsTable(views: readonly RequestView[]): string[] {
  if (views.length === 0) return ['nothing awaits your approval'];
  return table(
    ['ID', 'STATUS', 'ENTITLEMENT', 'ACCOUNT', 'DURATION', 'APPROVALS', 'REQUESTER', 'REASON'],
    views.map((v) => {
      const extension = v.status === 'EXTENSION_PENDING' && v.extension;
      const given = extension ? extension.approvals.length : v.approvals.length;
      return [
        v.id,
        v.status,
        v.entitlementId,
        accounts(v),
        extension ? `+${humanIsoDuration(extension.additional)}` : humanIsoDuration(v.duration),
        `${given}/${v.approvalsRequired}`,
        requester(v),
        oneLine((extension ? extension.reason : v.reason) ?? '-', 50),
      ];
    }),
  );
}

export function entitlementsTable(views: readonly EntitlementView[]): string[] {
  if (views.length === 0) return ['no entitlements you may request'];
  return table(
    ['ID', 'ACCOUNTS', 'DEFAULT', 'MAX', 'APPROVALS', 'YOU MAY', 'TITLE'],
    views.map((e) => [
      e.id,
      e.accounts.length > 1 ? `${e.accounts[0]} +${e.accounts.length - 1}` : (e.accounts[0] ?? '-'),
      humanIsoDuration(e.defaultDuration),
      humanIsoDuration(e.maxDuration),
      e.autoApprove ? 'auto' : String(e.approvalsRequired),
      [e.eligible ? 'request' : '', e.breakGlass ? 'break-glass' : ''].filter(Boolean).join(', ') || '-',
      e.title,
    ]),
  );
}
