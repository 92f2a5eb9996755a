// The revocation deny list inside a permission set's inline policy (shared/domain/deny-policy.ts):
// one statement per user, widened rather than repeated; measured against IAM's 10,240-character role
// inline-policy quota (whitespace not counted); the permission-set-wide fallback when it would not fit.
import { describe, expect, it } from 'vitest';
import {
  applyDeny,
  applyWideDeny,
  denyCovered,
  denyRemovalTimes,
  everyoneDenySize,
  policySize,
  ROLE_INLINE_POLICY_LIMIT,
  readDenies,
  userDenyCapacity,
  userDenySize,
  withoutExpiredDenies,
} from '#domain/deny-policy.ts';

const HOUR = 3_600_000;
const t = (minutes: number) => new Date(Date.UTC(2026, 10, 29, 12, minutes));
const deny = (userId: string, cutoffMinute: number) => ({
  userId,
  cutoff: t(cutoffMinute),
  removeAt: new Date(t(cutoffMinute).getTime() + HOUR),
});
const managed = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'ReadLogs', Effect: 'Allow', Action: 'logs:Get*', Resource: '*' }],
});

describe('applyDeny', () => {
  it('adds one statement for a user and keeps the permission set’s own statements first', () => {
    const change = applyDeny(managed, deny('u-1', 0));

    expect(change.outcome).toBe('added');
    const statements = JSON.parse(change.document as string).Statement;
    expect(statements[0].Sid).toBe('ReadLogs');
    expect(statements[1]).toMatchObject({
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringEquals: { 'identitystore:userId': 'u-1' },
        DateLessThan: { 'aws:TokenIssueTime': t(0).toISOString() },
      },
    });
  });

  it('widens the user’s one statement instead of repeating it, however often they are denied', () => {
    let document = managed;
    for (let minute = 0; minute < 60; minute++) {
      const change = applyDeny(document, deny('u-1', minute));
      document = change.document ?? document;
    }

    const state = readDenies(document);
    expect(state.users).toHaveLength(1);
    expect(state.users[0]?.cutoff).toEqual(t(59));
    expect(policySize(document)).toBe(policySize(managed) + userDenySize('u-1'.length));
  });

  it('answers covered (nothing to write) for a deny already in force', () => {
    const { document } = applyDeny(undefined, deny('u-1', 10));

    const again = applyDeny(document, deny('u-1', 5));
    expect(again.outcome).toBe('covered');
    expect(again.document).toBeUndefined();
    expect(denyCovered(document, deny('u-1', 10))).toBe(true);
    expect(denyCovered(document, deny('u-1', 11))).toBe(false);
    expect(denyCovered(document, deny('u-2', 0))).toBe(false);
  });

  it('falls back to one permission-set-wide deny with the latest cut-off when the next user would not fit', () => {
    // Prepare: users with the longest ids, one more each time, until one does not fit.
    const capacity = userDenyCapacity(managed);
    const id = (n: number) => `user-${String(n).padStart(59, '0')}`;
    const minute = (n: number) => Math.min(n, 50);
    let document: string | undefined = managed;
    let n = 0;
    let change = applyDeny(document, deny(id(n), minute(n)));
    while (change.outcome === 'added') {
      document = change.document;
      n++;
      change = applyDeny(document, deny(id(n), minute(n)));
    }

    // Assess: at least the promised capacity fit; then one wide statement with the latest cut-off
    // and removal of all of them replaced them, the managed statement kept.
    expect(n).toBeGreaterThanOrEqual(capacity);
    expect(change.outcome).toBe('fallback');
    const state = readDenies(change.document);
    expect(state.users).toEqual([]);
    expect(state.everyone).toEqual({
      cutoff: t(minute(n)),
      removeAt: new Date(t(minute(n)).getTime() + HOUR),
    });
    expect(JSON.parse(change.document as string).Statement[0].Sid).toBe('ReadLogs');
    expect(change.size).toBeLessThanOrEqual(ROLE_INLINE_POLICY_LIMIT);
    // Later denies up to its cut-off are covered by it.
    expect(applyDeny(change.document, deny(id(n + 1), 2)).outcome).toBe('covered');
  });

  it('never writes a document over the limit it is given', () => {
    let document: string | undefined;
    for (let n = 0; n < 200; n++) {
      const change = applyDeny(document, deny(`u-${n}`, n % 50), 3_000);
      document = change.document ?? document;
      expect(policySize(document)).toBeLessThanOrEqual(3_000);
    }
  });

  it('throws when not even the permission-set-wide deny fits', () => {
    expect(() => applyDeny(managed, deny('u-1', 0), policySize(managed) + 10)).toThrow(/permission-set-wide/);
  });
});

describe('applyWideDeny', () => {
  it('merges every deny in the document into one wide statement, or is covered by a later one', () => {
    const { document } = applyDeny(managed, deny('u-1', 30));

    const change = applyWideDeny(document, { cutoff: t(10), removeAt: new Date(t(10).getTime() + HOUR) });

    expect(readDenies(change.document)).toEqual({
      users: [],
      everyone: { cutoff: t(30), removeAt: new Date(t(30).getTime() + HOUR) },
    });
    expect(applyWideDeny(change.document, { cutoff: t(20), removeAt: t(80) }).outcome).toBe('covered');
  });
});

describe('sizes and sweeping', () => {
  it('counts characters as IAM does: whitespace is not counted', () => {
    expect(policySize('{ "a" : \n\t"b c" }')).toBe(policySize('{"a":"bc"}'));
  });

  it('holds room for about 36 users of the longest ids next to an empty policy', () => {
    expect(userDenyCapacity(undefined)).toBe(
      Math.floor(
        (ROLE_INLINE_POLICY_LIMIT -
          policySize('{"Version":"2012-10-17","Statement":[]}') -
          everyoneDenySize()) /
          userDenySize(),
      ),
    );
    expect(userDenyCapacity(undefined)).toBeGreaterThanOrEqual(30);
  });

  it('sweeps user and wide statements past their removal time, and only those', () => {
    let document = applyDeny(managed, deny('u-1', 0)).document;
    document = applyDeny(document, deny('u-2', 30)).document;
    document = applyWideDeny(document, { cutoff: t(5), removeAt: t(70) }).document;
    document = applyDeny(document, deny('u-3', 40)).document;

    const swept = withoutExpiredDenies(document, t(90));

    expect(denyRemovalTimes(document).length).toBe(2);
    expect(readDenies(swept).users.map((u) => u.userId)).toEqual(['u-3']);
    expect(readDenies(swept).everyone).toBeUndefined();
    expect(withoutExpiredDenies(swept, t(90))).toBeUndefined();
  });
});
