// The provisioning worker (shared/app/grants/provisioning.ts) over in-memory ports, one message at a
// time: what it records before it touches Identity Center, and what it refuses. How its work lands
// through Identity Center's asynchronous operations, throttling and crashes is tested against moto
// and the fake Identity Center (test/integration/grant-lifecycle.test.ts, grant-faults.test.ts,
// revocation-denies.test.ts); the reconciler's use of it in test/unit/reconcile.test.ts.
import { describe, expect, it } from 'vitest';
import { makeProvisioningWorker } from '#app/grants/provisioning.ts';
import { tuplesOf } from '#app/grants/tuples.ts';
import type { AccessRequest, RequestStatus } from '#domain/model.ts';
import { at, type FixtureRequestOptions, fixtureRequestWithChain, U } from '../support/fakes.ts';
import { makeGrantTestDeps, seedRequest } from '../support/grant-fakes.ts';

function harness(options: { now?: Date } = {}) {
  const t = makeGrantTestDeps({ now: options.now ?? at(0) });
  return {
    ...t,
    /** A fixture request in `status` with its audit chain, stored under a fresh id. */
    async put(status: RequestStatus, options: FixtureRequestOptions = {}): Promise<AccessRequest> {
      const fixture = fixtureRequestWithChain(status, { ...options, id: t.ids.next() });
      return seedRequest(t.store, fixture.request, fixture.events);
    },
  };
}

describe('provisioning worker: deny-add', () => {
  it('records every deny it adds in the ledger before writing the policy', async () => {
    const t = harness({ now: at(0) });
    const [set] = t.permissionSets.all();
    if (!set) throw new Error('fixture has permission sets');
    // Identity Center refuses the policy write.
    const failing = Object.assign(Object.create(t.identityCenter), {
      putInlinePolicy: async () => {
        throw new Error('ThrottlingException');
      },
    });
    const worker = makeProvisioningWorker({ ...t.deps, identityCenter: failing });
    const revoked = await t.put('REVOKED', { requester: U.eve });
    const permissionSetArn = tuplesOf(revoked, t.permissionSets)[0]?.permissionSetArn as string;
    const message = {
      op: 'deny-add' as const,
      permissionSetArn,
      userId: U.eve,
      endedAt: at(0).toISOString(),
      requestId: revoked.id,
    };

    await expect(worker(message)).rejects.toThrow();

    expect(await t.denies.live(at(1))).toEqual([
      {
        permissionSetArn,
        userId: U.eve,
        endedAt: message.endedAt,
        removeAt: at(60).toISOString(),
        requestIds: [revoked.id],
      },
    ]);
  });

  it('refuses, audits and alarms a deny no request and no recorded deny stands behind', async () => {
    const t = harness({ now: at(0) });
    const [set] = t.permissionSets.all();
    if (!set) throw new Error('fixture has permission sets');
    const refused: string[] = [];
    const worker = makeProvisioningWorker({
      ...t.deps,
      diagnostics: {
        auditOfRejectionFailed: () => {},
        unprovenAccessRefused: ({ check }) => refused.push(check),
      },
    });

    const result = await worker({
      op: 'deny-add',
      permissionSetArn: set.arn,
      userId: U.eve,
      endedAt: at(0).toISOString(),
    });

    expect(result).toBe('refused');
    expect(refused).toEqual(['deny-add']);
    expect(t.identityCenter.policy(set.arn)).toBeUndefined();
    expect((await t.audit.readChain('system')).at(-1)).toMatchObject({ type: 'system.rejected' });
  });
});
