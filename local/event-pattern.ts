// Lambda event filtering / EventBridge pattern matching, for the operators the templates use:
// exact values, `prefix`, `suffix`, `exists`, `anything-but` and nested objects. An operator this
// file does not know is refused when the pattern is compiled (at start), never treated as a match.
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Matcher = (value: unknown) => boolean;

const OPERATORS = new Set(['prefix', 'suffix', 'exists', 'anything-but']);

function leaf(condition: Json): Matcher {
  if (condition === null || typeof condition !== 'object') return (value) => value === condition;
  if (Array.isArray(condition)) throw new Error('event pattern: nested array');
  const [op, arg] = Object.entries(condition)[0] ?? [];
  if (!op || !OPERATORS.has(op) || Object.keys(condition).length !== 1)
    throw new Error(`event pattern: operator ${op ?? '(none)'} is not supported locally`);
  if (op === 'prefix')
    return (value) => typeof value === 'string' && typeof arg === 'string' && value.startsWith(arg);
  if (op === 'suffix')
    return (value) => typeof value === 'string' && typeof arg === 'string' && value.endsWith(arg);
  if (op === 'exists') return (value) => (value !== undefined) === (arg === true);
  const excluded: unknown[] = Array.isArray(arg) ? arg : [arg];
  return (value) => value !== undefined && !excluded.includes(value);
}

export function compilePattern(pattern: Json): Matcher {
  if (pattern === null || typeof pattern !== 'object' || Array.isArray(pattern))
    throw new Error('event pattern: expected an object');
  const fields = Object.entries(pattern).map(([key, condition]): Matcher => {
    if (key === '$or') {
      if (!Array.isArray(condition)) throw new Error('event pattern: $or takes a list');
      const branches = condition.map((c) => compilePattern(c));
      return (value) => branches.some((m) => m(value));
    }
    if (Array.isArray(condition)) {
      const options = condition.map(leaf);
      return (value) => {
        const object = value as Record<string, unknown> | undefined;
        const field = object?.[key];
        const values = Array.isArray(field) ? field : [field];
        return values.some((v) => options.some((m) => m(v)));
      };
    }
    const nested = compilePattern(condition);
    return (value) => {
      const field = (value as Record<string, unknown> | undefined)?.[key];
      return typeof field === 'object' && field !== null && nested(field);
    };
  });
  return (value) => fields.every((m) => m(value));
}
