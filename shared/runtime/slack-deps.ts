// The Slack bot's dependencies for the functions that talk to Slack after the acknowledgement
// (process-command, notify-slack): the Web API with the bot token read from Secrets Manager through
// Powertools Parameters (cached five minutes, so a rotated token is picked up without a redeploy),
// the Slack items in the access table, and the Slack → Identity Store binding. Built once per cold
// start, only when the bundled config has a `slack` section and the stack set the Slack variables.
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoSlackStore } from '#adapters/aws/dynamo-slack-store.ts';
import { slackWebApi } from '#adapters/slack/web-api.ts';
import type { CoreDeps } from '#app/deps.ts';
import { makeSlackActors, type SlackIdentity } from '#app/slack/identity.ts';
import type { SlackConfig } from '#domain/model.ts';
import * as z from '#domain/zod.ts';
import type { SlackApi, SlackStore } from '#ports/slack.ts';
import { readEnv } from './env.ts';
import { ENV } from './env-names.ts';

/** How long a secret read is trusted (Powertools Parameters `maxAge`). */
export const SLACK_SECRET_MAX_AGE_SECONDS = 300;

/** What a function that calls the Slack Web API reads. */
export const SLACK_WEB_ENV = {
  [ENV.SLACK_BOT_TOKEN_ARN]: z.optional(z.string().check(z.minLength(1))),
  [ENV.SLACK_API_URL]: z.optional(z.url()),
  [ENV.SLACK_RESPONSE_URL_PREFIX]: z.optional(z.url()),
};

export interface SlackDeps {
  readonly config: SlackConfig;
  readonly slack: SlackApi;
  readonly slackStore: SlackStore;
  readonly actors: SlackIdentity;
}

/** A plain-string secret, cached; the value never reaches a log or an error message. */
export function cachedSecret(arn: string): () => Promise<string> {
  return async () => {
    const value = await getSecret(arn, { maxAge: SLACK_SECRET_MAX_AGE_SECONDS });
    if (typeof value !== 'string' || value.length === 0)
      throw new Error(`secret ${ENV.SLACK_BOT_TOKEN_ARN} is empty or not a string`);
    return value;
  };
}

/**
 * The Slack dependencies, or undefined when this deployment has no Slack bot (no `slack` config, or
 * the stack set no bot token). A config with Slack but a function without its variables is a wiring
 * mistake: the cold start fails naming the variable.
 */
export function buildSlackDeps(
  core: CoreDeps & { readonly dynamo: DynamoDBClient },
  accessTable: string,
  source: NodeJS.ProcessEnv = process.env,
): SlackDeps | undefined {
  const config = core.catalog.config.slack;
  if (!config) return undefined;
  const env = readEnv(SLACK_WEB_ENV, source);
  if (!env.SLACK_BOT_TOKEN_ARN || !env.SLACK_API_URL || !env.SLACK_RESPONSE_URL_PREFIX)
    throw new Error(
      `invalid environment: the config has a slack section but ${ENV.SLACK_BOT_TOKEN_ARN}, ${ENV.SLACK_API_URL} and ${ENV.SLACK_RESPONSE_URL_PREFIX} are not all set`,
    );
  const slack = slackWebApi({
    token: cachedSecret(env.SLACK_BOT_TOKEN_ARN),
    apiUrl: env.SLACK_API_URL,
    responseUrlPrefix: env.SLACK_RESPONSE_URL_PREFIX,
  });
  const slackStore = new DynamoSlackStore({ client: core.dynamo, accessTable });
  const actors = makeSlackActors({
    config,
    slack,
    directory: core.directory,
    slackStore,
    clock: core.clock,
  });
  return { config, slack, slackStore, actors };
}
