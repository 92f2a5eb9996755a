// RFC 8785 (JSON Canonicalization Scheme) conformance of canonicalJson, using the RFC's own examples:
// §3.2.2 (the sample object), §3.2.3 (property sorting by UTF-16 code units) and Appendix B
// (IEEE-754 number serialization). cloud-pam refuses lone surrogates (as RFC 8785 §3.2.2.2 does) and
// also the control characters other than newline and tab (shared/domain/text.ts), so the RFC
// samples that contain such characters are checked without them, and refused as they are.
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';

function fromIeee754(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('canonicalJson', () => {
  it('serializes the RFC 8785 §3.2.2 sample exactly, but for its U+000F, which is refused', () => {
    // Prepare: the RFC's input text, with its redundant escapes and number spellings.
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const withoutControl = input.replace(String.raw`\u000F`, '');

    // Act
    const output = canonicalJson(JSON.parse(withoutControl));

    // Assess
    expect(output).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\nA'B\"\\\\\"/"}`,
    );
    expect(() => canonicalJson(JSON.parse(input))).toThrow(
      new TypeError('canonical JSON cannot represent a string: control character U+000F not allowed'),
    );
  });

  it('sorts property names by UTF-16 code units, not by code points (RFC 8785 §3.2.3)', () => {
    // The RFC's sample, with its two control-character keys (\r, U+0080) swapped for allowed
    // characters that sort in the same places (\n, U+00A0).
    const input = {
      '\u20ac': 'Euro Sign',
      '\n': 'Line Feed',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u00a0': 'No-Break Space',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };

    const output = canonicalJson(input);

    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33 in UTF-16 order although
    // its code point is larger. (Compared as text: JS objects list integer-like keys such as "1" first.)
    expect(output).toBe(
      '{"\\n":"Line Feed","1":"One","\u00a0":"No-Break Space","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('refuses the RFC 8785 §3.2.3 sample as it is: its \\r and U+0080 keys are control characters', () => {
    expect(() => canonicalJson({ '\r': 'Carriage Return', '1': 'One' })).toThrow(
      new TypeError('canonical JSON cannot represent an object key: control character U+000D not allowed'),
    );
    expect(() => canonicalJson({ '\u0080': 'Control' })).toThrow(/U\+0080 not allowed/);
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('serializes the IEEE-754 value %s as %s (RFC 8785 Appendix B)', (hex, expected) => {
    expect(canonicalJson(fromIeee754(hex))).toBe(expected);
  });

  it.each([
    [1e21, '1e+21'],
    [1e20, '100000000000000000000'],
    [1e-7, '1e-7'],
    [0.000001, '0.000001'],
    [-0, '0'],
    [4.5, '4.5'],
    [-1.5e-10, '-1.5e-10'],
  ])('writes the number %s as %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'refuses the non-finite number %s',
    (value) => {
      expect(() => canonicalJson({ value })).toThrow(TypeError);
    },
  );

  it.each([
    ['quote and backslash', 'a"b\\c', String.raw`"a\"b\\c"`],
    ['short escapes for \\n \\t', '\n\t', String.raw`"\n\t"`],
    ['solidus unescaped', '/', '"/"'],
    ['non-ASCII as itself, never \\u-escaped', 'é€😀', '"é€😀"'],
    ['a surrogate pair as itself', '\ud83d\ude00', '"\ud83d\ude00"'],
  ])('escapes strings as RFC 8785 says: %s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it.each([
    ['emoji', 'fix 😀 now'],
    ['newline and tab', 'line one\n\tline two'],
    ['all three in a key and a value', { 'k😀\n\t': ['v😀\n\t', { '\t': '\n' }] }],
  ])('writes %s exactly as before (JSON.stringify of the sorted value)', (_name, value) => {
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });

  it.each([
    [
      'a lone high surrogate in a value',
      { reason: 'x\ud800' },
      'a string: not well-formed Unicode (lone surrogate U+D800)',
    ],
    [
      'a lone low surrogate in a value',
      ['\udc00'],
      'a string: not well-formed Unicode (lone surrogate U+DC00)',
    ],
    [
      'a lone surrogate in a key',
      { ok: 1, 'k\ud800': 1 },
      'an object key: not well-formed Unicode (lone surrogate U+D800)',
    ],
    [
      'a lone surrogate in a nested key',
      { a: [{ '\udfff': 1 }] },
      'an object key: not well-formed Unicode (lone surrogate U+DFFF)',
    ],
    ['a carriage return', 'a\rb', 'a string: control character U+000D not allowed'],
    ['NUL, U+001F and U+000B', '\u0000\u001f\u000b', 'a string: control character U+0000 not allowed'],
    ['\\b and \\f', '\b\f', 'a string: control character U+0008 not allowed'],
    ['DEL', '\u007f', 'a string: control character U+007F not allowed'],
    [
      'a C1 control (NEL)',
      { details: { comment: 'a\u0085b' } },
      'a string: control character U+0085 not allowed',
    ],
    [
      'a control character in a key',
      { 'k\u001b': 'v' },
      'an object key: control character U+001B not allowed',
    ],
  ])('refuses %s with a TypeError that does not repeat the text', (_name, value, problem) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
    expect(() => canonicalJson(value)).toThrow(new TypeError(`canonical JSON cannot represent ${problem}`));
  });

  it('sorts nested objects, keeps array order and writes no whitespace', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: [] }, 'x'], a: { d: null, c: true } })).toBe(
      '{"a":{"c":true,"d":null},"b":[3,{"a":[],"z":1},"x"]}',
    );
  });

  it('leaves out object members whose value is undefined, and refuses other non-JSON values', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
    expect(() => canonicalJson(1n)).toThrow(TypeError);
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
  });

  it('hashes the UTF-8 bytes with SHA-256 in lowercase hex', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // 'E2 82 AC', not the UTF-16 code unit 20AC.
    expect(sha256Hex('€')).toBe('c4cc90ed3d26f12d4b08a75140970a7904035c31cbb4515a83f19b9003c00d1d');
  });
});
