// One DynamoDB table of the hub, with the settings every hub table shares (on-demand, point-in-time
// recovery, the hub CMK, deletion protection, retained on stack deletion) and the exact IAM each
// access mode needs, so functions bind tables instead of hand-writing grants.
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

/**
 * - `RO`: read items and query the table and its indexes.
 * - `RW`: RO plus put, update and delete.
 * - `APPEND`: for the audit trail — RO without BatchGetItem, plus put, update (chain heads) and
 *   condition checks inside transactions; never DeleteItem.
 */
export type TableAccess = 'RO' | 'RW' | 'APPEND';

const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
const ACTIONS: Record<TableAccess, readonly string[]> = {
  RO: READ_ACTIONS,
  RW: [
    ...READ_ACTIONS,
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
  APPEND: [
    'dynamodb:GetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:ConditionCheckItem',
  ],
};
const KMS_READ = ['kms:Decrypt', 'kms:DescribeKey'];
const KMS_WRITE = [...KMS_READ, 'kms:Encrypt', 'kms:GenerateDataKey'];

export interface PamTableIndex {
  readonly indexName: string;
  readonly partitionKey: Attribute;
  readonly sortKey?: Attribute;
}

export interface PamTableProps {
  /** Environment variable a bound function reads the table name from (e.g. `ACCESS_TABLE_NAME`). */
  readonly envVar: string;
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
  readonly envVar: string;
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
   * Put and delete only items whose partition key starts with one of `prefixes` (e.g. `SEEN#`), for a
   * function that otherwise reads: IAM checks `dynamodb:LeadingKeys` on every written item.
   */
  keyScopedWriteStatements(prefixes: readonly string[]): PolicyStatement[] {
    const { region } = Stack.of(this);
    return [
      new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((prefix) => `${prefix}*`) },
        },
      }),
      new PolicyStatement({
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
      }),
    ];
  }

  /**
   * The statements that grant exactly `access`: the table and its named indexes (no `index/*`), and
   * the CMK only when DynamoDB uses it on the caller's behalf.
   */
  statementsFor(access: TableAccess): PolicyStatement[] {
    const { region } = Stack.of(this);
    const indexArns = this.indexNames.map((name) => `${this.table.tableArn}/index/${name}`);
    return [
      new PolicyStatement({
        actions: [...ACTIONS[access]],
        resources: [this.table.tableArn, ...indexArns],
      }),
      new PolicyStatement({
        actions: access === 'RO' ? KMS_READ : KMS_WRITE,
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
      }),
    ];
  }
}
