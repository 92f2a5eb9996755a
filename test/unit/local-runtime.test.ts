// The local runtime's own logic, without moto: the event-filter matcher Lambda applies to stream
// records, the intrinsic resolver, the clock that freezes while an advance steps, and the gateway's
// mapping of a demo user to the identity a PamRequester session carries (which the real caller
// resolution accepts, and which it refuses for anything else).
import { afterEach, describe, expect, it } from 'vitest';
import { sessionUserName } from '#adapters/aws/caller-identity.ts';
import { ACCESS_KEY_PREFIX, requestKey } from '#adapters/aws/tables.ts';
import type { WiringManifest } from '../../infra/wiring/manifest.ts';
import { LocalClock } from '../../local/clock.ts';
import { compilePattern } from '../../local/event-pattern.ts';
import { ratePeriodMs } from '../../local/event-sources.ts';
import { LocalGateway } from '../../local/gateway.ts';
import { type ResolveContext, resolveValue } from '../../local/resolve.ts';

describe('event filter patterns', () => {
  const requestsOnly = compilePattern({
    dynamodb: { Keys: { pk: { S: [{ prefix: ACCESS_KEY_PREFIX.request }] } } },
  });

  it('matches the access-table filter on request items only', () => {
    expect(requestsOnly({ dynamodb: { Keys: { pk: { S: requestKey('01ABC').pk } } } })).toBe(true);
    expect(requestsOnly({ dynamodb: { Keys: { pk: { S: `${ACCESS_KEY_PREFIX.tuple}x` } } } })).toBe(false);
    expect(requestsOnly({ dynamodb: { Keys: {} } })).toBe(false);
  });

  it('supports exact values, exists, anything-but and $or', () => {
    const pattern = compilePattern({
      source: ['aws.sso'],
      detail: { $or: [{ arn: [{ 'anything-but': ['mine'] }] }, { arn: [{ exists: false }] }] },
    });
    expect(pattern({ source: 'aws.sso', detail: { arn: 'theirs' } })).toBe(true);
    expect(pattern({ source: 'aws.sso', detail: {} })).toBe(true);
    expect(pattern({ source: 'aws.sso', detail: { arn: 'mine' } })).toBe(false);
    expect(pattern({ source: 'aws.iam', detail: {} })).toBe(false);
  });

  it('refuses an operator it does not implement instead of matching everything', () => {
    expect(() => compilePattern({ n: [{ numeric: ['>', 1] }] })).toThrow(/numeric is not supported/);
  });
});

describe('schedule rules', () => {
  it('reads rate expressions and refuses cron', () => {
    expect(ratePeriodMs('rate(5 minutes)')).toBe(300_000);
    expect(ratePeriodMs('rate(1 day)')).toBe(86_400_000);
    expect(() => ratePeriodMs('cron(0 12 * * ? *)')).toThrow(/only rate/);
  });
});

describe('intrinsic resolver', () => {
  const manifest = {
    stacks: [{ id: 'Data', account: '111111111111', region: 'us-east-1' }],
    exports: { 'Data:Table': { stack: 'Data', value: { Ref: 'Table' } } },
  } as unknown as WiringManifest;
  const ctx: ResolveContext = {
    manifest,
    physical: new Map([
      [
        'Data/Table',
        { ref: 'access', attrs: { Arn: 'arn:aws:dynamodb:us-east-1:111111111111:table/access' } },
      ],
    ]),
    substitutions: new Map([['d-example001', 'd-real']]),
  };

  it('resolves Ref, GetAtt, ImportValue, Join, Sub and pseudo parameters, and substitutes placeholders', () => {
    expect(resolveValue(ctx, 'Data', { 'Fn::ImportValue': 'Data:Table' })).toBe('access');
    expect(
      resolveValue(ctx, 'Data', {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':x:',
            { Ref: 'AWS::AccountId' },
            ':',
            { 'Fn::GetAtt': ['Table', 'Arn'] },
          ],
        ],
      }),
    ).toBe('arn:aws:x:111111111111:arn:aws:dynamodb:us-east-1:111111111111:table/access');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub's own ${} syntax, not a JS template.
    expect(resolveValue(ctx, 'Data', { 'Fn::Sub': '${Table}-${AWS::Region}' })).toBe('access-us-east-1');
    expect(resolveValue(ctx, 'Data', 'd-example001')).toBe('d-real');
  });

  it('refuses what it cannot resolve, naming it', () => {
    expect(() => resolveValue(ctx, 'Data', { Ref: 'Missing' })).toThrow(/Data\/Missing was not created/);
    expect(() => resolveValue(ctx, 'Data', { 'Fn::GetAtt': ['Table', 'StreamArn'] })).toThrow(
      /no attribute StreamArn/,
    );
    expect(() => resolveValue(ctx, 'Data', { 'Fn::If': ['c', 'a', 'b'] })).toThrow(/Fn::If is not supported/);
  });
});

describe('local clock', () => {
  it('only moves forward, and stands still while frozen', () => {
    const clock = new LocalClock();
    const before = clock.nowMs();
    clock.advance(3_600_000);
    expect(clock.nowMs() - before).toBeGreaterThanOrEqual(3_600_000);
    expect(() => clock.advance(-1)).toThrow(/only moves forward/);
    clock.freeze();
    const frozen = clock.nowMs();
    clock.advanceTo(frozen - 1000);
    expect(clock.nowMs()).toBe(frozen);
    clock.advanceTo(frozen + 5000);
    expect(clock.nowMs()).toBe(frozen + 5000);
    clock.thaw();
    expect(clock.nowMs()).toBeGreaterThanOrEqual(frozen + 5000);
    // A worker maps the same cells.
    expect(new LocalClock(clock.buffer).nowMs()).toBeGreaterThanOrEqual(frozen + 5000);
  });
});

describe('local gateway', () => {
  let gateway: LocalGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
  });

  async function start() {
    const events: Record<string, unknown>[] = [];
    gateway = new LocalGateway({
      routes: [
        {
          stack: 'S',
          logicalId: 'M',
          function: 'handle-api',
          method: 'ANY',
          path: '/v1/{proxy+}',
          authorization: 'AWS_IAM',
          integration: 'AWS_PROXY',
          stage: 'prod',
        },
      ],
      hubAccountId: '111111111111',
      organizationId: 'o-local',
      instanceArn: 'arn:aws:sso:::instance/ssoins-1',
      invoke: async (_fn, event) => {
        events.push(event as Record<string, unknown>);
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
      },
      nowMs: () => Date.parse('2026-11-26T12:00:00Z'),
      localRoutes: {},
    });
    return { url: await gateway.listen(), events };
  }

  it('turns the demo user into the identity of a PamRequester session, which caller resolution accepts', async () => {
    const { url, events } = await start();
    const response = await fetch(`${url}/prod/v1/requests?limit=5`, {
      headers: { 'x-pam-local-user': 'alice' },
    });
    expect(response.status).toBe(200);
    const [event] = events as {
      path: string;
      pathParameters: Record<string, string>;
      queryStringParameters: Record<string, string>;
      headers: Record<string, string>;
      requestContext: { identity: { userArn: string }; requestTimeEpoch: number; stage: string };
    }[];
    expect(event?.path).toBe('/v1/requests');
    expect(event?.pathParameters).toEqual({ proxy: 'requests' });
    expect(event?.queryStringParameters).toEqual({ limit: '5' });
    expect(event?.headers['x-pam-local-user']).toBeUndefined();
    expect(event?.requestContext.requestTimeEpoch).toBe(Date.parse('2026-11-26T12:00:00Z'));
    expect(
      sessionUserName(event?.requestContext.identity.userArn ?? '', 'PamRequester', '111111111111'),
    ).toBe('alice');
  });

  it("answers API Gateway's 403 without a user, and for a malformed one, without invoking anything", async () => {
    const { url, events } = await start();
    expect((await fetch(`${url}/v1/requests`)).status).toBe(403);
    expect((await fetch(`${url}/v1/requests`, { headers: { 'x-pam-local-user': 'a/b' } })).status).toBe(403);
    expect((await fetch(`${url}/nope`, { headers: { 'x-pam-local-user': 'alice' } })).status).toBe(403);
    expect(events).toEqual([]);
  });
});
