// The warm half of bench/slack-ingress, in a process of its own with the function's environment:
// imports the ingress bundle once, handles one request of each kind (the first call, not counted),
// then N rounds of a signed `/pam request`, an Approve click and a submitted request modal through
// the exported handler, each timed around the handler call alone (performance.now). The occurrence
// each request carries (trigger_id, response_url) is fetched from the world before its timing starts.
// Prints one line `@@warm <json>`: per kind, N and the p50, p99 and max in ms.
//
// Run by run.ts: `node --import tsx warm.ts <bundle URL> <export> <world control URL> <N> <secret file>`.
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { approveClickEvent, type Occurrence, pamRequestEvent, requestSubmissionEvent } from './events.ts';

const [moduleUrl = '', exportName = 'handler', controlUrl = '', countText = '500', secretFile = ''] =
  process.argv.slice(2);
const rounds = Number(countText);
const signingSecret = readFileSync(secretFile, 'utf8');

type Handler = (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
const handler = (await import(moduleUrl))[exportName] as Handler;
const context = {
  functionName: 'slack-ingress',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:slack-ingress`,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '512',
  awsRequestId: 'bench-warm',
  logGroupName: '/aws/lambda/slack-ingress',
  logStreamName: 'bench/warm',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
};

interface Kind {
  readonly name: string;
  readonly user: 'alice' | 'bob';
  readonly event: (occurrence: Occurrence, secret: string) => APIGatewayProxyEvent;
  /** What Slack must get back: 200 and nothing (the work was queued), or `clear` for the modal. */
  readonly expect: string;
}
const KINDS: readonly Kind[] = [
  {
    name: '`/pam request` (views.open + Slack work queue)',
    user: 'alice',
    event: pamRequestEvent,
    expect: '',
  },
  { name: 'Approve click (commands queue)', user: 'bob', event: approveClickEvent, expect: '' },
  {
    name: 'request modal submitted (checked, `create` to the commands queue)',
    user: 'alice',
    event: requestSubmissionEvent,
    expect: '{"response_action":"clear"}',
  },
];

async function occurrence(user: string): Promise<Occurrence> {
  const response = await fetch(`${controlUrl}/occurrence`, {
    method: 'POST',
    body: JSON.stringify({ user }),
  });
  if (!response.ok) throw new Error(`world: ${response.status} ${await response.text()}`);
  return (await response.json()) as Occurrence;
}

/** One request, timed around the handler call only. */
async function handle(kind: Kind): Promise<number> {
  const event = kind.event(await occurrence(kind.user), signingSecret);
  const started = performance.now();
  const answer = await handler(event, context);
  const ms = performance.now() - started;
  if (answer.statusCode !== 200 || answer.body !== kind.expect)
    throw new Error(`${kind.name}: answered ${answer.statusCode} ${answer.body.slice(0, 300)}`);
  return ms;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;

for (const kind of KINDS) await handle(kind);
const samples = new Map(KINDS.map((kind) => [kind, [] as number[]]));
for (let round = 0; round < rounds; round++) {
  for (const kind of KINDS) samples.get(kind)?.push(await handle(kind));
}
const figures = KINDS.map((kind) => {
  const sorted = [...(samples.get(kind) ?? [])].sort((a, b) => a - b);
  return {
    name: kind.name,
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
  };
});
process.stdout.write(`\n@@warm ${JSON.stringify(figures)}\n`);
