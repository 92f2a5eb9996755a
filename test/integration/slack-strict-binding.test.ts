// Strict identity binding of the Slack bot (issue 15), with the real handlers on moto: in a deployment
// whose config says `identityBinding: strict`, a Slack user whose email is an approver's is still
// nobody until they link: process-command (test/support/grant-harness.ts, the deployed handler in a
// worker thread) refuses their Approve through the click's response_url and decides nothing. After
// `pam slack link` (handle-api's `POST /v1/slack/link`, as the CLI calls it) and `/pam link <code>`
// (the notify-slack handler's `link` job, hosted here the same way), the same click counts — and
// another Slack account with the same email still does not.
// The Slack Web API and the response_urls are the local stand-in's (local/slack-stand-in.ts).
// Here rather than in test/e2e: the local runtime hosts the demo config (email binding); a second
// synth and boot with a strict config would double the Slack e2e file's time.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import type { SlackJob } from '#app/slack/jobs.ts';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import type { SlackConfig } from '#domain/model.ts';
import { bundledConfigText, parseBundledConfig } from '#runtime/bundled-config.ts';
import { ENV } from '#runtime/env-names.ts';
import { LocalClock } from '../../local/clock.ts';
import { FunctionHost } from '../../local/function-host.ts';
import { startSlackStandIn } from '../../local/slack-stand-in.ts';
import { createGrantHarness } from '../support/grant-harness.ts';
import { MOTO_REGION, motoClient } from '../support/moto.ts';
import { auditLogOf, createPamWorld, DEV_ACCOUNT, type PamWorld } from '../support/pam-world.ts';
import { perFile } from '../support/per-file.ts';

const TEAM = 'T0EXAMPLE01';
const SLACK: SlackConfig = {
  teamIds: [TEAM],
  enterpriseIds: [],
  approversChannel: 'C0APPROVALS',
  identityBinding: 'strict',
};
/** bob's own Slack account, and another one that shows bob's email too. */
const BOB_SLACK = 'U0BOB';
const LOOKALIKE_SLACK = 'U0BOBTOO';

/** The world's bundled config with a strict `slack` section, as synth would write it. */
function addSlackSection(configFile: string): void {
  const { configHash: _old, ...config } = parseBundledConfig(readFileSync(configFile, 'utf8'));
  const withSlack = { ...config, slack: SLACK };
  writeFileSync(
    configFile,
    bundledConfigText({ ...withSlack, configHash: sha256Hex(canonicalJson(withSlack)) }),
  );
}

/** The Slack app of the deployment: the stand-in, its bot token in Secrets Manager, the functions' variables. */
async function slackApp(world: PamWorld) {
  addSlackSection(world.configFile);
  const botToken = `xoxb-strict-${randomBytes(12).toString('hex')}`;
  const standIn = await startSlackStandIn({
    botToken,
    teamId: TEAM,
    users: [
      { id: BOB_SLACK, email: 'bob@example.com', displayName: 'Bob' },
      { id: LOOKALIKE_SLACK, email: 'bob@example.com', displayName: 'Bob (another account)' },
    ],
  });
  const secrets = motoClient(SecretsManagerClient, world.accountId);
  const { ARN } = await secrets.send(
    new CreateSecretCommand({
      Name: `slack-bot-token-${randomBytes(4).toString('hex')}`,
      SecretString: botToken,
    }),
  );
  secrets.destroy();
  // What the stack sets on the functions that talk to Slack (before the harness copies the environment).
  Object.assign(world.env as Record<string, string>, {
    [ENV.SLACK_BOT_TOKEN_ARN]: ARN as string,
    [ENV.SLACK_API_URL]: standIn.apiUrl,
    [ENV.SLACK_RESPONSE_URL_PREFIX]: standIn.responseUrlPrefix,
    [ENV.SLACK_JOB_SENDERS]: JSON.stringify({
      ingress: [world.roles['handle-api'].id],
      'react-to-change': [world.roles['react-to-change'].id],
    }),
  });
  return { standIn, botToken };
}

const world = perFile(createPamWorld, (w) => w.stop());
const slack = perFile(
  () => slackApp(world),
  (app) => app.standIn.close(),
);
const h = perFile(
  () => createGrantHarness(world, { functions: ['handle-api', 'process-command'] }),
  (harness) => harness.stop(),
);
/** notify-slack, hosted as the harness hosts the others (its Slack queue is not in the world: jobs are handed to it). */
const notifySlack = perFile(
  async () => {
    const host = new FunctionHost({
      name: 'notify-slack',
      module: path.resolve(import.meta.dirname, '../../functions/notify-slack/handler.ts'),
      exportName: 'handler',
      environment: { ...world.env, AWS_LAMBDA_FUNCTION_NAME: 'notify-slack', TZ: 'UTC' },
      timeoutMs: 60_000,
      memoryMb: 512,
      region: MOTO_REGION,
      accountId: world.accountId,
      clock: new LocalClock().buffer,
      logFile: path.join(mkdtempSync(path.join(tmpdir(), 'pam-notify-slack-')), 'notify-slack.log'),
    });
    await host.start();
    return host;
  },
  (host) => host.stop(),
);

let sequence = 0;

/** A click on Approve as Slack user `slackUserId`, as the ingress queues it (trigger_id: a fresh occurrence). */
async function approveFromSlack(requestId: string, slackUserId: string): Promise<string> {
  const responseUrl = slack.standIn.responseUrlFor({ userId: slackUserId });
  sequence += 1;
  await h.send(
    { action: 'approve', requestId, slack: { teamId: TEAM, userId: slackUserId, responseUrl } },
    { by: 'slack', id: `trigger.${sequence}.strict` },
    'ingress',
  );
  await h.settle();
  return responseUrl;
}

/** What the worker answered on a response_url. */
function answersOn(responseUrl: string): string[] {
  const hook = new URL(responseUrl).pathname.split('/').at(-2);
  return slack.standIn.responses.filter((r) => r.hook === hook).map((r) => r.body.text ?? '');
}

describe('strict Slack identity binding', () => {
  it('refuses an Approve from a Slack user whose email matches but who never linked, and accepts it after pam slack link + /pam link', async () => {
    // Prepare: alice's request, which bob (cloud-ops) may approve.
    const request = await h.createRequest({
      actorId: world.userIds.alice,
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      reason: 'read a log group',
      durationMs: 3_600_000,
    });

    // Act: bob's Slack account (bob@example.com, as in the Identity Store) clicks Approve, unlinked.
    const unlinked = await approveFromSlack(request.id, BOB_SLACK);

    // Assess: refused through the click's response_url; nothing decided; the refusal audited.
    expect(answersOn(unlinked)).toEqual([expect.stringContaining('not linked')]);
    expect(answersOn(unlinked)[0]).toContain('pam slack link');
    const untouched = await h.deps.store.get(request.id);
    expect(untouched).toMatchObject({ status: 'PENDING', version: request.version, approvals: [] });
    const rejected = (await auditLogOf(world).readChain('system')).filter(
      (event) => event.type === 'system.rejected',
    );
    expect(rejected.at(-1)).toMatchObject({
      requestId: request.id,
      details: { check: 'slack-identity', slackReason: 'not-linked', slackUserId: BOB_SLACK },
    });

    // Act: bob runs `pam slack link` (SigV4 as bob) and types `/pam link <code>` in Slack.
    const issued = await h.api(world.userIds.bob, 'POST', '/v1/slack/link', {});
    expect(issued.statusCode, issued.body).toBe(201);
    const { code } = JSON.parse(issued.body) as { code: string };
    const linkReply = slack.standIn.responseUrlFor({ userId: BOB_SLACK });
    const job: SlackJob = {
      kind: 'link',
      code,
      origin: { teamId: TEAM, userId: BOB_SLACK, responseUrl: linkReply },
      delivery: { by: 'slack', id: 'trigger.link.strict' },
    };
    const linked = (await notifySlack.invoke({
      Records: [
        {
          messageId: 'link-1',
          receiptHandle: 'link-1',
          body: JSON.stringify(job),
          attributes: {
            // SQS stamps the sender's role id; the ingress's role may send `link` jobs.
            SenderId: `${world.roles['handle-api'].id}:slack-ingress`,
            ApproximateReceiveCount: '1',
            MessageGroupId: `${TEAM}:${BOB_SLACK}`,
            MessageDeduplicationId: sha256Hex('link'),
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:${MOTO_REGION}:${world.accountId}:pam-slack.fifo`,
          awsRegion: MOTO_REGION,
        },
      ],
    })) as { batchItemFailures: unknown[] };
    expect(linked.batchItemFailures).toEqual([]);
    expect(answersOn(linkReply)).toEqual([expect.stringContaining('now linked')]);

    // Act: another Slack account showing bob's email clicks; then bob's own account again.
    const lookalike = await approveFromSlack(request.id, LOOKALIKE_SLACK);
    expect((await h.deps.store.get(request.id))?.approvals).toEqual([]);
    const approvedBy = await approveFromSlack(request.id, BOB_SLACK);

    // Assess: the email never binds; the link does.
    expect(answersOn(lookalike)).toEqual([expect.stringContaining('not linked')]);
    expect(answersOn(approvedBy)).toEqual([]);
    const approved = await h.deps.store.get(request.id);
    expect(approved?.status).toBe('APPROVED');
    expect(approved?.approvals.map((a) => a.approverId)).toEqual([world.userIds.bob]);
  });
});
