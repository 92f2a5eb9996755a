// What `/v1` answers show of people and time (shared/adapters/http/v1-api.ts), over the use cases
// and in-memory ports: the names recorded when each person acted (null or absent for records made
// before names were kept), and the server's time in the `Date` header, so a client can tell how
// long a grant has left on the server's clock (which the local runtime may have moved).
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { dispatch, makeV1Routes } from '#adapters/http/v1-api.ts';
import {
  FIXTURE_EPOCH,
  fixtureRequestWithChain,
  fixtureUsers,
  makeTestDeps,
  PROD_ADMIN,
  U,
  VALID_JUSTIFICATION,
} from '../support/fakes.ts';
import { seedRequest } from '../support/grant-fakes.ts';

const NAMES: Readonly<Record<string, string>> = {
  [U.eve]: 'Eve Engineer',
  [U.alice]: 'Alice Approver',
  [U.bob]: 'Bob Approver',
};

function world() {
  const t = makeTestDeps({
    users: fixtureUsers().map((user) => ({
      ...user,
      ...(NAMES[user.userId] ? { displayName: NAMES[user.userId] } : {}),
    })),
  });
  const routes = makeV1Routes(t.deps);
  const call = async (actorId: string, method: string, path: string, body?: unknown) => {
    const event = {
      httpMethod: method,
      path,
      body: body === undefined ? null : JSON.stringify(body),
      isBase64Encoded: false,
      queryStringParameters: null,
    } as unknown as APIGatewayProxyEvent;
    const answer: APIGatewayProxyResult = await dispatch(routes, event, actorId);
    return { status: answer.statusCode, headers: answer.headers ?? {}, body: JSON.parse(answer.body) };
  };
  return { ...t, call };
}

describe('names in request views', () => {
  it('carry the requester’s, each approver’s and each decider’s name as recorded', async () => {
    // Prepare
    const w = world();
    const created = await w.call(U.eve, 'POST', '/v1/requests', {
      entitlementId: PROD_ADMIN,
      accountId: '222222222222',
      duration: 'PT2H',
      ...VALID_JUSTIFICATION,
    });
    const id = created.body.id as string;
    await w.call(U.alice, 'POST', `/v1/requests/${id}/approve`, { comment: 'ok' });

    // Act
    const denied = await w.call(U.bob, 'POST', `/v1/requests/${id}/deny`, { comment: 'not today' });

    // Assess
    expect(created.status).toBe(201);
    expect(created.body.requesterName).toBe('Eve Engineer');
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({
      requesterId: U.eve,
      requesterName: 'Eve Engineer',
      approvals: [{ approverId: U.alice, approverName: 'Alice Approver', comment: 'ok' }],
      denial: { actorId: U.bob, actorName: 'Bob Approver', comment: 'not today' },
    });
  });

  it('of a record made before names were kept: requesterName null, no approverName or actorName', async () => {
    // Prepare: a denied prod-admin request whose record carries no names
    const w = world();
    const { request, events } = fixtureRequestWithChain('DENIED', { entitlementId: PROD_ADMIN });
    await seedRequest(w.store, request, events);

    // Act
    const shown = await w.call(U.eve, 'GET', `/v1/requests/${request.id}`);

    // Assess
    expect(shown.status).toBe(200);
    expect(shown.body.requesterName).toBeNull();
    expect(shown.body.denial).toEqual({ actorId: U.alice, at: request.denial?.at });
  });
});

describe('the server’s time', () => {
  it('is the Date header of every answer, read from the server’s clock', async () => {
    // Prepare: the server's clock is four hours past the fixture epoch
    const w = world();
    w.clock.set(new Date(FIXTURE_EPOCH.getTime() + 4 * 3_600_000));

    // Act
    const list = await w.call(U.eve, 'GET', '/v1/requests');
    const entitlements = await w.call(U.eve, 'GET', '/v1/entitlements');

    // Assess
    expect(list.headers.date).toBe('Mon, 02 Mar 2026 13:00:00 GMT');
    expect(entitlements.headers.date).toBe('Mon, 02 Mar 2026 13:00:00 GMT');
    expect(list.headers['content-type']).toBe('application/json');
  });
});
