// EventBridge Scheduler as the grant engine uses it: the `cloud-pam` schedule group that holds every
// one-time schedule (expiry, deny-list removal, delayed starts), the role the schedules run as (it may
// only send to the two work queues and the schedules DLQ, and only schedules of this group may assume
// it), and that DLQ. Functions that create (or remove) schedules get exactly that, on this group's
// schedules.
import { Stack, Token, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { ENV, type EnvValues } from '#runtime/env-names.ts';
import { FailureQueue } from './failure-queue.ts';
import type { PamFunction } from './pam-function.ts';

export const SCHEDULE_GROUP_NAME = 'cloud-pam';

export interface GrantSchedulerProps {
  readonly encryptionKey: IKey;
}

export class GrantScheduler extends Construct {
  readonly group: CfnScheduleGroup;
  /** The role every schedule of the group runs as (`SCHEDULER_ROLE_ARN`). */
  readonly role: Role;
  /** Where Scheduler puts a schedule it could not deliver (`SCHEDULES_DLQ_ARN`). */
  readonly deadLetters: FailureQueue;
  readonly groupName = SCHEDULE_GROUP_NAME;

  constructor(scope: Construct, id: string, props: GrantSchedulerProps) {
    super(scope, id);
    const { account } = Stack.of(this);
    this.group = new CfnScheduleGroup(this, 'Group', { name: SCHEDULE_GROUP_NAME });
    this.role = new Role(this, 'Role', {
      description: 'cloud-pam schedules: deliver grant commands to the work queues',
      // Confused deputy: only schedules of this group in this account may assume it.
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': this.scheduleArnPattern() },
        },
      }),
    });
    this.deadLetters = new FailureQueue(this, 'DeadLetters', {
      encryptionKey: props.encryptionKey,
      sender: this.role,
      filledBy: 'EventBridge Scheduler, with the schedule role,',
    });
  }

  /** Every schedule of the group (schedule names are chosen at run time: `expire-<requestId>-v2`). */
  scheduleArnPattern(): string {
    const { account, region, partition } = Stack.of(this);
    return `arn:${partition}:scheduler:${region}:${account}:schedule/${SCHEDULE_GROUP_NAME}/*`;
  }

  /** What the scheduler adapter reads (`SCHEDULER_GROUP_NAME`, `SCHEDULER_ROLE_ARN`, `SCHEDULES_DLQ_ARN`). */
  environment(): EnvValues {
    return {
      // The group's Ref is its name; referencing it orders the functions after the group.
      [ENV.SCHEDULER_GROUP_NAME]: this.group.ref,
      [ENV.SCHEDULER_ROLE_ARN]: this.role.roleArn,
      [ENV.SCHEDULES_DLQ_ARN]: this.deadLetters.queue.queueArn,
    };
  }

  /**
   * Create schedules of this group only (and, with `remove`, delete them), handing them the schedule
   * role and no other role, to no other service. Nothing reads a schedule back: creating one that
   * exists is a conflict the adapter treats as done.
   */
  allowScheduling(fn: PamFunction, { remove }: { readonly remove: boolean }): void {
    fn.addPermissions(
      new PolicyStatement({
        actions: ['scheduler:CreateSchedule', ...(remove ? ['scheduler:DeleteSchedule'] : [])],
        resources: [this.scheduleArnPattern()],
      }),
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    const { account, region } = Stack.of(this);
    // cdk-nag names unresolved pseudo parameters `<AWS::…>`; the hub stacks have a literal env.
    const nag = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);
    Validations.of(fn.permissions).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:${nag(region, 'Region')}:${nag(account, 'AccountId')}:schedule/${SCHEDULE_GROUP_NAME}/*]`,
      reason:
        'One-time schedules are named per grant and version at run time (expire-<requestId>-v<n>), so the grant is every schedule of the cloud-pam group, which holds only cloud-pam schedules; the schedule role they may pass can only send to cloud-pam queues.',
    });
  }
}
