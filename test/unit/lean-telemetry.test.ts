// The Slack ingress's log lines and metrics (shared/runtime/lean-telemetry.ts) against Powertools'
// own: the same calls, the same environment and Lambda context, through Powertools Logger (with its
// context added per invocation, as injectLambdaContext does) and Metrics on one side and LeanLogger,
// LeanMetrics and withLeanTelemetry on the other. Every line is compared whole — keys, their order,
// values, and whether it went to stdout or stderr — except the clock's own timestamp. A Powertools
// upgrade that changes its format fails here, so the ingress follows or says why not.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeanLogger, LeanMetrics, withLeanTelemetry } from '#runtime/lean-telemetry.ts';
import {
  SLACK_SIGNATURE_REFUSED_METRIC as REFUSED,
  SLACK_USER_REFUSED_METRIC as USER_REFUSED,
} from '#runtime/metric-names.ts';

interface Written {
  readonly stream: 'stdout' | 'stderr';
  readonly line: Record<string, unknown>;
  readonly keys: string[];
}

let written: Written[] = [];

beforeEach(() => {
  written = [];
  for (const stream of ['stdout', 'stderr'] as const)
    vi.spyOn(process[stream], 'write').mockImplementation((chunk: unknown) => {
      for (const text of String(chunk).split('\n').filter(Boolean)) {
        const line = JSON.parse(text) as Record<string, unknown>;
        written.push({ stream, line, keys: Object.keys(line) });
      }
      return true;
    });
  // Lambda reserves TZ (`:UTC`); Powertools writes local offsets under any other.
  vi.stubEnv('TZ', 'UTC');
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'slack-ingress');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'CloudPam');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
  vi.stubEnv('POWERTOOLS_DEV', '');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', '');
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  vi.stubEnv(
    '_X_AMZN_TRACE_ID',
    'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  );
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function context(requestId: string): Context {
  return {
    functionName: 'CloudPam-HubService-SlackIngress',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:CloudPam-HubService-SlackIngress',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/CloudPam-HubService-SlackIngress',
    logStreamName: '2026/11/30/[$LATEST]0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 3000,
    done() {},
    fail() {},
    succeed() {},
  };
}

type Level = 'debug' | 'info' | 'warn' | 'error';
interface Call {
  readonly level: Level;
  readonly message: string;
  readonly attributes?: Record<string, unknown>;
}

/** What each side writes for the same invocations (each a list of calls); timestamps taken out. */
async function compare(
  invocations: readonly (readonly Call[])[],
): Promise<{ powertools: Written[]; lean: Written[] }> {
  const withoutClock = (all: Written[]) =>
    all.map(({ stream, line, keys }) => {
      const { timestamp, ...rest } = line;
      expect(timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      return { stream, line: rest, keys };
    });

  const logger = new Logger();
  for (const [i, calls] of invocations.entries()) {
    logger.addContext(context(`request-${i}`));
    for (const call of calls) logger[call.level](call.message, call.attributes ?? {});
  }
  const powertools = withoutClock(written);

  written = [];
  const lean = new LeanLogger();
  const handler = withLeanTelemetry(
    { logger: lean, metrics: new LeanMetrics() },
    async (calls: readonly Call[]) => {
      for (const call of calls) lean[call.level](call.message, call.attributes ?? {});
    },
  );
  for (const [i, calls] of invocations.entries()) await handler(calls, context(`request-${i}`));
  return { powertools, lean: withoutClock(written) };
}

describe('LeanLogger writes what Powertools Logger writes', () => {
  it.each<[string, Call]>([
    [
      'an info line with its keys',
      {
        level: 'info',
        message: 'Slack request accepted',
        attributes: { path: '/slack/commands', kind: 'command', n: 3 },
      },
    ],
    [
      'a warning, on stderr',
      {
        level: 'warn',
        message: 'Slack request refused: signature',
        attributes: { path: '/slack/events', reason: 'stale' },
      },
    ],
    [
      'an error, on stderr',
      {
        level: 'error',
        message: 'Slack request not taken',
        attributes: { step: 'send', name: 'AwsJsonCallError', httpStatusCode: 503 },
      },
    ],
    ['a line without keys', { level: 'info', message: 'plain' }],
    [
      'false, zero and nested values kept; empty, null and undefined left out',
      {
        level: 'info',
        message: 'values',
        attributes: {
          no: false,
          zero: 0,
          empty: '',
          nothing: null,
          missing: undefined,
          nested: { a: 1, b: ['x'] },
        },
      },
    ],
    [
      'a key that names a context field overrides it',
      { level: 'info', message: 'override', attributes: { function_name: 'mine' } },
    ],
    [
      'hostile text escaped as JSON',
      {
        level: 'warn',
        message: 'line\nbreak "quoted" \u0000 \ud800',
        attributes: { reason: '</script>\r\n\u2028' },
      },
    ],
  ])('%s', async (_what, call) => {
    // Act
    const { powertools, lean } = await compare([[call]]);

    // Assess
    expect(lean).toEqual(powertools);
    expect(lean).toHaveLength(1);
  });

  it('drops the keys Powertools reserves (level, message, sampling_rate, service, timestamp)', async () => {
    // Prepare
    const call: Call = {
      level: 'info',
      message: 'reserved',
      attributes: {
        level: 'ERROR',
        message: 'forged',
        sampling_rate: 1,
        service: 'other',
        timestamp: 'then',
        kept: 'yes',
      },
    };

    // Act
    const { powertools, lean } = await compare([[call]]);

    // Assess: Powertools also warns that it dropped them; the lines that carry the message agree.
    const theLine = (all: Written[]) => all.filter((w) => w.line.message === 'reserved');
    expect(theLine(lean)).toEqual(theLine(powertools));
    expect(theLine(lean)[0]?.line).toMatchObject({ level: 'INFO', service: 'slack-ingress', kept: 'yes' });
  });

  it('reports the cold start on the first invocation of an on-demand environment only', async () => {
    // Act
    const { powertools, lean } = await compare([
      [{ level: 'info', message: 'first' }],
      [{ level: 'info', message: 'second' }],
    ]);

    // Assess
    expect(lean).toEqual(powertools);
    expect(lean.map((w) => w.line.cold_start)).toEqual([true, false]);
    expect(lean.map((w) => w.line.function_request_id)).toEqual(['request-0', 'request-1']);
  });

  it('reports no cold start in an environment Lambda initialised for provisioned concurrency', async () => {
    // Prepare
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'provisioned-concurrency');

    // Act
    const { powertools, lean } = await compare([[{ level: 'info', message: 'first' }]]);

    // Assess
    expect(lean).toEqual(powertools);
    expect(lean[0]?.line.cold_start).toBe(false);
  });

  it('leaves out the trace id when Lambda set none', async () => {
    // Prepare
    vi.stubEnv('_X_AMZN_TRACE_ID', '');

    // Act
    const { powertools, lean } = await compare([[{ level: 'info', message: 'untraced' }]]);

    // Assess
    expect(lean).toEqual(powertools);
    expect(lean[0]?.keys).not.toContain('xray_trace_id');
  });

  it.each([
    ['POWERTOOLS_LOG_LEVEL=WARN', { POWERTOOLS_LOG_LEVEL: 'WARN' }, ['warn', 'error']],
    ['POWERTOOLS_LOG_LEVEL=DEBUG', { POWERTOOLS_LOG_LEVEL: 'DEBUG' }, ['debug', 'info', 'warn', 'error']],
    ['POWERTOOLS_LOG_LEVEL=SILENT', { POWERTOOLS_LOG_LEVEL: 'SILENT' }, []],
    ['no level set: INFO', { POWERTOOLS_LOG_LEVEL: '' }, ['info', 'warn', 'error']],
  ])('logs at and above the level %s', async (_what, env, expected) => {
    // Prepare
    for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
    const calls = (['debug', 'info', 'warn', 'error'] as const).map((level) => ({ level, message: level }));

    // Act
    const { powertools, lean } = await compare([calls]);

    // Assess
    expect(lean).toEqual(powertools);
    expect(lean.map((w) => w.line.message)).toEqual(expected);
  });

  it('writes nothing below the level of Lambda’s advanced logging controls when they are stricter', async () => {
    // Prepare: Powertools keeps its own level (and warns of the mismatch); Lambda drops what is
    // below its own, so what reaches CloudWatch is the same either way.
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'ERROR');
    const calls = (['info', 'warn', 'error'] as const).map((level) => ({ level, message: level }));

    // Act
    const lean = new LeanLogger();
    for (const call of calls) lean[call.level](call.message);

    // Assess
    expect(written.map((w) => w.line.message)).toEqual(['error']);
  });
});

describe('LeanMetrics writes what Powertools Metrics writes', () => {
  it.each<[string, [string, number][]]>([
    ['one count', [[REFUSED, 1]]],
    [
      'the same metric twice: a list of values',
      [
        [REFUSED, 1],
        [REFUSED, 1],
      ],
    ],
    [
      'two metrics in one line',
      [
        [REFUSED, 1],
        [USER_REFUSED, 1],
        [USER_REFUSED, 2],
      ],
    ],
  ])('%s', (_what, counts) => {
    // Prepare
    const withoutClock = () =>
      written.map(({ stream, line, keys }) => {
        const { _aws, ...rest } = line as { _aws: { Timestamp: number } & Record<string, unknown> };
        const { Timestamp, ...aws } = _aws;
        expect(Timestamp).toBeTypeOf('number');
        return { stream, line: { _aws: aws, ...rest }, keys };
      });

    // Act
    const metrics = new Metrics({ namespace: 'CloudPam' });
    for (const [name, value] of counts) metrics.addMetric(name, MetricUnit.Count, value);
    metrics.publishStoredMetrics();
    const powertools = withoutClock();
    written = [];
    const lean = new LeanMetrics();
    for (const [name, value] of counts) lean.addMetric(name, 'Count', value);
    lean.flush();

    // Assess
    expect(withoutClock()).toEqual(powertools);
    expect(powertools).toHaveLength(1);
  });

  it('writes no line for an invocation that counted nothing, and starts afresh after each line', async () => {
    // Prepare
    const metrics = new LeanMetrics();
    const handler = withLeanTelemetry({ logger: new LeanLogger(), metrics }, async (count: boolean) => {
      if (count) metrics.addMetric(REFUSED, 'Count', 1);
    });

    // Act
    await handler(false, context('request-0'));
    await handler(true, context('request-1'));
    await handler(false, context('request-2'));

    // Assess
    expect(written).toHaveLength(1);
    expect(written[0]?.line).toMatchObject({ service: 'slack-ingress', [REFUSED]: 1 });
  });

  it('writes the invocation’s metrics when its handler throws, and rethrows', async () => {
    // Prepare
    const metrics = new LeanMetrics();
    const handler = withLeanTelemetry({ logger: new LeanLogger(), metrics }, async () => {
      metrics.addMetric(REFUSED, 'Count', 1);
      throw new Error('boom');
    });

    // Act
    const outcome = handler(undefined, context('request-0'));

    // Assess
    await expect(outcome).rejects.toThrow('boom');
    expect(written.map((w) => w.line[REFUSED])).toEqual([1]);
  });
});
