// One expensive fixture for a whole test file — a moto world, a grant harness, a local runtime —
// started before the file's tests and stopped after them, declared in one line instead of a `let`
// with a beforeAll/afterAll pair in every file:
//
//   const world = perFile(createPamWorld, (w) => w.stop());
//   const h = perFile(() => createGrantHarness(world), (harness) => harness.stop());
//
// The value is a stand-in that forwards to the started fixture, so tests read `world.roles` as
// before. Fixtures start in the order they are declared and stop in reverse (vitest runs afterAll
// hooks as a stack), so a harness stops before the world it runs on. Reading one outside a test or
// hook, before it has started, throws rather than handing out `undefined`.
import { afterAll, beforeAll } from 'vitest';

export function perFile<T extends object>(
  start: () => Promise<T> | T,
  stop: (fixture: T) => Promise<void> | void = () => {},
): T {
  let fixture: T | undefined;
  beforeAll(async () => {
    fixture = await start();
  });
  afterAll(async () => {
    if (fixture) await stop(fixture);
    fixture = undefined;
  });
  const started = (key: PropertyKey): T => {
    if (!fixture)
      throw new Error(
        `read ${String(key)} of a per-file fixture before it started (use it in a test or hook)`,
      );
    return fixture;
  };
  return new Proxy({} as T, {
    get(_target, key) {
      const value = started(key);
      const member = Reflect.get(value, key, value);
      return typeof member === 'function' ? member.bind(value) : member;
    },
    has: (_target, key) => Reflect.has(started(key), key),
    ownKeys: () => Reflect.ownKeys(started('keys')),
    getOwnPropertyDescriptor(_target, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(started(key), key);
      // The proxy's own target is empty: every forwarded property must be configurable to it.
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}
