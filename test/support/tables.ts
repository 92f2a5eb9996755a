// Creates cloud-pam's DynamoDB tables in moto from the same designs the CDK stack uses. Idempotent,
// so test files (and the local runtime) may call it more than once for the same account.
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { createTableInputs, type TableNames, timeToLiveInputs } from '#adapters/aws/tables.ts';

export async function createTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  for (const input of createTableInputs(names)) {
    try {
      await client.send(new CreateTableCommand(input));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  for (const input of timeToLiveInputs(names)) {
    // DynamoDB refuses to enable TTL twice, so look first.
    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: input.TableName }),
    );
    const status = TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') continue;
    await client.send(new UpdateTimeToLiveCommand(input));
  }
}

/** Table names for one test file (moto accounts already isolate files; the prefix aids debugging). */
export function testTableNames(prefix = 'pam'): TableNames {
  return { access: `${prefix}-access`, audit: `${prefix}-audit`, idempotency: `${prefix}-idempotency` };
}
