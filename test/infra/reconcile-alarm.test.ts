// The alarm on a reconciler that keeps running out of time (infra/constructs/pam-alarms.ts): one
// pass now and then that leaves work is harmless, three in a row page someone.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { describe, it } from 'vitest';
import { RECONCILE_WORK_LEFT_METRIC } from '#runtime/metric-names.ts';
import { PamAlarms } from '../../infra/constructs/pam-alarms.ts';

describe('PamAlarms.watchReconcileWorkLeft', () => {
  it('alarms when every pass of three periods in a row left work, on the reconciler’s own metric', () => {
    // Prepare
    const stack = new Stack(new App(), 'Alarms');
    const alarms = new PamAlarms(stack, 'Alarms', { encryptionKey: new Key(stack, 'Key') });

    // Act
    alarms.watchReconcileWorkLeft(RECONCILE_WORK_LEFT_METRIC, 'reconcile');

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CloudPam',
      MetricName: RECONCILE_WORK_LEFT_METRIC,
      Dimensions: [{ Name: 'service', Value: 'reconcile' }],
      Period: 300,
      Statistic: 'Minimum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'notBreaching',
    });
  });
});
