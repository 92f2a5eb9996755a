// Clean text (shared/domain/text.ts): well-formed Unicode, no control character but newline and
// tab. Problems name the field path the way formatIssues does and never repeat the bad text.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '#domain/errors.ts';
import { assertCleanText, findTextProblem, textIssues, textProblem } from '#domain/text.ts';
import { httpStatusOf } from '#runtime/error-responses.ts';

describe('textProblem', () => {
  it.each([
    ['plain ASCII', 'debug a failing deploy'],
    ['the empty string', ''],
    ['newline and tab', 'line one\n\tline two'],
    ['non-ASCII letters and symbols', 'é € ß 漢字 \u00a0 \u2028'],
    ['a surrogate pair (emoji)', 'fix 😀 now \ud83d\ude00'],
    ['a pair at the very end', 'x\ud83d\ude00'],
  ])('accepts %s', (_name, text) => {
    expect(textProblem(text)).toBeUndefined();
  });

  it.each([
    ['a lone high surrogate', '\ud800', 'not well-formed Unicode (lone surrogate U+D800)'],
    ['a lone high surrogate at the end', 'reason\udbff', 'not well-formed Unicode (lone surrogate U+DBFF)'],
    ['a lone low surrogate', 'a\udc00b', 'not well-formed Unicode (lone surrogate U+DC00)'],
    ['a reversed pair', '\ude00\ud83d', 'not well-formed Unicode (lone surrogate U+DE00)'],
    ['a high surrogate before a non-surrogate', '\ud83dx', 'not well-formed Unicode (lone surrogate U+D83D)'],
    ['a carriage return', 'fix\rprod', 'control character U+000D not allowed'],
    ['NUL', 'a\u0000b', 'control character U+0000 not allowed'],
    ['backspace', '\b', 'control character U+0008 not allowed'],
    ['vertical tab', '\u000b', 'control character U+000B not allowed'],
    ['escape', 'red\u001b[31m', 'control character U+001B not allowed'],
    ['unit separator', '\u001f', 'control character U+001F not allowed'],
    ['DEL', '\u007f', 'control character U+007F not allowed'],
    ['NEL (C1)', 'a\u0085b', 'control character U+0085 not allowed'],
    ['C1 start', '\u0080', 'control character U+0080 not allowed'],
    ['C1 end', '\u009f', 'control character U+009F not allowed'],
  ])('refuses %s', (_name, text, expected) => {
    expect(textProblem(text)).toBe(expected);
  });

  it('reports the first problem in the string', () => {
    expect(textProblem('ok\u0007then\ud800')).toBe('control character U+0007 not allowed');
    expect(textProblem('ok\udfffthen\u0007')).toBe('not well-formed Unicode (lone surrogate U+DFFF)');
  });

  it('accepts the characters right next to the refused ranges', () => {
    expect(textProblem('\u0009\u000a\u007e\u00a0\ud7ff\ue000\uffff')).toBeUndefined();
  });
});

describe('findTextProblem', () => {
  it('names the path of a bad value like formatIssues: root.a.b[2]', () => {
    const value = { a: { b: ['fine', 'also fine', 'bad\r'] } };
    expect(findTextProblem(value, 'body')).toBe('body.a.b[2]: control character U+000D not allowed');
  });

  it('names a top-level string by the root alone', () => {
    expect(findTextProblem('\ud800', 'path.id')).toBe(
      'path.id: not well-formed Unicode (lone surrogate U+D800)',
    );
  });

  it('names the object holding a bad key, at the root and nested', () => {
    expect(findTextProblem({ '\ud800': 'x' }, 'body')).toBe(
      'body: object key: not well-formed Unicode (lone surrogate U+D800)',
    );
    expect(findTextProblem({ outer: [{ inner: { 'k\u001b': 1 } }] }, 'body')).toBe(
      'body.outer[0].inner: object key: control character U+001B not allowed',
    );
  });

  it('returns the first problem in document order', () => {
    const value = { a: 'ok', b: ['ok', { c: '\u0000' }], d: '\r', '\u007f': 'x' };
    expect(findTextProblem(value, 'body')).toBe('body.b[1].c: control character U+0000 not allowed');
  });

  it('returns undefined for clean values and ignores non-strings', () => {
    const value = { reason: 'line\n\ttab 😀', n: 1, t: true, z: null, list: [1, 'x', [], {}] };
    expect(findTextProblem(value, 'body')).toBeUndefined();
    expect(findTextProblem(undefined, 'body')).toBeUndefined();
    expect(findTextProblem(42, 'body')).toBeUndefined();
  });

  it('does not overflow the stack on deeply nested input', () => {
    let deep: unknown = '\u0007';
    for (let depth = 0; depth < 100_000; depth++) deep = [deep];
    expect(findTextProblem(deep, 'body')).toMatch(
      /^body(\[0\]){100000}: control character U\+0007 not allowed$/,
    );
  });

  it('visits a shared object once and survives a cycle', () => {
    const shared: Record<string, unknown> = { title: 'ok' };
    shared.self = shared;
    expect(findTextProblem({ a: shared, b: shared }, 'config')).toBeUndefined();
  });
});

describe('textIssues', () => {
  it('lists every bad string with its path, and does not descend below a bad key', () => {
    const issues = [...textIssues({ a: '\r', b: { '\ud800': { c: '\u0000' } }, d: ['\u0085'] })];
    expect(issues).toEqual([
      { path: ['a'], inKey: false, message: 'control character U+000D not allowed' },
      { path: ['b'], inKey: true, message: 'object key: not well-formed Unicode (lone surrogate U+D800)' },
      { path: ['d', 0], inKey: false, message: 'control character U+0085 not allowed' },
    ]);
  });
});

describe('assertCleanText', () => {
  it('throws a ValidationError (400 VALIDATION_FAILED) naming the path', () => {
    let thrown: unknown;
    try {
      assertCleanText({ reason: 'ok\ud800' }, 'body');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect(thrown).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'body.reason: not well-formed Unicode (lone surrogate U+D800)',
    });
    expect(httpStatusOf(thrown as ValidationError)).toBe(400);
  });

  it('does nothing for clean text', () => {
    expect(() => assertCleanText({ reason: 'fine\n' }, 'body')).not.toThrow();
  });

  it.each([
    ['a value', { reason: 'HOSTILE\u001b]0;pwned\u0007' }, 'HOSTILE'],
    ['a key', { 'HOSTILE\r': 'x' }, 'HOSTILE'],
    ['a lone surrogate', { reason: 'HOSTILE\ud800' }, '\ud800'],
  ])('never repeats the bad string in the message: %s', (_name, value, marker) => {
    let message = '';
    try {
      assertCleanText(value, 'body');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toBe('');
    expect(message).not.toContain(marker);
    expect(message).not.toContain('pwned');
    expect(textProblem(message)).toBeUndefined();
  });
});
