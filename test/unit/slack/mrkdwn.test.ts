// Text that goes into Slack mrkdwn: escaped the way Slack documents (`&`, `<`, `>`), cleaned of
// control characters and lone surrogates, and cut without breaking a character, an entity or a
// `<…>` token of ours.
import { describe, expect, it } from 'vitest';
import { cleanText, escapeMrkdwn, truncate } from '#domain/mrkdwn.ts';

describe('escapeMrkdwn', () => {
  it('makes mentions, channel pings and forged links inert', () => {
    // Prepare
    const hostile = '<!channel> <https://evil|bank> & <@U123> <!subteam^S1|ops>';

    // Act
    const escaped = escapeMrkdwn(hostile);

    // Assess
    expect(escaped).toBe(
      '&lt;!channel&gt; &lt;https://evil|bank&gt; &amp; &lt;@U123&gt; &lt;!subteam^S1|ops&gt;',
    );
    expect(escaped).not.toMatch(/[<>]/);
  });

  it('escapes an ampersand first, so text that looks like an entity stays text', () => {
    expect(escapeMrkdwn('&lt;!here&gt;')).toBe('&amp;lt;!here&amp;gt;');
  });

  it('strips control characters but keeps newline and tab', () => {
    expect(escapeMrkdwn('a\u0000b\u0007c\rd\u001be\u007ff\u0085g\nh\ti')).toBe('abcdefg\nh\ti');
  });

  it('replaces a lone surrogate with U+FFFD and keeps a well-formed pair', () => {
    expect(escapeMrkdwn('x\ud800y\udc00z 😀')).toBe('x\ufffdy\ufffdz 😀');
    expect(cleanText('\ud83d')).toBe('\ufffd');
  });

  it('leaves ordinary text as it is', () => {
    expect(escapeMrkdwn('INC-42: *prod* db is slow — «ok» ✓')).toBe('INC-42: *prod* db is slow — «ok» ✓');
  });
});

describe('truncate', () => {
  it('leaves text that fits as it is', () => {
    expect(truncate('abc', 3)).toBe('abc');
  });

  it('cuts to at most max characters and says it did with an ellipsis', () => {
    const cut = truncate('abcdefghij', 5);

    expect(cut).toBe('abcd…');
    expect(cut.length).toBeLessThanOrEqual(5);
  });

  it.each([3, 4, 5, 6])('never splits a surrogate pair (max %i)', (max) => {
    const cut = truncate('ab😀😀😀😀', max);

    expect(cut.length).toBeLessThanOrEqual(max);
    expect(cleanText(cut)).toBe(cut);
  });

  it.each([2, 3, 4, 5, 6, 7, 8])('never splits an entity (max %i)', (max) => {
    const cut = truncate(escapeMrkdwn('a<b&c>'), max);

    expect(cut.length).toBeLessThanOrEqual(max);
    // What is left is whole entities only: unescaping it and escaping again gives it back.
    const body = cut.replace(/…$/, '');
    const unescaped = body.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
    expect(escapeMrkdwn(unescaped)).toBe(body);
  });

  it('never splits a <…> token', () => {
    const text = 'until <!date^1772442000^{date_short_pretty} {time}|2026-03-02 09:00 UTC> ok';

    const cut = truncate(text, 30);

    expect(cut).toBe('until …');
  });

  it('does not throw away plain text for a stray < far before the cut', () => {
    const text = `a < b ${'x'.repeat(1000)}`;

    expect(truncate(text, 500)).toHaveLength(500);
  });

  it('gives an empty string for a max below one', () => {
    expect(truncate('abc', 0)).toBe('');
  });
});
