// The three requests bench/slack-ingress times, as API Gateway (REST, Lambda proxy) hands them to the
// ingress: Slack's own wire formats — a `/pam request` slash command form, a block_actions payload of
// an Approve click, a view_submission of the request modal — signed as Slack signs them (v0, the
// app's signing secret, the current time). Each carries the trigger_id and response_url of one
// occurrence the Slack stand-in issued (the stand-in accepts a trigger once, within 3 s).
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { signSlackRequest } from '#adapters/slack/signature.ts';
import { REQUEST_FIELD, SLACK_ACTION, SLACK_CALLBACK } from '#app/slack/ids.ts';

/** What Slack puts in a payload for one occurrence (the world's `POST /occurrence`). */
export interface Occurrence {
  readonly teamId: string;
  readonly userId: string;
  readonly triggerId: string;
  readonly responseUrl: string;
}

/** The entitlement and account the request modal asks for: valid in the demo config. */
export const REQUESTED = { entitlementId: 'dev-readonly', accountId: '333333333333', durationMs: 3_600_000 };
/** The request an Approve click names (the ingress only enqueues it: it need not exist). */
export const APPROVED_REQUEST_ID = '01JBENCHS1ACK1NGRESS000000';

type Resource = '/slack/commands' | '/slack/interactions';

function signed(resource: Resource, body: string, signingSecret: string): APIGatewayProxyEvent {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    resource,
    path: resource,
    httpMethod: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': signSlackRequest({ signingSecret, timestamp, rawBody: body }),
    },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: randomUUID(), resourcePath: resource, httpMethod: 'POST', stage: 'prod' },
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

/** `/pam request`: opens the loading modal (views.open) and enqueues fill-request-modal. */
export function pamRequestEvent(occurrence: Occurrence, signingSecret: string): APIGatewayProxyEvent {
  const body = new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: occurrence.teamId,
    team_domain: 'example',
    channel_id: 'C0GENERAL01',
    channel_name: 'general',
    user_id: occurrence.userId,
    user_name: 'alice',
    command: '/pam',
    text: 'request',
    api_app_id: 'A0PAMAPP001',
    is_enterprise_install: 'false',
    response_url: occurrence.responseUrl,
    trigger_id: occurrence.triggerId,
  }).toString();
  return signed('/slack/commands', body, signingSecret);
}

const interaction = (payload: unknown) =>
  new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** An Approve click on an approval message: enqueues `approve` on the commands queue. */
export function approveClickEvent(occurrence: Occurrence, signingSecret: string): APIGatewayProxyEvent {
  const body = interaction({
    type: 'block_actions',
    user: { id: occurrence.userId, username: 'bob', name: 'bob', team_id: occurrence.teamId },
    api_app_id: 'A0PAMAPP001',
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: '1772442000.000100',
      channel_id: 'C0APPROVALS',
      is_ephemeral: false,
    },
    trigger_id: occurrence.triggerId,
    team: { id: occurrence.teamId, domain: 'example' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: 'C0APPROVALS', name: 'approvals' },
    message: { type: 'message', ts: '1772442000.000100', text: 'Request', blocks: [] },
    response_url: occurrence.responseUrl,
    actions: [
      {
        action_id: SLACK_ACTION.approve,
        block_id: 'decision',
        text: { type: 'plain_text', text: 'Approve' },
        value: APPROVED_REQUEST_ID,
        type: 'button',
        action_ts: '1772442001.000200',
      },
    ],
  });
  return signed('/slack/interactions', body, signingSecret);
}

/** The request modal submitted: checked against the config, then `create` enqueued; answers `clear`. */
export function requestSubmissionEvent(occurrence: Occurrence, signingSecret: string): APIGatewayProxyEvent {
  const select = (field: string, value: string) => ({
    [field]: {
      [field]: {
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: value }, value },
      },
    },
  });
  const body = interaction({
    type: 'view_submission',
    team: { id: occurrence.teamId, domain: 'example' },
    user: { id: occurrence.userId, username: 'alice', name: 'alice', team_id: occurrence.teamId },
    api_app_id: 'A0PAMAPP001',
    token: 'legacy-verification-token',
    trigger_id: occurrence.triggerId,
    view: {
      id: 'V0REQUEST01',
      team_id: occurrence.teamId,
      type: 'modal',
      blocks: [],
      private_metadata: '',
      callback_id: SLACK_CALLBACK.requestModal,
      state: {
        values: {
          ...select(REQUEST_FIELD.target, `${REQUESTED.entitlementId}:${REQUESTED.accountId}`),
          ...select(REQUEST_FIELD.duration, String(REQUESTED.durationMs)),
          [REQUEST_FIELD.reason]: {
            [REQUEST_FIELD.reason]: { type: 'plain_text_input', value: 'bench/slack-ingress' },
          },
        },
      },
      hash: '1772442000.abcdef',
      title: { type: 'plain_text', text: 'Request access' },
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  });
  return signed('/slack/interactions', body, signingSecret);
}
