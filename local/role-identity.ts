// Each local function acts as its own execution role, as it does in Lambda: the runtime assumes the
// role in moto (STS AssumeRole, session named after the function, as Lambda names it) and gives the
// worker those credentials. The AWS proxy is told which identity each access key is (`actAs`), so SQS
// messages are received with the real sender's `SenderId` (`<RoleId>:<session>`) instead of the one
// constant id moto stamps on all — the commands worker checks senders by it (shared/app/senders.ts).
import { SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsProxy } from './aws-proxy.ts';

export interface RoleCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** What SQS stamps on the messages sent with them: `<RoleId>:<session>`. */
  readonly senderId: string;
}

export interface RoleIdentities {
  /** Credentials of `roleArn` for a session named `session` (cached per role and session). */
  assume(roleArn: string, session: string): Promise<RoleCredentials>;
  /** An SQS client acting as `roleArn` (Scheduler delivering a schedule as its execution role). */
  sqsAs(roleArn: string, session?: string): Promise<SQSClient>;
  destroy(): void;
}

export function roleIdentities(options: {
  readonly proxy: Pick<AwsProxy, 'endpoint' | 'actAs'>;
  readonly region: string;
  /** Credentials allowed to call sts:AssumeRole in the role's account. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Told of each new session (e.g. to mark a test's or a schedule's session as the service side). */
  readonly onAssumed?: (credentials: RoleCredentials, roleArn: string, session: string) => void;
}): RoleIdentities {
  const sts = new STSClient({
    endpoint: options.proxy.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
  const sessions = new Map<string, Promise<RoleCredentials>>();
  const clients = new Map<string, Promise<SQSClient>>();

  const assume = (roleArn: string, session: string): Promise<RoleCredentials> => {
    const key = `${roleArn}|${session}`;
    let found = sessions.get(key);
    if (!found) {
      found = (async () => {
        const { Credentials, AssumedRoleUser } = await sts.send(
          new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: session }),
        );
        if (
          !Credentials?.AccessKeyId ||
          !Credentials.SecretAccessKey ||
          !Credentials.SessionToken ||
          !AssumedRoleUser?.AssumedRoleId
        )
          throw new Error(`moto returned no credentials for ${roleArn}`);
        options.proxy.actAs(Credentials.AccessKeyId, AssumedRoleUser.AssumedRoleId);
        const credentials: RoleCredentials = {
          accessKeyId: Credentials.AccessKeyId,
          secretAccessKey: Credentials.SecretAccessKey,
          sessionToken: Credentials.SessionToken,
          senderId: AssumedRoleUser.AssumedRoleId,
        };
        options.onAssumed?.(credentials, roleArn, session);
        return credentials;
      })();
      // A failed assumption is not remembered: the next delivery tries again.
      found.catch(() => sessions.delete(key));
      sessions.set(key, found);
    }
    return found;
  };

  return {
    assume,
    sqsAs(roleArn, session = 'scheduler') {
      const key = `${roleArn}|${session}`;
      let found = clients.get(key);
      if (!found) {
        found = assume(roleArn, session).then(
          (credentials) =>
            new SQSClient({
              endpoint: options.proxy.endpoint,
              region: options.region,
              credentials,
              maxAttempts: 3,
            }),
        );
        found.catch(() => clients.delete(key));
        clients.set(key, found);
      }
      return found;
    },
    destroy() {
      sts.destroy();
      for (const client of clients.values()) void client.then((c) => c.destroy()).catch(() => undefined);
    },
  };
}
