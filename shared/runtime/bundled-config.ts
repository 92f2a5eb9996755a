// The config as the functions receive it: the *validated* PamConfig that synth wrote into the
// bundle as JSON. Cold start checks its shape with zod and its integrity against `configHash`,
// without re-running the YAML parser and guardrails (seconds for a 10,000-entitlement config —
// synth already did that, and a config that fails them never reaches a bundle).
import { readFileSync } from 'node:fs';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import type { PamConfig } from '#domain/model.ts';
import { formatIssues } from '#domain/text.ts';
import * as z from '#domain/zod.ts';

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

/**
 * The text synth bundles: the config as canonical JSON (RFC 8785, shared/domain/canonical-json.ts).
 * Written this way, the file without its `configHash` member *is* the text the hash was computed
 * over, so a cold start checks the hash over the file's bytes instead of re-serialising the parsed
 * config (for a 10,000-entitlement config: ~15 ms instead of ~170 ms; bench/cold-start).
 */
export function bundledConfigText(config: PamConfig): string {
  return canonicalJson(config);
}

/**
 * `,"configHash":"<64 hex>"` as canonical JSON writes the member: keys are sorted and `admins`
 * (always present) sorts before it, so it never opens the object.
 */
const HASH_MEMBER = /,"configHash":"([0-9a-f]{64})"/g;

/**
 * Whether `text` is canonical JSON whose hash member matches the rest of it, read from the text
 * alone. `false` means "not shown this way" (say, a file written by hand or pretty-printed): the
 * caller then checks the slow way, over the parsed config.
 */
function hashMatchesCanonicalText(text: string): boolean {
  const members = [...text.matchAll(HASH_MEMBER)];
  const [member] = members;
  if (members.length !== 1 || member?.index === undefined) return false;
  const body = text.slice(0, member.index) + text.slice(member.index + member[0].length);
  // sha256(body) = configHash = sha256(canonicalJson(config without it)) only if body is exactly that
  // canonical text, so the parsed file is exactly the config synth validated, plus its hash.
  return sha256Hex(body.replace(/\n$/, '')) === member[1];
}

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
  return parseBundledConfig(readFileSync(path, 'utf8'));
}
