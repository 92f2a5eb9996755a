// test/support/fakes.ts: the in-memory ports keep the contracts the use cases rely on (all or
// nothing with the audit log, ULIDs, listing order and tokens).
import { describe, expect, it } from 'vitest';
import { decide } from '#domain/state-machine.ts';
import { fixtureActor, READ_ONLY, U, ULID_PATTERN } from '../support/fakes.ts';

import { codeOf, harness, ids } from '../support/use-case-harness.ts';

describe('the in-memory ports keep the contracts the use cases rely on', () => {
  async function stored() {
    const h = harness();
    const created = await h.open(U.eve, READ_ONLY);
    return { h, created };
  }

  it.each([
    { name: 'a second create of the same id', expectedVersion: null, version: 1 },
    { name: 'a write against a stale version', expectedVersion: 0, version: 1 },
  ])(
    'refuses $name with CONCURRENT_MODIFICATION and changes nothing',
    async ({ expectedVersion, version }) => {
      // Prepare
      const { h, created } = await stored();
      const before = h.audit.all();

      // Act
      const code = await codeOf(
        h.store.save({ request: { ...created, version, status: 'DENIED' }, expectedVersion, events: [] }),
      );

      // Assess
      expect(code).toBe('CONCURRENT_MODIFICATION');
      expect(await h.store.get(created.id)).toEqual(created);
      expect(h.audit.all()).toEqual(before);
    },
  );

  it('writes neither the request nor any event when the audit append fails', async () => {
    // Prepare
    const { h, created } = await stored();
    const next = decide(created, { type: 'approve', actor: fixtureActor(U.alice) }, h.clock.now());
    h.audit.unavailable = true;

    // Act
    const code = await codeOf(
      h.store.save({ request: next.request, expectedVersion: 1, events: next.events }),
    );

    // Assess
    expect(code).toBe('AUDIT_UNAVAILABLE');
    expect(await h.store.get(created.id)).toEqual(created);
    expect(await h.chain(created.id)).toHaveLength(1);
  });

  it('issues valid, strictly increasing ULIDs', async () => {
    // Prepare
    const h = harness();

    // Act
    const issued = [h.ids.next(), h.ids.next()];
    h.clock.advance(1);
    issued.push(h.ids.next(), h.ids.next());

    // Assess
    for (const id of issued) expect(id).toMatch(ULID_PATTERN);
    expect([...issued].sort()).toEqual(issued);
    expect(new Set(issued).size).toBe(issued.length);
  });

  it('lists a status oldest first in pages and refuses a token from another list', async () => {
    // Prepare
    const h = harness();
    const made: string[] = [];
    for (let i = 0; i < 3; i += 1) made.push((await h.open(U.erin, READ_ONLY)).id);
    const first = await h.store.listByStatus('PENDING', { limit: 2 });

    // Act
    const second = await h.store.listByStatus('PENDING', { limit: 2, nextToken: first.nextToken as string });
    const foreign = await codeOf(h.store.listByStatus('APPROVED', { nextToken: first.nextToken as string }));

    // Assess
    expect([...ids(first.items), ...ids(second.items)]).toEqual(made);
    expect(second.nextToken).toBeUndefined();
    expect(foreign).toBe('VALIDATION_FAILED');
  });
});
