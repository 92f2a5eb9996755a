// What handle-api logs of an internal error: its name and AWS request id, never its message (an SDK
// error's message can echo the caller's input, e.g. a DynamoDB ValidationException quoting a value).
import { describe, expect, it } from 'vitest';
import { internalErrorSummary } from '#runtime/http.ts';

describe('internalErrorSummary', () => {
  it('keeps the name and the AWS request id, and drops the message', () => {
    const error = Object.assign(
      new Error('One or more parameter values were invalid: reason "secret plan"'),
      {
        name: 'ValidationException',
        $metadata: { requestId: 'AWSREQ123', httpStatusCode: 400 },
      },
    );

    const summary = internalErrorSummary(error);

    expect(summary).toEqual({
      errorName: 'ValidationException',
      awsRequestId: 'AWSREQ123',
      httpStatusCode: 400,
    });
    expect(JSON.stringify(summary)).not.toContain('secret plan');
  });

  it('names what was thrown when it is not an Error', () => {
    expect(internalErrorSummary('a string')).toEqual({ errorName: 'string' });
  });
});
