// slack-ingress as wired once, for its handler and its tests: the API Gateway proxy event (REST API,
// Lambda proxy integration) read into the body's bytes — base64-decoded when API Gateway encoded
// it, so the signature is checked over exactly what Slack sent — and handed to the ingress use case
// (shared/app/slack/ingress.ts). Its reports become log lines and the alarmed metrics. Ports in, no
// environment, no AWS clients.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { makeSlackIngress, type SlackIngressDeps } from '#app/slack/ingress.ts';
import { SlackApiError } from '#ports/slack.ts';
import { internalErrorSummary } from '#runtime/http.ts';
import type { LeanLogger, LeanMetrics } from '#runtime/lean-telemetry.ts';
import { SLACK_SIGNATURE_REFUSED_METRIC, SLACK_USER_REFUSED_METRIC } from '#runtime/metric-names.ts';

export type SlackIngressWiring = Omit<SlackIngressDeps, 'diagnostics'>;

/** Where the ingress reports: #runtime/lean-telemetry.ts, written as Powertools writes. */
export interface SlackIngressTelemetry {
  readonly logger: Pick<LeanLogger, 'info' | 'warn' | 'error'>;
  readonly metrics: Pick<LeanMetrics, 'addMetric'>;
}

/** The error's name (and Slack's code for a Slack call): an error's message may carry input. */
function failureSummary(error: unknown): Record<string, string | number> {
  if (error instanceof SlackApiError)
    return { ...internalErrorSummary(error), slackMethod: error.method, slackError: error.code };
  return internalErrorSummary(error);
}

/** The body's bytes as the caller sent them. */
export function rawBodyOf(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export function buildSlackIngress(deps: SlackIngressWiring, { logger, metrics }: SlackIngressTelemetry) {
  const handle = makeSlackIngress({
    ...deps,
    diagnostics: {
      signatureRefused({ path, reason }) {
        logger.warn('Slack request refused: signature', { path, reason });
        metrics.addMetric(SLACK_SIGNATURE_REFUSED_METRIC, 'Count', 1);
      },
      workspaceRefused(detail) {
        logger.warn('Slack request refused: workspace not allow-listed', { ...detail });
        metrics.addMetric(SLACK_USER_REFUSED_METRIC, 'Count', 1);
      },
      malformed({ path, message }) {
        logger.warn('Slack request refused: malformed', { path, message });
      },
      accepted(detail) {
        logger.info('Slack request accepted', { ...detail });
      },
      unavailable({ path, step, error }) {
        logger.error('Slack request not taken', { path, step, ...failureSummary(error) });
      },
    },
  });

  return async function slackIngress(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    try {
      const answer = await handle({
        // The resource, not the path: a custom domain's base path mapping prefixes the path.
        path: event.resource ?? event.path,
        headers: event.headers ?? {},
        rawBody: rawBodyOf(event),
      });
      return { statusCode: answer.statusCode, headers: { ...answer.headers }, body: answer.body };
    } catch (error) {
      logger.error('Slack request failed', failureSummary(error));
      return {
        statusCode: 500,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error' } }),
      };
    }
  };
}
