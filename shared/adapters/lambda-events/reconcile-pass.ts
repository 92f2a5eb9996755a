// The reconciler's way in: its EventBridge rule's "Scheduled Event". The event's id names the pass
// (every command it sends carries it as its delivery), and EventBridge keeps the id when it retries
// the invocation, so a retried pass is the same pass.
import * as z from '#domain/zod.ts';
import { parseEvent } from './parse.ts';

export const ScheduledPassEvent = z.looseObject({
  id: z.string().check(z.regex(/^[\w-]{1,128}$/, 'expected an event id')),
  'detail-type': z.literal('Scheduled Event'),
});

/** The pass id of a reconcile invocation; anything but the rule's event is a ValidationError. */
export function reconcilePassId(event: unknown): string {
  return parseEvent(ScheduledPassEvent, event, 'event').id;
}
