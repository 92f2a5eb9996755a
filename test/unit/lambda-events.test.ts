// What a function reads from Lambda before any use case sees it (shared/adapters/lambda-events/):
// a queue record's body is JSON, clean text and its queue's schema, and every refusal is a
// ValidationError that names the field — never the bad text, never the parser's echo of the body;
// the reconciler's rule event gives the pass its id.
import { describe, expect, it } from 'vitest';
import { parseCommandMessage, parseProvisioningMessage } from '#adapters/lambda-events/queue-records.ts';
import { reconcilePassId } from '#adapters/lambda-events/reconcile-pass.ts';
import { ValidationError } from '#domain/errors.ts';
import { ACCOUNTS } from '../support/fakes.ts';
import { permissionSetArn } from '../support/grant-fakes.ts';

const tuple = { userId: 'u-1', accountId: ACCOUNTS.dev, permissionSetArn: permissionSetArn('read-only') };

function refusal(parse: () => unknown): ValidationError {
  try {
    parse();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('queue record bodies', () => {
  it('reads a well-formed provisioning message', () => {
    expect(parseProvisioningMessage(JSON.stringify({ op: 'check', tuple }))).toEqual({ op: 'check', tuple });
  });

  it.each([
    [
      'a body that is not JSON',
      '{"op":"check","tuple":',
      'message: Invalid input: expected object, received undefined',
    ],
    [
      'a lone surrogate, before the schema runs',
      '{"op":"check","tuple":{"userId":"u\\ud800","accountId":"1","permissionSetArn":"x"}}',
      'message.tuple.userId: not well-formed Unicode (lone surrogate U+D800)',
    ],
    [
      'a control character',
      JSON.stringify({ op: 'check', tuple: { ...tuple, userId: 'u\r1' } }),
      'message.tuple.userId: control character U+000D not allowed',
    ],
    [
      'fields the schema refuses, each named',
      JSON.stringify({ op: 'check', tuple: { ...tuple, accountId: '12', permissionSetArn: 'arn' } }),
      'message.tuple.accountId: expected a 12-digit AWS account id; message.tuple.permissionSetArn: expected a permission set ARN',
    ],
  ])('refuses %s, naming the field', (_, body, message) => {
    expect(refusal(() => parseProvisioningMessage(body)).message).toBe(message);
  });

  it('names a command’s fields under `command`', () => {
    const error = refusal(() => parseCommandMessage(JSON.stringify({ action: 'start', requestId: 'nope' })));

    expect(error.message).toMatch(/^command\.requestId: expected a ULID; command\.delivery: /);
  });

  it('never echoes the body it could not read', () => {
    const secret = 'hunter2-not-json';

    expect(refusal(() => parseCommandMessage(secret)).message).not.toContain(secret);
  });
});

describe('the reconciler’s rule event', () => {
  it('gives the pass the event’s id, and refuses anything else naming the field', () => {
    expect(reconcilePassId({ id: 'c0ffee-1', 'detail-type': 'Scheduled Event', source: 'aws.events' })).toBe(
      'c0ffee-1',
    );
    expect(refusal(() => reconcilePassId({ id: 'a b', 'detail-type': 'Scheduled Event' })).message).toBe(
      'event.id: expected an event id',
    );
    expect(refusal(() => reconcilePassId(undefined)).message).toMatch(/^event: /);
  });
});
