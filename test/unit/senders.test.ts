// Which role may send which command (shared/app/senders.ts): the role id of the SenderId decides,
// never the session name the caller chose.
import { describe, expect, it } from 'vitest';
import { CommandMessageSchema } from '#app/commands.ts';
import {
  type CommandSenders,
  checkSender,
  MAY_SEND,
  parseCommandSenders,
  senderRoleId,
} from '#app/senders.ts';
import { ENV } from '#runtime/env-names.ts';

const SENDERS: CommandSenders = {
  ingress: ['AROAINGRESS000000001'],
  scheduler: ['AROASCHEDULER0000001'],
  'provision-access': ['AROAPROVISION0000001'],
  'react-to-change': ['AROAREACT00000000001'],
  reconcile: ['AROARECONCILE0000001'],
};

describe('checkSender', () => {
  it.each([
    ['approve', 'AROAINGRESS000000001:handle-api', 'ingress'],
    ['expire', 'AROASCHEDULER0000001:any-session', 'scheduler'],
    ['expire', 'AROARECONCILE0000001:reconcile', 'reconcile'],
    ['start', 'AROAREACT00000000001:react-to-change', 'react-to-change'],
    ['system-revoke', 'AROARECONCILE0000001:reconcile', 'reconcile'],
    ['assignment-succeeded', 'AROAPROVISION0000001:provision-access', 'provision-access'],
  ])('accepts %s from %s as %s', (action, senderId, as) => {
    expect(checkSender(action, senderId, SENDERS)).toEqual({ accepted: true, as });
  });

  it.each([
    ['approve', 'AROARECONCILE0000001:handle-api'],
    ['system-revoke', 'AROAINGRESS000000001:reconcile'],
    ['expire', 'AROAINGRESS000000001:scheduler'],
    ['assignment-succeeded', 'AROARECONCILE0000001:provision-access'],
    ['approve', 'AIDAIT2UOQQY3AUEKVGXU'],
    ['approve', 'AROAUNKNOWN000000001:handle-api'],
    ['approve', undefined],
    ['approve', 'AROAINGRESS000000001'],
    ['toString', 'AROAINGRESS000000001:handle-api'],
  ])('refuses %s from %s', (action, senderId) => {
    expect(checkSender(action, senderId, SENDERS).accepted).toBe(false);
  });

  it('names a sender for every command the queue schema accepts', () => {
    const actions = CommandMessageSchema.def.options.flatMap((option) => {
      const action = option.shape.action;
      return 'options' in action ? [...action.options] : [...action.def.values];
    });
    expect(Object.keys(MAY_SEND).sort()).toEqual([...actions].sort());
  });
});

describe('senderRoleId', () => {
  it('is the role id of an assumed-role SenderId and nothing else', () => {
    expect(senderRoleId('AROAABCDEFGHIJKLMNOP:session:with:colons')).toBe('AROAABCDEFGHIJKLMNOP');
    expect(senderRoleId('AIDAABCDEFGHIJKLMNOP')).toBeUndefined();
    expect(senderRoleId('123456789012')).toBeUndefined();
  });
});

describe('parseCommandSenders', () => {
  it('reads what the stack writes and refuses anything else', () => {
    expect(parseCommandSenders(JSON.stringify(SENDERS), ENV.COMMAND_SENDERS)).toEqual(SENDERS);
    expect(() => parseCommandSenders('{', ENV.COMMAND_SENDERS)).toThrow('COMMAND_SENDERS is not JSON');
    expect(() =>
      parseCommandSenders(JSON.stringify({ ...SENDERS, ingress: ['not-a-role'] }), ENV.COMMAND_SENDERS),
    ).toThrow(/COMMAND_SENDERS is invalid/);
    expect(() => parseCommandSenders(JSON.stringify({ ...SENDERS, extra: [] }), ENV.COMMAND_SENDERS)).toThrow(
      /COMMAND_SENDERS is invalid/,
    );
  });
});
