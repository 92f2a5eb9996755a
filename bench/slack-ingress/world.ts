// The world the Slack ingress answers in, in its own process (bench/slack-ingress/run.ts times with
// `spawnSync`, which blocks its own event loop, so nothing the function calls can live there):
// - moto (MOTO_ENDPOINT, started by `scripts/moto.sh`) for Secrets Manager and SQS, in an account of
//   its own: the two FIFO queues the ingress sends to, the signing secret and bot token it reads, and
//   an IAM user whose access key the function signs with (moto finds the account by it);
// - the Slack stand-in (local/slack-stand-in.ts) for views.open: it issues the trigger_ids, accepts
//   each once within 3 s, and checks the modal as Slack would;
// - a control route, `POST /occurrence {user}`, that issues a trigger_id and response_url, as Slack
//   puts in each payload, `GET /queues`, the number of messages on each queue, and `GET /moto-latency`,
//   how long moto itself takes to answer the ingress's two calls (sent as the ingress sends them, by
//   #adapters/aws/aws-json-call.ts, from this warm process: a queue of its own, a median of 21 each);
// - an instant AWS responder: GetSecretValue and SendMessage answered at once with fixed answers (the
//   same secrets; nothing kept, nothing checked — not an emulation), so that one figure can show the
//   function's own cost without moto's Python in it.
// Prints one JSON line (`IngressWorld`) on stdout once ready; stops when stdin closes or on SIGTERM.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { getSecretValue, sendMessage } from '#adapters/aws/aws-json-call.ts';
import { ENV } from '#runtime/env-names.ts';
import { startSlackStandIn } from '../../local/slack-stand-in.ts';
import { MOTO_REGION, motoClient, motoEndpoint, testAccountId } from '../../test/support/moto.ts';

/** What run.ts needs to give the function its outside world. */
export interface IngressWorld {
  /** The variables that point the ingress at this world (credentials, endpoints, ARNs, queues). */
  readonly environment: Readonly<Record<string, string>>;
  /** Signs the bench's Slack requests. */
  readonly signingSecret: string;
  /** `POST <controlUrl>/occurrence`, `GET <controlUrl>/queues`. */
  readonly controlUrl: string;
  /** An AWS_ENDPOINT_URL that answers the ingress's two calls at once. */
  readonly instantAwsUrl: string;
}

const TEAM_ID = 'T0EXAMPLE01';
const USERS = { alice: 'U0ALICE', bob: 'U0BOB' } as const;

const accountId = testAccountId();
const iam = motoClient(IAMClient, accountId);
const sqs = motoClient(SQSClient, accountId);
const secrets = motoClient(SecretsManagerClient, accountId);

await iam.send(new CreateUserCommand({ UserName: 'slack-ingress' }));
const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'slack-ingress' }));
const queueUrl = async (name: string) =>
  (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true' } }))).QueueUrl ??
  '';
const commandsQueue = await queueUrl('bench-commands.fifo');
const slackQueue = await queueUrl('bench-slack-work.fifo');
const latencyQueue = await queueUrl('bench-moto-latency.fifo');
const secretArn = async (name: string, value: string) =>
  (await secrets.send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN ?? '';
const signingSecret = randomBytes(32).toString('hex');
const botToken = `xoxb-bench-${randomBytes(16).toString('hex')}`;
const signingSecretArn = await secretArn('bench/slack-signing-secret', signingSecret);
const botTokenArn = await secretArn('bench/slack-bot-token', botToken);

const standIn = await startSlackStandIn({
  botToken,
  teamId: TEAM_ID,
  users: Object.entries(USERS).map(([name, id]) => ({ id, name, email: `${name}@example.com` })),
});

const control = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', async () => {
    try {
      if (request.method === 'POST' && request.url === '/occurrence') {
        const { user } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { user: keyof typeof USERS };
        const userId = USERS[user];
        response.end(
          JSON.stringify({
            teamId: TEAM_ID,
            userId,
            triggerId: standIn.issueTrigger(userId),
            responseUrl: standIn.responseUrlFor({ userId }),
          }),
        );
        return;
      }
      if (request.method === 'GET' && request.url === '/queues') {
        const count = async (url: string) =>
          Number(
            (
              await sqs.send(
                new GetQueueAttributesCommand({
                  QueueUrl: url,
                  AttributeNames: ['ApproximateNumberOfMessages'],
                }),
              )
            ).Attributes?.ApproximateNumberOfMessages ?? 0,
          );
        response.end(
          JSON.stringify({ commands: await count(commandsQueue), slack: await count(slackQueue) }),
        );
        return;
      }
      if (request.method === 'GET' && request.url === '/moto-latency') {
        response.end(JSON.stringify(await motoLatency()));
        return;
      }
      response.writeHead(404).end();
    } catch (error) {
      response.writeHead(500).end((error as Error).message);
    }
  });
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));

/** moto's own answer time for GetSecretValue and a FIFO SendMessage, median of 21 warm calls each (ms). */
async function motoLatency(): Promise<{ getSecretValue: number; sendMessage: number }> {
  const env = {
    AWS_ACCESS_KEY_ID: AccessKey?.AccessKeyId ?? '',
    AWS_SECRET_ACCESS_KEY: AccessKey?.SecretAccessKey ?? '',
    AWS_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL: motoEndpoint(),
  };
  const median = async (call: (i: number) => Promise<unknown>) => {
    await call(-1);
    const samples: number[] = [];
    for (let i = 0; i < 21; i++) {
      const started = process.hrtime.bigint();
      await call(i);
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return samples.sort((a, b) => a - b)[10] as number;
  };
  return {
    getSecretValue: await median(() => getSecretValue({ SecretId: signingSecretArn }, { env })),
    sendMessage: await median((i) =>
      sendMessage(
        {
          QueueUrl: latencyQueue,
          MessageBody: '{}',
          MessageGroupId: 'latency',
          MessageDeduplicationId: `latency-${i}-${randomUUID()}`,
        },
        { env },
      ),
    ),
  };
}

const secretValues = new Map([
  [signingSecretArn, signingSecret],
  [botTokenArn, botToken],
]);
const instantAws = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
    const target = request.headers['x-amz-target'];
    const value =
      target === 'secretsmanager.GetSecretValue' ? secretValues.get(input.SecretId ?? '') : undefined;
    response.setHeader('content-type', 'application/x-amz-json-1.0');
    if (value !== undefined) response.end(JSON.stringify({ ARN: input.SecretId, SecretString: value }));
    else if (target === 'AmazonSQS.SendMessage')
      // The SDK's SQS client checks the MD5 (a build that still uses it can be timed too).
      response.end(
        JSON.stringify({
          MessageId: randomUUID(),
          MD5OfMessageBody: createHash('md5')
            .update(input.MessageBody ?? '')
            .digest('hex'),
        }),
      );
    else response.writeHead(400).end(JSON.stringify({ __type: 'UnknownOperationException' }));
  });
});
await new Promise<void>((resolve) => instantAws.listen(0, '127.0.0.1', resolve));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  control.close();
  instantAws.close();
  await standIn.close().catch(() => undefined);
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();

const world: IngressWorld = {
  environment: {
    AWS_ACCESS_KEY_ID: AccessKey?.AccessKeyId ?? '',
    AWS_SECRET_ACCESS_KEY: AccessKey?.SecretAccessKey ?? '',
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL: motoEndpoint(),
    [ENV.SLACK_SIGNING_SECRET_ARN]: signingSecretArn,
    [ENV.SLACK_BOT_TOKEN_ARN]: botTokenArn,
    [ENV.SLACK_API_URL]: standIn.apiUrl,
    [ENV.COMMANDS_QUEUE_URL]: commandsQueue,
    [ENV.SLACK_QUEUE_URL]: slackQueue,
  },
  signingSecret,
  controlUrl: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
  instantAwsUrl: `http://127.0.0.1:${(instantAws.address() as AddressInfo).port}`,
};
process.stdout.write(`${JSON.stringify(world)}\n`);
