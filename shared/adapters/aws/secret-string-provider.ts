// A Powertools Parameters provider of plain-string secrets (the Slack signing secret, the bot
// token): BaseProvider's cache, max age and force-fetch, over one GetSecretValue. Powertools' own
// SecretsProvider does the same with transforms and binary secrets this needs neither of; this one
// takes the client it is given (the functions' own, so the local runtime's endpoint and the tests'
// middleware apply) and answers only SecretString. A secret's value never appears in an error.

import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export class SecretStringProvider extends BaseProvider {
  private readonly secrets: SecretsManagerClient;

  constructor(client: SecretsManagerClient) {
    super({ awsSdkV3Client: client });
    this.secrets = client;
  }

  /** The secret's string, cached for `maxAgeSeconds` (Powertools' default is 5 s). */
  async getString(secretId: string, maxAgeSeconds: number): Promise<string> {
    const value = await this.get(secretId, { maxAge: maxAgeSeconds });
    if (typeof value !== 'string' || value.length === 0)
      throw new Error(`secret ${secretId} has no string value`);
    return value;
  }

  protected async _get(name: string): Promise<string | undefined> {
    const output = await this.secrets.send(new GetSecretValueCommand({ SecretId: name }));
    return output.SecretString;
  }

  protected async _getMultiple(): Promise<Record<string, unknown> | undefined> {
    throw new Error('SecretStringProvider reads one secret at a time');
  }
}
