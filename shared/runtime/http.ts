// The HTTP edge: JSON bodies validated with zod, and one mapping from errors to responses.
// Bodies and query strings are first checked for clean text (well-formed Unicode, no control
// characters but newline and tab; see shared/domain/text.ts), keys included.
// PamErrors answer with their stable code and safe message, and the status ./error-responses.ts
// maps the code to; anything else is a 500 whose details go to the log only, never to the caller.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { isPamError, ValidationError } from '#domain/errors.ts';
import { assertCleanText, formatIssues } from '#domain/text.ts';
import * as z from '#domain/zod.ts';
import { httpStatusOf } from './error-responses.ts';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/**
 * Parses a JSON body with a zod schema; every failure is a ValidationError naming the field path.
 * Text that is not clean (lone surrogate, control character) is refused before the schema runs.
 * Any zod 4 schema will do (`zod/mini` in functions, classic `zod` in tests): both are `$ZodType`s.
 */
export function parseJsonBody<S extends z.core.$ZodType>(
  schema: S,
  body: string | null,
  isBase64 = false,
): z.output<S> {
  let raw: unknown = {};
  if (body !== null && body !== '') {
    try {
      raw = JSON.parse(isBase64 ? Buffer.from(body, 'base64').toString('utf8') : body);
    } catch {
      throw new ValidationError('body: expected a JSON object');
    }
  }
  assertCleanText(raw, 'body');
  const result = z.safeParse(schema, raw);
  if (!result.success) throw new ValidationError(formatIssues(result.error.issues, 'body'));
  return result.data;
}

export function parseQuery<S extends z.core.$ZodType>(
  schema: S,
  query: Record<string, string | undefined> | null,
): z.output<S> {
  assertCleanText(query ?? {}, 'query');
  const result = z.safeParse(schema, query ?? {});
  if (!result.success) throw new ValidationError(formatIssues(result.error.issues, 'query'));
  return result.data;
}

export function errorResponse(error: unknown, onInternal: (error: unknown) => void): APIGatewayProxyResult {
  if (isPamError(error)) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    return json(httpStatusOf(error), body);
  }
  onInternal(error);
  const body: ErrorBody = {
    error: { code: 'INTERNAL', message: 'internal error; the request was not completed' },
  };
  return json(500, body);
}

/** What may be logged of an internal error: its name and the AWS request id, never its message. */
export function internalErrorSummary(error: unknown): Record<string, string | number> {
  const { name, $metadata } = (error ?? {}) as {
    name?: unknown;
    $metadata?: { requestId?: unknown; httpStatusCode?: unknown };
  };
  return {
    errorName: typeof name === 'string' ? name : typeof error,
    ...(typeof $metadata?.requestId === 'string' ? { awsRequestId: $metadata.requestId } : {}),
    ...(typeof $metadata?.httpStatusCode === 'number' ? { httpStatusCode: $metadata.httpStatusCode } : {}),
  };
}
