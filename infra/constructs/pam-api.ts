// The cloud-pam REST API (REST, not HTTP API: only REST APIs can authorize IAM callers from other
// accounts and carry a resource policy). `/v1/{proxy+}` is SigV4-signed and admitted only for
// Identity Center sessions of the standing PamRequester permission set inside the organization;
// an explicit Deny keeps out everyone else, including same-account identities whose own IAM
// policies would otherwise suffice.
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

/** The permission set whose sessions may call `/v1` (its roles are `AWSReservedSSO_<name>_<hash>`). */
export const REQUESTER_PERMISSION_SET_NAME = 'PamRequester';
export const API_STAGE_NAME = 'prod';
/** Resource of every `/v1` route in an API Gateway resource policy. */
export const V1_POLICY_RESOURCE = 'execute-api:/*/*/v1/*';

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
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
}

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
      ],
    });

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
        throttlingRateLimit: props.throttlingRateLimit ?? 25,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 50,
      },
    });

    const v1 = this.api.root.addResource('v1');
    const proxy = v1.addProxy({
      anyMethod: true,
      defaultIntegration: new LambdaIntegration(props.handler, { proxy: true }),
    });

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'The Lambda proxy validates every request body, path and query with zod and answers 400 with a stable error code; a gateway model would be a second, drifting copy of that schema.',
    });
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every /v1 request must be SigV4-signed by a PamRequester Identity Center session of the organization (resource policy with explicit Deny) before it reaches the integration, and the stage is throttled; a WAF web ACL would add cost without narrowing who can call.',
    });
    Validations.of(proxy).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are IAM Identity Center users: the methods use AWS_IAM (SigV4) authorization and the resource policy, not a Cognito user pool.',
    });
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's logging role is an account-and-region singleton shared by every REST API there; AWS's managed AmazonAPIGatewayPushToCloudWatchLogs is the documented policy for it, and narrowing it would break other APIs' logs.",
      });
    }
  }

  /** ARN pattern for `execute-api:Invoke` on every `/v1` route of the deployed stage. */
  v1InvokeArn(): string {
    return this.api.arnForExecuteApi('*', '/v1/*', API_STAGE_NAME);
  }
}
