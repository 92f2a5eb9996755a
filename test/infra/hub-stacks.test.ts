import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '#config/load.ts';
import type { PamConfig } from '#domain/model.ts';
import { ENV } from '#runtime/env-names.ts';
import { REJECTION_AUDIT_FAILED_METRIC } from '#runtime/metric-names.ts';
import { participatingGroups } from '../../infra/constructs/requester-access.ts';
import { functionFolders } from '../support/function-folders.ts';
import {
  asArray,
  flatten,
  idWithinCapability,
  type Json,
  type Statement,
  statementsOfRole,
  synthHub,
} from './templates.ts';

let config: PamConfig;
let data: Template;
let service: Template;

beforeAll(() => {
  // Prepare
  config = loadConfigFile('infra/config/example.yaml');
  // Act
  const hub = synthHub(config, { bundle: true });
  data = hub.dataTemplate;
  service = hub.template;
});

function logicalIdOf(template: Template, type: string, props: Json): string {
  const ids = Object.keys(template.findResources(type, { Properties: props }));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

describe('hub data stack', () => {
  it('has one customer managed key that rotates and is retained', () => {
    data.resourceCountIs('AWS::KMS::Key', 1);
    data.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('pins the services in the key policy to this account', () => {
    const key = Object.values(data.findResources('AWS::KMS::Key'))[0] as {
      Properties: { KeyPolicy: { Statement: (Statement & { Principal: Json })[] } };
    };
    const statements = key.Properties.KeyPolicy.Statement.map(
      (s) => flatten(s) as Statement & { Principal: Json },
    );
    const account = config.identityCenter.hubAccountId;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
          Condition: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': `arn:\${AWS::Partition}:logs:eu-west-1:${account}:log-group:*`,
            },
          },
        }),
        expect.objectContaining({
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': account },
            ArnLike: { 'aws:SourceArn': `arn:\${AWS::Partition}:cloudwatch:eu-west-1:${account}:alarm:*` },
          },
        }),
      ]),
    );
    // Every other service statement names a principal: nothing is open to "*".
    for (const s of statements) expect(s.Principal).not.toBe('*');
  });

  it.each([
    ['access', 'pk', 'S', ['byRequester', 'byStatus']],
    ['audit', 'chainId', 'S', ['chainHeads']],
    ['idempotency', 'id', 'S', []],
  ])(
    'keeps the %s table on demand, PITR, CMK-encrypted, deletion-protected and retained',
    (_name, pk, _type, indexes) => {
      const tables = data.findResources('AWS::DynamoDB::Table', {
        Properties: { KeySchema: Match.arrayWith([{ AttributeName: pk, KeyType: 'HASH' }]) },
      });
      expect(Object.keys(tables)).toHaveLength(1);
      const [table] = Object.values(tables) as {
        Properties: Json;
        DeletionPolicy: string;
        UpdateReplacePolicy: string;
      }[];
      expect(table?.DeletionPolicy).toBe('Retain');
      expect(table?.UpdateReplacePolicy).toBe('Retain');
      expect(table?.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
        },
      });
      const indexNames = ((table?.Properties.GlobalSecondaryIndexes ?? []) as { IndexName: string }[]).map(
        (i) => i.IndexName,
      );
      expect(indexNames.sort()).toEqual([...indexes].sort());
    },
  );

  it('streams both images of the access and audit tables', () => {
    for (const pk of ['pk', 'chainId']) {
      data.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: Match.arrayWith([{ AttributeName: pk, KeyType: 'HASH' }]),
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      });
    }
  });

  it('keys audit events by (chainId, numeric seq) and expires idempotency records by TTL', () => {
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'chainId', KeyType: 'HASH' },
        { AttributeName: 'seq', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([{ AttributeName: 'seq', AttributeType: 'N' }]),
    });
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  it('outputs the table names', () => {
    for (const name of ['AccessTableName', 'AuditTableName', 'IdempotencyTableName']) {
      expect(Object.keys(data.findOutputs(name))).toEqual([name]);
    }
  });
});

describe('hub service stack: commands queue', () => {
  it('is a KMS-encrypted FIFO queue with content-based deduplication and a FIFO DLQ after 5 receives', () => {
    const [dlq] = Object.keys(
      service.findResources('AWS::SQS::Queue', {
        Properties: { FifoQueue: true, RedrivePolicy: Match.absent() },
      }),
    ).filter((id) => idWithinCapability(id).startsWith('CommandsDeadLetterQueue'));
    expect(dlq).toBeDefined();
    service.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: true,
      KmsMasterKeyId: Match.anyValue(),
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    service.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      RedrivePolicy: Match.absent(),
      KmsMasterKeyId: Match.anyValue(),
    });
  });

  it('refuses non-TLS access to every queue', () => {
    const queues = Object.keys(service.findResources('AWS::SQS::Queue'));
    // commands + DLQ, provisioning + DLQ, the schedules DLQ, the stream failure queue, Slack work + DLQ
    expect(queues).toHaveLength(8);
    const policies = service.findResources('AWS::SQS::QueuePolicy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      },
    });
    const covered = Object.values(policies).flatMap(
      (policy) => (policy as { Properties: { Queues: { Ref: string }[] } }).Properties.Queues,
    );
    expect(covered.map((queue) => queue.Ref).sort()).toEqual([...queues].sort());
  });

  it('feeds process-command in batches of 10 with partial batch failures', () => {
    service.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FunctionName: { Ref: Match.stringLikeRegexp('^RequestsProcessCommand') },
    });
  });
});

describe('hub service stack: functions', () => {
  it('deploys one function per folder under functions/', () => {
    const services = Object.values(service.findResources('AWS::Lambda::Function')).map(
      (fn) =>
        ((fn as { Properties: Json }).Properties.Environment as { Variables: Json }).Variables
          .POWERTOOLS_SERVICE_NAME,
    );
    expect(services.sort()).toEqual(functionFolders());
  });

  it.each(functionFolders())(
    'runs %s on nodejs24.x, arm64, traced, with a retained encrypted log group',
    (name) => {
      const functions = service.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: name } } },
      });
      expect(Object.keys(functions)).toHaveLength(1);
      const fn = Object.values(functions)[0] as { Properties: Json };
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Handler: 'index.handler',
        Environment: {
          Variables: {
            // The Slack ingress skips source maps (its cold start is Slack's 3 s; PamFunction sourceMaps).
            ...(name === 'slack-ingress' ? {} : { NODE_OPTIONS: '--enable-source-maps' }),
            POWERTOOLS_METRICS_NAMESPACE: 'CloudPam',
            POWERTOOLS_LOG_LEVEL: 'INFO',
            [ENV.PAM_CONFIG_FILE]: 'pam-config.json',
            [ENV.IDENTITY_STORE_ID]: config.identityCenter.identityStoreId,
            // The Slack ingress acknowledges without reading a table (docs/slack.md).
            ...(name === 'slack-ingress'
              ? {}
              : { [ENV.ACCESS_TABLE_NAME]: expect.anything(), [ENV.AUDIT_TABLE_NAME]: expect.anything() }),
          },
        },
      });
      const logGroupId = ((fn.Properties.LoggingConfig as Json).LogGroup as { Ref: string }).Ref;
      const logGroup = service.findResources('AWS::Logs::LogGroup')[logGroupId] as {
        Properties: Json;
        DeletionPolicy: string;
      };
      expect(logGroup.Properties.RetentionInDays).toBeGreaterThan(0);
      expect(logGroup.Properties.KmsKeyId).toBeDefined();
      expect(logGroup.DeletionPolicy).toBe('Retain');
    },
  );

  it('gives each function only the environment it needs', () => {
    service.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'handle-api',
        }),
      },
    });
    service.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'process-command',
          [ENV.IDEMPOTENCY_TABLE_NAME]: Match.anyValue(),
        }),
      },
    });
    const handleApi = Object.values(
      service.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'handle-api' } } },
      }),
    )[0] as { Properties: { Environment: { Variables: Json } } };
    // handle-api keeps only its per-caller rate counters there (RATE# keys, one UpdateItem each).
    expect(handleApi.Properties.Environment.Variables.IDEMPOTENCY_TABLE_NAME).toBeDefined();
    const onIdempotency = statementsOfRole(service, 'HandleApiRole').filter(
      (s) =>
        JSON.stringify(s.Resource).includes('IdempotencyTable') &&
        asArray(s.Action).some((a) => a.startsWith('dynamodb:')),
    );
    expect(onIdempotency.map((s) => [asArray(s.Action), s.Condition])).toEqual([
      [['dynamodb:UpdateItem'], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RATE#*'] } }],
    ]);
  });

  it('lets functions only append to the audit table, each to the chains it writes', () => {
    // A request chain proves a grant (shared/app/proof.ts): only the functions that decide or
    // provision may extend one; the drift sweep writes its own chain; the reconciler only reads.
    const chains: Record<string, string[]> = {
      HandleApiRole: ['request#*', 'system'],
      ProcessCommandRole: ['request#*', 'system'],
      ProvisionAccessRole: ['request#*', 'system', 'drift'],
      SweepDriftRole: ['drift'],
      ReconcileRole: [],
    };
    for (const [role, expected] of Object.entries(chains)) {
      const onAudit = statementsOfRole(service, role).filter((s) =>
        JSON.stringify(s.Resource).includes('AuditTable'),
      );
      expect(onAudit.length, role).toBeGreaterThan(0);
      const actions = onAudit.flatMap((s) => asArray(s.Action));
      for (const never of [
        'dynamodb:DeleteItem',
        'dynamodb:UpdateItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:ConditionCheckItem',
      ])
        expect(actions, role).not.toContain(never);
      expect(actions.some((a) => a.includes('*'))).toBe(false);
      const puts = onAudit.filter((s) => asArray(s.Action).includes('dynamodb:PutItem'));
      expect(
        puts.map((s) => s.Condition),
        role,
      ).toEqual(
        expected.length > 0 ? [{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': expected } }] : [],
      );
    }
    const reactToChange = statementsOfRole(service, 'ReactToChangeRole');
    expect(reactToChange.filter((s) => JSON.stringify(s.Resource).includes('AuditTable'))).toEqual([]);
  });

  it.each([
    ['HandleApiRole', ['DescribeUser', 'GetUserId', 'ListGroupMembershipsForMember']],
    // With the demo config's Slack bot, Slack users are bound by email at decision time (GetUserId).
    ['ProcessCommandRole', ['DescribeUser', 'GetUserId', 'ListGroupMembershipsForMember']],
    ['NotifierRole', ['DescribeUser', 'GetUserId', 'ListGroupMembershipsForMember']],
    ['IngressRole', []],
    ['ReconcileRole', ['DescribeUser']],
    ['ProvisionAccessRole', []],
    ['ReactToChangeRole', []],
    ['SweepDriftRole', []],
  ])('lets %s read exactly %j from the configured Identity Store, never Resource "*"', (role, reads) => {
    const directory = statementsOfRole(service, role).filter((s) =>
      asArray(s.Action).some((a) => a.startsWith('identitystore:')),
    );
    expect(directory).toHaveLength(reads.length === 0 ? 0 : 1);
    if (reads.length === 0) return;
    const statement = directory[0] as Statement;
    expect(asArray(statement.Action).sort()).toEqual(reads.map((read) => `identitystore:${read}`).sort());
    const resources = JSON.stringify(statement.Resource);
    expect(statement.Resource).not.toEqual('*');
    expect(asArray(statement.Resource)).not.toContain('*');
    expect(resources).toContain(
      `:identitystore::${config.identityCenter.managementAccountId}:identitystore/${config.identityCenter.identityStoreId}`,
    );
  });

  it('uses Resource "*" only for the X-Ray write actions', () => {
    const policies = Object.values(service.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: Statement[] } };
    }[];
    const starred = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => asArray(s.Resource as unknown).includes('*'));
    expect(starred.length).toBeGreaterThan(0);
    for (const s of starred) {
      expect(asArray(s.Action).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });

  it('alarms when a refused action could not be audited', () => {
    for (const service_ of ['handle-api', 'process-command']) {
      service.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: REJECTION_AUDIT_FAILED_METRIC,
        Namespace: 'CloudPam',
        Dimensions: [{ Name: 'service', Value: service_ }],
        AlarmActions: Match.anyValue(),
      });
    }
  });
});

describe('hub service stack: REST API', () => {
  it('authorizes every method with AWS_IAM but the three Slack ones, which Slack signs instead', () => {
    const methods = Object.values(service.findResources('AWS::ApiGateway::Method')) as { Properties: Json }[];
    expect(methods.length).toBeGreaterThan(0);
    const slackResources = Object.entries(service.findResources('AWS::ApiGateway::Resource'))
      .filter(([, resource]) =>
        ['commands', 'interactions', 'events'].includes(
          String((resource as { Properties: Json }).Properties.PathPart),
        ),
      )
      .map(([id]) => id);
    expect(slackResources).toHaveLength(3);
    for (const method of methods) {
      const onSlack = slackResources.includes(String((method.Properties.ResourceId as { Ref?: string }).Ref));
      expect(method.Properties.AuthorizationType).toBe(onSlack ? 'NONE' : 'AWS_IAM');
      if (onSlack) expect(method.Properties.HttpMethod).toBe('POST');
    }
    service.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    service.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY',
      Integration: { Type: 'AWS_PROXY' },
    });
  });

  it('admits only PamRequester sessions of the organization, with explicit Denies for everyone else', () => {
    const arnPattern = 'arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_PamRequester_*';
    const orgId = config.identityCenter.organizationId;
    const invoke = { Action: 'execute-api:Invoke', Principal: '*', Resource: 'execute-api:/*/*/v1/*' };
    service.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            ...invoke,
            Effect: 'Allow',
            Condition: {
              StringEquals: { 'aws:PrincipalOrgID': orgId },
              ArnLike: { 'aws:PrincipalArn': arnPattern },
            },
          }),
          Match.objectLike({
            ...invoke,
            Effect: 'Deny',
            Condition: { StringNotEquals: { 'aws:PrincipalOrgID': orgId } },
          }),
          Match.objectLike({
            ...invoke,
            Effect: 'Deny',
            Condition: { ArnNotLike: { 'aws:PrincipalArn': arnPattern } },
          }),
        ]),
      },
    });
    const api = Object.values(service.findResources('AWS::ApiGateway::RestApi'))[0] as {
      Properties: { Policy: { Statement: Statement[] } };
    };
    const allows = api.Properties.Policy.Statement.filter((s) => s.Effect === 'Allow');
    // The second Allow is the Slack routes' (POST /slack/* only); nothing else is admitted.
    expect(allows).toHaveLength(2);
    expect(allows.filter((s) => s.Resource === 'execute-api:/*/*/v1/*')).toHaveLength(1);
    expect(allows.filter((s) => s.Resource === 'execute-api:/*/POST/slack/*')).toEqual([
      expect.objectContaining({ Principal: '*', Action: 'execute-api:Invoke' }),
    ]);
    expect(allows.find((s) => s.Resource === 'execute-api:/*/POST/slack/*')?.Condition).toBeUndefined();
  });

  it('traces, throttles and writes JSON access logs on the stage', () => {
    service.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('^\\{.*"requestId":"\\$context.requestId".*\\}$'),
      },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 25,
          ThrottlingBurstLimit: 50,
          DataTraceEnabled: false,
        }),
      ]),
    });
  });

  it.each(['revoke', 'deny', 'cancel'])(
    'gives POST /v1/requests/{id}/%s a method and a throttle of its own, out of reach of a flood elsewhere',
    (action) => {
      // API Gateway keeps a token bucket per method: a method of its own is capacity of its own.
      const pathPart = (part: string) =>
        Object.keys(service.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: part } }));
      const [actionResource] = pathPart(action);
      expect(actionResource).toBeDefined();
      service.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        AuthorizationType: 'AWS_IAM',
        ResourceId: { Ref: actionResource },
        Integration: { Type: 'AWS_PROXY' },
      });
      service.hasResourceProperties('AWS::ApiGateway::Stage', {
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: 'POST',
            ResourcePath: `/~1v1~1requests~1{id}~1${action}`,
            ThrottlingRateLimit: 50,
            ThrottlingBurstLimit: 100,
          }),
        ]),
      });
    },
  );

  it('outputs the API URL, both queue URLs and the dashboard name', () => {
    for (const name of ['ApiUrl', 'CommandsQueueUrl', 'ProvisioningQueueUrl', 'DashboardName']) {
      expect(Object.keys(service.findOutputs(name))).toEqual([name]);
    }
  });
});

describe('hub service stack: PamRequester permission set', () => {
  it('may only invoke this API’s /v1 routes', () => {
    const apiId = logicalIdOf(service, 'AWS::ApiGateway::RestApi', { Name: 'cloud-pam' });
    const sets = Object.values(
      service.findResources('AWS::SSO::PermissionSet', { Properties: { Name: 'PamRequester' } }),
    ) as { Properties: Json }[];
    expect(sets).toHaveLength(1);
    const set = sets[0]?.Properties as {
      Name: string;
      InstanceArn: string;
      InlinePolicy: { Statement: Statement[] };
    };
    expect(set.Name).toBe('PamRequester');
    expect(set.InstanceArn).toBe(config.identityCenter.instanceArn);
    expect(set.InlinePolicy.Statement).toHaveLength(1);
    const [statement] = set.InlinePolicy.Statement as [Statement];
    expect(statement).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
    const resource = JSON.stringify(statement.Resource);
    expect(resource).toContain(`{"Ref":"${apiId}"}`);
    expect(resource).toContain('/prod/*/v1/*');
  });

  it('is assigned in the hub account to every group that requests, approves, breaks glass or administers', () => {
    const groups = participatingGroups(config);
    expect(groups.length).toBeGreaterThan(0);
    service.resourceCountIs('AWS::SSO::Assignment', groups.length);
    for (const name of groups) {
      service.hasResourceProperties('AWS::SSO::Assignment', {
        PrincipalType: 'GROUP',
        PrincipalId: config.identityCenter.groupIds[name],
        TargetType: 'AWS_ACCOUNT',
        TargetId: config.identityCenter.hubAccountId,
        InstanceArn: config.identityCenter.instanceArn,
      });
    }
  });
});

describe('hub service stack: alarms', () => {
  it('encrypts the alarm topic and refuses non-TLS publishing', () => {
    service.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    service.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
          }),
        ]),
      },
    });
  });

  it('alarms to the topic on every dead-letter queue holding a message', () => {
    const topic = logicalIdOf(service, 'AWS::SNS::Topic', {});
    const deadLetterQueues = Object.keys(
      service.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.absent() } }),
    );
    expect(deadLetterQueues.length).toBeGreaterThan(0);
    for (const dlq of deadLetterQueues) {
      service.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        AlarmActions: [{ Ref: topic }],
      });
    }
  });

  it('alarms on errors of every function and on API 5xx', () => {
    const topic = logicalIdOf(service, 'AWS::SNS::Topic', {});
    for (const fn of Object.keys(service.findResources('AWS::Lambda::Function'))) {
      service.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
        AlarmActions: [{ Ref: topic }],
      });
    }
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Threshold: 0,
      AlarmActions: [{ Ref: topic }],
    });
  });
});
