// The service stack is built from capability constructs that connect late (a capability names its
// command senders and queue senders after the one it talks to exists). What is read at synth must
// then be complete: a wiring that forgot a sender fails the synth instead of deploying a queue
// nobody may use or a worker that refuses a sender's `expire` for ever.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, missingGroupIds } from '#config/load.ts';
import { FifoWorkQueue } from '../../infra/constructs/fifo-work-queue.ts';
import { PamAlarms } from '../../infra/constructs/pam-alarms.ts';
import { RequestApi } from '../../infra/constructs/request-api.ts';
import { HubDataStack } from '../../infra/stacks/hub-data-stack.ts';

const config = loadConfigFile('infra/config/example.yaml');
const env = { account: config.identityCenter.hubAccountId, region: 'eu-west-1' };

function testApp(): App {
  return new App({
    outdir: mkdtempSync(path.join(tmpdir(), 'cloud-pam-cdk-')),
    // Functions are not bundled: only the wiring is under test.
    context: { 'aws:cdk:bundling-stacks': [] },
  });
}

function requestApiAlone(app: App) {
  const data = new HubDataStack(app, 'Data', { env });
  const stack = new Stack(app, 'Service', { env });
  const requests = new RequestApi(stack, 'Requests', {
    config,
    encryptionKey: data.key,
    tables: { access: data.accessTable, audit: data.auditTable, idempotency: data.idempotencyTable },
    alarms: new PamAlarms(stack, 'Alarms', { encryptionKey: data.key }),
    missingGroupNames: missingGroupIds(config),
  });
  return { stack, requests };
}

describe('capability wiring checked at synth', () => {
  it('fails the synth for a work queue no role may send to, naming it', () => {
    const app = testApp();
    const stack = new Stack(app, 'Queues', { env });
    new FifoWorkQueue(stack, 'Orphan', {
      encryptionKey: new Key(stack, 'Key'),
      visibilityTimeout: Duration.minutes(1),
    });

    expect(() => app.synth()).toThrow(/Queues\/Orphan: no role may send to this queue/);
  });

  it('fails the synth when no role sends commands as a sender the worker knows (a lost expire)', () => {
    const app = testApp();
    requestApiAlone(app);

    const synth = () => app.synth();

    expect(synth).toThrow(/Requests: no role sends commands as "scheduler"/);
    expect(synth).toThrow(/no role sends commands as "reconcile"/);
  });

  it('synthesizes once every sender is named, with each role on the queue and in the worker', () => {
    const app = testApp();
    const { stack, requests } = requestApiAlone(app);
    const role = (id: string) =>
      new Role(stack, id, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    for (const sender of ['scheduler', 'provision-access', 'react-to-change', 'reconcile'] as const)
      requests.acceptCommands(sender, role(sender));

    const assembly = app.synth();

    const template = assembly.getStackByName('Service').template as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const worker = Object.values(template.Resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(r.Properties).includes('"POWERTOOLS_SERVICE_NAME":"process-command"'),
    );
    const senders = JSON.stringify(worker?.Properties.Environment);
    for (const sender of ['ingress', 'scheduler', 'provision-access', 'react-to-change', 'reconcile'])
      expect(senders).toContain(sender);
    const onlySenders = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::SQS::QueuePolicy')
      .flatMap(
        (r) =>
          (r.Properties.PolicyDocument as { Statement: { Sid?: string; Condition?: unknown }[] }).Statement,
      )
      .find((statement) => statement.Sid === 'OnlyCloudPamSenders');
    expect(onlySenders).toBeDefined();
    const condition = onlySenders?.Condition as { ArnNotEquals: { 'aws:PrincipalArn': unknown[] } };
    const arns = condition.ArnNotEquals['aws:PrincipalArn'];
    // The four queue senders; handle-api decides inline and sends nothing.
    expect(arns).toHaveLength(4);
  });
});
