// The Slack bot's stack wiring: who reads the Slack app's credentials, who may put work on the Slack
// queue and who the worker believes, what the /slack routes admit, and that a config without a
// `slack` section deploys none of it.
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '#config/load.ts';
import { ENV } from '#runtime/env-names.ts';
import { asArray, type Json, type Statement, statementsOfRole, synthHub } from './templates.ts';

const config = loadConfigFile('infra/config/example.yaml');
const { template: service } = synthHub(config, { bundle: false });
const { slack: _slack, ...withoutSlack } = config;
const { template: plain } = synthHub(withoutSlack, { bundle: false });

type Resource = { Properties: Json };

function resourcesOf(template: typeof service, type: string): [string, Resource][] {
  return Object.entries(template.findResources(type)) as [string, Resource][];
}

function idOf(template: typeof service, type: string, prefix: string): string {
  const ids = resourcesOf(template, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}`).toHaveLength(1);
  return ids[0] as string;
}

function environmentOf(name: string): Json {
  const fn = resourcesOf(service, 'AWS::Lambda::Function').find(
    ([, r]) => (r.Properties.Environment as { Variables: Json }).Variables.POWERTOOLS_SERVICE_NAME === name,
  );
  if (!fn) throw new Error(`no function ${name}`);
  return (fn[1].Properties.Environment as { Variables: Json }).Variables;
}

/** The roles (by logical id) whose policies allow `action` on a resource mentioning `resourceId`. */
function rolesAllowing(action: string, resourceId: string): string[] {
  return resourcesOf(service, 'AWS::IAM::Policy')
    .filter(([, policy]) =>
      ((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement ?? []).some(
        (s) =>
          s.Effect === 'Allow' &&
          asArray(s.Action).includes(action) &&
          JSON.stringify(s.Resource).includes(`"${resourceId}"`),
      ),
    )
    .flatMap(([, policy]) => (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref))
    .sort();
}

describe('the Slack app credentials', () => {
  const signing = idOf(service, 'AWS::SecretsManager::Secret', 'SlackSigningSecret');
  const token = idOf(service, 'AWS::SecretsManager::Secret', 'SlackBotToken');

  it('keeps both in Secrets Manager under the hub key, with outputs naming where to store them', () => {
    for (const id of [signing, token]) {
      const secret = service.findResources('AWS::SecretsManager::Secret')[id] as Resource;
      expect(secret.Properties.KmsKeyId).toBeDefined();
    }
    const outputs = Object.keys(service.toJSON().Outputs ?? {});
    expect(outputs).toEqual(expect.arrayContaining(['SlackSigningSecretArn', 'SlackBotTokenArn']));
  });

  it('lets only the ingress read the signing secret, and only the three Slack talkers read the bot token', () => {
    expect(rolesAllowing('secretsmanager:GetSecretValue', signing)).toEqual([
      idOf(service, 'AWS::IAM::Role', 'SlackIngressRole'),
    ]);
    expect(rolesAllowing('secretsmanager:GetSecretValue', token)).toEqual(
      [
        idOf(service, 'AWS::IAM::Role', 'SlackIngressRole'),
        idOf(service, 'AWS::IAM::Role', 'SlackNotifierRole'),
        idOf(service, 'AWS::IAM::Role', 'RequestsProcessCommandRole'),
      ].sort(),
    );
    // Nothing reads secrets by pattern.
    for (const [, policy] of resourcesOf(service, 'AWS::IAM::Policy')) {
      for (const s of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
        if (asArray(s.Action).some((a) => a.startsWith('secretsmanager:')))
          expect(JSON.stringify(s.Resource)).not.toContain('*');
      }
    }
  });

  it('decrypts them only through Secrets Manager', () => {
    const decrypts = statementsOfRole(service, 'IngressRole').filter(
      (s) =>
        asArray(s.Action).includes('kms:Decrypt') && JSON.stringify(s.Condition).includes('secretsmanager'),
    );
    expect(decrypts).toHaveLength(1);
    expect(decrypts[0]?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' },
    });
  });
});

describe('the Slack work queue', () => {
  const queue = idOf(service, 'AWS::SQS::Queue', 'SlackWorkQueue');

  it('takes work only from the ingress and react-to-change, and tells notify-slack their role ids', () => {
    expect(rolesAllowing('sqs:SendMessage', queue)).toEqual(
      [
        idOf(service, 'AWS::IAM::Role', 'SlackIngressRole'),
        idOf(service, 'AWS::IAM::Role', 'GrantsReactToChangeRole'),
      ].sort(),
    );
    const senders = JSON.stringify(environmentOf('notify-slack')[ENV.SLACK_JOB_SENDERS]);
    expect(senders).toContain(`"${idOf(service, 'AWS::IAM::Role', 'SlackIngressRole')}","RoleId"`);
    expect(senders).toContain(`"${idOf(service, 'AWS::IAM::Role', 'GrantsReactToChangeRole')}","RoleId"`);
  });

  it('feeds notify-slack with partial batch failures and dead-letters after 8 receives', () => {
    const mapping = resourcesOf(service, 'AWS::Lambda::EventSourceMapping').find(([, m]) =>
      JSON.stringify(m.Properties.EventSourceArn).includes(queue),
    );
    expect(mapping?.[1].Properties).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FunctionName: { Ref: idOf(service, 'AWS::Lambda::Function', 'SlackNotifier') },
    });
    const properties = (service.findResources('AWS::SQS::Queue')[queue] as Resource).Properties;
    expect(properties).toMatchObject({ FifoQueue: true, RedrivePolicy: { maxReceiveCount: 8 } });
  });
});

describe('the ingress', () => {
  it('reads no table and no directory: it acknowledges with the signature, the config and two queues', () => {
    const statements = statementsOfRole(service, 'IngressRole');
    expect(
      statements.filter((s) => asArray(s.Action).some((a) => /^(dynamodb|identitystore|sso):/.test(a))),
    ).toEqual([]);
    expect(Object.keys(environmentOf('slack-ingress')).filter((k) => k.endsWith('_TABLE_NAME'))).toEqual([]);
  });
});

describe('a config without a slack section', () => {
  it('deploys no Slack route, function, queue or secret, and the API admits only /v1 callers', () => {
    expect(resourcesOf(plain, 'AWS::SecretsManager::Secret')).toEqual([]);
    const names = resourcesOf(plain, 'AWS::Lambda::Function').map(
      ([, r]) => (r.Properties.Environment as { Variables: Json }).Variables.POWERTOOLS_SERVICE_NAME,
    );
    expect(names).not.toContain('slack-ingress');
    expect(names).not.toContain('notify-slack');
    const paths = resourcesOf(plain, 'AWS::ApiGateway::Resource').map(([, r]) => r.Properties.PathPart);
    expect(paths).not.toContain('slack');
    const [[, api] = ['', { Properties: {} }]] = resourcesOf(plain, 'AWS::ApiGateway::RestApi');
    const allows = (api.Properties.Policy as { Statement: Statement[] }).Statement.filter(
      (s) => s.Effect === 'Allow',
    );
    expect(allows.map((s) => s.Resource)).toEqual(['execute-api:/*/*/v1/*']);
    const commandWorker = resourcesOf(plain, 'AWS::Lambda::Function').find(
      ([, r]) =>
        (r.Properties.Environment as { Variables: Json }).Variables.POWERTOOLS_SERVICE_NAME ===
        'process-command',
    );
    if (!commandWorker) throw new Error('no process-command');
    expect(
      Object.keys((commandWorker[1].Properties.Environment as { Variables: Json }).Variables),
    ).not.toContain(ENV.SLACK_BOT_TOKEN_ARN);
  });
});
