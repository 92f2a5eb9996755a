// The provisioning queue's contract. Every body is validated with zod before anything acts on it.
import { z } from 'zod';

const requestId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID');
// AWS names permission sets `…:permissionSet/ssoins-…/ps-…`; moto 5.2.1 answers `…:instance/ssoins-…/ps-…`.
const permissionSetArn = z
  .string()
  .regex(
    /^arn:aws[\w-]*:sso:::(permissionSet|instance)\/ssoins-[\w-]+\/ps-[\w-]+$/,
    'expected a permission set ARN',
  );
export const TupleSchema = z.strictObject({
  userId: z.string().min(1).max(64),
  accountId: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
  permissionSetArn,
});

export const ProvisioningMessageSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('acquire'), requestId, tuple: TupleSchema }),
  z.strictObject({ op: z.literal('release'), requestId, tuple: TupleSchema }),
  z.strictObject({ op: z.literal('check'), tuple: TupleSchema }),
  z.strictObject({
    op: z.literal('deny-add'),
    permissionSetArn,
    userId: z.string().min(1).max(64),
    endedAt: z.iso.datetime(),
    removeAt: z.iso.datetime(),
  }),
  z.strictObject({ op: z.literal('deny-sweep'), permissionSetArn }),
  // The drift sweep's re-check of one (account, permission set) once a sighting's grace has passed.
  z.strictObject({
    op: z.literal('drift-check'),
    accountId: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
    permissionSetArn,
  }),
]);
export type ProvisioningMessage = z.infer<typeof ProvisioningMessageSchema>;
