// The cloud-pam REST API (REST, not HTTP API: only REST APIs can authorize IAM callers from other
// accounts and carry a resource policy). `/v1/{proxy+}` is SigV4-signed and admitted only for
// Identity Center sessions of the standing PamRequester permission set inside the organization;
// an explicit Deny keeps out everyone else, including same-account identities whose own IAM
// policies would otherwise suffice.
//
// Throttling. API Gateway keeps one token bucket per method of a stage; it cannot throttle per
// caller here (usage plans key on API keys, and an IAM-authorized API has no per-user plan). With
// every route behind the one `ANY /v1/{proxy+}` method, a single user's flood drained the bucket of
// everyone, and an admin's revoke got 429. So the narrowing actions — `POST /v1/requests/{id}/revoke`,
// `…/deny`, `…/cancel` — are methods of their own, with buckets a flood of other routes cannot
// touch, and every other route stays behind the catch-all with the stage-wide limits. API Gateway
// routes a request to the most specific resource that has its method and falls through to
// `{proxy+}` otherwise, so `/v1/requests` and `/v1/requests/{id}` (which exist only as parents)
// still reach the catch-all. Per-caller budgets live in the handler (shared/app/rate-limit.ts).
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { Effect, PolicyDocument, PolicyStatement, StarPrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { NARROWING_ACTIONS } from '#app/rate-limit.ts';

/** The permission set whose sessions may call `/v1` (its roles are `AWSReservedSSO_<name>_<hash>`). */
export const REQUESTER_PERMISSION_SET_NAME = 'PamRequester';
export const API_STAGE_NAME = 'prod';
/** Resource of every `/v1` route in an API Gateway resource policy. */
export const V1_POLICY_RESOURCE = 'execute-api:/*/*/v1/*';

/**
 * Every route but the narrowing ones, together: a person at the CLI makes a few calls a minute and
 * the whole organization a few a second; 25/s with a burst of 50 absorbs a team's busy minute and
 * bounds what a flood can cost (Lambda, Identity Store reads, DynamoDB writes).
 */
export const STAGE_THROTTLE = { rateLimit: 25, burstLimit: 50 } as const;
/**
 * Each narrowing method (revoke, deny, cancel), on its own bucket: twice the rest, because ending
 * access must never be the bottleneck — an incident script revoking every grant of a compromised
 * user runs at this rate, and a flood of creates or reads cannot take any of it.
 */
export const NARROWING_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/** Resource path of a narrowing action's method. */
export function narrowingPath(action: string): string {
  return `/v1/requests/{id}/${action}`;
}

export function requesterRoleArnPattern(partition = 'aws'): string {
  return `arn:${partition}:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_${REQUESTER_PERMISSION_SET_NAME}_*`;
}

export interface PamApiProps {
  /** Serves every `/v1/*` route (Lambda proxy integration). */
  readonly handler: IFunction;
  /** `aws:PrincipalOrgID` every caller must have. */
  readonly organizationId: string;
  /** Encrypts the access log group. */
  readonly encryptionKey: IKey;
  /** Every route but the narrowing ones (default STAGE_THROTTLE). */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Each narrowing method on its own (default NARROWING_THROTTLE). */
  readonly narrowingThrottle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Serves `POST /slack/{commands,interactions,events}` (the Slack bot's ingress), when there is one. */
  readonly slackHandler?: IFunction;
}

/** The Slack ingress's resources: slash commands, interactivity, the Events API. */
export const SLACK_PATHS = ['commands', 'interactions', 'events'] as const;
/** Resource of the Slack routes in an API Gateway resource policy. */
export const SLACK_POLICY_RESOURCE = 'execute-api:/*/POST/slack/*';

export class PamApi extends Construct {
  readonly api: RestApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: PamApiProps) {
    super(scope, id);
    const requesterArn = requesterRoleArnPattern();
    const invoke = {
      principals: [new StarPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: [V1_POLICY_RESOURCE],
    };
    const policy = new PolicyDocument({
      statements: [
        new PolicyStatement({
          sid: 'PamRequesterSessionsOfTheOrganization',
          ...invoke,
          conditions: {
            StringEquals: { 'aws:PrincipalOrgID': props.organizationId },
            ArnLike: { 'aws:PrincipalArn': requesterArn },
          },
        }),
        // Two Deny statements: conditions inside one statement are ANDed, and either mismatch must deny.
        new PolicyStatement({
          sid: 'DenyOutsideTheOrganization',
          effect: Effect.DENY,
          ...invoke,
          conditions: { StringNotEquals: { 'aws:PrincipalOrgID': props.organizationId } },
        }),
        new PolicyStatement({
          sid: 'DenyAnyoneButPamRequesterSessions',
          effect: Effect.DENY,
          ...invoke,
          conditions: { ArnNotLike: { 'aws:PrincipalArn': requesterArn } },
        }),
        // Slack cannot sign with SigV4 and calls from addresses it does not publish: the `/slack`
        // routes admit anyone, and the ingress admits only requests carrying Slack's signature
        // (HMAC of the raw body with the app's signing secret) from allow-listed workspaces.
        ...(props.slackHandler
          ? [
              new PolicyStatement({
                sid: 'SlackSignedRequests',
                principals: [new StarPrincipal()],
                actions: ['execute-api:Invoke'],
                resources: [SLACK_POLICY_RESOURCE],
              }),
            ]
          : []),
      ],
    });

    const stageThrottle = props.throttle ?? STAGE_THROTTLE;
    const narrowingThrottle = props.narrowingThrottle ?? NARROWING_THROTTLE;
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.api = new RestApi(this, 'Api', {
      restApiName: 'cloud-pam',
      description: 'cloud-pam: just-in-time access requests and decisions (/v1, SigV4)',
      endpointTypes: [EndpointType.REGIONAL],
      policy,
      // Access and execution logs need the account-level API Gateway logging role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: API_STAGE_NAME,
        tracingEnabled: true,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        // Errors only, never request or response bodies (dataTrace): bodies carry reasons and tickets.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: stageThrottle.rateLimit,
        throttlingBurstLimit: stageThrottle.burstLimit,
        // MethodSettings of their own override the stage-wide `/*/*` entry for these methods.
        methodOptions: Object.fromEntries(
          NARROWING_ACTIONS.map((action) => [
            `${narrowingPath(action)}/POST`,
            {
              throttlingRateLimit: narrowingThrottle.rateLimit,
              throttlingBurstLimit: narrowingThrottle.burstLimit,
            },
          ]),
        ),
      },
    });

    const integration = new LambdaIntegration(props.handler, { proxy: true });
    const v1 = this.api.root.addResource('v1');
    const proxy = v1.addProxy({ anyMethod: true, defaultIntegration: integration });
    const request = v1.addResource('requests').addResource('{id}');
    const narrowingMethods = NARROWING_ACTIONS.map((action) =>
      request.addResource(action).addMethod('POST', integration),
    );

    const slackMethods = props.slackHandler
      ? this.addSlackRoutes(new LambdaIntegration(props.slackHandler, { proxy: true }))
      : [];

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'The Lambda proxy validates every request body, path and query with zod and answers 400 with a stable error code; a gateway model would be a second, drifting copy of that schema.',
    });
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every /v1 request must be SigV4-signed by a PamRequester Identity Center session of the organization (resource policy with explicit Deny) before it reaches the integration, and each method is throttled (the narrowing ones on buckets of their own) and each caller held to a budget in the handler; a WAF web ACL would add cost without narrowing who can call.',
    });
    for (const method of [proxy, ...narrowingMethods]) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'Callers are IAM Identity Center users: the methods use AWS_IAM (SigV4) authorization and the resource policy, not a Cognito user pool.',
      });
    }
    for (const method of slackMethods) {
      for (const id of ['AwsSolutions-APIG4', 'AwsSolutions-COG4'])
        Validations.of(method).acknowledge({
          id,
          reason:
            "Slack calls these routes and cannot sign with SigV4 or hold a Cognito token: the slack-ingress function verifies Slack's request signature (HMAC-SHA256 of the raw body with the app's signing secret, timestamp within 5 minutes) before it reads anything, and admits only allow-listed workspaces.",
        });
    }
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's logging role is an account-and-region singleton shared by every REST API there; AWS's managed AmazonAPIGatewayPushToCloudWatchLogs is the documented policy for it, and narrowing it would break other APIs' logs.",
      });
    }
  }

  /** `POST /slack/<path>` for each Slack path, with no gateway authorization (see the policy). */
  private addSlackRoutes(integration: LambdaIntegration) {
    const slack = this.api.root.addResource('slack');
    return SLACK_PATHS.map((name) =>
      slack.addResource(name).addMethod('POST', integration, { authorizationType: AuthorizationType.NONE }),
    );
  }

  /** ARN pattern for `execute-api:Invoke` on every `/v1` route of the deployed stage. */
  v1InvokeArn(): string {
    return this.api.arnForExecuteApi('*', '/v1/*', API_STAGE_NAME);
  }
}
