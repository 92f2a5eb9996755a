// Operational alarms on one encrypted, TLS-only SNS topic: a message in any dead-letter queue, any
// Lambda error, any 5xx from the API, and the custom metrics that mean access outlived a decision or
// appeared without one. Every alarm is "> 0": in a PAM system each one deserves a look.
import { Duration, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GRANT_METRICS } from '#app/grants/deps.ts';
import {
  RECONCILE_WORK_LEFT_METRIC,
  REJECTION_AUDIT_FAILED_METRIC,
  UNPROVEN_ACCESS_METRIC,
} from '#runtime/metric-names.ts';
import { METRICS_NAMESPACE } from './pam-function.ts';

export interface PamAlarmsProps {
  readonly encryptionKey: IKey;
}

export class PamAlarms extends Construct {
  readonly topic: Topic;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: PamAlarmsProps) {
    super(scope, id);
    const { account, region, partition } = Stack.of(this);
    this.topic = new Topic(this, 'Topic', {
      displayName: 'cloud-pam alarms',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    // enforceSSL replaces SNS's default access policy, so CloudWatch alarms must be let in explicitly.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );
    this.action = new SnsAction(this.topic);
  }

  watchDeadLetterQueue(id: string, queue: IQueue): Alarm {
    return this.alarm(
      id,
      queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      'A message reached a dead-letter queue: a command or job failed every retry.',
    );
  }

  watchFunction(id: string, fn: IFunction): Alarm {
    return this.alarm(
      id,
      fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      'A cloud-pam function failed (uncaught error, timeout or crash).',
    );
  }

  watchApi(id: string, api: RestApi): Alarm {
    return this.alarm(
      id,
      api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      'The cloud-pam API answered with a 5xx.',
    );
  }

  /** A refused action that could not be audited (the refusal stood; the record is missing). */
  watchRejectionAudit(id: string, serviceName: string): Alarm {
    return this.alarm(
      id,
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: REJECTION_AUDIT_FAILED_METRIC,
        dimensionsMap: { service: serviceName },
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      'A refused action could not be written to the audit log.',
    );
  }

  /** Any datapoint > 0 of a custom CloudPam metric emitted by `serviceName`. */
  watchMetric(id: string, metricName: string, serviceName: string, description: string): Alarm {
    return this.alarm(
      id,
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: serviceName },
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      description,
    );
  }

  /** A revocation `serviceName` carried out failed: access may outlive the decision that ended it. */
  watchRevocationFailures(id: string, serviceName: string): Alarm {
    return this.watchMetric(
      id,
      GRANT_METRICS.revocationFailed,
      serviceName,
      'A revocation failed: access may outlive the decision that ended it. Check the function logs and the provisioning DLQ.',
    );
  }

  /** `serviceName` refused a record or message that claimed access its audit chain does not prove. */
  watchUnprovenAccess(id: string, serviceName: string): Alarm {
    return this.watchMetric(
      id,
      UNPROVEN_ACCESS_METRIC,
      serviceName,
      'A request record or a queue message claimed access its audit chain does not prove (a direct table write or a forged message?). It was refused; see the system audit chain (system.rejected).',
    );
  }

  /** Alarms when the metric's maximum over 5 minutes reaches `threshold` (a level, not a count). */
  watchLevel(
    id: string,
    metricName: string,
    serviceName: string,
    threshold: number,
    description: string,
  ): Alarm {
    return this.alarm(
      id,
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: serviceName },
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      description,
      { threshold, comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD },
    );
  }

  /**
   * The reconciler ran out of time with work left (`ReconcileWorkLeft` > 0) on `passes` passes in a
   * row (one pass per 5 minutes). Now and then is harmless — the next pass starts again from what
   * ends access — but pass after pass means expiry backstops and revocations may be waiting.
   */
  watchReconcileWorkLeft(id: string, serviceName: string, passes = 3): Alarm {
    return this.alarm(
      id,
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: RECONCILE_WORK_LEFT_METRIC,
        dimensionsMap: { service: serviceName },
        period: Duration.minutes(5),
        statistic: 'Minimum',
      }),
      `The reconciler stopped at its time budget with work left on ${passes} passes in a row: overdue grants, disabled users' access or deny restores may be waiting. See its log ("reconcile pass stopped at its time budget").`,
      {
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: passes,
      },
    );
  }

  private alarm(
    id: string,
    metric: IMetric,
    description: string,
    when: { threshold: number; comparisonOperator: ComparisonOperator; evaluationPeriods?: number } = {
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      metric,
      threshold: when.threshold,
      comparisonOperator: when.comparisonOperator,
      evaluationPeriods: when.evaluationPeriods ?? 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(this.action);
    return alarm;
  }
}
