// Structured log lines and EMF metrics for the one function whose cold start is on a user's clock:
// the Slack ingress answers Slack within 3 s, from a cold start, and its issue budgets that start at
// 2.5× a bare `node -e 0` (bench/slack-ingress). Powertools Logger and Metrics with middy are ~40 KB
// of its bundle and, with the Console each builds, ~8 ms of its cold start (measured there); every
// other function keeps them (#runtime/powertools.ts).
//
// What this writes is what Powertools writes, so CloudWatch Logs Insights queries, the metric
// filters and the alarms read the ingress as they read every other function:
// - a log line is Powertools Logger's JSON — level, message, timestamp (ISO, UTC: Lambda reserves
//   TZ as `:UTC`, under which Powertools writes the same), service, cold_start, the
//   Lambda context's four keys, sampling_rate, xray_trace_id, then the line's own keys — INFO and
//   DEBUG on stdout, WARN and ERROR on stderr, below the level POWERTOOLS_LOG_LEVEL (or LOG_LEVEL)
//   sets, or Lambda's advanced logging control AWS_LAMBDA_LOG_LEVEL when that is stricter, nothing;
// - an invocation's metrics are one Embedded Metric Format line at its end (none when it recorded
//   none), namespace POWERTOOLS_METRICS_NAMESPACE, dimension `service`, a value or the list of values.
// test/unit/lean-telemetry.test.ts holds both against Powertools' own output for the same calls.
// Written with `process.stdout.write`, as Powertools' Console does: in the local runtime a function
// runs in a worker thread, whose stdout is a stream to the host, not file descriptor 1.

/** The part of Lambda's context a log line names. */
export interface LogContext {
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string | number;
  readonly awsRequestId: string;
}

export type LogAttributes = Readonly<Record<string, unknown>>;

/** Powertools' levels and their order. */
const LEVELS = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;
type Level = keyof typeof LEVELS;
/** Keys a line's own attributes may not overwrite (Powertools drops them too). */
const RESERVED_KEYS = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

function levelOf(value: string | undefined): Level | undefined {
  const upper = value?.trim().toUpperCase();
  return upper !== undefined && upper in LEVELS ? (upper as Level) : undefined;
}

/** The trace id in `_X_AMZN_TRACE_ID` (`Root=1-…;Parent=…;Sampled=1`), as Powertools reads it. */
function traceIdOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const root = header.split(';').find((part) => part.startsWith('Root='));
  return root ? root.slice('Root='.length) : undefined;
}

export class LeanLogger {
  private readonly env: NodeJS.ProcessEnv;
  private readonly threshold: number;
  private readonly service: string;
  private context: LogContext | undefined;
  private coldStart = false;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.env = env;
    const configured = levelOf(env.POWERTOOLS_LOG_LEVEL) ?? levelOf(env.LOG_LEVEL) ?? 'INFO';
    // Lambda's advanced logging controls drop anything below their level: logging it is waste.
    const lambda = levelOf(env.AWS_LAMBDA_LOG_LEVEL);
    this.threshold = Math.max(LEVELS[configured], lambda ? LEVELS[lambda] : 0);
    this.service = env.POWERTOOLS_SERVICE_NAME || 'service_undefined';
  }

  /** The invocation's context: its keys go on every line until the next one. */
  setContext(context: LogContext, coldStart: boolean): void {
    this.context = context;
    this.coldStart = coldStart;
  }

  debug(message: string, attributes: LogAttributes = {}): void {
    this.write('DEBUG', message, attributes);
  }

  info(message: string, attributes: LogAttributes = {}): void {
    this.write('INFO', message, attributes);
  }

  warn(message: string, attributes: LogAttributes = {}): void {
    this.write('WARN', message, attributes);
  }

  error(message: string, attributes: LogAttributes = {}): void {
    this.write('ERROR', message, attributes);
  }

  private write(level: Level, message: string, attributes: LogAttributes): void {
    if (LEVELS[level] < this.threshold) return;
    const context = this.context;
    const item: Record<string, unknown> = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.service,
      cold_start: context === undefined ? undefined : this.coldStart,
      function_arn: context?.invokedFunctionArn,
      function_memory_size: context?.memoryLimitInMB,
      function_name: context?.functionName,
      function_request_id: context?.awsRequestId,
      sampling_rate: 0,
      xray_trace_id: traceIdOf(this.env._X_AMZN_TRACE_ID),
    };
    for (const key of Object.keys(attributes)) if (!RESERVED_KEYS.has(key)) item[key] = attributes[key];
    // Powertools leaves out what has no value.
    for (const key of Object.keys(item))
      if (item[key] === undefined || item[key] === null || item[key] === '') delete item[key];
    (LEVELS[level] >= LEVELS.WARN ? process.stderr : process.stdout).write(`${JSON.stringify(item)}\n`);
  }
}

/** Counts only: the ingress counts refusals. */
export type MetricUnitCount = 'Count';

export class LeanMetrics {
  private readonly namespace: string;
  private readonly service: string;
  private readonly stored = new Map<string, number[]>();

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.namespace = env.POWERTOOLS_METRICS_NAMESPACE || 'CloudPam';
    this.service = env.POWERTOOLS_SERVICE_NAME || 'service_undefined';
  }

  addMetric(name: string, _unit: MetricUnitCount, value: number): void {
    const values = this.stored.get(name);
    if (values) values.push(value);
    else this.stored.set(name, [value]);
  }

  /** One EMF line with what was recorded since the last flush, if anything was. */
  flush(): void {
    if (this.stored.size === 0) return;
    const values: Record<string, number | number[]> = {};
    for (const [name, recorded] of this.stored)
      values[name] = recorded.length === 1 ? (recorded[0] as number) : recorded;
    const line = JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: this.namespace,
            Dimensions: [['service']],
            Metrics: [...this.stored.keys()].map((Name) => ({ Name, Unit: 'Count' })),
          },
        ],
      },
      service: this.service,
      ...values,
    });
    this.stored.clear();
    process.stdout.write(`${line}\n`);
  }
}

/**
 * Wraps a handler as middy with injectLambdaContext and the metrics flush would: the context on the
 * logger for the invocation (cold_start true on the first of an on-demand environment), the metrics
 * written at its end whatever happens.
 */
export function withLeanTelemetry<E, R>(
  telemetry: { readonly logger: LeanLogger; readonly metrics: LeanMetrics },
  handler: (event: E) => Promise<R>,
  env: NodeJS.ProcessEnv = process.env,
): (event: E, context: LogContext) => Promise<R> {
  // Powertools' rule: only an on-demand environment has a cold start to report.
  let first = env.AWS_LAMBDA_INITIALIZATION_TYPE?.trim() === 'on-demand';
  return async (event, context) => {
    telemetry.logger.setContext(context, first);
    first = false;
    try {
      return await handler(event);
    } finally {
      telemetry.metrics.flush();
    }
  };
}
