// One way to name a field and report a failed parse (shared/domain/text.ts: fieldPath,
// formatIssues), used by every edge: HTTP bodies under a root (`body.accountIds[1]`), env, AWS
// responses and CLI files without one (`ExternalIds[0].Issuer`, `(root)`). And one way to leave an
// optional field out (shared/domain/optional.ts).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { optional } from '#domain/optional.ts';
import { fieldPath, formatIssues } from '#domain/text.ts';

describe('fieldPath', () => {
  it.each([
    ['body', ['accountIds', 1], 'body.accountIds[1]'],
    ['body', [], 'body'],
    ['', ['ExternalIds', 0, 'Issuer'], 'ExternalIds[0].Issuer'],
    ['', [0, 'id'], '[0].id'],
    ['', [], '(root)'],
  ] as const)('names (%j, %j) %s', (root, path, named) => {
    expect(fieldPath(root, path)).toBe(named);
  });
});

describe('formatIssues', () => {
  const schema = z.strictObject({ id: z.string(), tags: z.array(z.string()) });

  it('names every failed field under the root, joined with "; "', () => {
    // Prepare
    const parsed = schema.safeParse({ id: 7, tags: ['ok', 3] });
    if (parsed.success) throw new Error('expected a failed parse');

    // Act
    const text = formatIssues(parsed.error.issues, 'body');

    // Assess
    expect(text).toBe(
      'body.id: Invalid input: expected string, received number; ' +
        'body.tags[1]: Invalid input: expected string, received number',
    );
  });

  it('names a problem of the whole value (root) when there is no root name', () => {
    const parsed = schema.safeParse({ id: 'x', tags: [], extra: 1 });
    if (parsed.success) throw new Error('expected a failed parse');

    expect(formatIssues(parsed.error.issues, '')).toBe('(root): Unrecognized key: "extra"');
  });
});

describe('optional', () => {
  it('leaves the key out only when the value is undefined', () => {
    expect({ a: 1, ...optional('b', undefined) }).toStrictEqual({ a: 1 });
    expect(Object.keys({ ...optional('b', undefined) })).toEqual([]);
    expect({ ...optional('b', '') }).toStrictEqual({ b: '' });
    expect({ ...optional('b', 0) }).toStrictEqual({ b: 0 });
    expect({ ...optional('b', false) }).toStrictEqual({ b: false });
    expect({ ...optional('b', null) }).toStrictEqual({ b: null });
  });
});
