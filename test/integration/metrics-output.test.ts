// What the functions write for metrics, run as deployed in-process (real handlers, their whole middy
// chain, on moto): an invocation that records no metric writes nothing for metrics — no EMF line and
// no "No application metrics to publish" warning, which CloudWatch Logs would bill on every such
// invocation and which buries the warnings that matter — while one that records metrics still
// writes them as one EMF line.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiEvent, createPamWorld, lambdaContext, type PamWorld } from '../support/pam-world.ts';
import { perFile } from '../support/per-file.ts';

type Handler = (event: unknown, context: typeof lambdaContext) => Promise<unknown>;

const EMPTY_METRICS_WARNING = 'No application metrics to publish';

const world = perFile<PamWorld>(createPamWorld, (w) => w.stop());
let handleApi: Handler;
let reconcile: Handler;

beforeAll(async () => {
  // The world turns metrics off for the other tests; here they are what is under test.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'CloudPam';
  handleApi = (await import('../../functions/handle-api/handler.ts')).handler as unknown as Handler;
  reconcile = (await import('../../functions/reconcile/handler.ts')).handler as unknown as Handler;
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Everything the function writes while `act` runs: stdout, stderr and the console's warnings. */
async function output(act: () => Promise<unknown>): Promise<{ result: unknown; lines: string[] }> {
  const lines: string[] = [];
  const record = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(record);
  vi.spyOn(process.stderr, 'write').mockImplementation(record);
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  try {
    return { result: await act(), lines };
  } finally {
    vi.restoreAllMocks();
  }
}

const emfLines = (lines: string[]) =>
  lines.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('metrics output', () => {
  it('writes nothing for metrics when an invocation records none', async () => {
    // Prepare: reading one's own requests records no metric
    const event = apiEvent(world.accountId, 'alice', 'GET', '/v1/requests');
    // Act
    const { result, lines } = await output(() => handleApi(event, lambdaContext));
    // Assess
    expect((result as APIGatewayProxyResult).statusCode).toBe(200);
    expect(lines.filter((line) => line.includes(EMPTY_METRICS_WARNING))).toEqual([]);
    expect(emfLines(lines)).toEqual([]);
  });

  it('writes nothing for metrics when an invocation fails before recording any', async () => {
    // Prepare: not the rule's scheduled event, refused before a pass starts
    const event = { 'detail-type': 'Something Else' };
    // Act
    const { result, lines } = await output(() =>
      reconcile(event, lambdaContext).catch((error: unknown) => error),
    );
    // Assess
    expect(result).toBeInstanceOf(Error);
    expect(lines.filter((line) => line.includes(EMPTY_METRICS_WARNING))).toEqual([]);
    expect(emfLines(lines)).toEqual([]);
  });

  it('still writes the metrics an invocation records as one EMF line', async () => {
    // Prepare: a reconcile pass always reports what it sent and left
    const event = { id: 'metrics-output-pass', 'detail-type': 'Scheduled Event', source: 'aws.events' };
    // Act
    const { lines } = await output(() => reconcile(event, lambdaContext));
    // Assess
    const emf = emfLines(lines);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ service: 'test', ReconcileMessagesSent: 0, RevokeNeeded: 0 });
    expect(JSON.stringify(emf[0])).toContain('"Namespace":"CloudPam"');
    expect(lines.filter((line) => line.includes(EMPTY_METRICS_WARNING))).toEqual([]);
  });
});
