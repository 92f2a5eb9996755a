// The session denies inside a permission set's inline policy. Removing an Identity Center assignment
// does not end role sessions already issued (up to the PT1H session duration), so revocation — and
// expiry where `strictExpiry` applies — adds AWS's documented deny ("Revoke active IAM role sessions
// created by permission sets", IAM Identity Center User Guide): this Identity Store user, tokens
// issued before a cut-off. A sweep removes it once every such session has expired.
//
// The budget. The policy is provisioned as an inline policy of the role in every account, and IAM
// limits a role's inline policies to 10,240 characters, whitespace not counted ("IAM and AWS STS
// quotas") — not the 32,768 that PutInlinePolicyToPermissionSet accepts. So:
// - one statement per (permission set, user), widened — never repeated: a user denied again, or
//   whose cut-off moves later, keeps one statement;
// - every write is measured first; when the per-user statements would not fit, they all give way to
//   one permission-set-wide deny (every session of the permission set issued before the latest
//   cut-off, whoever holds it), which fits any number of users and makes everyone sign in again.
// Each statement carries its removal time in its Sid, so the policy alone says what may be swept.

import { sha256Hex } from './canonical-json.ts';
import { ValidationError } from './errors.ts';

/** IAM's limit on a role's inline policies, in characters, whitespace not counted. */
export const ROLE_INLINE_POLICY_LIMIT = 10_240;
/** The longest Identity Store user id cloud-pam accepts (queue and API schemas). */
export const MAX_USER_ID_LENGTH = 64;

const SID_PREFIX = 'PamRevoke';
const EVERYONE = 'All';
const SID_PATTERN = /^PamRevoke(All|[0-9a-f]{12})T(\d{10})$/;
const USER_KEY = 'identitystore:userId';
const ISSUE_KEY = 'aws:TokenIssueTime';

interface Statement {
  readonly Sid?: string;
  readonly [key: string]: unknown;
}

interface PolicyDocument {
  readonly Version: string;
  readonly Statement: readonly Statement[];
}

/** A deny in force: sessions issued before `cutoff` are denied until `removeAt`. */
export interface DenyWindow {
  readonly cutoff: Date;
  readonly removeAt: Date;
}

export interface UserDeny extends DenyWindow {
  readonly userId: string;
}

export interface DenyState {
  /** One entry per user with a statement of their own. */
  readonly users: readonly UserDeny[];
  /** The permission-set-wide deny, when one is in force. */
  readonly everyone?: DenyWindow;
}

export type DenyOutcome =
  /** A new statement for the user. */
  | 'added'
  /** The user's statement now has a later cut-off (or removal time). */
  | 'widened'
  /** Nothing to write: the user's statement (or the permission-set-wide one) already covers it. */
  | 'covered'
  /** The per-user statements did not fit: one permission-set-wide deny replaces them. */
  | 'fallback';

export interface DenyChange {
  readonly outcome: DenyOutcome;
  /** The new document; undefined when nothing changes. */
  readonly document?: string;
  /** Non-whitespace characters of the document the permission set will hold. */
  readonly size: number;
}

function parse(document: string | undefined): PolicyDocument {
  if (document === undefined || document.trim() === '') return { Version: '2012-10-17', Statement: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(document);
  } catch {
    throw new ValidationError('inline policy: not JSON');
  }
  const doc = raw as { Version?: unknown; Statement?: unknown };
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  return {
    Version: typeof doc.Version === 'string' ? doc.Version : '2012-10-17',
    Statement: statements as Statement[],
  };
}

/** Characters IAM counts against the role's inline policy quota (whitespace is not counted). */
export function policySize(document: string | undefined): number {
  if (document === undefined) return 0;
  let size = 0;
  for (const char of document) if (!/\s/u.test(char)) size++;
  return size;
}

const epoch = (at: Date) => Math.ceil(at.getTime() / 1000);

function userSid(userId: string, removeAt: Date): string {
  return `${SID_PREFIX}${sha256Hex(userId).slice(0, 12)}T${epoch(removeAt)}`;
}

export function userDenyStatement(entry: UserDeny): Statement {
  return {
    Sid: userSid(entry.userId, entry.removeAt),
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: {
      StringEquals: { [USER_KEY]: entry.userId },
      DateLessThan: { [ISSUE_KEY]: entry.cutoff.toISOString() },
    },
  };
}

export function everyoneDenyStatement(window: DenyWindow): Statement {
  return {
    Sid: `${SID_PREFIX}${EVERYONE}T${epoch(window.removeAt)}`,
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: { DateLessThan: { [ISSUE_KEY]: window.cutoff.toISOString() } },
  };
}

/** Characters one user's statement takes in the policy (its comma included), for the longest id. */
export function userDenySize(userIdLength = MAX_USER_ID_LENGTH): number {
  const far = new Date('2099-12-31T23:59:59.999Z');
  const statement = userDenyStatement({ userId: 'u'.repeat(userIdLength), cutoff: far, removeAt: far });
  return policySize(JSON.stringify(statement)) + 1;
}

/** Characters the permission-set-wide statement takes (its comma included). */
export function everyoneDenySize(): number {
  const far = new Date('2099-12-31T23:59:59.999Z');
  return policySize(JSON.stringify(everyoneDenyStatement({ cutoff: far, removeAt: far }))) + 1;
}

/**
 * How many distinct users a permission set can hold per-user denies for at once, next to its own
 * inline policy (`managedDocument`); 0 means every revocation falls back to the permission-set-wide
 * deny, and a negative answer means even that does not fit.
 */
export function userDenyCapacity(managedDocument: string | undefined): number {
  const base = policySize(JSON.stringify(parse(managedDocument)));
  return Math.floor((ROLE_INLINE_POLICY_LIMIT - base - everyoneDenySize()) / userDenySize());
}

interface DenyStatementInfo {
  readonly kind: 'user' | 'everyone';
  readonly userId?: string;
  readonly window: DenyWindow;
}

function denyInfo(statement: Statement): DenyStatementInfo | undefined {
  const match = SID_PATTERN.exec(statement.Sid ?? '');
  if (!match) return undefined;
  const removeAt = new Date(Number(match[2]) * 1000);
  const condition = (statement.Condition ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const issued = condition.DateLessThan?.[ISSUE_KEY];
  const cutoff = typeof issued === 'string' ? new Date(issued) : new Date(0);
  if (match[1] === EVERYONE) return { kind: 'everyone', window: { cutoff, removeAt } };
  const userId = condition.StringEquals?.[USER_KEY];
  return typeof userId === 'string' ? { kind: 'user', userId, window: { cutoff, removeAt } } : undefined;
}

/** The denies a document holds. */
export function readDenies(document: string | undefined): DenyState {
  const users: UserDeny[] = [];
  let everyone: DenyWindow | undefined;
  for (const statement of parse(document).Statement) {
    const info = denyInfo(statement);
    if (!info) continue;
    if (info.kind === 'everyone') everyone = later(everyone, info.window);
    else users.push({ userId: info.userId as string, ...info.window });
  }
  return everyone ? { users, everyone } : { users };
}

function later(a: DenyWindow | undefined, b: DenyWindow): DenyWindow {
  if (!a) return b;
  return {
    cutoff: new Date(Math.max(a.cutoff.getTime(), b.cutoff.getTime())),
    removeAt: new Date(Math.max(a.removeAt.getTime(), b.removeAt.getTime())),
  };
}

/** Whether `entry` is already in force in the document (its user's statement, or the wide one). */
export function denyCovered(document: string | undefined, entry: UserDeny): boolean {
  const state = readDenies(document);
  const covers = (window: DenyWindow | undefined) =>
    window !== undefined && window.cutoff >= entry.cutoff && window.removeAt >= entry.removeAt;
  return covers(state.everyone) || state.users.some((u) => u.userId === entry.userId && covers(u));
}

function serialize(policy: PolicyDocument, statements: readonly Statement[]): string {
  return JSON.stringify({ ...policy, Statement: statements });
}

/**
 * Puts `entry` in force: the user's one statement added or widened, or — when that would not fit in
 * `limit` — a permission-set-wide deny with the latest cut-off and removal time of every deny in the
 * document replacing all of them. Throws when not even that fits (config validation prevents it).
 */
export function applyDeny(
  document: string | undefined,
  entry: UserDeny,
  limit = ROLE_INLINE_POLICY_LIMIT,
): DenyChange {
  const policy = parse(document);
  if (denyCovered(document, entry))
    return { outcome: 'covered', size: policySize(serialize(policy, policy.Statement)) };
  const state = readDenies(document);
  const mine = state.users.filter((u) => u.userId === entry.userId);
  const merged = mine.reduce<DenyWindow>((acc, u) => later(acc, u), entry);
  const others = policy.Statement.filter((s) => {
    const info = denyInfo(s);
    return !(info?.kind === 'user' && info.userId === entry.userId);
  });
  const perUser = serialize(policy, [...others, userDenyStatement({ userId: entry.userId, ...merged })]);
  if (policySize(perUser) <= limit)
    return { outcome: mine.length > 0 ? 'widened' : 'added', document: perUser, size: policySize(perUser) };
  return wideDeny(policy, merged, limit);
}

/**
 * Puts a permission-set-wide deny in force (a fallback recorded in the ledger, restored): merged
 * with every deny already in the document, which it replaces.
 */
export function applyWideDeny(
  document: string | undefined,
  window: DenyWindow,
  limit = ROLE_INLINE_POLICY_LIMIT,
): DenyChange {
  const policy = parse(document);
  const current = readDenies(document).everyone;
  if (current && current.cutoff >= window.cutoff && current.removeAt >= window.removeAt)
    return { outcome: 'covered', size: policySize(serialize(policy, policy.Statement)) };
  return wideDeny(policy, window, limit);
}

/** One deny for every session issued before the latest cut-off in the document, whoever holds it. */
function wideDeny(policy: PolicyDocument, window: DenyWindow, limit: number): DenyChange {
  const state = readDenies(serialize(policy, policy.Statement));
  const windows: DenyWindow[] = [
    window,
    ...state.users.map((u) => ({ cutoff: u.cutoff, removeAt: u.removeAt })),
  ];
  if (state.everyone) windows.push(state.everyone);
  const wide = windows.reduce<DenyWindow | undefined>((acc, w) => later(acc, w), undefined) as DenyWindow;
  const kept = policy.Statement.filter((s) => denyInfo(s) === undefined);
  const fallback = serialize(policy, [...kept, everyoneDenyStatement(wide)]);
  const size = policySize(fallback);
  if (size > limit)
    throw new ValidationError(
      `inline policy: ${size} characters with one permission-set-wide deny, over the ${limit} a role may hold`,
    );
  return { outcome: 'fallback', document: fallback, size };
}

/** Removal times of the deny statements in a document. */
export function denyRemovalTimes(document: string | undefined): readonly Date[] {
  return parse(document)
    .Statement.map((statement) => SID_PATTERN.exec(statement.Sid ?? ''))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => new Date(Number(match[2]) * 1000));
}

/** Drops deny statements whose removal time has come. Undefined when nothing changed. */
export function withoutExpiredDenies(document: string | undefined, now: Date): string | undefined {
  const policy = parse(document);
  const kept = policy.Statement.filter((statement) => {
    const match = SID_PATTERN.exec(statement.Sid ?? '');
    return !match || Number(match[2]) * 1000 > now.getTime();
  });
  if (kept.length === policy.Statement.length) return undefined;
  return serialize(policy, kept);
}
