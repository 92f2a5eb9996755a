// shared/adapters/aws/aws-json-call.ts against moto over HTTP: the Slack ingress's two SDK-less AWS
// calls in AWS's JSON protocols, signed with an access key of this file's moto account (that is how
// moto attributes a call that carries no x-moto-account-id header, as the ingress's do not). What the
// client sends is read back with the AWS SDK: the FIFO message as SQS holds it (body, group,
// deduplication id), the secret as Secrets Manager stores it; AWS's errors come back as their code
// and status, and nothing of the input.
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AwsJsonCallError, getSecretValue, sendMessage } from '#adapters/aws/aws-json-call.ts';
import { MOTO_REGION, motoClient, motoEndpoint, testAccountId } from '../support/moto.ts';

const accountId = testAccountId();
const sqs = motoClient(SQSClient, accountId);
const secrets = motoClient(SecretsManagerClient, accountId);
/** What Lambda would give the function: its role's keys (here a moto user's), region, endpoint. */
let env: Record<string, string>;
let queueUrl: string;

beforeAll(async () => {
  const iam = motoClient(IAMClient, accountId);
  await iam.send(new CreateUserCommand({ UserName: 'slack-ingress' }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'slack-ingress' }));
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error('moto returned no access key');
  env = {
    AWS_ACCESS_KEY_ID: AccessKey.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: AccessKey.SecretAccessKey,
    AWS_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL: motoEndpoint(),
  };
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: 'aws-json-call-commands.fifo', Attributes: { FifoQueue: 'true' } }),
  );
  queueUrl = created.QueueUrl ?? '';
});

describe('SQS SendMessage (awsJson1_0)', () => {
  it('puts the message on the FIFO queue with its group and deduplication id', async () => {
    // Prepare
    const body = JSON.stringify({ action: 'approve', requestId: '01JAWSJSONCALL000000000001' });

    // Act
    const { MessageId } = await sendMessage(
      {
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageGroupId: '01JAWSJSONCALL000000000001',
        MessageDeduplicationId: 'a'.repeat(64),
      },
      { env },
    );

    // Assess
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
      }),
    );
    expect(Messages).toHaveLength(1);
    expect(Messages[0]).toMatchObject({
      MessageId,
      Body: body,
      Attributes: { MessageGroupId: '01JAWSJSONCALL000000000001', MessageDeduplicationId: 'a'.repeat(64) },
    });
  });

  it("answers a queue that does not exist with AWS's error code and status, not the message", async () => {
    // Prepare
    const missing = queueUrl.replace('aws-json-call-commands', 'no-such-queue');

    // Act
    const error = await sendMessage(
      {
        QueueUrl: missing,
        MessageBody: 'secret-looking body',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'd',
      },
      { env },
    ).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AwsJsonCallError);
    expect(error).toMatchObject({ operation: 'sqs:SendMessage', status: 400, retryable: false });
    expect((error as AwsJsonCallError).code).toMatch(/QueueDoesNotExist|NonExistentQueue/);
    expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toMatch(
      /secret-looking body|no-such-queue/,
    );
  });
});

describe('Secrets Manager GetSecretValue (awsJson1_1)', () => {
  it("reads a secret's string", async () => {
    // Prepare
    const { ARN } = await secrets.send(
      new CreateSecretCommand({ Name: 'aws-json-call/signing', SecretString: 'the-signing-secret-6a1f' }),
    );

    // Act
    const read = await getSecretValue({ SecretId: ARN ?? '' }, { env });

    // Assess
    expect(read.SecretString).toBe('the-signing-secret-6a1f');
  });

  it('answers a missing secret with ResourceNotFoundException and its status, naming neither the secret nor the keys', async () => {
    // Act
    const error = await getSecretValue({ SecretId: 'aws-json-call/no-such-secret' }, { env }).catch(
      (caught: unknown) => caught,
    );

    // Assess
    expect(error).toBeInstanceOf(AwsJsonCallError);
    expect(error).toMatchObject({
      name: 'ResourceNotFoundException',
      code: 'ResourceNotFoundException',
      retryable: false,
      operation: 'secretsmanager:GetSecretValue',
    });
    // Secrets Manager answers 400; moto 5.2.1 answers 404. Either is the client error passed on.
    expect([400, 404]).toContain((error as AwsJsonCallError).status);
    const shown = JSON.stringify({ ...(error as object), message: (error as Error).message });
    for (const hidden of ['no-such-secret', env.AWS_SECRET_ACCESS_KEY ?? '', env.AWS_ACCESS_KEY_ID ?? ''])
      expect(shown).not.toContain(hidden);
  });
});
