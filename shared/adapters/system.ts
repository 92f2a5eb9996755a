// The real clock and id generator behind the Clock and IdGenerator ports.
import type { Clock, IdGenerator } from '#ports/index.ts';
import { monotonicUlid } from './ulid.ts';

export const systemClock: Clock = { now: () => new Date() };

export function ulidGenerator(clock: Clock = systemClock): IdGenerator {
  const next = monotonicUlid();
  return { next: () => next(clock.now().getTime()) };
}
