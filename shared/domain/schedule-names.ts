// The names of a request's one-time schedules. The request core creates the start schedule and the
// grant engine's stream reaction creates and removes them all, so both name them from here rather
// than one importing the other.
import { scheduleName } from './schedule-expression.ts';

export function expiryScheduleName(requestId: string, grantVersion: number): string {
  return scheduleName('expire', requestId, grantVersion);
}

export function startScheduleName(requestId: string): string {
  return scheduleName('start', requestId);
}
