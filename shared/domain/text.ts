// Clean text at every edge. Every string that enters cloud-pam (API bodies, query strings and path
// parameters, queue messages, the entitlements config) must be well-formed Unicode and free of
// control characters other than newline and tab:
// - a lone UTF-16 surrogate cannot be canonicalized (RFC 8785 §3.2.2.2 and I-JSON, RFC 7493, forbid
//   it) and DynamoDB cannot store it faithfully, so the audit hash of what was stored would differ
//   from the one computed and a valid event would read as tampering;
// - control characters (U+0000–U+0008, U+000B–U+001F including \r, U+007F and the C1 range
//   U+0080–U+009F) have no business in reasons, comments, tickets or titles, and can rewrite a
//   terminal or a log line when shown.
// Refusing them where they enter keeps what is stored exactly what was hashed. The messages name
// where the bad text is and what is wrong with it, never the text itself (it may be hostile).
// Fields are named here once for every message, text or schema (`fieldPath`, `formatIssues`).
import { ValidationError } from './errors.ts';

/** One bad string in a JSON-like value: where it is and what is wrong (never the text itself). */
export interface TextIssue {
  /** Object keys and array indexes from the value's root; for a bad key, the object holding it. */
  readonly path: readonly (string | number)[];
  /** `true` when the bad string is an object key rather than a value. */
  readonly inKey: boolean;
  /** What is wrong, e.g. `control character U+000D not allowed` (prefixed `object key: ` for a key). */
  readonly message: string;
}

function codePoint(unit: number): string {
  return `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
}

function isForbiddenControl(unit: number): boolean {
  return (unit <= 0x1f && unit !== 0x0a && unit !== 0x09) || (unit >= 0x7f && unit <= 0x9f);
}

/** The first problem of a string (lone surrogate or forbidden control character), or undefined. */
export function textProblem(s: string): string | undefined {
  for (let index = 0; index < s.length; index++) {
    const unit = s.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = s.charCodeAt(index + 1);
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        index++; // a surrogate pair: one well-formed code point
        continue;
      }
      return `not well-formed Unicode (lone surrogate ${codePoint(unit)})`;
    }
    if (isForbiddenControl(unit)) return `control character ${codePoint(unit)} not allowed`;
  }
  return undefined;
}

interface PathNode {
  readonly parent: PathNode | undefined;
  readonly segment: string | number;
}

function pathOf(node: PathNode | undefined): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at = node; at; at = at.parent) path.push(at.segment);
  return path.reverse();
}

type Frame =
  | { readonly kind: 'value'; readonly value: unknown; readonly at: PathNode | undefined }
  | {
      readonly kind: 'entry';
      readonly record: Record<string, unknown>;
      readonly key: string;
      readonly at: PathNode | undefined;
    };

/**
 * Every bad string in a JSON-like value (objects, arrays, strings; object keys included), in
 * document order. The walk is iterative (a deeply nested body cannot overflow the stack), visits a
 * shared object once, and does not descend below a bad key (its path could not be named safely).
 */
export function* textIssues(value: unknown): Generator<TextIssue> {
  const stack: Frame[] = [{ kind: 'value', value, at: undefined }];
  const seen = new WeakSet<object>();
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    if (frame.kind === 'entry') {
      const problem = textProblem(frame.key);
      if (problem) yield { path: pathOf(frame.at), inKey: true, message: `object key: ${problem}` };
      else
        stack.push({
          kind: 'value',
          value: frame.record[frame.key],
          at: { parent: frame.at, segment: frame.key },
        });
      continue;
    }
    const current = frame.value;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) yield { path: pathOf(frame.at), inKey: false, message: problem };
      continue;
    }
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) {
        stack.push({ kind: 'value', value: current[index], at: { parent: frame.at, segment: index } });
      }
    } else {
      const record = current as Record<string, unknown>;
      const keys = Object.keys(record);
      for (let index = keys.length - 1; index >= 0; index--) {
        stack.push({ kind: 'entry', record, key: keys[index] as string, at: frame.at });
      }
    }
  }
}

/**
 * How every message names a field: `root.a.b[2]` (array indexes in brackets, keys after dots). An
 * empty root names the path alone, `a.b[2]`, and an empty path names the root, or `(root)` when
 * the root is empty too.
 */
export function fieldPath(root: string, path: readonly PropertyKey[]): string {
  const named = path.reduce<string>(
    (text, part) =>
      typeof part === 'number' ? `${text}[${part}]` : `${text}${text === '' ? '' : '.'}${String(part)}`,
    root,
  );
  return named === '' ? '(root)' : named;
}

/** A validation problem: zod's issues and `TextIssue` both fit, without the domain importing zod. */
export interface FieldIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** `"<root.path>: <message>"`, e.g. `body.accountIds[1]: expected 12 digits`. */
export function formatIssue(issue: FieldIssue, root: string): string {
  return `${fieldPath(root, issue.path)}: ${issue.message}`;
}

/**
 * Every issue as `formatIssue` writes it, joined with `; `: the one way cloud-pam reports a failed
 * zod parse (HTTP bodies, queue messages, env, AWS responses, CLI files). Where a message shows
 * only the first issue, pass `issues.slice(0, 1)`.
 */
export function formatIssues(issues: readonly FieldIssue[], root: string): string {
  return issues.map((issue) => formatIssue(issue, root)).join('; ');
}

/** `"<root.path>: <problem>"` for the first bad string in `value`, or undefined when all is clean. */
export function findTextProblem(value: unknown, root: string): string | undefined {
  for (const issue of textIssues(value)) return formatIssue(issue, root);
  return undefined;
}

/** Throws a `ValidationError` (HTTP 400 VALIDATION_FAILED) naming the first bad string's path. */
export function assertCleanText(value: unknown, root: string): void {
  const problem = findTextProblem(value, root);
  if (problem !== undefined) throw new ValidationError(problem);
}
