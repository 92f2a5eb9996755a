// Environment read and validated once at cold start: bad configuration fails the cold start with
// the variable named, never the first request.
import { formatIssues } from '#domain/text.ts';
import * as z from '#domain/zod.ts';

export function readEnv<T extends z.core.$ZodShape>(
  shape: T,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodMiniObject<T>> {
  const result = z.object(shape).safeParse(source);
  if (!result.success) throw new Error(`invalid environment: ${formatIssues(result.error.issues, '')}`);
  return result.data;
}

export const nonEmpty = z.string().check(z.minLength(1));
