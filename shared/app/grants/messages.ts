// The provisioning queue's contract. Every body is validated with zod before anything acts on it.
import * as z from '#domain/zod.ts';
import { EVERYONE } from '#ports/grants.ts';

const requestId = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID'));
// AWS names permission sets `…:permissionSet/ssoins-…/ps-…`; moto 5.2.1 answers `…:instance/ssoins-…/ps-…`.
const permissionSetArn = z
  .string()
  .check(
    z.regex(
      /^arn:aws[\w-]*:sso:::(permissionSet|instance)\/ssoins-[\w-]+\/ps-[\w-]+$/,
      'expected a permission set ARN',
    ),
  );
export const TupleSchema = z.strictObject({
  userId: z.string().check(z.minLength(1), z.maxLength(64)),
  accountId: z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit AWS account id')),
  permissionSetArn,
});

export const ProvisioningMessageSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('acquire'), requestId, tuple: TupleSchema }),
  z.strictObject({ op: z.literal('release'), requestId, tuple: TupleSchema }),
  // `at` tells repeated checks apart: FIFO content-based deduplication would drop a re-enqueued
  // check with the body of one sent in the last 5 minutes.
  z.strictObject({ op: z.literal('check'), tuple: TupleSchema, at: z.optional(z.iso.datetime()) }),
  // A session deny: sessions of `userId` ('*': everyone's) issued before `endedAt` (the decision),
  // widened to when `requestId`'s assignments were deleted. `removeAt` is accepted from older senders
  // and ignored: it always follows from the cut-off.
  z.strictObject({
    op: z.literal('deny-add'),
    permissionSetArn,
    userId: z.union([z.string().check(z.minLength(1), z.maxLength(64)), z.literal(EVERYONE)]),
    endedAt: z.iso.datetime(),
    requestId: z.optional(requestId),
    removeAt: z.optional(z.iso.datetime()),
  }),
  // A deletion completed: widen (permission set, user)'s deny to it, if one is in force.
  z.strictObject({
    op: z.literal('deny-widen'),
    permissionSetArn,
    userId: z.string().check(z.minLength(1), z.maxLength(64)),
  }),
  z.strictObject({ op: z.literal('deny-sweep'), permissionSetArn }),
  // Provision the permission set to every account whose provisioned version is stale (the reconciler).
  z.strictObject({ op: z.literal('ps-provision'), permissionSetArn }),
  // An in-flight provisioning to poll again (IN_PROGRESS after the worker's budget).
  z.strictObject({
    op: z.literal('ps-check'),
    permissionSetArn,
    operationId: z.string().check(z.minLength(1), z.maxLength(256)),
    at: z.iso.datetime(),
  }),
  // The drift sweep's re-check of one (account, permission set) once a sighting's grace has passed.
  z.strictObject({
    op: z.literal('drift-check'),
    accountId: z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit AWS account id')),
    permissionSetArn,
  }),
]);
export type ProvisioningMessage = z.infer<typeof ProvisioningMessageSchema>;
