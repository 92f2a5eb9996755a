// The hub's stateless resources, one construct per capability: the request core (RequestApi: the
// `/v1` API, handle-api, the commands queue and process-command, the PamRequester permission set)
// and the grant engine (GrantEngine: managed permission sets, provisioning, schedules, the stream
// consumer, reconciler and drift sweep). Each owns its functions, grants, triggers, alarms and
// outputs; this stack only connects them and holds what they share (the alarm topic, the
// dashboard). Data (key, tables) comes in typed from HubDataStack. The Slack bot (SlackBot) is the
// third, built when the config has a `slack` section; the vault and sessions arrive the same way.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { PamConfig } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { type CapabilityProps, stackOutput } from '../constructs/capability.ts';
import { GrantEngine } from '../constructs/grant-engine.ts';
import { PamAlarms } from '../constructs/pam-alarms.ts';
import { PamDashboard } from '../constructs/pam-dashboard.ts';
import type { PamTable } from '../constructs/pam-table.ts';
import { RequestApi } from '../constructs/request-api.ts';
import { SlackBot } from '../constructs/slack-bot.ts';

export interface HubServiceStackProps extends StackProps {
  readonly config: PamConfig;
  /** Group names the config references without an id (`missingGroupIds`); synth fails when any. */
  readonly missingGroupNames: readonly string[];
  readonly key: Key;
  readonly accessTable: PamTable;
  readonly auditTable: PamTable;
  readonly idempotencyTable: PamTable;
  /** `POWERTOOLS_LOG_LEVEL` of every function. */
  readonly logLevel?: string;
}

export class HubServiceStack extends Stack {
  readonly requests: RequestApi;
  readonly grants: GrantEngine;
  /** The Slack approval bot, when the config has a `slack` section. */
  readonly slack: SlackBot | undefined;
  readonly alarms: PamAlarms;
  readonly dashboard: PamDashboard;

  constructor(scope: Construct, id: string, props: HubServiceStackProps) {
    super(scope, id, props);
    this.alarms = new PamAlarms(this, 'Alarms', { encryptionKey: props.key });
    const shared: CapabilityProps = {
      config: props.config,
      encryptionKey: props.key,
      tables: { access: props.accessTable, audit: props.auditTable, idempotency: props.idempotencyTable },
      alarms: this.alarms,
      ...(props.logLevel ? { logLevel: props.logLevel } : {}),
    };

    // Slack first: its ingress is served by the request core's API, and is connected to the
    // commands queue once that exists.
    this.slack = props.config.slack ? new SlackBot(this, 'Slack', shared) : undefined;
    this.requests = new RequestApi(this, 'Requests', {
      ...shared,
      missingGroupNames: props.missingGroupNames,
      ...optional('slackIngress', this.slack?.ingress),
    });
    this.grants = new GrantEngine(this, 'Grants', { ...shared, commands: this.requests });
    // The request core's functions work through the engine: the worker carries out grants and
    // revocations; handle-api's revoke narrows access at once.
    this.grants.bindCommandWorker(this.requests.processCommand);
    this.grants.bindRevoker(this.requests.handleApi);
    this.slack?.connect({
      commands: this.requests,
      commandWorker: this.requests.processCommand,
      renderer: this.grants.reactToChange,
    });

    this.dashboard = new PamDashboard(this, 'Dashboard', {
      workQueues: { ...this.requests.queues.work, ...this.grants.queues.work, ...this.slack?.queues.work },
      deadLetterQueues: {
        ...this.requests.queues.deadLetters,
        ...this.grants.queues.deadLetters,
        ...this.slack?.queues.deadLetters,
      },
    });
    stackOutput(this, 'AlarmTopicArn', this.alarms.topic.topicArn);
    stackOutput(this, 'DashboardName', this.dashboard.dashboard.dashboardName);
  }
}
