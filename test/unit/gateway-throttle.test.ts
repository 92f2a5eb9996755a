// The local gateway throttles as API Gateway does: one token bucket per method of the stage (rate and
// burst from the manifest's MethodSettings), on the runtime's clock, answering 429
// `{"message":"Too Many Requests"}`; and it routes a request to the most specific resource that has
// its method, falling through to `{proxy+}` otherwise — so a narrowing method keeps its own bucket.
import { afterEach, describe, expect, it } from 'vitest';
import type { WiringRoute } from '../../infra/wiring/manifest.ts';
import { LocalGateway } from '../../local/gateway.ts';
import { LOCAL_USER_HEADER } from '../../local/markers.ts';
import { TokenBucket } from '../../local/token-bucket.ts';

const T0 = Date.parse('2026-11-26T12:00:00Z');

describe('token bucket', () => {
  it('starts full, lets a burst through, then refills at the rate and never above the burst', () => {
    // Prepare
    const bucket = new TokenBucket({ rateLimit: 2, burstLimit: 3 });

    // Act + Assess: the burst.
    expect([1, 2, 3, 4].map(() => bucket.take(T0))).toEqual([true, true, true, false]);
    // Half a second at 2/s is one token.
    expect(bucket.take(T0 + 500)).toBe(true);
    expect(bucket.take(T0 + 500)).toBe(false);
    // An hour later: full again, not 7,200 tokens.
    expect(bucket.available(T0 + 3_600_000)).toBe(3);
  });

  it('refills nothing while the clock stands still, or reads earlier', () => {
    const bucket = new TokenBucket({ rateLimit: 100, burstLimit: 1 });
    expect(bucket.take(T0)).toBe(true);
    expect(bucket.take(T0)).toBe(false);
    expect(bucket.take(T0 - 60_000)).toBe(false);
  });

  it('lets nothing through with a burst of zero', () => {
    expect(new TokenBucket({ rateLimit: 10, burstLimit: 0 }).take(T0)).toBe(false);
  });
});

describe('local gateway throttling', () => {
  let gateway: LocalGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
  });

  const base = {
    stack: 'S',
    function: 'handle-api',
    authorization: 'AWS_IAM',
    integration: 'AWS_PROXY',
    stage: 'prod',
  } as const;
  // In the order a template lists them: the catch-all first.
  const routes: WiringRoute[] = [
    {
      ...base,
      logicalId: 'Proxy',
      method: 'ANY',
      path: '/v1/{proxy+}',
      throttle: { rateLimit: 1, burstLimit: 2 },
    },
    {
      ...base,
      logicalId: 'Revoke',
      method: 'POST',
      path: '/v1/requests/{id}/revoke',
      throttle: { rateLimit: 1, burstLimit: 2 },
    },
  ];

  async function start() {
    let now = T0;
    const events: { resource: string; pathParameters: Record<string, string> }[] = [];
    gateway = new LocalGateway({
      routes,
      hubAccountId: '111111111111',
      organizationId: 'o-local',
      instanceArn: 'arn:aws:sso:::instance/ssoins-1',
      invoke: async (_fn, event) => {
        events.push(event as (typeof events)[number]);
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
      },
      nowMs: () => now,
      localRoutes: {},
    });
    const url = await gateway.listen();
    const call = async (user: string | undefined, method: string, path: string) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: user ? { [LOCAL_USER_HEADER]: user } : {},
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    return { call, events, advance: (ms: number) => (now += ms) };
  }

  it("answers API Gateway's 429 once a method's bucket is empty, and the revoke method keeps its own", async () => {
    // Prepare
    const { call, events } = await start();

    // Act: alice drains the catch-all's bucket; then dave revokes.
    const flood = [
      await call('alice', 'POST', '/v1/requests'),
      await call('alice', 'GET', '/prod/v1/requests'),
      await call('alice', 'POST', '/v1/requests'),
    ];
    const revoke = await call('dave', 'POST', '/prod/v1/requests/01JNQ0000000000000000000AA/revoke');

    // Assess
    expect(flood.map((answer) => answer.status)).toEqual([200, 200, 429]);
    expect(flood[2]?.body).toEqual({ message: 'Too Many Requests' });
    expect(revoke.status).toBe(200);
    expect(events.at(-1)).toMatchObject({
      resource: '/v1/requests/{id}/revoke',
      pathParameters: { id: '01JNQ0000000000000000000AA' },
    });
    expect(events).toHaveLength(3);
  });

  it('sends a method the specific resource lacks to the catch-all, which spends the catch-all’s bucket', async () => {
    // Prepare
    const { call, events } = await start();

    // Act
    const approve = await call('bob', 'POST', '/v1/requests/01JNQ0000000000000000000AA/approve');
    const getRevoke = await call('bob', 'GET', '/v1/requests/01JNQ0000000000000000000AA/revoke');
    const third = await call('bob', 'GET', '/v1/requests');

    // Assess
    expect([approve.status, getRevoke.status, third.status]).toEqual([200, 200, 429]);
    expect(events.map((event) => event.resource)).toEqual(['/v1/{proxy+}', '/v1/{proxy+}']);
  });

  it('refills on the clock it is given, and counts no unauthenticated call', async () => {
    // Prepare
    const { call, advance } = await start();
    for (let i = 0; i < 5; i++) expect((await call(undefined, 'GET', '/v1/requests')).status).toBe(403);
    expect((await call('alice', 'GET', '/v1/requests')).status).toBe(200);
    expect((await call('alice', 'GET', '/v1/requests')).status).toBe(200);
    expect((await call('alice', 'GET', '/v1/requests')).status).toBe(429);

    // Act
    advance(1_000);

    // Assess: one second at 1/s is one more request.
    expect((await call('alice', 'GET', '/v1/requests')).status).toBe(200);
    expect((await call('alice', 'GET', '/v1/requests')).status).toBe(429);
  });
});
