// RFC 8785 (JSON Canonicalization Scheme) for the values cloud-pam hashes: object keys sorted by
// UTF-16 code units, no whitespace, strings and numbers serialized as ECMAScript's JSON.stringify
// does (which is what RFC 8785 specifies for both). Non-finite numbers and undefined are refused.
// Strings (values and object keys) with a lone surrogate are refused too: RFC 8785 §3.2.2.2 and
// I-JSON (RFC 7493) forbid them. cloud-pam also refuses the control characters that text.ts
// refuses, so that what is stored is exactly what was hashed.
import { textProblem } from './text.ts';

// process.getBuiltinModule, not `import`: see #adapters/http/node-http-post.ts.
const { createHash } = process.getBuiltinModule('node:crypto');

/** A string as JSON.stringify writes it, once text.ts finds nothing wrong with it. */
function canonicalString(text: string, what: 'a string' | 'an object key'): string {
  const problem = textProblem(text);
  if (problem !== undefined) throw new TypeError(`canonical JSON cannot represent ${what}: ${problem}`);
  return JSON.stringify(text);
}

export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot represent a non-finite number');
      return JSON.stringify(value);
    case 'string':
      return canonicalString(value, 'a string');
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      return `{${keys.map((key) => `${canonicalString(key, 'an object key')}:${canonicalJson(record[key])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot represent a ${typeof value}`);
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
