// Request images from the access table's stream, checked with zod before anything reacts to them.
// Non-request items (tuple leases) and removals yield undefined.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { type AccessRequest, REQUEST_STATUSES } from '#domain/model.ts';
import { formatIssues } from '#domain/text.ts';
import { ACCESS_KEY_PREFIX } from './tables.ts';

const RequestImage = z.looseObject({
  pk: z.string().startsWith(ACCESS_KEY_PREFIX.request),
  id: z.string().min(1),
  status: z.enum(REQUEST_STATUSES),
  requesterId: z.string().min(1),
  accountId: z.string().regex(/^\d{12}$/),
  accountIds: z.array(z.string().regex(/^\d{12}$/)).optional(),
  version: z.number().int().positive(),
  updatedAt: z.string(),
  startAt: z.string().optional(),
  snapshot: z.looseObject({
    permissionSetName: z.string().min(1),
    strictExpiry: z.boolean(),
    kind: z.enum(['aws-role', 'secret', 'session']),
  }),
  grant: z
    .looseObject({ grantVersion: z.number().int().positive(), expiresAt: z.string(), startedAt: z.string() })
    .optional(),
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
