// One set of Powertools singletons per function. `serviceName` comes from POWERTOOLS_SERVICE_NAME,
// which the CDK construct sets to the function's folder name.
//
// No Powertools Tracer: Lambda active tracing (PamFunction's `Tracing.ACTIVE`) records every
// invocation's segment — duration, cold start, errors and faults — without any SDK in the bundle.
// Tracer would add a subsegment per AWS SDK call, at the cost of aws-xray-sdk-core, semver and
// cls-hooked (~125 KB) in every bundle and their load in every cold start.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger();
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'CloudPam' });
