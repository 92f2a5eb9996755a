// shared/adapters/slack/inbound.ts: Slack's wire formats as the ingress reads them — the shapes
// Slack really sends (nulls, empty strings, org-wide installs), and clear refusals for the rest.
import { describe, expect, it } from 'vitest';
import { decodeForm, parseEvent, parseInteraction, parseSlashCommand } from '#adapters/slack/inbound.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const form = (fields: Record<string, string>) => bytes(new URLSearchParams(fields).toString());

const COMMAND = {
  team_id: 'T0EXAMPLE01',
  user_id: 'U0ALICE0001',
  command: '/pam',
  text: 'request',
  response_url: 'https://hooks.slack.com/commands/T0EXAMPLE01/1/abc',
  trigger_id: '1.2.abc',
};

describe('Slack inbound readers', () => {
  it('reads a slash command, dropping what it does not use (the legacy token included)', () => {
    // Act
    const parsed = parseSlashCommand(
      form({ ...COMMAND, token: 'legacy', enterprise_id: '', channel_id: 'C0X' }),
    );

    // Assess
    expect(parsed).toEqual({
      ok: true,
      value: {
        kind: 'command',
        teamId: 'T0EXAMPLE01',
        userId: 'U0ALICE0001',
        command: '/pam',
        text: 'request',
        responseUrl: 'https://hooks.slack.com/commands/T0EXAMPLE01/1/abc',
        triggerId: '1.2.abc',
        channelId: 'C0X',
        isEnterpriseInstall: false,
      },
    });
  });

  it("answers Slack's certificate check as such", () => {
    // Act
    const parsed = parseSlashCommand(form({ ssl_check: '1', token: 'legacy' }));

    // Assess
    expect(parsed).toEqual({ ok: true, value: { kind: 'ssl-check' } });
  });

  it.each<[string, Record<string, string>, string]>([
    ['a missing trigger_id', { trigger_id: '' }, 'command.trigger_id: expected a Slack trigger_id'],
    ['a team id that is not one', { team_id: 'not-a-team' }, 'command.team_id: expected a Slack team id'],
    ['a response_url that is not a URL', { response_url: 'javascript:alert(1)' }, 'command.response_url'],
    ['text over 4000 characters', { text: 'x'.repeat(4001) }, 'command.text'],
  ])('refuses a command with %s, naming the field', (_label, overrides, message) => {
    // Act
    const parsed = parseSlashCommand(form({ ...COMMAND, ...overrides }));

    // Assess
    expect(parsed.ok).toBe(false);
    expect(parsed.ok === false && parsed.message).toContain(message);
  });

  it('refuses a form field given twice (which one counts would be a guess)', () => {
    // Act
    const parsed = decodeForm('user_id=U0ALICE0001&user_id=U0BOB000001');

    // Assess
    expect(parsed).toEqual({ ok: false, message: 'form.user_id: given more than once' });
  });

  it("reads an org-wide install's click, whose team is null, from the user's workspace", () => {
    // Prepare
    const payload = {
      type: 'block_actions',
      user: { id: 'W0ORGUSER01', team_id: 'T0ORGWORK01' },
      team: null,
      enterprise: { id: 'E0EXAMPLE01', name: 'Example' },
      is_enterprise_install: true,
      trigger_id: '1.2.abc',
      response_url: null,
      actions: [
        { action_id: 'pam-approve', block_id: 'b', value: '01JNQ0000000000000000000AA', type: 'button' },
      ],
    };

    // Act
    const parsed = parseInteraction(form({ payload: JSON.stringify(payload) }));

    // Assess
    expect(parsed).toEqual({
      ok: true,
      value: {
        kind: 'block_actions',
        actor: {
          teamId: 'T0ORGWORK01',
          enterpriseId: 'E0EXAMPLE01',
          userId: 'W0ORGUSER01',
          userTeamId: 'T0ORGWORK01',
        },
        triggerId: '1.2.abc',
        actions: [{ actionId: 'pam-approve', blockId: 'b', value: '01JNQ0000000000000000000AA' }],
      },
    });
  });

  it('reads an empty text input (Slack sends null) as absent and a select as its option value', () => {
    // Prepare
    const payload = {
      type: 'view_submission',
      user: { id: 'U0ALICE0001', team_id: 'T0EXAMPLE01' },
      team: { id: 'T0EXAMPLE01' },
      trigger_id: '1.2.abc',
      view: {
        id: 'V0REQUEST01',
        callback_id: 'pam-request',
        private_metadata: '',
        state: {
          values: {
            reason: { reason: { type: 'plain_text_input', value: null } },
            target: {
              target: { type: 'static_select', selected_option: { value: 'read-only:111111111111' } },
            },
          },
        },
      },
    };

    // Act
    const parsed = parseInteraction(form({ payload: JSON.stringify(payload) }));

    // Assess
    expect(parsed.ok && parsed.value.kind === 'view_submission' && parsed.value.values).toEqual({
      reason: { reason: { type: 'plain_text_input' } },
      target: { target: { type: 'static_select', selected: 'read-only:111111111111' } },
    });
  });

  it('acknowledges interactions it does not act on by their type', () => {
    // Act
    const parsed = parseInteraction(form({ payload: JSON.stringify({ type: 'view_closed', whatever: 1 }) }));

    // Assess
    expect(parsed).toEqual({ ok: true, value: { kind: 'other', type: 'view_closed' } });
  });

  it('reads other events by their envelope alone', () => {
    // Prepare
    const body = {
      type: 'event_callback',
      team_id: 'T0EXAMPLE01',
      enterprise_id: null,
      event_id: 'Ev0OTHER001',
      event: { type: 'user_change', user: { id: 'U0ALICE0001', profile: {} } },
    };

    // Act
    const parsed = parseEvent(bytes(JSON.stringify(body)));

    // Assess
    expect(parsed).toEqual({
      ok: true,
      value: { kind: 'other_event', teamId: 'T0EXAMPLE01', eventId: 'Ev0OTHER001', eventType: 'user_change' },
    });
  });

  it('refuses a challenge it would have to echo with control characters', () => {
    // Act
    const parsed = parseEvent(bytes(JSON.stringify({ type: 'url_verification', challenge: 'a\nb' })));

    // Assess
    expect(parsed).toEqual({ ok: false, message: 'event.challenge: expected a challenge string' });
  });
});
