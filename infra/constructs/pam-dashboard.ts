// One CloudWatch dashboard for the grant engine: what was granted, expired and revoked; whether
// revocations failed or drift appeared; how long provisioning takes; and whether work is piling up
// in the queues or has landed in a dead-letter queue. Custom metrics are found by SEARCH over the
// `service` dimension, one line per emitting function, so the graphs stay right whichever function
// emits them (alarms, which cannot SEARCH, name their emitters).
import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, MathExpression, TextWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GRANT_METRICS } from '#app/grants/deps.ts';
import { METRICS_NAMESPACE } from './pam-function.ts';

export interface PamDashboardProps {
  /** Work queues by label (depth and age of the oldest message). */
  readonly workQueues: Readonly<Record<string, IQueue>>;
  /** Dead-letter queues by label (messages visible). */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
}

const PERIOD = Duration.minutes(5);
const WIDTH = 8;

/** Every `service` series of a CloudPam metric, with `statistic`. */
export function searchPamMetric(metricName: string, statistic: string, label: string): MathExpression {
  return new MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},service} MetricName="${metricName}"', '${statistic}', ${PERIOD.toSeconds()})`,
    usingMetrics: {},
    // One series per emitting function: name each by its service (a CloudWatch dynamic label).
    label: `${label} \${PROP('Dim.service')}`,
    period: PERIOD,
  });
}

export class PamDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PamDashboardProps) {
    super(scope, id);
    const queueWidgets = Object.entries(props.workQueues).map(
      ([label, queue]) =>
        new GraphWidget({
          title: `${label} queue`,
          width: WIDTH,
          left: [
            queue.metricApproximateNumberOfMessagesVisible({
              period: PERIOD,
              statistic: 'Maximum',
              label: 'visible',
            }),
            queue.metricApproximateNumberOfMessagesNotVisible({
              period: PERIOD,
              statistic: 'Maximum',
              label: 'in flight',
            }),
          ],
          right: [
            queue.metricApproximateAgeOfOldestMessage({
              period: PERIOD,
              statistic: 'Maximum',
              label: 'oldest (s)',
            }),
          ],
        }),
    );
    const deadLetters = Object.entries(props.deadLetterQueues).map(([label, queue]) =>
      queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label }),
    );

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new TextWidget({
            markdown:
              '## cloud-pam grant engine\nGrants, revocation failures and drift (any revocation failure, drift or dead-lettered message also raises an alarm), provisioning latency, queues and dead-letter queues.',
            width: 24,
            height: 2,
          }),
        ],
        [
          new GraphWidget({
            title: 'Grants activated, expired, revoked',
            width: WIDTH,
            left: [
              searchPamMetric(GRANT_METRICS.grantActivated, 'Sum', 'activated'),
              searchPamMetric(GRANT_METRICS.grantExpired, 'Sum', 'expired'),
              searchPamMetric(GRANT_METRICS.grantRevoked, 'Sum', 'revoked'),
            ],
          }),
          new GraphWidget({
            title: 'Revocation failures and drift',
            width: WIDTH,
            left: [
              searchPamMetric(GRANT_METRICS.revocationFailed, 'Sum', 'revocation failed'),
              searchPamMetric(GRANT_METRICS.driftDetected, 'Sum', 'drift detected'),
            ],
          }),
          new GraphWidget({
            title: 'Provisioning latency (ms)',
            width: WIDTH,
            left: ['p50', 'p99', 'Maximum'].map((statistic) =>
              searchPamMetric(GRANT_METRICS.provisioningLatency, statistic, statistic),
            ),
          }),
        ],
        [
          ...queueWidgets,
          new GraphWidget({ title: 'Dead-letter queues (messages)', width: WIDTH, left: deadLetters }),
        ],
      ],
    });
  }
}
