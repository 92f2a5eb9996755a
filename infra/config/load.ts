// Loads the entitlement config (YAML) into the domain's `PamConfig`: YAML syntax, the zod schema,
// the rules across fields, and the guardrails, all collected so one run reports every problem.
// Before any of that, every string (keys included) must be clean text: well-formed Unicode with no
// control character but newline and tab (shared/domain/text.ts), since titles and ids end up in
// hashed audit events and on terminals. Synth, the local runtime and `pam config validate` all come
// through here.
import { readFileSync } from 'node:fs';
import { parseDocument, type YAMLError } from 'yaml';
import { guardrailIssues } from '#config/guardrails.ts';
import {
  type ConfigIssue,
  type ConfigOutput,
  configSchema,
  type EntitlementOutput,
  entitlementRuleIssues,
  entitlementSchema,
  formatIssue,
  fromZodIssues,
  identityCenterSchema,
  parsePartial,
} from '#config/schema.ts';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import { ConfigInvalidError } from '#domain/errors.ts';
import type { Entitlement, PamConfig } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { textIssues } from '#domain/text.ts';

const HOUR_MS = 3_600_000;

export type ValidationResult =
  | { readonly ok: true; readonly config: PamConfig }
  | { readonly ok: false; readonly issues: readonly string[] };

/**
 * Parses and validates a config document. Throws `ConfigInvalidError` listing every problem, each
 * as one line: YAML syntax errors as `<source>: YAML …`, the rest as `field.path: expected …`.
 */
export function parseConfig(yamlText: string, source = 'config'): PamConfig {
  const result = validateConfigText(yamlText, source);
  if (!result.ok) throw new ConfigInvalidError(result.issues);
  return result.config;
}

/** Reads and parses a config file. File-system errors (ENOENT, EACCES…) are thrown as they are. */
export function loadConfigFile(path: string): PamConfig {
  return parseConfig(readFileSync(path, 'utf8'), path);
}

/** Like `parseConfig`, but returns the problems instead of throwing. */
export function validateConfigText(yamlText: string, source = 'config'): ValidationResult {
  const document = parseDocument(yamlText, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    return { ok: false, issues: document.errors.map((error) => yamlIssue(error, source)) };
  }
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // Unresolved aliases and alias bombs surface only when the document is turned into values.
    return { ok: false, issues: [`${source}: YAML error: ${(error as Error).message}`] };
  }
  return validateConfigObject(raw);
}

/**
 * Validates an already-parsed document (a plain object as YAML or JSON would give). Text that is not
 * clean is reported first and alone (every such string, `field.path: …`, never the text itself):
 * the schema's messages may quote values, so it runs only on clean text.
 */
export function validateConfigObject(raw: unknown): ValidationResult {
  const dirty = [...textIssues(raw)].map((issue) =>
    formatIssue({ path: issue.path, message: issue.message }),
  );
  if (dirty.length > 0) return { ok: false, issues: dirty };
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  const issues: ConfigIssue[] = parsed.success ? [] : fromZodIssues(parsed.error.issues, configSchema);
  issues.push(...semanticIssues(raw));
  if (issues.length > 0 || !parsed.success)
    return { ok: false, issues: orderIssues(issues).map(formatIssue) };
  return { ok: true, config: toPamConfig(parsed.data) };
}

/**
 * Group display names referenced anywhere (admins, eligible, approvers, breakGlass) that have no
 * id in identityCenter.groupIds, in order of first mention. Synth refuses to deploy while any is missing.
 */
export function missingGroupIds(config: PamConfig): string[] {
  const named = new Set<string>(config.admins);
  for (const entitlement of config.entitlements) {
    for (const group of [
      ...entitlement.eligible,
      ...entitlement.approval.approvers,
      ...entitlement.breakGlass,
    ]) {
      named.add(group);
    }
  }
  return [...named].filter((group) => !Object.hasOwn(config.identityCenter.groupIds, group));
}

/** `example.yaml:3:5: YAML syntax error: Map keys must be unique` */
function yamlIssue(error: YAMLError, source: string): string {
  const [start] = error.linePos ?? [];
  const where = start ? `${source}:${start.line}:${start.col}` : source;
  const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return `${where}: YAML syntax error: ${message}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function partitionOf(arn: string | undefined): string | undefined {
  return arn?.split(':')[1];
}

/**
 * Rules that need more than one field: unique ids, duration order, auto-approval, guardrails, and
 * managed-policy partitions. Each entitlement is parsed field by field, so its rules are checked
 * even while an unrelated field (or another entitlement) is wrong.
 */
function semanticIssues(raw: unknown): ConfigIssue[] {
  if (!isRecord(raw) || !Array.isArray(raw.entitlements)) return [];
  const identityCenter = parsePartial(identityCenterSchema, raw.identityCenter) ?? {};
  const context = {
    hubAccountId: identityCenter.hubAccountId,
    managementAccountId: identityCenter.managementAccountId,
  };
  const partition = partitionOf(identityCenter.instanceArn);
  const issues: ConfigIssue[] = [];
  const firstIndexOfId = new Map<string, number>();
  raw.entitlements.forEach((rawEntitlement: unknown, index: number) => {
    const at = (issue: ConfigIssue): ConfigIssue => ({
      path: ['entitlements', index, ...issue.path],
      message: issue.message,
    });
    const entitlement = parsePartial(entitlementSchema, rawEntitlement);
    if (!entitlement) return;
    if (entitlement.id !== undefined) {
      const first = firstIndexOfId.get(entitlement.id);
      if (first === undefined) firstIndexOfId.set(entitlement.id, index);
      else
        issues.push(
          at({
            path: ['id'],
            message: `expected a unique id; "${entitlement.id}" is also entitlements[${first}]`,
          }),
        );
    }
    const guardrails = guardrailIssues(entitlement, context);
    // A privileged entitlement's autoApprove is reported once, with the guardrail's reason.
    const samePath = (a: ConfigIssue, b: ConfigIssue) => a.path.join('.') === b.path.join('.');
    const rules = entitlementRuleIssues(entitlement).filter(
      (rule) => !guardrails.some((g) => samePath(g, rule)),
    );
    issues.push(...rules.map(at), ...guardrails.map(at));
    (entitlement.target?.permissionSet?.managedPolicies ?? []).forEach((policy, policyIndex) => {
      const policyPartition = policy.startsWith('arn:') ? partitionOf(policy) : undefined;
      if (partition && policyPartition && policyPartition !== partition) {
        issues.push(
          at({
            path: ['target', 'permissionSet', 'managedPolicies', policyIndex],
            message: `expected an ARN in partition ${partition} (the partition of identityCenter.instanceArn)`,
          }),
        );
      }
    });
  });
  return issues;
}

const TOP_LEVEL_ORDER = [
  'identityCenter',
  'admins',
  'drift',
  'approvalTimeout',
  'maxStartDelay',
  'limits',
  'slack',
  'entitlements',
];

/** Groups issues by top-level field (schema order) and entitlement index; stable inside a group. */
function orderIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const rank = (issue: ConfigIssue): [number, number] => {
    const [top, index] = issue.path;
    const topRank = TOP_LEVEL_ORDER.indexOf(String(top));
    return [topRank < 0 ? TOP_LEVEL_ORDER.length : topRank, typeof index === 'number' ? index : -1];
  };
  return issues
    .map((issue, position) => ({ issue, position, rank: rank(issue) }))
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.position - b.position)
    .map(({ issue }) => issue);
}

function toEntitlement(entitlement: EntitlementOutput, partition: string): Entitlement {
  const { permissionSet } = entitlement.target;
  const maxDurationMs = entitlement.maxDuration;
  return {
    id: entitlement.id,
    title: entitlement.title,
    ...optional('description', entitlement.description),
    kind: entitlement.kind,
    target: {
      accounts: entitlement.target.accounts,
      permissionSet: {
        name: permissionSet.name,
        ...optional('description', permissionSet.description),
        managedPolicies: permissionSet.managedPolicies.map((policy) =>
          policy.startsWith('arn:') ? policy : `arn:${partition}:iam::aws:policy/${policy}`,
        ),
        customerManagedPolicies: permissionSet.customerManagedPolicies,
        ...optional('inlinePolicy', permissionSet.inlinePolicy),
      },
    },
    eligible: entitlement.eligible,
    approval: {
      approvers: entitlement.approval.approvers,
      required: entitlement.approval.required,
      autoApprove: entitlement.approval.autoApprove,
      ...optional('slackChannel', entitlement.approval.slackChannel),
    },
    maxDurationMs,
    maxTotalDurationMs: entitlement.maxTotalDuration ?? maxDurationMs,
    defaultDurationMs: entitlement.defaultDuration ?? Math.min(HOUR_MS, maxDurationMs),
    requireReason: entitlement.requireReason,
    ...optional('ticketPattern', entitlement.ticketPattern),
    breakGlass: entitlement.breakGlass,
    // Privileged implies strict: omitted means true for a privileged entitlement.
    strictExpiry: entitlement.strictExpiry ?? entitlement.privileged,
    privileged: entitlement.privileged,
  };
}

function toPamConfig(parsed: ConfigOutput): PamConfig {
  const partition = partitionOf(parsed.identityCenter.instanceArn) ?? 'aws';
  const withoutHash: Omit<PamConfig, 'configHash'> = {
    identityCenter: parsed.identityCenter,
    admins: parsed.admins,
    drift: { mode: parsed.drift.mode, graceMs: parsed.drift.grace },
    approvalTimeoutMs: parsed.approvalTimeout,
    maxStartDelayMs: parsed.maxStartDelay,
    limits: { maxOpenRequestsPerUser: parsed.limits.maxOpenRequestsPerUser },
    ...optional('slack', parsed.slack),
    entitlements: parsed.entitlements.map((entitlement) => toEntitlement(entitlement, partition)),
  };
  return { ...withoutHash, configHash: sha256Hex(canonicalJson(withoutHash)) };
}
