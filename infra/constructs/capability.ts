// What every capability construct of the service stack (RequestApi, GrantEngine; Slack, the vault and
// sessions next) is built from: the config, the hub key and tables, the one alarm topic, and the
// partition-key patterns each function may write. A capability owns its functions, their grants,
// triggers, alarms and outputs; the stack only connects capabilities to each other.
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { ACCESS_KEY_PREFIX, requestKey } from '#adapters/aws/tables.ts';
import { DRIFT_CHAIN } from '#app/grants/drift.ts';
import { requestChainId } from '#domain/audit-types.ts';
import type { PamConfig } from '#domain/model.ts';
import type { PamAlarms } from './pam-alarms.ts';
import type { PamFunctionProps } from './pam-function.ts';
import type { PamTable } from './pam-table.ts';

export interface HubTables {
  readonly access: PamTable;
  readonly audit: PamTable;
  readonly idempotency: PamTable;
}

export interface CapabilityProps {
  readonly config: PamConfig;
  readonly encryptionKey: Key;
  readonly tables: HubTables;
  /** The stack's one alarm topic: each capability adds the alarms of what it owns. */
  readonly alarms: PamAlarms;
  /** `POWERTOOLS_LOG_LEVEL` of every function. */
  readonly logLevel?: string;
}

/** The PamFunction props every function of a capability shares. */
export function functionDefaults(
  props: CapabilityProps,
): Pick<PamFunctionProps, 'config' | 'encryptionKey' | 'logLevel'> {
  return {
    config: props.config,
    encryptionKey: props.encryptionKey,
    ...(props.logLevel ? { logLevel: props.logLevel } : {}),
  };
}

/**
 * The partition keys the functions write (IAM `dynamodb:LeadingKeys` patterns). Access table:
 * requests (`REQ#<id>`, tables.ts), tuple leases (`TUPLE#…`, dynamo-tuple-store.ts), revocation
 * denies (`DENY#…`, dynamo-deny-ledger.ts), drift first sightings (`SEEN#…`, dynamo-drift-seen.ts).
 * Audit table: each request's chain (`request#<id>`, events and head), the `system` chain
 * (refusals, senders, deny fallbacks) and the `drift` chain. A function that could write another
 * function's keys could forge what that one records — a request chain proves a grant (proof.ts).
 */
export const KEYS = {
  requests: `${requestKey('').pk}*`,
  leases: `${ACCESS_KEY_PREFIX.tuple}*`,
  denies: `${ACCESS_KEY_PREFIX.deny}*`,
  sightings: `${ACCESS_KEY_PREFIX.sighting}*`,
  requestChains: `${requestChainId('')}*`,
  systemChain: 'system',
  driftChain: DRIFT_CHAIN,
  slackMessages: `${ACCESS_KEY_PREFIX.slackMessage}*`,
  slackLinks: `${ACCESS_KEY_PREFIX.slackLink}*`,
  slackCodes: `${ACCESS_KEY_PREFIX.slackCode}*`,
} as const;

/** Lambda's six-times-the-timeout guidance for SQS event sources. */
export const visibilityFor = (timeout: Duration): Duration => Duration.seconds(timeout.toSeconds() * 6);

/**
 * A stack output under its own name wherever the capability sits in the tree: output names are read
 * by people and tools (`pam` finds the API by `ApiUrl`, cli/context.ts), so they must not carry a
 * construct path.
 */
export function stackOutput(scope: Construct, name: string, value: string): CfnOutput {
  return new CfnOutput(Stack.of(scope), name, { value });
}
