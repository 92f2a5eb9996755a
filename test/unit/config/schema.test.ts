import { describe, expect, it } from 'vitest';
import { validateConfigText } from '#config/load.ts';
import {
  backtrackingRisk,
  formatIsoDuration,
  formatPath,
  parseIsoDuration,
  ticketPatternProblem,
} from '#config/schema.ts';
import { yamlWith } from './config-fixture.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseIsoDuration', () => {
  it.each<[string, number]>([
    ['PT30M', 30 * MINUTE],
    ['PT1H', HOUR],
    ['P1D', DAY],
    ['P1DT12H', DAY + 12 * HOUR],
    ['PT1H30M15S', HOUR + 30 * MINUTE + 15_000],
    ['P2W', 14 * DAY],
    ['PT0S', 0],
  ])('reads %s', (text, ms) => {
    expect(parseIsoDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(['P1Y', 'P1M', 'P1Y2M', 'P1M1D'])('refuses %s: years and months have no fixed length', (text) => {
    const result = parseIsoDuration(text);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain('years and months have no fixed length');
  });

  it.each(['', 'P', 'PT', 'P1DT', '1H', 'PT1.5H', 'pt1h', 'PT-1H', 'P1H', 'PT1D', ' PT1H'])(
    'refuses %j',
    (text) => {
      expect(parseIsoDuration(text)).toEqual({
        ok: false,
        reason: 'expected an ISO-8601 duration such as PT30M, PT1H, P1D or P1DT12H',
      });
    },
  );

  it('refuses a duration too long to count in milliseconds', () => {
    expect(parseIsoDuration('P999999999999999D').ok).toBe(false);
  });

  it.each<[number, string]>([
    [HOUR, 'PT1H'],
    [DAY + 12 * HOUR, 'P1DT12H'],
    [30 * MINUTE, 'PT30M'],
    [0, 'PT0S'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatIsoDuration(ms)).toBe(text);
  });
});

describe('ticketPattern backtracking check', () => {
  it.each([
    ['(a+)+', 'contains a quantifier'],
    ['(a*)*', 'contains a quantifier'],
    ['^(a?a?)*$', 'contains a quantifier'],
    ['^(?:[A-Z]+-)+\\d$', 'contains a quantifier'],
    ['^(\\d{1,3}){3}$', 'contains a quantifier'],
    ['((ab)*)+', 'contains a quantifier'],
    ['(a|a)*', 'contains alternatives'],
    ['^(?:OPS|INC)+$', 'contains alternatives'],
    ['^(?<n>(x|y)){2,}$', 'contains alternatives'],
    ['(a)\\1', 'backreference'],
    ['(?<t>a)\\k<t>', 'named backreference'],
  ])('refuses %s', (pattern, reason) => {
    expect(backtrackingRisk(pattern)).toContain(reason);
    expect(ticketPatternProblem(pattern)).toMatch(
      /^expected a regular expression without catastrophic backtracking: /,
    );
  });

  it.each([
    '^OPS-[0-9]{1,6}$',
    '^[A-Z]{2,10}-\\d+$',
    '^(?:OPS|INC)-\\d{1,6}$',
    '^JIRA-\\d+(?:-[a-z]+)?$',
    '^(ab){3}$',
    '^[(]+[)]*$',
    '^\\(a+\\)+$',
    '^x{2}y{,3}$',
    '^(?=OPS)[A-Z]+-\\d+$',
  ])('accepts %s', (pattern) => {
    expect(backtrackingRisk(pattern)).toBeUndefined();
    expect(ticketPatternProblem(pattern)).toBeUndefined();
  });

  it('refuses a pattern that does not compile, naming the problem', () => {
    expect(ticketPatternProblem('^(OPS-')).toMatch(/^expected a valid regular expression \(.+\)$/);
  });

  it('reports ticketPattern problems at the field', () => {
    const result = validateConfigText(
      yamlWith((d) => {
        d.entitlements[1].ticketPattern = '^(a|a)*$';
      }),
    );
    expect(result.ok ? [] : result.issues).toEqual([
      'entitlements[1].ticketPattern: expected a regular expression without catastrophic backtracking: the repeated group (a|a)* contains alternatives; use a character class instead',
    ]);
  });
});

describe('formatPath', () => {
  it.each<[PropertyKey[], string]>([
    [['entitlements', 2, 'approval', 'required'], 'entitlements[2].approval.required'],
    [['entitlements', 2, 'target', 'accounts', 0], 'entitlements[2].target.accounts[0]'],
    [['identityCenter', 'groupIds', 'cloud ops'], 'identityCenter.groupIds["cloud ops"]'],
    [['identityCenter', 'groupIds', 'cloud-ops'], 'identityCenter.groupIds.cloud-ops'],
    [[], '(root)'],
  ])('%j → %s', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });
});
