// The bundled config's text and its integrity (./bundled-config.ts adds the shape check every
// function but one runs at cold start). Builds no schema, so the Slack ingress — which loads the
// config without the shape check, see loadHashCheckedConfig — does not build the config's at its
// cold start.
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import type { PamConfig } from '#domain/model.ts';

// node:fs by process.getBuiltinModule, not `import`: an ESM import builds the module's namespace by
// reading every export, and fs's lazy getters (ReadStream, promises, …) load node:stream and
// fs/promises — ~4 ms of every cold start (bench/slack-ingress).
const { readFileSync } = process.getBuiltinModule('node:fs');

/**
 * The text synth bundles: the config as canonical JSON (RFC 8785, shared/domain/canonical-json.ts).
 * Written this way, the file without its `configHash` member *is* the text the hash was computed
 * over, so a cold start checks the hash over the file's bytes instead of re-serialising the parsed
 * config (for a 10,000-entitlement config: ~15 ms instead of ~170 ms; bench/cold-start).
 */
export function bundledConfigText(config: PamConfig): string {
  return canonicalJson(config);
}

/**
 * `,"configHash":"<64 hex>"` as canonical JSON writes the member: keys are sorted and `admins`
 * (always present) sorts before it, so it never opens the object.
 */
const HASH_MEMBER = /,"configHash":"([0-9a-f]{64})"/g;

/**
 * Whether `text` is canonical JSON whose hash member matches the rest of it, read from the text
 * alone. `false` means "not shown this way" (say, a file written by hand or pretty-printed): the
 * caller then checks the slow way, over the parsed config.
 */
export function hashMatchesCanonicalText(text: string): boolean {
  const members = [...text.matchAll(HASH_MEMBER)];
  const [member] = members;
  if (members.length !== 1 || member?.index === undefined) return false;
  const body = text.slice(0, member.index) + text.slice(member.index + member[0].length);
  // sha256(body) = configHash = sha256(canonicalJson(config without it)) only if body is exactly that
  // canonical text, so the parsed file is exactly the config synth validated, plus its hash.
  return sha256Hex(body.replace(/\n$/, '')) === member[1];
}

/** The bundled config file's text. */
export function readConfigFile(path: string): string {
  return readFileSync(path, 'utf8');
}

/**
 * The bundled config, checked for integrity only: its configHash member matches the rest of the
 * text, as in the file synth wrote (a changed byte, or a file edited or pretty-printed without its
 * hash recomputed, is refused), without building and running the config's zod schema (~3 ms). For
 * the Slack ingress alone: it has Slack's 3 s from a cold start, and it decides nothing — the
 * commands worker, which parses the same file with the schema, makes every check again at decision
 * time. Stricter than ./bundled-config.ts in one way: only the canonical text synth writes is
 * accepted, never a re-serialised match.
 */
export function loadHashCheckedConfig(path: string): PamConfig {
  const text = readConfigFile(path);
  if (!hashMatchesCanonicalText(text))
    throw new Error('bundled config: not the canonical text synth wrote, or configHash does not match it');
  return JSON.parse(text) as PamConfig;
}
