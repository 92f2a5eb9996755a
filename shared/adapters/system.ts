// The real clock and id generator behind the Clock and IdGenerator ports.
import { monotonicFactory } from 'ulid';
import type { Clock, IdGenerator } from '#ports/index.ts';

export const systemClock: Clock = { now: () => new Date() };

export function ulidGenerator(clock: Clock = systemClock): IdGenerator {
  const next = monotonicFactory();
  return { next: () => next(clock.now().getTime()) };
}
