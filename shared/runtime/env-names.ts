// The environment contract between the stacks (infra/) and the functions: every variable a cloud-pam
// function reads, named once. Stacks set them by these constants, handlers read them through shapes
// keyed by them, the local runtime resolves them by them; renaming one is a type error, not a cold
// start that fails in production. `test/unit/env-names.test.ts` checks no other source writes them.
import * as z from '#domain/zod.ts';

export const ENV = {
  /** The access table (requests, leases, sightings, denies). */
  ACCESS_TABLE_NAME: 'ACCESS_TABLE_NAME',
  /** The append-only audit table. */
  AUDIT_TABLE_NAME: 'AUDIT_TABLE_NAME',
  /** Powertools Idempotency's table (and handle-api's per-caller rate counters). */
  IDEMPOTENCY_TABLE_NAME: 'IDEMPOTENCY_TABLE_NAME',
  IDENTITY_STORE_ID: 'IDENTITY_STORE_ID',
  /** The validated config bundled beside the handler. */
  PAM_CONFIG_FILE: 'PAM_CONFIG_FILE',
  IDENTITY_CENTER_INSTANCE_ARN: 'IDENTITY_CENTER_INSTANCE_ARN',
  /** JSON: permission set name → ARN. */
  PERMISSION_SET_ARNS: 'PERMISSION_SET_ARNS',
  COMMANDS_QUEUE_URL: 'COMMANDS_QUEUE_URL',
  PROVISIONING_QUEUE_URL: 'PROVISIONING_QUEUE_URL',
  /** Schedules target the queues by ARN. */
  COMMANDS_QUEUE_ARN: 'COMMANDS_QUEUE_ARN',
  PROVISIONING_QUEUE_ARN: 'PROVISIONING_QUEUE_ARN',
  SCHEDULER_GROUP_NAME: 'SCHEDULER_GROUP_NAME',
  SCHEDULER_ROLE_ARN: 'SCHEDULER_ROLE_ARN',
  SCHEDULES_DLQ_ARN: 'SCHEDULES_DLQ_ARN',
  /** JSON: sender role → the role ids (`AROA…`) the commands worker accepts it from. */
  COMMAND_SENDERS: 'COMMAND_SENDERS',
  /** Secrets Manager ARN of the Slack app's signing secret (plain string). */
  SLACK_SIGNING_SECRET_ARN: 'SLACK_SIGNING_SECRET_ARN',
  /** Secrets Manager ARN of the Slack app's bot token (`xoxb-…`, plain string). */
  SLACK_BOT_TOKEN_ARN: 'SLACK_BOT_TOKEN_ARN',
  /** The Slack Web API base URL (`https://slack.com/api/`; the local runtime's stand-in locally). */
  SLACK_API_URL: 'SLACK_API_URL',
  /** Where `response_url`s may point (`https://hooks.slack.com/`): anything else is not posted to. */
  SLACK_RESPONSE_URL_PREFIX: 'SLACK_RESPONSE_URL_PREFIX',
  /** The Slack work queue (FIFO) notify-slack consumes. */
  SLACK_QUEUE_URL: 'SLACK_QUEUE_URL',
  /** JSON: Slack work sender (`ingress`, `react-to-change`) → the role ids notify-slack accepts it from. */
  SLACK_JOB_SENDERS: 'SLACK_JOB_SENDERS',
} as const;
export type EnvName = keyof typeof ENV;

/** Values by contract name (what a stack writes; a name outside the contract is a type error). */
export type EnvValues<V = string> = { readonly [K in EnvName]?: V };

const nonEmpty = z.string().check(z.minLength(1));

/** What every function reads to build the request core (`buildCoreDeps`). */
export const CORE_ENV = {
  [ENV.ACCESS_TABLE_NAME]: nonEmpty,
  [ENV.AUDIT_TABLE_NAME]: nonEmpty,
  [ENV.IDENTITY_STORE_ID]: nonEmpty,
  [ENV.PAM_CONFIG_FILE]: nonEmpty,
};
