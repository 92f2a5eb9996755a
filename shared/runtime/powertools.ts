// One set of Powertools singletons per function. `serviceName` comes from POWERTOOLS_SERVICE_NAME,
// which the CDK construct sets to the function's folder name.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const logger = new Logger();
export const tracer = new Tracer();
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'CloudPam' });
