// The hub's stateful resources: the CMK and the three tables. Separate from the service stack so
// that redeploying or replacing functions, queues and the API can never touch data; everything here
// is retained on deletion and the stack is termination-protected.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType } from 'aws-cdk-lib/aws-dynamodb';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { ACCESS_TABLE, AUDIT_TABLE, IDEMPOTENCY_TABLE } from '#adapters/aws/tables.ts';
import { ENV } from '#runtime/env-names.ts';
import { PamKey } from '../constructs/pam-key.ts';
import { PamTable } from '../constructs/pam-table.ts';

const S = AttributeType.STRING;

export class HubDataStack extends Stack {
  readonly key: Key;
  readonly accessTable: PamTable;
  readonly auditTable: PamTable;
  readonly idempotencyTable: PamTable;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, { terminationProtection: true, ...props });
    this.key = new PamKey(this, 'Encryption').key;

    this.accessTable = new PamTable(this, 'AccessTable', {
      envVar: ENV.ACCESS_TABLE_NAME,
      partitionKey: { name: ACCESS_TABLE.partitionKey, type: S },
      sortKey: { name: ACCESS_TABLE.sortKey, type: S },
      indexes: [ACCESS_TABLE.byRequester, ACCESS_TABLE.byStatus].map((index) => ({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: S },
        sortKey: { name: index.sortKey, type: S },
      })),
      encryptionKey: this.key,
      stream: true,
    });

    this.auditTable = new PamTable(this, 'AuditTable', {
      envVar: ENV.AUDIT_TABLE_NAME,
      partitionKey: { name: AUDIT_TABLE.partitionKey, type: S },
      sortKey: { name: AUDIT_TABLE.sortKey, type: AttributeType.NUMBER },
      indexes: [
        {
          indexName: AUDIT_TABLE.chainHeads.indexName,
          partitionKey: { name: AUDIT_TABLE.chainHeads.partitionKey, type: S },
          sortKey: { name: AUDIT_TABLE.chainHeads.sortKey, type: S },
        },
      ],
      encryptionKey: this.key,
      stream: true,
    });

    this.idempotencyTable = new PamTable(this, 'IdempotencyTable', {
      envVar: ENV.IDEMPOTENCY_TABLE_NAME,
      partitionKey: { name: IDEMPOTENCY_TABLE.partitionKey, type: S },
      timeToLiveAttribute: IDEMPOTENCY_TABLE.ttlAttribute,
      encryptionKey: this.key,
    });

    new CfnOutput(this, 'AccessTableName', { value: this.accessTable.table.tableName });
    new CfnOutput(this, 'AuditTableName', { value: this.auditTable.table.tableName });
    new CfnOutput(this, 'IdempotencyTableName', { value: this.idempotencyTable.table.tableName });
  }
}
