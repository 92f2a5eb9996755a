// A Powertools Parameters provider of plain-string secrets (the Slack signing secret, the bot
// token): BaseProvider's cache, max age and force-fetch, over one GetSecretValue. Powertools' own
// SecretsProvider does the same with transforms and binary secrets this needs neither of, and with
// the SDK's Secrets Manager client; this one is given the read (the Slack ingress passes the signed
// `fetch` of ./aws-json-call.ts, which keeps the SDK out of its cold start) and answers only
// SecretString. A secret's value never appears in an error.

import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import { GetParameterError } from '@aws-lambda-powertools/parameters/errors';

/** GetSecretValue: the secret's string, if it has one. */
export type ReadSecretString = (secretId: string) => Promise<{ readonly SecretString?: string }>;

export class SecretStringProvider extends BaseProvider {
  private readonly read: ReadSecretString;

  constructor(read: ReadSecretString) {
    // No SDK client: BaseProvider only keeps one to add Powertools' user agent to it.
    super({});
    this.read = read;
  }

  /** Reads in progress, by secret: two callers at once share one Secrets Manager call. */
  private readonly reading = new Map<string, Promise<string>>();

  /**
   * The secret's string, cached for `maxAgeSeconds` (Powertools' default is 5 s). A failed read
   * throws the read's own error (an AwsJsonCallError, named by AWS's error code) rather than
   * Powertools' GetParameterError around it, so the log says what failed.
   */
  getString(secretId: string, maxAgeSeconds: number): Promise<string> {
    const pending = this.reading.get(secretId);
    if (pending) return pending;
    const read = this.readString(secretId, maxAgeSeconds).finally(() => this.reading.delete(secretId));
    this.reading.set(secretId, read);
    return read;
  }

  private async readString(secretId: string, maxAgeSeconds: number): Promise<string> {
    let value: unknown;
    try {
      value = await this.get(secretId, { maxAge: maxAgeSeconds });
    } catch (error) {
      throw error instanceof GetParameterError && error.cause instanceof Error ? error.cause : error;
    }
    if (typeof value !== 'string' || value.length === 0)
      throw new Error(`secret ${secretId} has no string value`);
    return value;
  }

  protected async _get(name: string): Promise<string | undefined> {
    return (await this.read(name)).SecretString;
  }

  protected async _getMultiple(): Promise<Record<string, unknown> | undefined> {
    throw new Error('SecretStringProvider reads one secret at a time');
  }
}
