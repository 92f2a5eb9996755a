// The revocation deny list inside a permission set's inline policy. Removing an assignment does not
// end role sessions already issued (up to the PT1H session duration), so a revocation adds AWS's
// documented deny — this Identity Store user, tokens issued before the end time — and a sweep
// removes it once every such session has expired. Each statement carries its removal time in its
// Sid, so the policy alone says what may be swept (no second store to drift from it).

import { sha256Hex } from './canonical-json.ts';
import { ValidationError } from './errors.ts';

const SID_PREFIX = 'PamRevoke';
const SID_PATTERN = /^PamRevoke([0-9a-f]{12})T(\d{10})$/;

interface Statement {
  readonly Sid?: string;
  readonly [key: string]: unknown;
}

interface PolicyDocument {
  readonly Version: string;
  readonly Statement: readonly Statement[];
}

export interface DenyEntry {
  readonly userId: string;
  /** Sessions whose tokens were issued before this instant are denied. */
  readonly endedAt: Date;
  /** When the statement may go (endedAt + one session duration). */
  readonly removeAt: Date;
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

export function denySid(entry: Pick<DenyEntry, 'userId' | 'endedAt' | 'removeAt'>): string {
  const who = sha256Hex(`${entry.userId}|${entry.endedAt.toISOString()}`).slice(0, 12);
  return `${SID_PREFIX}${who}T${Math.ceil(entry.removeAt.getTime() / 1000)}`;
}

export function denyStatement(entry: DenyEntry): Statement {
  return {
    Sid: denySid(entry),
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: {
      StringEquals: { 'identitystore:userId': entry.userId },
      DateLessThan: { 'aws:TokenIssueTime': entry.endedAt.toISOString() },
    },
  };
}

/** Adds the entry's deny (idempotent). Returns the new document, or undefined when unchanged. */
export function withDeny(document: string | undefined, entry: DenyEntry): string | undefined {
  const policy = parse(document);
  const sid = denySid(entry);
  if (policy.Statement.some((statement) => statement.Sid === sid)) return undefined;
  return JSON.stringify({ ...policy, Statement: [...policy.Statement, denyStatement(entry)] });
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
  return JSON.stringify({ ...policy, Statement: kept });
}
