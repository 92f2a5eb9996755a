// The `/v1/slack/link` route over in-memory ports: it answers the caller's code with the words to
// type in Slack, and in a deployment without a `slack` section it refuses (SLACK_NOT_CONFIGURED, 503)
// without making a code. (The deployed handler, rate limit included: test/integration/slack-link-api.test.ts.)
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { dispatch, makeV1Routes } from '#adapters/http/v1-api.ts';
import { linkCodeHash, makeCreateSlackLinkCode } from '#app/slack/link.ts';
import { SlackNotConfiguredError } from '#domain/errors.ts';
import { httpStatusOf } from '#runtime/error-responses.ts';
import { makeTestDeps, U } from '../../support/fakes.ts';
import { InMemorySlackStore } from '../../support/slack-identity-fakes.ts';

function post(path: string, body: string | null = null): APIGatewayProxyEvent {
  return { httpMethod: 'POST', path, body, isBase64Encoded: false } as APIGatewayProxyEvent;
}

describe('POST /v1/slack/link', () => {
  it('answers 201 with the code, its expiry and what to type in Slack', async () => {
    // Prepare
    const t = makeTestDeps();
    const slackStore = new InMemorySlackStore();
    const createSlackLinkCode = makeCreateSlackLinkCode({ slackStore, audit: t.audit, clock: t.clock });
    const routes = makeV1Routes({ ...t.deps, createSlackLinkCode });

    // Act
    const answer = await dispatch(routes, post('/prod/v1/slack/link'), U.erin);

    // Assess
    expect(answer.statusCode).toBe(201);
    const body = JSON.parse(answer.body) as { code: string; expiresAt: string; instructions: string };
    expect(body).toEqual({
      code: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}$/),
      expiresAt: '2026-03-02T09:10:00.000Z',
      instructions: `In Slack, type: /pam link ${body.code}`,
    });
    expect(slackStore.codeHashes()).toEqual([linkCodeHash(body.code)]);
    expect(answer.headers?.['cache-control']).toBe('no-store');
  });

  it('answers SLACK_NOT_CONFIGURED (503) where the deployment has no Slack, and makes no code', async () => {
    // Prepare
    const t = makeTestDeps();
    const routes = makeV1Routes(t.deps);

    // Act
    const error = await dispatch(routes, post('/v1/slack/link'), U.erin).catch((thrown: unknown) => thrown);

    // Assess
    expect(error).toBeInstanceOf(SlackNotConfiguredError);
    expect(httpStatusOf(error as SlackNotConfiguredError)).toBe(503);
    expect(t.audit.all()).toEqual([]);
  });
});
