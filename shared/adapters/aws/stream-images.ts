// Request images from the access table's stream, checked with zod before anything reacts to them.
// Non-request items (tuple leases) and removals yield undefined.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type AccessRequest, REQUEST_STATUSES } from '#domain/model.ts';
import { formatIssues } from '#domain/text.ts';
import * as z from '#domain/zod.ts';
import { ACCESS_KEY_PREFIX } from './tables.ts';

const RequestImage = z.looseObject({
  pk: z.string().check(z.startsWith(ACCESS_KEY_PREFIX.request)),
  id: z.string().check(z.minLength(1)),
  status: z.enum(REQUEST_STATUSES),
  requesterId: z.string().check(z.minLength(1)),
  accountId: z.string().check(z.regex(/^\d{12}$/)),
  accountIds: z.optional(z.array(z.string().check(z.regex(/^\d{12}$/)))),
  version: z.number().check(z.int(), z.positive()),
  updatedAt: z.string(),
  startAt: z.optional(z.string()),
  snapshot: z.looseObject({
    permissionSetName: z.string().check(z.minLength(1)),
    strictExpiry: z.boolean(),
    kind: z.enum(['aws-role', 'secret', 'session']),
  }),
  grant: z.optional(
    z.looseObject({
      grantVersion: z.number().check(z.int(), z.positive()),
      expiresAt: z.string(),
      startedAt: z.string(),
    }),
  ),
});

export function requestFromImage(image: Record<string, unknown> | undefined): AccessRequest | undefined {
  if (!image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>);
  if (typeof item.pk !== 'string' || !item.pk.startsWith(ACCESS_KEY_PREFIX.request)) return undefined;
  const parsed = RequestImage.safeParse(item);
  if (!parsed.success)
    throw new Error(`stream image of ${item.pk}: ${formatIssues(parsed.error.issues.slice(0, 1), '')}`);
  const { pk: _pk, sk: _sk, ...request } = parsed.data;
  return request as unknown as AccessRequest;
}
