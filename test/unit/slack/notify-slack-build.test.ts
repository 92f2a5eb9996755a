// notify-slack's record handling as its handler wires it (functions/notify-slack/build.ts): a job is
// done only when its SQS SenderId is a role allowed to send that kind (renders from react-to-change,
// everything a Slack user asked for from the ingress), at most once per delivery key, and a failure
// on the queue's last receive is counted before the message goes to the dead-letter queue.
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import type { SlackJob } from '#app/slack/jobs.ts';
import { ENV } from '#runtime/env-names.ts';
import { SLACK_DELIVERY_FAILED_METRIC } from '#runtime/metric-names.ts';
import { buildNotifySlack, parseSlackJobSenders } from '../../../functions/notify-slack/build.ts';

const INGRESS = 'AROAINGRESS000000001';
const REACT = 'AROAREACTTOCHANGE001';
const senders = parseSlackJobSenders(
  JSON.stringify({ ingress: [INGRESS], 'react-to-change': [REACT] }),
  'test',
);
const render: SlackJob = { kind: 'render', requestId: '01HZY0000000000000000000AB', version: 3 };
const list: SlackJob = {
  kind: 'list',
  origin: { teamId: 'T0EXAMPLE01', userId: 'U0ALICE' },
  delivery: { by: 'slack', id: '1531420618.1.abc' },
};

function worker(handle: (job: SlackJob) => Promise<{ outcome: string }>) {
  const handled: SlackJob[] = [];
  const metrics: string[] = [];
  const seen = new Map<string, { outcome: string }>();
  const processRecord = buildNotifySlack({
    senders,
    handle: async (job) => {
      handled.push(job);
      return handle(job);
    },
    // At most once per key, as Powertools Idempotency: a result is remembered, a throw is not.
    once: (section) => async (input) => {
      const done = seen.get(input.key);
      if (done) return done;
      const result = await section(input);
      seen.set(input.key, result);
      return result;
    },
    maxReceiveCount: 8,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: { addMetric: (name: string) => void metrics.push(name) },
  });
  return { processRecord, handled, metrics };
}

const record = (job: SlackJob, sender: string, receiveCount = 1) => ({
  body: JSON.stringify(job),
  senderId: `${sender}:session`,
  receiveCount,
});

describe('notify-slack records', () => {
  it('does a render only when react-to-change sent it, and a Slack user’s job only when the ingress did', async () => {
    // Prepare
    const { processRecord, handled } = worker(async () => ({ outcome: 'done' }));

    // Act
    const outcomes = [
      await processRecord(record(render, REACT)),
      await processRecord(record(render, INGRESS)),
      await processRecord(record(list, INGRESS)),
      await processRecord(record(list, REACT)),
      await processRecord({ ...record(list, INGRESS), senderId: undefined }),
    ].map((result) => result.outcome);

    // Assess
    expect(outcomes).toEqual(['done', 'refused', 'done', 'refused', 'refused']);
    expect(handled).toEqual([render, list]);
  });

  it('does one Slack occurrence once, however often SQS delivers it', async () => {
    // Prepare
    const { processRecord, handled } = worker(async () => ({ outcome: 'done' }));

    // Act
    await processRecord(record(list, INGRESS));
    await processRecord(record(list, INGRESS, 2));
    await processRecord(record({ ...list, delivery: { by: 'slack', id: '1531420618.2.def' } }, INGRESS));

    // Assess: the second occurrence (another trigger_id) is a new job.
    expect(handled).toHaveLength(2);
  });

  it('counts a failure only on the last receive, and lets every failure go back to SQS', async () => {
    // Prepare
    const { processRecord, metrics } = worker(async () => {
      throw new Error('Slack chat.update failed: http_503');
    });

    // Act
    const early = processRecord(record(render, REACT, 7));
    const last = processRecord(record(render, REACT, 8));

    // Assess
    await expect(early).rejects.toThrow('http_503');
    await expect(last).rejects.toThrow('http_503');
    expect(metrics).toEqual([SLACK_DELIVERY_FAILED_METRIC]);
  });

  it('refuses a malformed job before anything reads it', async () => {
    // Prepare
    const { processRecord, handled } = worker(async () => ({ outcome: 'done' }));

    // Act
    const result = processRecord({
      body: JSON.stringify({ kind: 'render', requestId: 'not-a-ulid', version: 1 }),
      senderId: `${REACT}:s`,
      receiveCount: 1,
    });

    // Assess
    await expect(result).rejects.toThrow(/requestId/);
    expect(handled).toEqual([]);
  });

  it('fails the cold start on a senders variable that is not the stack’s shape', () => {
    expect(() => parseSlackJobSenders('{"ingress":["x"]}', ENV.SLACK_JOB_SENDERS)).toThrow(
      `${ENV.SLACK_JOB_SENDERS} is invalid`,
    );
    expect(() => parseSlackJobSenders('nope', ENV.SLACK_JOB_SENDERS)).toThrow(
      `${ENV.SLACK_JOB_SENDERS} is not JSON`,
    );
  });
});
