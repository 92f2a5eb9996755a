// react-to-change as wired once, for its handler and its tests: each stream record's images read as
// requests (shared/adapters/aws/stream-images.ts) and reacted to, in order. On the first failure it
// reports that record and every one after it, so order holds on retry. Ports in, no environment, no
// AWS clients.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { requestFromImage } from '#adapters/aws/stream-images.ts';
import { makeReactToChange } from '#app/grants/react-to-change.ts';
import { type SlackJob, slackJobGroup } from '#app/slack/jobs.ts';
import type { WorkQueue } from '#ports/grants.ts';

export interface ReactToChangeOptions {
  readonly logger: Logger;
  /**
   * The Slack work queue, when there is a Slack bot: every committed change of a request asks for
   * its approval message and DM to be rendered again (from the state at send time, not this image).
   */
  readonly slackJobs?: WorkQueue;
}

export function buildReactToChange(
  deps: Parameters<typeof makeReactToChange>[0],
  { logger, slackJobs }: ReactToChangeOptions,
) {
  const react = makeReactToChange(deps);

  return async function reactToStream(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    for (const [index, record] of event.Records.entries()) {
      try {
        const before = requestFromImage(record.dynamodb?.OldImage);
        const after = requestFromImage(record.dynamodb?.NewImage);
        if (!record.eventID) throw new Error('stream record without an eventID');
        const done = await react(before, after, { by: 'stream', eventId: record.eventID });
        if (done.length > 0) logger.info('reacted', { requestId: after?.id, status: after?.status, done });
        if (after && slackJobs) {
          const job: SlackJob = { kind: 'render', requestId: after.id, version: after.version };
          await slackJobs.send({ messageGroupId: slackJobGroup(job), body: job });
        }
      } catch (error) {
        logger.error('reaction failed', { error, sequenceNumber: record.dynamodb?.SequenceNumber });
        return {
          batchItemFailures: event.Records.slice(index).map((failed) => ({
            itemIdentifier: failed.dynamodb?.SequenceNumber ?? '',
          })),
        };
      }
    }
    return { batchItemFailures: [] };
  };
}
