// One DynamoDB table of the hub, with the settings every hub table shares (on-demand, point-in-time
// recovery, the hub CMK, deletion protection, retained on stack deletion) and the exact IAM a
// function's use of it needs, so functions bind tables instead of hand-writing grants.
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  type Attribute,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { EnvName } from '#runtime/env-names.ts';

/** Item reads a function may make (Query also on the table's named indexes). */
export type TableRead = 'GetItem' | 'Query';
/** Item writes; inside a transaction each Put is authorized as PutItem. */
export type TableWrite = 'PutItem' | 'UpdateItem' | 'DeleteItem';

/** Writes allowed on the items whose partition key matches one of `leadingKeys`. */
export interface TableWriteGrant {
  readonly actions: readonly TableWrite[];
  /**
   * IAM `StringLike` patterns of the partition keys written (`REQ#*`, `system`), checked on every
   * written item through `dynamodb:LeadingKeys`. `'any'` only for a table whose items belong to the
   * function alone and whose keys it does not choose (Powertools' idempotency records: a hash).
   */
  readonly leadingKeys: readonly string[] | 'any';
}

/**
 * Exactly what a function does with a table. Nothing else exists: no Scan, batch operation,
 * DescribeTable or ConditionCheckItem (cloud-pam's only transaction puts items), and every write is
 * scoped to the keys the function's code writes. test/infra/least-privilege.test.ts compares the
 * result with each function's bundle.
 */
export interface TableAccess {
  readonly read?: readonly TableRead[];
  readonly write?: readonly TableWriteGrant[];
}

const KMS_READ = ['kms:Decrypt', 'kms:DescribeKey'];
const KMS_WRITE = ['kms:Encrypt', 'kms:GenerateDataKey'];

export interface PamTableIndex {
  readonly indexName: string;
  readonly partitionKey: Attribute;
  readonly sortKey?: Attribute;
}

export interface PamTableProps {
  /** Environment variable a bound function reads the table name from (e.g. `ACCESS_TABLE_NAME`). */
  readonly envVar: EnvName;
  readonly partitionKey: Attribute;
  readonly sortKey?: Attribute;
  readonly indexes?: readonly PamTableIndex[];
  readonly encryptionKey: IKey;
  /** Stream both images (the audit exporter and tamper alarms read the stream). */
  readonly stream?: boolean;
  readonly timeToLiveAttribute?: string;
}

export class PamTable extends Construct {
  readonly table: Table;
  readonly envVar: EnvName;
  readonly indexNames: readonly string[];
  readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: PamTableProps) {
    super(scope, id);
    this.envVar = props.envVar;
    this.encryptionKey = props.encryptionKey;
    this.indexNames = (props.indexes ?? []).map((index) => index.indexName);

    this.table = new Table(this, 'Table', {
      partitionKey: props.partitionKey,
      ...(props.sortKey ? { sortKey: props.sortKey } : {}),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.stream ? { stream: StreamViewType.NEW_AND_OLD_IMAGES } : {}),
      ...(props.timeToLiveAttribute ? { timeToLiveAttribute: props.timeToLiveAttribute } : {}),
    });
    for (const index of props.indexes ?? []) {
      this.table.addGlobalSecondaryIndex({ ...index, projectionType: ProjectionType.ALL });
    }
  }

  /**
   * The statements that grant exactly `access`: the reads on the table (Query also on its named
   * indexes, never `index/*`), each write grant on the table under its `dynamodb:LeadingKeys`
   * condition, and the CMK only as DynamoDB uses it on the caller's behalf.
   */
  statementsFor(access: TableAccess): PolicyStatement[] {
    const { region } = Stack.of(this);
    const reads = access.read ?? [];
    const writes = access.write ?? [];
    if (reads.length === 0 && writes.length === 0) throw new Error(`${this.node.path}: empty table access`);
    const statements: PolicyStatement[] = [];
    if (reads.length > 0) {
      const indexArns = reads.includes('Query')
        ? this.indexNames.map((name) => `${this.table.tableArn}/index/${name}`)
        : [];
      statements.push(
        new PolicyStatement({
          actions: reads.map((action) => `dynamodb:${action}`),
          resources: [this.table.tableArn, ...indexArns],
        }),
      );
    }
    for (const grant of writes) {
      if (grant.actions.length === 0 || grant.leadingKeys.length === 0)
        throw new Error(`${this.node.path}: a write grant needs actions and leading keys`);
      statements.push(
        new PolicyStatement({
          actions: grant.actions.map((action) => `dynamodb:${action}`),
          resources: [this.table.tableArn],
          ...(grant.leadingKeys === 'any'
            ? {}
            : {
                conditions: {
                  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...grant.leadingKeys] },
                },
              }),
        }),
      );
    }
    statements.push(
      new PolicyStatement({
        // Every item access decrypts; writes also encrypt.
        actions: writes.length > 0 ? [...KMS_READ, ...KMS_WRITE] : KMS_READ,
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
      }),
    );
    return statements;
  }
}
