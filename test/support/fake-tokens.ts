// Slack tokens for tests: made at run time, so no file holds a string that looks like a real
// credential (secret scanners flag `xoxb-…` literals), and each run's token is new.
import { randomBytes } from 'node:crypto';

/** A bot-token-shaped value (`xoxb-…`) no Slack workspace ever issued. */
export function fakeSlackBotToken(label: string): string {
  return ['xoxb', 'test', label, randomBytes(8).toString('hex')].join('-');
}
