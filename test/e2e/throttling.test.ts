// No user can starve the rest: API Gateway throttles per method, never per caller, so a flood by one
// PamRequester user drains a method's token bucket for everyone who calls that method. Revoke, deny
// and cancel are methods of their own (infra/constructs/pam-api.ts), with their own buckets, and the
// handler holds each caller to a budget of their own (shared/app/rate-limit.ts). Run on the local
// runtime, whose gateway throttles each method with the stage's MethodSettings from the synthesized
// template, on the runtime's clock: the clock is frozen while the flood runs, so no bucket refills
// and no window ends unless the test moves it, and every count below is exact.
import { describe, expect, it } from 'vitest';
import { LOCAL_USER_HEADER } from '../../local/markers.ts';
import { perFile } from '../support/per-file.ts';
import { bootE2e } from './support.ts';

const DEV = '333333333333';
const e2e = perFile(bootE2e, (booted) => booted.stop());

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: { id?: string; status?: string; message?: string; error?: { code: string } };
}

async function post(user: string, path: string, body: unknown): Promise<Answer> {
  const response = await fetch(`${e2e.runtime.apiUrl}/prod${path}`, {
    method: 'POST',
    headers: { [LOCAL_USER_HEADER]: user, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Answer['body'],
  };
}

/** API Gateway's own throttle answer, not the handler's. */
const gatewayThrottled = (answer: Answer) =>
  answer.status === 429 && answer.body.message === 'Too Many Requests' && !answer.body.error;

describe('a flood by one user', () => {
  it("cannot take an admin's revoke: the revoke succeeds while alice floods requests", async () => {
    // Prepare: erin holds dev-readonly, approved by bob.
    const created = await e2e.pam(
      'request',
      'dev-readonly',
      '--account',
      DEV,
      '--for',
      '1h',
      '--reason',
      'read the dev logs',
      '--as',
      'erin',
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    const { id } = created.json<{ id: string }>();
    expect((await e2e.pam('approve', id, '--as', 'bob')).code).toBe(0);
    await e2e.settle();
    expect((await e2e.pam('show', id, '--as', 'erin', '--json')).json<{ status: string }>().status).toBe(
      'ACTIVE',
    );
    const clock = e2e.runtime.clock;
    clock.freeze();
    try {
      // The flood starts at the beginning of a rate window, with every bucket full.
      clock.advanceTo(Math.ceil((clock.nowMs() + 1) / 60_000) * 60_000);

      // Act: alice sends creates until API Gateway throttles her; two seconds later (the bucket
      // refilled) she goes on — four rounds, as fast as the runtime answers.
      const answers: Answer[] = [];
      for (let round = 0; round < 4; round++) {
        if (round > 0) clock.advance(2_000);
        for (let sent = 0; sent < 200; sent++) {
          const answer = await post('alice', '/v1/requests', {
            entitlementId: 'dev-readonly',
            accountId: DEV,
            duration: 'PT1H',
            reason: `flood ${round}/${sent}`,
          });
          answers.push(answer);
          if (gatewayThrottled(answer)) break;
        }
      }
      // dave (pam-admins) revokes erin's grant, right after alice's last request was throttled.
      const revoke = await post('dave', `/v1/requests/${id}/revoke`, { comment: 'incident INC-7' });

      // Assess: the revoke went through, with the flood still on.
      expect(revoke.status, JSON.stringify(revoke.body)).toBe(200);
      expect(revoke.body.status).toBe('REVOKED');
      // Alice was throttled by API Gateway (the shared bucket of every other route) …
      expect(answers.filter(gatewayThrottled)).toHaveLength(4);
      // … and by her own budgets in the handler (of requests, and of refused attempts once her
      // creates are refused), which tell her when to come back.
      const limited = answers.filter((answer) => answer.body.error?.code === 'RATE_LIMITED');
      expect(limited.length).toBeGreaterThan(0);
      for (const answer of limited) {
        expect(answer.status).toBe(429);
        expect(Number(answer.retryAfter)).toBeGreaterThan(0);
        expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
      }
      // Every answer was a decision of the handler or API Gateway's throttle: nothing failed.
      expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    } finally {
      clock.thaw();
    }
    await e2e.settle();
    expect((await e2e.pam('show', id, '--as', 'erin', '--json')).json<{ status: string }>().status).toBe(
      'REVOKED',
    );
  });
});
