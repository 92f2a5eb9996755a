// The Slack approval bot: the signed-request ingress behind `/slack/*` (slack-ingress), the Slack work
// queue and its worker notify-slack (approval messages, DMs, the request modal, lists, links, App
// Home), and the Slack app's two credentials in Secrets Manager. Decisions made in Slack go to the
// request core's commands queue as an `ingress` sender; the commands worker binds each Slack user to
// an Identity Store user at decision time. Built only when the config has a `slack` section.
import { Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SLACK_JOB_SENDERS, SLACK_WORK_MAX_RECEIVES, type SlackJobSender } from '#app/slack/jobs.ts';
import { ENV } from '#runtime/env-names.ts';
import { SLACK_DELIVERY_FAILED_METRIC, SLACK_SIGNATURE_REFUSED_METRIC } from '#runtime/metric-names.ts';
import { type CapabilityProps, functionDefaults, KEYS, stackOutput, visibilityFor } from './capability.ts';
import { FifoWorkQueue } from './fifo-work-queue.ts';
import { PamFunction } from './pam-function.ts';
import type { CommandIntake } from './request-api.ts';

/** Slack's Web API, and where its `response_url`s point (docs.slack.dev: "Handling user interaction"). */
export const SLACK_API_URL = 'https://slack.com/api/';
export const SLACK_RESPONSE_URL_PREFIX = 'https://hooks.slack.com/';

/** Slack waits 3 s for an acknowledgement; the ingress never needs more than that plus margin. */
const INGRESS_TIMEOUT = Duration.seconds(10);
/** A batch of 10 jobs, each a few Web API calls with Retry-After waits bounded in the adapter. */
const NOTIFY_TIMEOUT = Duration.seconds(120);

/** The Slack items notify-slack writes: approval messages, links, link codes (consumed). */
const SLACK_KEYS = [KEYS.slackMessages, KEYS.slackLinks, KEYS.slackCodes];

export interface SlackBotProps extends CapabilityProps {
  /** The Web API base URL (default Slack's). */
  readonly apiUrl?: string;
  readonly responseUrlPrefix?: string;
}

export class SlackBot extends Construct {
  readonly ingress: PamFunction;
  readonly notifier: PamFunction;
  readonly work: FifoWorkQueue;
  readonly signingSecret: Secret;
  readonly botToken: Secret;
  private readonly props: SlackBotProps;
  private readonly jobSenders: Record<SlackJobSender, PamFunction[]> = Object.fromEntries(
    SLACK_JOB_SENDERS.map((sender) => [sender, []]),
  ) as unknown as Record<SlackJobSender, PamFunction[]>;

  constructor(scope: Construct, id: string, props: SlackBotProps) {
    super(scope, id);
    this.props = props;
    const { tables, alarms, config } = props;
    const defaults = functionDefaults(props);

    // Issued by Slack: deployment generates a placeholder, the operator stores the real value
    // (docs/slack.md). Until then every signature fails (401) and every Web API call is refused.
    const secret = (name: string, description: string) => {
      const created = new Secret(this, name, {
        description,
        encryptionKey: props.encryptionKey,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
      Validations.of(created).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Slack issues this credential: it is rotated in the Slack app settings (regenerate the signing secret / reinstall for a new bot token) and then stored here, as docs/slack.md describes; a Secrets Manager rotation Lambda cannot ask Slack for a new one.',
      });
      return created;
    };
    this.signingSecret = secret('SigningSecret', 'cloud-pam Slack app signing secret (docs/slack.md)');
    this.botToken = secret('BotToken', 'cloud-pam Slack bot token, xoxb-… (docs/slack.md)');

    this.ingress = new PamFunction(this, 'Ingress', {
      ...defaults,
      functionName: 'slack-ingress',
      description: 'cloud-pam Slack ingress (signed slash commands, clicks, modal submissions, events)',
      timeout: INGRESS_TIMEOUT,
      // Slack waits 3 s and the cold start is the ack's budget (bench/slack-ingress).
      sourceMaps: false,
    });
    this.readSecret(this.ingress, this.signingSecret, ENV.SLACK_SIGNING_SECRET_ARN);
    // views.open for the loading modal and the deny-reason modal (within the trigger's 3 s).
    this.readSecret(this.ingress, this.botToken, ENV.SLACK_BOT_TOKEN_ARN);
    this.ingress.addEnvironment(ENV.SLACK_API_URL, props.apiUrl ?? SLACK_API_URL);

    this.notifier = new PamFunction(this, 'Notifier', {
      ...defaults,
      functionName: 'notify-slack',
      description: 'cloud-pam Slack worker (approval messages, DMs, request modal, lists, links, home)',
      timeout: NOTIFY_TIMEOUT,
    })
      // Requests by id and the lists (indexes); its own Slack items, each written conditionally.
      .bindTable({
        table: tables.access,
        access: {
          read: ['GetItem', 'Query'],
          write: [{ actions: ['PutItem', 'UpdateItem', 'DeleteItem'], leadingKeys: SLACK_KEYS }],
        },
      })
      // A link made is audited on the system chain.
      .bindTable({
        table: tables.audit,
        access: {
          read: ['GetItem', 'Query'],
          write: [{ actions: ['PutItem'], leadingKeys: [KEYS.systemChain] }],
        },
      })
      // Each job done at most once per Slack occurrence (Powertools Idempotency).
      .bindTable({
        table: tables.idempotency,
        access: {
          read: ['GetItem'],
          write: [{ actions: ['PutItem', 'UpdateItem', 'DeleteItem'], leadingKeys: 'any' }],
        },
      })
      // Slack users by email to Identity Store users; what they may request (groups).
      .allowDirectoryRead(config.identityCenter, [
        'DescribeUser',
        'GetUserId',
        'ListGroupMembershipsForMember',
      ]);
    this.configureWebApi(this.notifier);

    this.work = new FifoWorkQueue(this, 'Work', {
      encryptionKey: props.encryptionKey,
      visibilityTimeout: visibilityFor(NOTIFY_TIMEOUT),
      maxReceiveCount: SLACK_WORK_MAX_RECEIVES,
    });
    this.work.consumeWith(this.notifier, { batchSize: 10 });
    this.notifier.addEnvironment(ENV.SLACK_QUEUE_URL, this.work.queue.queueUrl);
    this.allowJobs('ingress', this.ingress);
    this.notifier.addEnvironment(
      ENV.SLACK_JOB_SENDERS,
      Lazy.string({
        produce: () =>
          Stack.of(this).toJsonString(
            Object.fromEntries(
              SLACK_JOB_SENDERS.map((sender) => [
                sender,
                this.jobSenders[sender].map((fn) => fn.serviceRole.roleId),
              ]),
            ),
          ),
      }),
    );

    // Where the operator stores the Slack app's credentials (docs/slack.md "Set it up").
    stackOutput(this, 'SlackSigningSecretArn', this.signingSecret.secretArn);
    stackOutput(this, 'SlackBotTokenArn', this.botToken.secretArn);

    alarms.watchDeadLetterQueue('SlackWorkDeadLetters', this.work.deadLetterQueue);
    alarms.watchFunction('SlackIngressErrors', this.ingress);
    alarms.watchFunction('NotifySlackErrors', this.notifier);
    alarms.watchMetric(
      SLACK_DELIVERY_FAILED_METRIC,
      SLACK_DELIVERY_FAILED_METRIC,
      'notify-slack',
      'A Slack message, DM or reply could not be delivered (Slack down, a revoked token, a refused payload). Access decisions are committed regardless; the message catches up on the next change or redrive.',
    );
    alarms.watchMetric(
      `${SLACK_SIGNATURE_REFUSED_METRIC}Alarm`,
      SLACK_SIGNATURE_REFUSED_METRIC,
      'slack-ingress',
      'Requests to /slack/* failed signature or timestamp verification: a wrong signing secret after a rotation, or someone forging Slack requests.',
    );
  }

  /**
   * Connects the bot to the request core and the engine: the ingress sends decisions and Slack-made
   * requests as an `ingress` (the commands worker binds the Slack user at decision time, reading the
   * bot token for users.info and answering refusals); react-to-change asks for a render on every
   * request change.
   */
  connect(parts: {
    readonly commands: CommandIntake;
    readonly commandWorker: PamFunction;
    readonly renderer: PamFunction;
  }): void {
    parts.commands.acceptCommands('ingress', this.ingress.serviceRole);
    this.ingress.addEnvironment(ENV.COMMANDS_QUEUE_URL, parts.commands.commands.queue.queueUrl);
    // Strict binding reads a Slack user's link with the GetItem on the access table it already has.
    this.configureWebApi(parts.commandWorker);
    this.allowJobs('react-to-change', parts.renderer);
  }

  /** `fn` may put `sender`'s jobs on the Slack work queue (the worker checks each job's sender). */
  private allowJobs(sender: SlackJobSender, fn: PamFunction): void {
    this.work.allowSender(fn.serviceRole);
    fn.addEnvironment(ENV.SLACK_QUEUE_URL, this.work.queue.queueUrl);
    if (!this.jobSenders[sender].includes(fn)) this.jobSenders[sender].push(fn);
  }

  /** The bot token, the Web API URL and where response_urls may point. */
  private configureWebApi(fn: PamFunction): void {
    this.readSecret(fn, this.botToken, ENV.SLACK_BOT_TOKEN_ARN);
    fn.addEnvironment(ENV.SLACK_API_URL, this.props.apiUrl ?? SLACK_API_URL);
    fn.addEnvironment(
      ENV.SLACK_RESPONSE_URL_PREFIX,
      this.props.responseUrlPrefix ?? SLACK_RESPONSE_URL_PREFIX,
    );
  }

  /** GetSecretValue on one secret, decrypting through Secrets Manager only. */
  private readSecret(fn: PamFunction, secret: Secret, envName: string): void {
    fn.addEnvironment(envName, secret.secretArn);
    fn.addPermissions(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
      new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.props.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
  }

  /** What the dashboard shows of this capability. */
  get queues() {
    return { work: { SlackWork: this.work.queue }, deadLetters: { slack: this.work.deadLetterQueue } };
  }
}
