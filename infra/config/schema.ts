// The entitlement config contract (policy as code): the zod 4 schema of the YAML file, the strict
// ISO-8601 duration parser, the ticketPattern backtracking check, the rules that relate fields of
// one entitlement, and the formatter that turns zod issues into `path: expected …` lines.
// Guardrails (what makes an entitlement privileged) live in guardrails.ts; load.ts runs both.
//
// Convention: every message written here starts with "expected", so the formatter can tell our own
// messages from zod's defaults (which it rewrites) and every line reads `field.path: expected …`.
import { z } from 'zod';
import { everyoneDenySize, policySize, ROLE_INLINE_POLICY_LIMIT, userDenySize } from '#domain/deny-policy.ts';
import { DURATION_JSON_PATTERN, formatIsoDuration, parseIsoDuration } from '#domain/duration.ts';

// One grammar for config, API and domain (shared/domain/duration.ts); re-exported for config callers.
export {
  DURATION_JSON_PATTERN,
  type DurationParse,
  formatIsoDuration,
  parseIsoDuration,
} from '#domain/duration.ts';

/** One problem: a path into the config document and what was expected there. */
export interface ConfigIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

// ---------------------------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------------------------

/** A positive ISO-8601 duration string at the edge, milliseconds after parsing. */
const durationSchema = (description: string) =>
  z
    .string()
    .meta({ pattern: DURATION_JSON_PATTERN, description })
    .transform((text, ctx) => {
      const parsed = parseIsoDuration(text);
      if (!parsed.ok) {
        ctx.issues.push({ code: 'custom', message: parsed.reason, input: text });
        return z.NEVER;
      }
      if (parsed.ms <= 0) {
        ctx.issues.push({
          code: 'custom',
          message: `expected a positive duration, such as PT1H`,
          input: text,
        });
        return z.NEVER;
      }
      return parsed.ms;
    });

// ---------------------------------------------------------------------------------------------
// ticketPattern: length cap, must compile, no catastrophic backtracking
// ---------------------------------------------------------------------------------------------

export const TICKET_PATTERN_MAX_LENGTH = 200;

interface GroupFrame {
  readonly start: number;
  hasQuantifier: boolean;
  hasAlternation: boolean;
}

/** `{max}` of the quantifier at `i`, and its length; undefined when `pattern[i]` starts none. */
function readQuantifier(pattern: string, i: number): { max: number; length: number } | undefined {
  const c = pattern[i];
  if (c === '*' || c === '+') return { max: Number.POSITIVE_INFINITY, length: 1 };
  if (c === '?') return { max: 1, length: 1 };
  if (c !== '{') return undefined;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
  if (!m) return undefined; // outside unicode mode a `{` that starts no quantifier is a literal
  const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
  return { max, length: m[0].length };
}

/**
 * The backtracking heuristic (documented in docs/configuration.md). It is deliberately coarse and
 * fails closed: a pattern is refused when
 * - it contains a backreference (`\1`, `\k<name>`), which no linear-time engine supports; or
 * - a group that can repeat (`*`, `+`, `{n,}`, `{n,m}` with m > 1) contains any quantifier
 *   (`(a+)+`, `(a*)*`, `(a?a?)*`, `(\d{1,3}){3}`) or any alternation (`(a|a)*`, `(a|b)+`).
 * Ticket ids never need either: use character classes (`[A-Z]+-[0-9]{1,6}`) instead.
 * Polynomial backtracking (`.*.*`) is not detected; it is bounded by the short length of a ticket.
 * The pattern must already compile. Returns the reason, or undefined when the pattern is safe.
 */
export function backtrackingRisk(pattern: string): string | undefined {
  const stack: GroupFrame[] = [{ start: -1, hasQuantifier: false, hasAlternation: false }];
  // The atom a following quantifier applies to: a closed group (with what it contains) or a single atom.
  let last: { group?: GroupFrame } | undefined;
  let i = 0;
  while (i < pattern.length) {
    const top = stack[stack.length - 1] as GroupFrame;
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next)) return `backreference \\${next} at position ${i}`;
      if (next === 'k' && pattern[i + 2] === '<') return `named backreference at position ${i}`;
      last = {};
      i += 2;
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      last = {};
      i = j + 1;
      continue;
    }
    if (c === '(') {
      stack.push({ start: i, hasQuantifier: false, hasAlternation: false });
      const head = /^\(\?(?:<[=!]|[:=!]|<[^>]+>)?/.exec(pattern.slice(i));
      i += head ? head[0].length : 1;
      last = undefined;
      continue;
    }
    if (c === ')' && stack.length > 1) {
      const group = stack.pop() as GroupFrame;
      const parent = stack[stack.length - 1] as GroupFrame;
      parent.hasQuantifier ||= group.hasQuantifier;
      parent.hasAlternation ||= group.hasAlternation;
      last = { group };
      i++;
      continue;
    }
    if (c === '|') {
      top.hasAlternation = true;
      last = undefined;
      i++;
      continue;
    }
    const quantifier = readQuantifier(pattern, i);
    if (quantifier && last) {
      const group = last.group;
      if (group && quantifier.max > 1) {
        const text = pattern.slice(group.start, i + quantifier.length);
        if (group.hasQuantifier)
          return `the repeated group ${text} contains a quantifier (nested quantifiers)`;
        if (group.hasAlternation) {
          return `the repeated group ${text} contains alternatives; use a character class instead`;
        }
      }
      top.hasQuantifier = true;
      i += quantifier.length;
      if (pattern[i] === '?') i++; // lazy: backtracks just as much when the match fails
      last = undefined;
      continue;
    }
    last = {};
    i++;
  }
  return undefined;
}

/** Why a ticketPattern is refused (`expected …`), or undefined when it is acceptable. */
export function ticketPatternProblem(pattern: string): string | undefined {
  if (pattern.length > TICKET_PATTERN_MAX_LENGTH) return undefined; // the length check reports it
  try {
    new RegExp(pattern);
  } catch (error) {
    return `expected a valid regular expression (${(error as Error).message})`;
  }
  const risk = backtrackingRisk(pattern);
  return risk ? `expected a regular expression without catastrophic backtracking: ${risk}` : undefined;
}

// ---------------------------------------------------------------------------------------------
// Leaf schemas
// ---------------------------------------------------------------------------------------------

const ACCOUNT_ID = /^\d{12}$/;
const accountIdSchema = z
  .string({ error: 'expected a 12-digit AWS account id as a quoted string' })
  .regex(ACCOUNT_ID, 'expected a 12-digit AWS account id as a quoted string');

const groupNameSchema = z
  .string({ error: 'expected a group display name' })
  .min(1)
  .max(1024)
  .meta({ description: 'An Identity Center group, by display name.' });

const groupListSchema = (min: number, description: string) =>
  z.array(groupNameSchema).min(min).meta({ description });

/** Refuses repeated values in a list; each repeat is reported at its own index. */
const uniqueItems =
  (what: string) =>
  (
    items: readonly string[],
    ctx: { addIssue: (issue: { code: 'custom'; message: string; path: PropertyKey[] }) => void },
  ) => {
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const first = seen.get(item);
      if (first === undefined) seen.set(item, index);
      else
        ctx.addIssue({
          code: 'custom',
          message: `expected unique ${what}; "${item}" repeats [${first}]`,
          path: [index],
        });
    });
  };

const INSTANCE_ARN = /^arn:aws(?:-cn|-us-gov)?:sso:::instance\/(?:sso)?ins-[a-zA-Z0-9.-]{16}$/;
const IDENTITY_STORE_ID = /^d-[0-9a-z]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GROUP_ID = /^(?:[0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ENTITLEMENT_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const PERMISSION_SET_NAME = /^[\w+=,.@-]{1,32}$/;
const PERMISSION_SET_DESCRIPTION = /^[\t\n\r\u0020-\u007E\u00A1-\u00FF]*$/;
/** An AWS managed policy: its name, its name with a path, or its ARN (normalized to the ARN by load.ts). */
export const MANAGED_POLICY =
  /^(?:arn:aws(?:-cn|-us-gov)?:iam::aws:policy\/)?(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const IAM_PATH = /^\/(?:[\u0021-\u007E]+\/)?$/;
const ACTION = /^(?:\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+)$/;
const CONDITION_OPERATOR = /^(?:ForAllValues:|ForAnyValue:)?[A-Za-z]+$/;

/**
 * Distinct users whose revocation denies a permission set must always have room for beside its own
 * inline policy (shared/domain/deny-policy.ts); beyond them revocation falls back to one
 * permission-set-wide deny, for which room is reserved too.
 */
export const REVOCATION_RESERVE = 10;
/**
 * An inline policy shares the role's 10,240-character inline-policy quota (IAM quotas, whitespace not
 * counted) with cloud-pam's revocation denies: it may use what the reserve leaves.
 */
export const INLINE_POLICY_MAX_CHARS =
  ROLE_INLINE_POLICY_LIMIT - everyoneDenySize() - REVOCATION_RESERVE * userDenySize();

const oneOrMany = <T extends z.ZodType>(item: T, what: string) =>
  z.union([item, z.array(item).min(1)], { error: `expected ${what} or a non-empty list of them` });

const conditionValueSchema = z.union([z.string(), z.number(), z.boolean()], {
  error: 'expected a string, number or boolean',
});

const statementSchema = z
  .strictObject({
    Sid: z
      .string()
      .regex(/^[A-Za-z0-9]*$/, 'expected letters and digits only')
      .optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: oneOrMany(
      z.string().regex(ACTION, 'expected an IAM action such as "s3:GetObject", "ec2:Describe*" or "*"'),
      'an IAM action',
    ).optional(),
    NotAction: oneOrMany(
      z.string().regex(ACTION, 'expected an IAM action such as "s3:GetObject", "ec2:Describe*" or "*"'),
      'an IAM action',
    ).optional(),
    Resource: oneOrMany(z.string().min(1), 'a resource ARN pattern').optional(),
    NotResource: oneOrMany(z.string().min(1), 'a resource ARN pattern').optional(),
    Condition: z
      .record(
        z.string().regex(CONDITION_OPERATOR, 'expected a condition operator such as StringEquals'),
        z.record(
          z.string().min(1),
          z.union([conditionValueSchema, z.array(conditionValueSchema)], {
            error: 'expected a string, number, boolean or a list of them',
          }),
        ),
      )
      .optional(),
  })
  .superRefine((statement, ctx) => {
    if ((statement.Action === undefined) === (statement.NotAction === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected exactly one of Action or NotAction',
        path: ['Action'],
      });
    }
    if ((statement.Resource === undefined) === (statement.NotResource === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected exactly one of Resource or NotResource',
        path: ['Resource'],
      });
    }
  });

export const policyDocumentSchema = z
  .strictObject({
    Version: z.literal('2012-10-17', { error: 'expected "2012-10-17"' }),
    Id: z.string().optional(),
    Statement: z.union([statementSchema, z.array(statementSchema).min(1)], {
      error: 'expected a policy statement or a non-empty list of them',
    }),
  })
  .superRefine((document, ctx) => {
    const size = policySize(JSON.stringify(document));
    if (size > INLINE_POLICY_MAX_CHARS) {
      ctx.addIssue({
        code: 'custom',
        message: `expected at most ${INLINE_POLICY_MAX_CHARS} non-whitespace characters of policy JSON (this one has ${size}): the role's inline policies are limited to ${ROLE_INLINE_POLICY_LIMIT}, and room for ${REVOCATION_RESERVE} users' revocation denies plus one permission-set-wide deny is reserved`,
        path: [],
      });
    }
  })
  .meta({ description: 'An IAM identity policy document: Version 2012-10-17 and Statement(s).' });

export const permissionSetSchema = z
  .strictObject({
    name: z.string().regex(PERMISSION_SET_NAME, 'expected 1 to 32 characters of letters, digits and +=,.@_-'),
    description: z
      .string()
      .min(1)
      .max(700)
      .regex(PERMISSION_SET_DESCRIPTION, 'expected printable Latin-1 characters')
      .optional(),
    managedPolicies: z
      .array(
        z
          .string()
          .regex(
            MANAGED_POLICY,
            'expected an AWS managed policy name (ReadOnlyAccess, job-function/ViewOnlyAccess) or ARN (arn:aws:iam::aws:policy/ReadOnlyAccess); customer managed policies go in customerManagedPolicies',
          ),
      )
      .max(20)
      .superRefine(uniqueItems('policies'))
      .default([])
      .meta({
        description: 'AWS managed policies by name (ReadOnlyAccess, job-function/ViewOnlyAccess) or ARN.',
      }),
    customerManagedPolicies: z
      .array(
        z.strictObject({
          name: z
            .string()
            .regex(POLICY_NAME, 'expected an IAM policy name (1 to 128 of letters, digits and +=,.@_-)'),
          path: z
            .string()
            .max(512)
            .regex(IAM_PATH, 'expected an IAM path such as "/" or "/pam/"')
            .default('/'),
        }),
      )
      .max(20)
      .default([])
      .meta({
        description:
          'Policies that must exist with this name and path in every target account. cloud-pam cannot read them, so an entitlement using them must be privileged.',
      }),
    inlinePolicy: policyDocumentSchema.optional(),
  })
  .superRefine((permissionSet, ctx) => {
    if (
      permissionSet.managedPolicies.length === 0 &&
      permissionSet.customerManagedPolicies.length === 0 &&
      permissionSet.inlinePolicy === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected at least one of managedPolicies, customerManagedPolicies or inlinePolicy',
        path: [],
      });
    }
  })
  .meta({
    description:
      'The Identity Center permission set cloud-pam manages for this entitlement (session duration PT1H).',
  });

const targetSchema = z.strictObject({
  accounts: z
    .array(accountIdSchema)
    .min(1)
    .superRefine(uniqueItems('account ids'))
    .meta({ description: '12-digit ids of the accounts the entitlement grants access to.' }),
  permissionSet: permissionSetSchema,
});

/** A Slack public or private channel id. */
const slackChannelSchema = z
  .string({ error: 'expected a Slack channel id such as C0123456789' })
  .regex(/^[CG][A-Z0-9]{8,20}$/, 'expected a Slack channel id such as C0123456789');

export const slackSchema = z
  .strictObject({
    teamIds: z
      .array(z.string().regex(/^T[A-Z0-9]{8,20}$/, 'expected a Slack workspace id such as T0123456789'))
      .default([])
      .meta({ description: 'Allow-listed Slack workspaces (team ids); any other is refused.' }),
    enterpriseIds: z
      .array(z.string().regex(/^E[A-Z0-9]{8,20}$/, 'expected an Enterprise Grid id such as E0123456789'))
      .default([])
      .meta({
        description: 'Allow-listed Enterprise Grid organizations; any of their workspaces is admitted.',
      }),
    approversChannel: slackChannelSchema.meta({
      description: 'Where approval messages go when an entitlement names no channel.',
    }),
    identityBinding: z.enum(['email', 'strict']).default('email').meta({
      description:
        'email: the Slack account email is looked up in the Identity Store. strict: only a link made with `pam slack link` counts.',
    }),
  })
  .superRefine((slack, ctx) => {
    if (slack.teamIds.length === 0 && slack.enterpriseIds.length === 0)
      ctx.addIssue({
        code: 'custom',
        message: 'expected at least one workspace in teamIds or organization in enterpriseIds',
        path: ['teamIds'],
      });
  })
  .meta({ description: 'The Slack approval bot (omit for no Slack).' });

const approvalSchema = z.strictObject({
  approvers: groupListSchema(1, 'Groups whose members may approve.'),
  required: z
    .int()
    .min(1)
    .max(5)
    .meta({ description: 'How many distinct approvers must approve (N of an N-of-M quorum).' }),
  autoApprove: z
    .boolean()
    .default(false)
    .meta({ description: 'Grant without approval (not allowed with required > 1 or privileged).' }),
  slackChannel: slackChannelSchema
    .meta({ description: 'Slack channel for its approval messages (default: slack.approversChannel).' })
    .optional(),
});

export const ENTITLEMENT_KINDS = ['aws-role', 'secret', 'session'] as const;
export const SUPPORTED_KINDS: ReadonlySet<string> = new Set(['aws-role']);

export const entitlementSchema = z.strictObject({
  id: z
    .string()
    .max(64)
    .regex(
      ENTITLEMENT_ID,
      'expected a kebab-case id (lowercase letters and digits separated by single hyphens)',
    ),
  title: z.string().min(1).max(200),
  description: z.string().min(1).max(2000).optional(),
  kind: z
    .enum(ENTITLEMENT_KINDS)
    .superRefine((kind, ctx) => {
      if (!SUPPORTED_KINDS.has(kind)) {
        ctx.addIssue({
          code: 'custom',
          message: `expected "aws-role" ("${kind}" is reserved, not supported yet)`,
        });
      }
    })
    .meta({ description: 'aws-role. secret and session are reserved for later versions and refused today.' }),
  target: targetSchema,
  eligible: groupListSchema(1, 'Groups whose members may request.'),
  approval: approvalSchema,
  maxDuration: durationSchema('Longest grant one request may ask for.'),
  maxTotalDuration: durationSchema('Longest grant including extensions (default: maxDuration).').optional(),
  defaultDuration: durationSchema(
    'Duration offered by default (default: the smaller of PT1H and maxDuration).',
  ).optional(),
  requireReason: z.boolean().default(true),
  ticketPattern: z
    .string()
    .min(1)
    .max(TICKET_PATTERN_MAX_LENGTH)
    .superRefine((pattern, ctx) => {
      const problem = ticketPatternProblem(pattern);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({
      format: 'regex',
      description: 'When set, a ticket matching this regular expression is required.',
    })
    .optional(),
  breakGlass: groupListSchema(
    0,
    'Groups whose members may activate without approval (flagged, reviewed later).',
  ).default([]),
  strictExpiry: z.boolean().optional().meta({
    description:
      'At expiry also deny sessions already issued (not only remove the assignment). Omitted: true when privileged, else false; a privileged entitlement cannot set false.',
  }),
  privileged: z.boolean().default(false).meta({
    description: 'Must be true when the guardrails say so; forces approval.required ≥ 2 and no auto-approve.',
  }),
});

export const identityCenterSchema = z.strictObject({
  instanceArn: z
    .string()
    .regex(
      INSTANCE_ARN,
      'expected an Identity Center instance ARN such as arn:aws:sso:::instance/ssoins-0123456789abcdef',
    ),
  identityStoreId: z.string().regex(IDENTITY_STORE_ID, 'expected an identity store id such as d-1234567890'),
  hubAccountId: accountIdSchema.meta({
    description: 'The delegated-administrator account the hub stacks deploy to.',
  }),
  managementAccountId: accountIdSchema.meta({ description: "The organization's management account." }),
  organizationId: z
    .string()
    .regex(ORGANIZATION_ID, 'expected an AWS Organizations id such as o-a1b2c3d4e5')
    .meta({ description: 'The /v1 API admits only principals of this organization.' }),
  groupIds: z
    .record(
      z.string().min(1),
      z.string().regex(GROUP_ID, 'expected an Identity Store group id such as 9067a1b2c3-1a2b3c4d-…'),
    )
    .default({})
    .meta({
      description:
        'Group display name → Identity Store group id (deployment needs one for every group named).',
    }),
});

/** Open requests one user may have when `limits.maxOpenRequestsPerUser` is omitted. */
export const DEFAULT_MAX_OPEN_REQUESTS_PER_USER = 10;
/** A ceiling on the ceiling: past it the cap no longer bounds what one user costs each reconciler pass. */
export const MAX_OPEN_REQUESTS_PER_USER_LIMIT = 1000;

export const limitsSchema = z
  .strictObject({
    maxOpenRequestsPerUser: z
      .int({ error: 'expected a whole number' })
      .min(1, 'expected a number ≥ 1')
      .max(MAX_OPEN_REQUESTS_PER_USER_LIMIT, `expected a number ≤ ${MAX_OPEN_REQUESTS_PER_USER_LIMIT}`)
      .default(DEFAULT_MAX_OPEN_REQUESTS_PER_USER)
      .meta({
        description:
          'Requests one user may have open at once (PENDING, APPROVED, SCHEDULED, PROVISIONING, ACTIVE, EXTENSION_PENDING); one more is refused with TOO_MANY_OPEN_REQUESTS. Break-glass is exempt.',
      }),
  })
  .prefault({})
  .meta({ description: 'What one user may hold open at once, so no user can starve the rest.' });

export const configSchema = z
  .strictObject({
    identityCenter: identityCenterSchema,
    admins: groupListSchema(1, 'Groups whose members are cloud-pam admins (may revoke anything).'),
    drift: z.strictObject({
      mode: z
        .enum(['remove', 'report'])
        .meta({ description: 'remove unmanaged assignments, or only report them.' }),
      grace: durationSchema(
        'How long an unexplained assignment may exist before it counts as drift.',
      ).prefault('PT1H'),
    }),
    approvalTimeout: durationSchema('How long a request may wait for approval.').prefault('P1D'),
    maxStartDelay: durationSchema('How far ahead a request may ask to start (startAt).').prefault('P7D'),
    limits: limitsSchema,
    slack: slackSchema.optional(),
    entitlements: z.array(entitlementSchema),
  })
  .meta({ title: 'cloud-pam entitlement configuration' });

export type ConfigInput = z.input<typeof configSchema>;
export type ConfigOutput = z.output<typeof configSchema>;
export type EntitlementOutput = z.output<typeof entitlementSchema>;
export type IdentityCenterOutput = z.output<typeof identityCenterSchema>;
export type PolicyDocument = z.output<typeof policyDocumentSchema>;

// ---------------------------------------------------------------------------------------------
// Partial parsing: every field that is valid on its own, so cross-field rules and guardrails can
// run (and be reported) even while another field is still wrong.
// ---------------------------------------------------------------------------------------------

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  while (
    current instanceof z.ZodDefault ||
    current instanceof z.ZodPrefault ||
    current instanceof z.ZodOptional
  ) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses `value` with `schema`; when that fails and the schema is an object, parses each field on
 * its own (recursively) and keeps the ones that pass. Object-level refinements of a failing object
 * are not applied, so callers treat the result defensively.
 */
export function parsePartial<T extends z.ZodType>(
  schema: T,
  value: unknown,
): DeepPartial<z.output<T>> | undefined {
  const whole = schema.safeParse(value);
  if (whole.success) return whole.data as DeepPartial<z.output<T>>;
  const inner = unwrap(schema);
  if (!(inner instanceof z.ZodObject) || !isRecord(value)) return undefined;
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
    const parsed = parsePartial(field, value[key]);
    if (parsed !== undefined) result[key] = parsed;
  }
  return result as DeepPartial<z.output<T>>;
}

// ---------------------------------------------------------------------------------------------
// Rules across the fields of one entitlement (guardrails.ts adds the privilege rules)
// ---------------------------------------------------------------------------------------------

/** defaultDuration ≤ maxDuration ≤ maxTotalDuration; autoApprove only with a single approval. */
export function entitlementRuleIssues(entitlement: DeepPartial<EntitlementOutput>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { maxDuration, maxTotalDuration, defaultDuration, approval } = entitlement;
  if (maxDuration !== undefined && maxTotalDuration !== undefined && maxDuration > maxTotalDuration) {
    issues.push({
      path: ['maxTotalDuration'],
      message: `expected a duration ≥ maxDuration (${formatIsoDuration(maxDuration)}), got ${formatIsoDuration(maxTotalDuration)}`,
    });
  }
  if (maxDuration !== undefined && defaultDuration !== undefined && defaultDuration > maxDuration) {
    issues.push({
      path: ['defaultDuration'],
      message: `expected a duration ≤ maxDuration (${formatIsoDuration(maxDuration)}), got ${formatIsoDuration(defaultDuration)}`,
    });
  }
  if (entitlement.privileged === true && entitlement.strictExpiry === false) {
    issues.push({
      path: ['strictExpiry'],
      message:
        'expected true (or omitted) for a privileged entitlement: at expiry its sessions already issued must end too',
    });
  }
  if (approval?.autoApprove === true && approval.required !== undefined && approval.required > 1) {
    issues.push({
      path: ['approval', 'autoApprove'],
      message: `expected false when approval.required is ${approval.required} (auto-approval needs no approver, so no quorum)`,
    });
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

/** `entitlements[2].target.accounts[0]`; keys that are not identifiers are quoted: `groupIds["cloud ops"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      out += /^[A-Za-z_$][\w$-]*$/.test(key) ? `${out ? '.' : ''}${key}` : `[${JSON.stringify(key)}]`;
    }
  }
  return out || '(root)';
}

export function formatIssue(issue: ConfigIssue): string {
  return `${formatPath(issue.path)}: ${issue.message}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function describeType(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

/** The schema at `path` below `schema`, for listing the keys an object accepts. */
function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const segment of path) {
    if (!current) return undefined;
    current = unwrap(current);
    if (current instanceof z.ZodPipe) current = unwrap(current.in as z.ZodType);
    if (current instanceof z.ZodObject)
      current = (current.shape as Record<string, z.ZodType>)[String(segment)];
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else if (current instanceof z.ZodUnion) {
      const options = current.options as readonly z.ZodType[];
      const wanted = typeof segment === 'number' ? z.ZodArray : z.ZodObject;
      current = options.map((option) => unwrap(option)).find((option) => option instanceof wanted);
      if (current) current = schemaAt(current, [segment]);
    } else return undefined;
  }
  return current ? unwrap(current) : undefined;
}

function allowedKeys(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  let target = schemaAt(root, path);
  if (target instanceof z.ZodUnion) {
    target = (target.options as readonly z.ZodType[])
      .map(unwrap)
      .find((option) => option instanceof z.ZodObject);
  }
  return target instanceof z.ZodObject ? Object.keys(target.shape) : [];
}

function bound(
  issue: { origin?: string; inclusive?: boolean },
  value: number | bigint,
  small: boolean,
): string {
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string':
      return small
        ? Number(value) === 1
          ? 'expected a non-empty string'
          : `expected at least ${value} characters`
        : `expected at most ${value} characters`;
    case 'array':
      return small
        ? Number(value) === 1
          ? 'expected a non-empty list'
          : `expected at least ${value} items`
        : `expected at most ${value} items`;
    default:
      return `expected a number ${small ? (inclusive ? '≥' : '>') : inclusive ? '≤' : '<'} ${value}`;
  }
}

/**
 * Zod issues → ConfigIssues with readable `expected …` messages. `root` is the schema the issues
 * came from (to list the keys an object accepts); `prefix` is prepended to every path.
 */
export function fromZodIssues(
  issues: readonly z.core.$ZodIssue[],
  root: z.ZodType,
  prefix: readonly PropertyKey[] = [],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    const own = issue.message.startsWith('expected ') ? issue.message : undefined;
    switch (issue.code) {
      case 'invalid_type': {
        const missing = issue.input === undefined;
        const base = own ?? `expected ${describeType(issue.expected)}`;
        out.push({ path, message: missing ? `${base} (the field is required)` : base });
        break;
      }
      case 'too_small':
        out.push({ path, message: own ?? bound(issue, issue.minimum, true) });
        break;
      case 'too_big':
        out.push({ path, message: own ?? bound(issue, issue.maximum, false) });
        break;
      case 'unrecognized_keys': {
        const allowed = allowedKeys(root, path.slice(prefix.length));
        for (const key of issue.keys) {
          out.push({
            path: [...path, key],
            message: `expected no such key (unknown key; allowed here: ${allowed.join(', ') || 'none'})`,
          });
        }
        break;
      }
      case 'invalid_value':
        out.push({
          path,
          message: own ?? `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
        });
        break;
      case 'invalid_union': {
        // When exactly one alternative got past the type check, its issues are the useful ones.
        const near = issue.errors.filter(
          (branch) => !branch.every((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
        );
        const [only] = near;
        if (near.length === 1 && only) out.push(...fromZodIssues(only, root, path));
        else out.push({ path, message: own ?? 'expected a different kind of value' });
        break;
      }
      case 'invalid_key': {
        const [first] = issue.issues;
        out.push({
          path,
          message: first?.message.startsWith('expected ') ? first.message : 'expected a valid key',
        });
        break;
      }
      default:
        out.push({ path, message: own ?? `expected a valid value (${issue.message})` });
    }
  }
  return out;
}
