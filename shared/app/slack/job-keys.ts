// A Slack job's idempotency key and FIFO group (the jobs themselves: ./jobs.ts). Apart from the
// schemas so that the Slack ingress, which makes jobs but never parses one, does not build them at
// its cold start.
import type { SlackJob } from './jobs.ts';

/** The idempotency key of a job: its kind and the sender's id for the occurrence. */
export function slackJobKey(job: SlackJob): string {
  if (job.kind === 'render') return `render|${job.requestId}|${job.version}`;
  return `${job.kind}|${job.origin.teamId}:${job.origin.userId}|${job.delivery.id}`;
}

/** The FIFO group of a job: one request's renders in order; one user's Slack work in order. */
export function slackJobGroup(job: SlackJob): string {
  return job.kind === 'render' ? job.requestId : `${job.origin.teamId}:${job.origin.userId}`;
}
