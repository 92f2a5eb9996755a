import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_KEY_PREFIX } from '#adapters/aws/tables.ts';
import { GRANT_METRICS } from '#app/grants/deps.ts';
import { loadConfigFile } from '#config/load.ts';
import type { Entitlement, PamConfig } from '#domain/model.ts';
import { ENV } from '#runtime/env-names.ts';
import { foreignAssignmentPattern } from '../../infra/constructs/grant-engine.ts';
import {
  asArray,
  flatten,
  idWithinCapability,
  type Json,
  type Statement,
  statementsOfRole,
  synthHub,
} from './templates.ts';

/** Template assertions need only the wiring: functions are not bundled here. */
const synth = (config: PamConfig) => synthHub(config, { bundle: false });

type Resource = { Type: string; Properties: Json; DependsOn?: string[] };

/** Logical ids of the resources of `type` whose id (within its capability) starts with `prefix`. */
function idsOf(template: Template, type: string, prefix: string): string[] {
  return Object.keys(template.findResources(type)).filter((id) => idWithinCapability(id).startsWith(prefix));
}

function onlyIdOf(template: Template, type: string, prefix: string): string {
  const ids = idsOf(template, type, prefix);
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0] as string;
}

function rolesWithAction(template: Template, action: string): string[] {
  return (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[])
    .filter((policy) =>
      (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some((s) =>
        asArray(s.Action).includes(action),
      ),
    )
    .flatMap((policy) => (policy.Properties.Roles as { Ref: string }[]).map((role) => role.Ref))
    .sort();
}

function environmentOf(template: Template, service: string): Json {
  const fns = Object.values(
    template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } },
    }),
  ) as Resource[];
  expect(fns).toHaveLength(1);
  return ((fns[0] as Resource).Properties.Environment as { Variables: Json }).Variables;
}

const config = loadConfigFile('infra/config/example.yaml');
const awsRole = config.entitlements.filter((e) => e.kind === 'aws-role');
const setNames = [...new Set(awsRole.map((e) => e.target.permissionSet.name))].sort();
const targetAccounts = [...new Set(awsRole.flatMap((e) => e.target.accounts))].sort();

let service: Template;
let role: (prefix: string) => string;

beforeAll(() => {
  service = synth(config).template;
  role = (prefix) => onlyIdOf(service, 'AWS::IAM::Role', `${prefix}Role`);
});

describe('managed permission sets', () => {
  it('creates one permission set per distinct aws-role permission set name, and PamRequester', () => {
    const names = (Object.values(service.findResources('AWS::SSO::PermissionSet')) as Resource[])
      .map((set) => set.Properties.Name)
      .sort();
    expect(names).toEqual([...setNames, 'PamRequester'].sort());
  });

  it.each(setNames)('gives %s a one-hour session, the configured policies and the managed tag', (name) => {
    const spec = (awsRole.find((e) => e.target.permissionSet.name === name) as Entitlement).target
      .permissionSet;
    const [set] = Object.values(
      service.findResources('AWS::SSO::PermissionSet', { Properties: { Name: name } }),
    ) as Resource[];
    expect(set?.Properties).toMatchObject({
      InstanceArn: config.identityCenter.instanceArn,
      SessionDuration: 'PT1H',
      ManagedPolicies: spec.managedPolicies,
      Tags: [{ Key: 'cloud-pam:managed', Value: 'true' }],
    });
    expect(set?.Properties.InlinePolicy).toEqual(spec.inlinePolicy);
    expect(set?.Properties.CustomerManagedPolicyReferences).toBeUndefined();
  });

  it('hands the functions that need them the permission set ARNs as JSON {name: arn}', () => {
    const setIds = new Map(
      Object.entries(service.findResources('AWS::SSO::PermissionSet')).map(([id, set]) => [
        (set as Resource).Properties.Name as string,
        id,
      ]),
    );
    const expected = Object.fromEntries(
      setNames.map((name) => [name, `<${setIds.get(name)}.PermissionSetArn>`]),
    );
    for (const fn of [
      'handle-api',
      'process-command',
      'provision-access',
      'react-to-change',
      'reconcile',
      'sweep-drift',
    ]) {
      const value = flatten(environmentOf(service, fn).PERMISSION_SET_ARNS);
      expect(JSON.parse(String(value)), fn).toEqual(expected);
    }
  });
});

describe('Identity Center permissions', () => {
  const ssoStatements = (prefix: string) =>
    statementsOfRole(service, prefix).filter((s) => asArray(s.Action).some((a) => a.startsWith('sso:')));

  it('scopes provision-access assignments to the instance, the managed permission sets and the configured accounts', () => {
    const setArns = Object.keys(service.findResources('AWS::SSO::PermissionSet'))
      .filter((id) => idWithinCapability(id).startsWith('ManagedPermissionSets'))
      .map((id) => `<${id}.PermissionSetArn>`);
    const expected = [
      config.identityCenter.instanceArn,
      ...setArns,
      ...targetAccounts.map((account) => `arn:\${AWS::Partition}:sso:::account/${account}`),
    ].sort();
    const assign = ssoStatements('ProvisionAccessRole').filter((s) =>
      asArray(s.Action).includes('sso:CreateAccountAssignment'),
    );
    expect(assign).toHaveLength(1);
    expect(asArray(assign[0]?.Action).sort()).toEqual([
      'sso:CreateAccountAssignment',
      'sso:DeleteAccountAssignment',
    ]);
    expect((asArray(flatten(assign[0]?.Resource)) as string[]).sort()).toEqual(expected);
  });

  it('never grants an Identity Center action on "*", a wildcard, or the PamRequester permission set', () => {
    const requester = onlyIdOf(service, 'AWS::SSO::PermissionSet', 'RequesterAccessPermissionSet');
    const all = ['ProvisionAccess', 'ReactToChange', 'Reconcile', 'SweepDrift', 'ProcessCommand', 'HandleApi']
      .flatMap((fn) => ssoStatements(`${fn}Role`))
      .flatMap((s) => asArray(flatten(s.Resource)) as string[]);
    expect(all.length).toBeGreaterThan(0);
    for (const resource of all) {
      expect(resource).not.toContain('*');
      expect(resource).not.toContain(requester);
    }
  });

  it('lets only provision-access create or delete assignments and edit inline policies', () => {
    // sweep-drift queues removals to provision-access (the tuple's FIFO group), it never deletes.
    for (const action of [
      'sso:CreateAccountAssignment',
      'sso:DeleteAccountAssignment',
      'sso:PutInlinePolicyToPermissionSet',
      'sso:ProvisionPermissionSet',
    ]) {
      expect(rolesWithAction(service, action), action).toEqual([role('ProvisionAccess')]);
    }
  });

  it.each([
    [
      'ProvisionAccess',
      [
        'sso:CreateAccountAssignment',
        'sso:DeleteAccountAssignment',
        'sso:DeleteInlinePolicyFromPermissionSet',
        'sso:DescribeAccountAssignmentCreationStatus',
        'sso:DescribeAccountAssignmentDeletionStatus',
        'sso:DescribePermissionSetProvisioningStatus',
        'sso:GetInlinePolicyForPermissionSet',
        'sso:ListAccountAssignments',
        'sso:ListAccountsForProvisionedPermissionSet',
        'sso:ListPermissionSetProvisioningStatus',
        'sso:ProvisionPermissionSet',
        'sso:PutInlinePolicyToPermissionSet',
      ],
    ],
    // Deny restore reads the inline policies; stale provisioning is found per permission set.
    ['Reconcile', ['sso:GetInlinePolicyForPermissionSet', 'sso:ListAccountsForProvisionedPermissionSet']],
    // It lists assignments and nothing else: removals are queued to provision-access.
    ['SweepDrift', ['sso:ListAccountAssignments']],
    ['ProcessCommand', []],
    ['ReactToChange', []],
    ['HandleApi', []],
  ])('gives %s exactly the Identity Center actions its code calls', (fn, actions) => {
    const granted = [...new Set(ssoStatements(`${fn}Role`).flatMap((s) => asArray(s.Action)))].sort();
    expect(granted).toEqual([...actions].sort());
  });

  it.each([
    // With the demo config's Slack bot, handle-api also stores `pam slack link` codes (hashed).
    [
      'HandleApi',
      [['dynamodb:PutItem', [`${ACCESS_KEY_PREFIX.request}*`, `${ACCESS_KEY_PREFIX.slackCode}*`]]],
    ],
    ['ProcessCommand', [['dynamodb:PutItem', [`${ACCESS_KEY_PREFIX.request}*`]]]],
    [
      'ProvisionAccess',
      [
        [
          'dynamodb:PutItem',
          [`${ACCESS_KEY_PREFIX.tuple}*`, `${ACCESS_KEY_PREFIX.deny}*`, `${ACCESS_KEY_PREFIX.sighting}*`],
        ],
        ['dynamodb:DeleteItem', [`${ACCESS_KEY_PREFIX.sighting}*`]],
      ],
    ],
    [
      'SweepDrift',
      [
        ['dynamodb:PutItem', [`${ACCESS_KEY_PREFIX.tuple}*`, `${ACCESS_KEY_PREFIX.sighting}*`]],
        ['dynamodb:DeleteItem', [`${ACCESS_KEY_PREFIX.sighting}*`]],
      ],
    ],
    ['Reconcile', []],
    ['ReactToChange', []],
  ])('lets %s write only the access-table keys its code writes', (fn, expected) => {
    // Requests (REQ#) only where decisions are taken; leases, denies and sightings only in the
    // grant engine's writers; deletes only of drift first sightings; no UpdateItem, no batch.
    const writes = statementsOfRole(service, `${fn}Role`)
      .filter((s) => JSON.stringify(s.Resource).includes('AccessTable'))
      .filter((s) => asArray(s.Action).some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)));
    expect(
      writes.map((s) => [
        asArray(s.Action).join(','),
        (s.Condition?.['ForAllValues:StringLike'] as Json | undefined)?.['dynamodb:LeadingKeys'],
      ]),
    ).toEqual(expected);
  });

  it('touches no IAM role or SAML provider when the hub is not a target account', () => {
    const iamActions = (Object.values(service.findResources('AWS::IAM::Policy')) as Resource[])
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .flatMap((s) => asArray(s.Action))
      .filter((a) => a.startsWith('iam:'));
    expect([...new Set(iamActions)]).toEqual(['iam:PassRole']);
  });
});

describe('work queues', () => {
  const denyList = (queuePrefix: string) => {
    const queue = onlyIdOf(service, 'AWS::SQS::Queue', `${queuePrefix}Queue`);
    const policy = (Object.values(service.findResources('AWS::SQS::QueuePolicy')) as Resource[]).find(
      (p) => (p.Properties.Queues as { Ref: string }[])[0]?.Ref === queue,
    ) as Resource;
    const deny = (
      policy.Properties.PolicyDocument as { Statement: (Statement & { Principal: unknown })[] }
    ).Statement.filter((s) => s.Effect === 'Deny' && asArray(s.Action).includes('sqs:SendMessage'));
    expect(deny).toHaveLength(1);
    expect(deny[0]?.Principal).toEqual({ AWS: '*' });
    const condition = (deny[0] as Statement).Condition as { ArnNotEquals: Json };
    const arns = asArray(condition.ArnNotEquals['aws:PrincipalArn']) as {
      'Fn::GetAtt': string[];
    }[];
    return { queue, senders: arns.map((arn) => arn['Fn::GetAtt'][0]).sort() };
  };
  const sendersByIdentity = (queue: string) =>
    (Object.values(service.findResources('AWS::IAM::Policy')) as Resource[])
      .filter((p) =>
        (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some(
          (s) =>
            asArray(s.Action).includes('sqs:SendMessage') &&
            JSON.stringify(s.Resource).includes(`"${queue}"`),
        ),
      )
      .flatMap((p) => (p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref))
      .sort();

  it('lets exactly the reconciler, stream consumer, provisioning worker, schedules and the Slack ingress send commands', () => {
    // The demo config has a Slack bot: its ingress sends the decisions and requests made in Slack.
    const expected = ['ProvisionAccess', 'ReactToChange', 'Reconcile', 'Scheduler', 'Ingress']
      .map(role)
      .sort();
    const { queue, senders } = denyList('Commands');
    expect(senders).toEqual(expected);
    expect(sendersByIdentity(queue)).toEqual(expected);
  });

  it('tells the commands worker each sender role’s id (Fn::GetAtt RoleId), never a name or session', () => {
    const fn = service.findResources('AWS::Lambda::Function')[
      onlyIdOf(service, 'AWS::Lambda::Function', 'ProcessCommand')
    ] as Resource;
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const written = JSON.stringify(env.COMMAND_SENDERS);
    const roleIds: string[] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (value && typeof value === 'object') {
        const getAtt = (value as Record<string, unknown>)['Fn::GetAtt'];
        if (Array.isArray(getAtt) && getAtt[1] === 'RoleId') roleIds.push(String(getAtt[0]));
        else Object.values(value).forEach(collect);
      }
    };
    collect(env.COMMAND_SENDERS);
    expect(roleIds.sort()).toEqual(
      ['HandleApi', 'ProvisionAccess', 'ReactToChange', 'Reconcile', 'Scheduler', 'Ingress'].map(role).sort(),
    );
    for (const key of ['ingress', 'scheduler', 'provision-access', 'react-to-change', 'reconcile'])
      expect(written).toContain(key);
  });

  it('lets exactly those, the commands worker and the API (revoke narrows first) send provisioning work', () => {
    const expected = [
      'HandleApi',
      'ProcessCommand',
      'ProvisionAccess',
      'ReactToChange',
      'Reconcile',
      'SweepDrift',
      'Scheduler',
    ]
      .map(role)
      .sort();
    const { queue, senders } = denyList('Provisioning');
    expect(senders).toEqual(expected);
    expect(sendersByIdentity(queue)).toEqual(expected);
  });

  it('makes the provisioning queue FIFO with content-based deduplication, the CMK and a FIFO DLQ', () => {
    const dlq = onlyIdOf(service, 'AWS::SQS::Queue', 'ProvisioningDeadLetterQueue');
    service.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: true,
      KmsMasterKeyId: Match.anyValue(),
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] },
        maxReceiveCount: Match.anyValue(),
      },
    });
    const deadLetters = service.findResources('AWS::SQS::Queue')[dlq] as Resource;
    expect(deadLetters.Properties).toMatchObject({ FifoQueue: true, KmsMasterKeyId: expect.anything() });
  });

  it('keeps the ids SqsEventSource gave the queue mappings, created after the role may read the queue', () => {
    // A new logical id would make CloudFormation create a second mapping for the same queue and
    // function before deleting the old one, which Lambda refuses.
    for (const [fn, queue] of [
      ['ProcessCommand', 'RequestsCommands'],
      ['ProvisionAccess', 'GrantsProvisioning'],
    ]) {
      const id = onlyIdOf(
        service,
        'AWS::Lambda::EventSourceMapping',
        `${fn}SqsEventSourceCloudPamHubService${queue}Queue`,
      );
      const mapping = service.findResources('AWS::Lambda::EventSourceMapping')[id] as Resource;
      expect(mapping.DependsOn).toEqual([onlyIdOf(service, 'AWS::IAM::Policy', `${fn}Permissions`)]);
    }
  });

  it('feeds provision-access in batches of 10 with partial failures and at most 2 concurrent invocations', () => {
    service.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: onlyIdOf(service, 'AWS::Lambda::Function', 'ProvisionAccess') },
      EventSourceArn: { 'Fn::GetAtt': [onlyIdOf(service, 'AWS::SQS::Queue', 'ProvisioningQueue'), 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('gives schedules and senders the queue URLs and ARNs they address', () => {
    const commands = onlyIdOf(service, 'AWS::SQS::Queue', 'CommandsQueue');
    const provisioning = onlyIdOf(service, 'AWS::SQS::Queue', 'ProvisioningQueue');
    for (const fn of ['process-command', 'provision-access', 'react-to-change', 'reconcile', 'sweep-drift']) {
      expect(environmentOf(service, fn)).toMatchObject({
        [ENV.COMMANDS_QUEUE_URL]: { Ref: commands },
        [ENV.PROVISIONING_QUEUE_URL]: { Ref: provisioning },
        [ENV.COMMANDS_QUEUE_ARN]: { 'Fn::GetAtt': [commands, 'Arn'] },
        [ENV.PROVISIONING_QUEUE_ARN]: { 'Fn::GetAtt': [provisioning, 'Arn'] },
      });
    }
    expect(environmentOf(service, 'handle-api').PROVISIONING_QUEUE_URL).toEqual({ Ref: provisioning });
  });
});

describe('function environments', () => {
  const common = [
    'NODE_OPTIONS',
    'POWERTOOLS_SERVICE_NAME',
    'POWERTOOLS_METRICS_NAMESPACE',
    'POWERTOOLS_LOG_LEVEL',
    ENV.IDENTITY_STORE_ID,
    ENV.PAM_CONFIG_FILE,
  ];
  // What shared/runtime/grant-deps.ts reads at cold start.
  const grant = [
    ENV.IDENTITY_CENTER_INSTANCE_ARN,
    ENV.PERMISSION_SET_ARNS,
    ENV.COMMANDS_QUEUE_URL,
    ENV.PROVISIONING_QUEUE_URL,
    ENV.COMMANDS_QUEUE_ARN,
    ENV.PROVISIONING_QUEUE_ARN,
    ENV.SCHEDULER_GROUP_NAME,
    ENV.SCHEDULER_ROLE_ARN,
    ENV.SCHEDULES_DLQ_ARN,
  ];
  const tables = [ENV.ACCESS_TABLE_NAME, ENV.AUDIT_TABLE_NAME];
  const slackWeb = [ENV.SLACK_BOT_TOKEN_ARN, ENV.SLACK_API_URL, ENV.SLACK_RESPONSE_URL_PREFIX];
  it.each([
    // handle-api's per-caller rate counters live in the idempotency table.
    [
      'handle-api',
      [...tables, ENV.IDEMPOTENCY_TABLE_NAME, ENV.PERMISSION_SET_ARNS, ENV.PROVISIONING_QUEUE_URL],
    ],
    // With the demo config's Slack bot: the bot token and Slack's URLs (Slack users bound at
    // decision time, refusals answered in Slack).
    ['process-command', [...tables, ENV.IDEMPOTENCY_TABLE_NAME, ENV.COMMAND_SENDERS, ...grant, ...slackWeb]],
    ['provision-access', [...tables, ...grant]],
    // …and the Slack work queue, for a render of every request change.
    ['react-to-change', [...tables, ...grant, ENV.SLACK_QUEUE_URL]],
    ['reconcile', [...tables, ...grant]],
    // The drift mode travels in the bundled config, the one place the function reads it.
    ['sweep-drift', [...tables, ...grant]],
  ])('gives %s exactly its variables', (fn, variables) => {
    expect(Object.keys(environmentOf(service, fn)).sort()).toEqual([...common, ...variables].sort());
  });

  it('passes the literal values from the config', () => {
    for (const fn of ['process-command', 'provision-access', 'react-to-change', 'reconcile', 'sweep-drift']) {
      expect(environmentOf(service, fn).IDENTITY_CENTER_INSTANCE_ARN).toBe(config.identityCenter.instanceArn);
    }
    // The group's Ref (its name, `cloud-pam`), so CloudFormation creates the group first.
    const group = onlyIdOf(service, 'AWS::Scheduler::ScheduleGroup', 'Scheduler');
    expect(service.toJSON().Resources[group].Properties.Name).toBe('cloud-pam');
    expect(environmentOf(service, 'provision-access').SCHEDULER_GROUP_NAME).toEqual({ Ref: group });
  });
});

describe('access table stream', () => {
  it('feeds react-to-change from the trim horizon, split on error, retried 10 times, failures to a queue', () => {
    const [mapping] = Object.values(
      service.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: onlyIdOf(service, 'AWS::Lambda::Function', 'ReactToChange') } },
      }),
    ) as Resource[];
    expect(mapping?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::ImportValue': expect.stringContaining('AccessTable') },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [onlyIdOf(service, 'AWS::SQS::Queue', 'StreamFailuresQueue'), 'Arn'] },
        },
      },
    });
    expect(JSON.stringify(mapping?.Properties.EventSourceArn)).toContain('StreamArn');
    const filters = ((mapping as Resource).Properties.FilterCriteria as { Filters: { Pattern: string }[] })
      .Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([
      { dynamodb: { Keys: { pk: { S: [{ prefix: ACCESS_KEY_PREFIX.request }] } } } },
    ]);
    // Lambda checks the role can read the stream when the mapping is created.
    expect(mapping?.DependsOn).toContain(onlyIdOf(service, 'AWS::IAM::Policy', 'ReactToChangePermissions'));
  });

  it('lets react-to-change read the access table stream and no table item at all', () => {
    // The stream record is its whole input; it only sends work and manages schedules.
    const statements = statementsOfRole(service, 'ReactToChangeRole');
    const dynamo = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect(JSON.stringify(dynamo[0]?.Resource)).toContain('StreamArn');
    expect(asArray(dynamo[0]?.Action).sort()).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
    ]);
  });
});

describe('scheduler', () => {
  it('has the cloud-pam schedule group', () => {
    service.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'cloud-pam' });
  });

  it('lets only schedules of that group in this account assume the schedule role', () => {
    const schedulerRole = service.findResources('AWS::IAM::Role')[role('Scheduler')] as Resource;
    const [trust] = (
      schedulerRole.Properties.AssumeRolePolicyDocument as { Statement: (Statement & { Principal: Json })[] }
    ).Statement;
    expect(trust?.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(flatten(trust?.Condition)).toEqual({
      StringEquals: { 'aws:SourceAccount': config.identityCenter.hubAccountId },
      ArnLike: {
        'aws:SourceArn': `arn:\${AWS::Partition}:scheduler:eu-west-1:${config.identityCenter.hubAccountId}:schedule/cloud-pam/*`,
      },
    });
  });

  it('lets the schedule role only send to the two work queues and the schedules DLQ, through SQS', () => {
    const statements = statementsOfRole(service, 'SchedulerRole');
    const sends = statements.filter((s) => asArray(s.Action).includes('sqs:SendMessage'));
    expect(sends.map((s) => (s.Resource as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]).sort()).toEqual(
      [
        onlyIdOf(service, 'AWS::SQS::Queue', 'CommandsQueue'),
        onlyIdOf(service, 'AWS::SQS::Queue', 'ProvisioningQueue'),
        onlyIdOf(service, 'AWS::SQS::Queue', 'SchedulerDeadLettersQueue'),
      ].sort(),
    );
    for (const s of statements.filter((x) => asArray(x.Action).some((a) => a.startsWith('kms:')))) {
      expect(s.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com' } });
    }
    expect(
      statements.flatMap((s) => asArray(s.Action)).every((a) => a.startsWith('sqs:') || a.startsWith('kms:')),
    ).toBe(true);
  });

  it('lets only the four schedulers manage the group’s schedules and pass only the schedule role to Scheduler', () => {
    // process-command: scheduled starts; provision-access: deny-list removal; react-to-change: expiry;
    // sweep-drift: the re-check when a sighting's grace period ends.
    const schedulers = ['ProcessCommand', 'ProvisionAccess', 'ReactToChange', 'SweepDrift'];
    expect(rolesWithAction(service, 'scheduler:CreateSchedule')).toEqual(schedulers.map(role).sort());
    expect(rolesWithAction(service, 'iam:PassRole')).toEqual(schedulers.map(role).sort());
    // Only react-to-change removes schedules (a new grant version's, an ended grant's); nothing
    // reads one back (creating one that exists is a conflict the adapter treats as done).
    const removes = new Set(['ReactToChange']);
    for (const fn of schedulers) {
      const statements = statementsOfRole(service, `${fn}Role`);
      const schedules = statements.find((s) =>
        asArray(s.Action).includes('scheduler:CreateSchedule'),
      ) as Statement;
      expect(asArray(schedules.Action).sort(), fn).toEqual(
        removes.has(fn)
          ? ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']
          : ['scheduler:CreateSchedule'],
      );
      expect(flatten(schedules.Resource)).toBe(
        `arn:\${AWS::Partition}:scheduler:eu-west-1:${config.identityCenter.hubAccountId}:schedule/cloud-pam/*`,
      );
      const pass = statements.find((s) => asArray(s.Action).includes('iam:PassRole')) as Statement;
      expect(pass.Resource).toEqual({ 'Fn::GetAtt': [role('Scheduler'), 'Arn'] });
      expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    }
  });

  it.each([
    ['SchedulerDeadLettersQueue', 'Scheduler'],
    ['StreamFailuresQueue', 'ReactToChange'],
  ])('keeps %s standard, encrypted, 14 days, and writable only by %s', (queuePrefix, sender) => {
    const queue = onlyIdOf(service, 'AWS::SQS::Queue', queuePrefix);
    const props = (service.findResources('AWS::SQS::Queue')[queue] as Resource).Properties;
    expect(props.FifoQueue).toBeUndefined();
    expect(props.KmsMasterKeyId).toBeDefined();
    expect(props.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    service.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'sqs:SendMessage',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [role(sender), 'Arn'] } } },
          }),
        ]),
      },
    });
  });
});

describe('reconciler and drift triggers', () => {
  const rulesTargeting = (fnPrefix: string) => {
    const fn = onlyIdOf(service, 'AWS::Lambda::Function', fnPrefix);
    return (Object.values(service.findResources('AWS::Events::Rule')) as Resource[]).filter((rule) =>
      JSON.stringify(rule.Properties.Targets).includes(`"${fn}"`),
    );
  };

  it('runs the reconciler every 5 minutes', () => {
    expect(rulesTargeting('Reconcile').map((r) => r.Properties.ScheduleExpression)).toEqual([
      'rate(5 minutes)',
    ]);
  });

  it('sweeps drift daily and on a CreateAccountAssignment by anyone but provision-access', () => {
    const rules = rulesTargeting('SweepDrift');
    expect(rules.map((r) => r.Properties.ScheduleExpression).filter(Boolean)).toEqual(['rate(1 day)']);
    const patterns = rules.map((r) => r.Properties.EventPattern).filter(Boolean) as Json[];
    expect(patterns).toHaveLength(1);
    expect(patterns[0]).toEqual({
      source: ['aws.sso'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['sso.amazonaws.com'],
        eventName: ['CreateAccountAssignment'],
        $or: [
          {
            userIdentity: {
              sessionContext: {
                sessionIssuer: {
                  arn: [{ 'anything-but': [{ 'Fn::GetAtt': [role('ProvisionAccess'), 'Arn'] }] }],
                },
              },
            },
          },
          { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } } },
        ],
      },
    });
  });

  it('lets EventBridge invoke each triggered function only from its own rules', () => {
    for (const fnPrefix of ['Reconcile', 'SweepDrift']) {
      const fn = onlyIdOf(service, 'AWS::Lambda::Function', fnPrefix);
      const permissions = Object.values(
        service.findResources('AWS::Lambda::Permission', {
          Properties: { FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] }, Principal: 'events.amazonaws.com' },
        }),
      ) as Resource[];
      expect(permissions.length).toBe(rulesTargeting(fnPrefix).length);
      for (const p of permissions)
        expect(p.Properties.SourceArn).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    }
  });
});

describe('alarms and dashboard', () => {
  it.each([['ProvisioningDeadLetterQueue'], ['SchedulerDeadLettersQueue'], ['StreamFailuresQueue']])(
    'alarms on the first message in %s',
    (queuePrefix) => {
      service.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [onlyIdOf(service, 'AWS::SQS::Queue', queuePrefix), 'QueueName'] },
          },
        ],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: onlyIdOf(service, 'AWS::SNS::Topic', 'AlarmsTopic') }],
      });
    },
  );

  it.each([
    [GRANT_METRICS.revocationFailed, 'provision-access'],
    [GRANT_METRICS.revocationFailed, 'process-command'],
    [GRANT_METRICS.driftDetected, 'sweep-drift'],
    [GRANT_METRICS.denyFallback, 'provision-access'],
  ])('alarms on any %s from %s', (metric, emitter) => {
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CloudPam',
      MetricName: metric,
      Dimensions: [{ Name: 'service', Value: emitter }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: onlyIdOf(service, 'AWS::SNS::Topic', 'AlarmsTopic') }],
    });
  });

  it('alarms when a permission set’s role policy reaches 80 % of its 10,240-character budget', () => {
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CloudPam',
      MetricName: GRANT_METRICS.inlinePolicyBudgetUsed,
      Dimensions: [{ Name: 'service', Value: 'provision-access' }],
      Statistic: 'Maximum',
      Threshold: 80,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: onlyIdOf(service, 'AWS::SNS::Topic', 'AlarmsTopic') }],
    });
  });

  it('has a dashboard with grants, revocation failures, drift, provisioning latency, queues and DLQs', () => {
    const dashboards = Object.values(service.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
    expect(dashboards).toHaveLength(1);
    const body = String(flatten(dashboards[0]?.Properties.DashboardBody));
    // Every emitting function's series, whichever function emits (SEARCH over the service dimension).
    const search = (metric: string, stat: string) =>
      `SEARCH('{CloudPam,service} MetricName=\\"${metric}\\"', '${stat}', 300)`;
    for (const [metric, stat] of [
      [GRANT_METRICS.grantActivated, 'Sum'],
      [GRANT_METRICS.grantExpired, 'Sum'],
      [GRANT_METRICS.grantRevoked, 'Sum'],
      [GRANT_METRICS.revocationFailed, 'Sum'],
      [GRANT_METRICS.driftDetected, 'Sum'],
      [GRANT_METRICS.provisioningLatency, 'p99'],
    ] as const) {
      expect(body).toContain(search(metric, stat));
    }
    expect(body).toContain('ApproximateAgeOfOldestMessage');
    for (const queue of [
      'CommandsDeadLetterQueue',
      'ProvisioningDeadLetterQueue',
      'SchedulerDeadLettersQueue',
      'StreamFailuresQueue',
      'CommandsQueue',
      'ProvisioningQueue',
    ]) {
      expect(body).toContain(`<${onlyIdOf(service, 'AWS::SQS::Queue', queue)}.QueueName>`);
    }
  });
});

describe('permission sets from other configs', () => {
  const withEntitlements = (
    edit: (entitlements: Entitlement[]) => Entitlement[],
    identity: Partial<PamConfig['identityCenter']> = {},
  ): PamConfig => ({
    ...config,
    identityCenter: { ...config.identityCenter, ...identity },
    entitlements: edit(config.entitlements.map((e) => ({ ...e }))),
  });
  const retarget = (
    e: Entitlement,
    accounts: readonly string[],
    permissionSet = e.target.permissionSet,
  ): Entitlement => ({
    ...e,
    target: { accounts, permissionSet },
  });

  it('attaches customer managed policies by name and path', () => {
    const [first, ...rest] = config.entitlements as [Entitlement, ...Entitlement[]];
    const edited = withEntitlements(() => [
      retarget(first, first.target.accounts, {
        ...first.target.permissionSet,
        customerManagedPolicies: [{ name: 'AppDeployer', path: '/pam/' }],
      }),
      ...rest,
    ]);
    synth(edited).template.hasResourceProperties('AWS::SSO::PermissionSet', {
      Name: first.target.permissionSet.name,
      CustomerManagedPolicyReferences: [{ Name: 'AppDeployer', Path: '/pam/' }],
    });
  });

  it('merges the accounts of entitlements that share one permission set', () => {
    const [first, ...rest] = config.entitlements as [Entitlement, ...Entitlement[]];
    const twin = { ...retarget(first, ['555555555555']), id: `${first.id}-twin` };
    const { template } = synth(withEntitlements(() => [first, twin, ...rest]));
    const sets = template.findResources('AWS::SSO::PermissionSet', {
      Properties: { Name: first.target.permissionSet.name },
    });
    expect(Object.keys(sets)).toHaveLength(1);
    const resources = statementsOfRole(template, 'ProvisionAccessRole')
      .filter((s) => asArray(s.Action).includes('sso:CreateAccountAssignment'))
      .flatMap((s) => asArray(flatten(s.Resource)));
    expect(resources).toContain(`arn:\${AWS::Partition}:sso:::account/555555555555`);
  });

  it('refuses two entitlements that define one permission set name differently', () => {
    const [first, ...rest] = config.entitlements as [Entitlement, ...Entitlement[]];
    const twin = {
      ...retarget(first, first.target.accounts, {
        ...first.target.permissionSet,
        managedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'],
      }),
      id: `${first.id}-twin`,
    };
    expect(() => synth(withEntitlements(() => [first, twin, ...rest]))).toThrow(
      `entitlements ${first.id} and ${first.id}-twin define permission set ${first.target.permissionSet.name} differently`,
    );
  });

  it('refuses a managed permission set named PamRequester', () => {
    const [first, ...rest] = config.entitlements as [Entitlement, ...Entitlement[]];
    const clash = retarget(first, first.target.accounts, {
      ...first.target.permissionSet,
      name: 'PamRequester',
    });
    expect(() => synth(withEntitlements(() => [clash, ...rest]))).toThrow(
      'permission set name PamRequester is reserved',
    );
  });

  it('refuses a target in the management account when the hub is a delegated administrator', () => {
    const [first, ...rest] = config.entitlements as [Entitlement, ...Entitlement[]];
    const management = config.identityCenter.managementAccountId;
    expect(() => synth(withEntitlements(() => [retarget(first, [management]), ...rest]))).toThrow(
      `targets the management account ${management}, where the delegated administrator`,
    );
  });

  it('lets provision-access manage the management account’s reserved roles only when the hub is the management account and targets it', () => {
    const [first, ...rest] = config.entitlements as [Entitlement, ...Entitlement[]];
    const hub = config.identityCenter.managementAccountId;
    const { template } = synth(
      withEntitlements(() => [retarget(first, [hub]), ...rest], { hubAccountId: hub }),
    );
    for (const fn of ['ProvisionAccessRole']) {
      const iam = statementsOfRole(template, fn).filter((s) =>
        asArray(s.Action).some((a) => a.startsWith('iam:') && a !== 'iam:PassRole'),
      );
      expect(iam.map((s) => flatten(s.Resource)).sort()).toEqual(
        [
          `arn:\${AWS::Partition}:iam::${hub}:role/aws-reserved/sso.amazonaws.com/*`,
          `arn:\${AWS::Partition}:iam::${hub}:saml-provider/AWSSSO_*_DO_NOT_DELETE`,
        ].sort(),
      );
      expect(iam.flatMap((s) => asArray(s.Action))).toEqual(
        expect.arrayContaining(['iam:CreateRole', 'iam:DeleteRole', 'iam:GetSAMLProvider']),
      );
    }
    for (const fn of ['ReconcileRole', 'SweepDriftRole']) {
      // iam:PassRole of the schedule role only (sweep-drift's re-check schedules) is checked above.
      const iam = statementsOfRole(template, fn)
        .flatMap((s) => asArray(s.Action))
        .filter((a) => a.startsWith('iam:') && a !== 'iam:PassRole');
      expect(iam, fn).toEqual([]);
    }
  });
});

describe('foreignAssignmentPattern', () => {
  it('excludes exactly the given roles and keeps callers without a role session', () => {
    const pattern = foreignAssignmentPattern([
      'arn:aws:iam::111111111111:role/a',
      'arn:aws:iam::111111111111:role/b',
    ]);
    expect(pattern.detail.$or[0]).toEqual({
      userIdentity: {
        sessionContext: {
          sessionIssuer: {
            arn: [
              { 'anything-but': ['arn:aws:iam::111111111111:role/a', 'arn:aws:iam::111111111111:role/b'] },
            ],
          },
        },
      },
    });
    expect(pattern.detail.$or[1]).toEqual({
      userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } },
    });
  });
});
