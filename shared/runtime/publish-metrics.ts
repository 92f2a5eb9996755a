// The middy step that flushes an invocation's metrics — only when it recorded some. Powertools'
// own `logMetrics` calls `publishStoredMetrics()` after every invocation, which on an empty buffer
// writes "No application metrics to publish…" to stderr: most invocations record no metric, so that
// line would be most of what CloudWatch Logs bills for and would bury the warnings that matter.
// `hasStoredMetrics()` is Powertools' public way to ask first (aws-powertools/powertools-lambda-typescript#2036);
// a custom `logger` for Metrics would silence its other warnings too (a bad timestamp, no namespace).
// No ColdStart metric: Lambda's REPORT line already gives each cold start's init duration, and
// nothing alarms on it.
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';

export function publishMetrics(metrics: Metrics): MiddlewareObj {
  const flush = () => {
    if (metrics.hasStoredMetrics()) {
      metrics.publishStoredMetrics();
      return;
    }
    // What publishStoredMetrics would otherwise have reset for the next invocation.
    metrics.clearDimensions();
    metrics.clearMetadata();
  };
  return { after: flush, onError: flush };
}
