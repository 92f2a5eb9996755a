// How a queue worker waits for a command that arrived a little early (commands.ts,
// EARLY_DELIVERY_WAIT_MS): it sleeps in short steps and reads the clock after each, so a clock that
// jumps (the local runtime's) is seen within a second, and it never waits past what the invocation
// has left — then the command is retried instead (DeliveryTooEarlyError).
import type { Context } from 'aws-lambda';
import { DeliveryTooEarlyError, type WaitUntil } from '#app/commands.ts';
import type { Clock } from '#ports/index.ts';

/** Time kept back for the command's own work after the wait. */
export const WAIT_MARGIN_MS = 20_000;
const STEP_MS = 1_000;

export function invocationWaiter(
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  clock: Clock,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): WaitUntil {
  return async (at) => {
    for (;;) {
      const left = at.getTime() - clock.now().getTime();
      if (left <= 0) return;
      if (left + WAIT_MARGIN_MS > context.getRemainingTimeInMillis()) throw new DeliveryTooEarlyError(at);
      await sleep(Math.min(left, STEP_MS));
    }
  };
}
