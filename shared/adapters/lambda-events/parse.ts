// The one way a function reads what Lambda hands it — a queue record's body, an EventBridge event, a
// direct invocation's input — before any use case sees it: zod, and a ValidationError naming the
// field path. A malformed record can never succeed, so the error fails it: SQS retries it into the
// dead-letter queue, and its alarm fires.
import { ValidationError } from '#domain/errors.ts';
import { assertCleanText, formatIssues } from '#domain/text.ts';
import * as z from '#domain/zod.ts';

/**
 * `value` as `schema` has it; otherwise a ValidationError naming each field under `root`. Any zod 4
 * schema will do (`zod/mini` in functions, classic `zod` in tests): both are `$ZodType`s.
 */
export function parseEvent<S extends z.core.$ZodType>(schema: S, value: unknown, root: string): z.output<S> {
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) throw new ValidationError(formatIssues(parsed.error.issues, root));
  return parsed.data;
}

/**
 * A JSON record body (an SQS message) as `schema` has it. Text that canonical JSON cannot hash
 * faithfully (shared/domain/text.ts) is refused before the schema runs, so it never reaches a use
 * case. A body that is not JSON at all is read as nothing, which no schema accepts: it fails with the
 * schema's own words for a missing value rather than the parser's, which could echo the body.
 */
export function parseJsonRecord<S extends z.core.$ZodType>(
  schema: S,
  body: string,
  root: string,
): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    raw = undefined;
  }
  assertCleanText(raw, root);
  return parseEvent(schema, raw, root);
}
