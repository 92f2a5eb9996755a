// The config as the functions receive it: the *validated* PamConfig that synth wrote into the
// bundle as JSON. Cold start checks its shape with zod and its integrity against `configHash`,
// without re-running the YAML parser and guardrails (seconds for a 10,000-entitlement config —
// synth already did that, and a config that fails them never reaches a bundle).
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import type { PamConfig } from '#domain/model.ts';
import { formatIssues } from '#domain/text.ts';
import * as z from '#domain/zod.ts';
import { hashMatchesCanonicalText, readConfigFile } from './bundled-config-text.ts';

export { bundledConfigText } from './bundled-config-text.ts';

const groups = z.array(z.string().check(z.minLength(1)));
const ms = z.int().check(z.nonnegative());

const permissionSet = z.strictObject({
  name: z.string().check(z.minLength(1)),
  description: z.optional(z.string()),
  managedPolicies: z.array(z.string()),
  customerManagedPolicies: z.array(z.strictObject({ name: z.string(), path: z.string() })),
  inlinePolicy: z.optional(z.record(z.string(), z.unknown())),
});

const entitlement = z.strictObject({
  id: z.string().check(z.minLength(1)),
  title: z.string(),
  description: z.optional(z.string()),
  kind: z.enum(['aws-role', 'secret', 'session']),
  target: z.strictObject({
    accounts: z.array(z.string().check(z.regex(/^\d{12}$/))).check(z.minLength(1)),
    permissionSet,
  }),
  eligible: groups,
  approval: z.strictObject({
    approvers: groups,
    required: z.int().check(z.gte(1)),
    autoApprove: z.boolean(),
    slackChannel: z.optional(z.string()),
  }),
  maxDurationMs: ms,
  maxTotalDurationMs: ms,
  defaultDurationMs: ms,
  requireReason: z.boolean(),
  ticketPattern: z.optional(z.string()),
  breakGlass: groups,
  strictExpiry: z.boolean(),
  privileged: z.boolean(),
});

const compiledConfig = z.strictObject({
  identityCenter: z.strictObject({
    instanceArn: z.string().check(z.minLength(1)),
    identityStoreId: z.string().check(z.minLength(1)),
    hubAccountId: z.string().check(z.regex(/^\d{12}$/)),
    managementAccountId: z.string().check(z.regex(/^\d{12}$/)),
    organizationId: z.string().check(z.minLength(1)),
    groupIds: z.record(z.string(), z.string()),
  }),
  admins: groups,
  drift: z.strictObject({ mode: z.enum(['remove', 'report']), graceMs: ms }),
  approvalTimeoutMs: ms,
  maxStartDelayMs: z.optional(ms),
  limits: z.optional(z.strictObject({ maxOpenRequestsPerUser: z.int().check(z.gte(1)) })),
  slack: z.optional(
    z.strictObject({
      teamIds: z.array(z.string()),
      enterpriseIds: z.array(z.string()),
      approversChannel: z.string().check(z.minLength(1)),
      identityBinding: z.enum(['email', 'strict']),
    }),
  ),
  entitlements: z.array(entitlement),
  configHash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
});

/** Parses and checks a bundled config; throws naming the field, or the hash mismatch. */
export function parseBundledConfig(text: string): PamConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('bundled config: not JSON');
  }
  const result = compiledConfig.safeParse(raw);
  if (!result.success) throw new Error(`bundled config: ${formatIssues(result.error.issues, 'config')}`);
  const { configHash, ...rest } = result.data;
  const intact =
    (hashMatchesCanonicalText(text) && text.includes(`"configHash":"${configHash}"`)) ||
    sha256Hex(canonicalJson(rest)) === configHash;
  if (!intact) throw new Error('bundled config: configHash does not match its content');
  return result.data as PamConfig;
}

export function loadBundledConfig(path: string): PamConfig {
  return parseBundledConfig(readConfigFile(path));
}
