// The hub's customer managed key: tables, queues, the alarm topic and every log group encrypt with it.
// The key policy lets the two services that use it on their own behalf (CloudWatch Logs, and
// CloudWatch alarms publishing to the encrypted topic) do so only for this account's resources.
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export class PamKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const { account, region, partition } = Stack.of(this);

    this.key = new Key(this, 'Key', {
      description: 'cloud-pam hub: DynamoDB tables, SQS queues, SNS alarm topic, CloudWatch log groups',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      // Losing this key loses the audit trail: never delete it with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // CloudWatch Logs encrypts log groups with the key; the encryption context names the log group,
    // so pinning it to this account and region keeps other accounts' log groups off the key.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchLogsForThisAccountsLogGroups',
        principals: [new ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*`,
          },
        },
      }),
    );

    // CloudWatch alarms publish to the encrypted alarm topic with their own service principal.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );
  }
}
