// Text that goes into Slack. Slack parses `<…>` in mrkdwn (and in a message's top-level `text`) as
// mentions (`<@U123>`), pings (`<!channel>`) and links whose label can lie (`<https://evil|bank>`);
// Slack's documented escaping — `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;`, nothing else — makes all
// of them inert, so every piece of user text (reasons, tickets, comments, names, titles) passes
// through `escapeMrkdwn` before it meets the markup we write ourselves. Text is also cleaned:
// control characters can rewrite what a reader sees, and a lone surrogate is not valid UTF-8 (Slack
// would refuse or mangle the payload). `truncate` cuts to Block Kit's limits without leaving half a
// character, half an entity or half a `<…>` token of ours (a date, a link) behind.

const ELLIPSIS = '…';

function isRemovedControl(unit: number): boolean {
  // C0 except tab and newline, DEL, and C1: the same set shared/domain/text.ts refuses at the edges.
  return (unit <= 0x1f && unit !== 0x0a && unit !== 0x09) || (unit >= 0x7f && unit <= 0x9f);
}

/** Text without control characters (newline and tab kept) and with lone surrogates as U+FFFD. */
export function cleanText(text: string): string {
  let out = '';
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        index++; // a well-formed pair
        continue;
      }
      out += `${text.slice(start, index)}\ufffd`;
      start = index + 1;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      out += `${text.slice(start, index)}\ufffd`;
      start = index + 1;
    } else if (isRemovedControl(unit)) {
      out += text.slice(start, index);
      start = index + 1;
    }
  }
  return start === 0 ? text : out + text.slice(start);
}

/** User text made safe for mrkdwn: cleaned, then `&`, `<`, `>` escaped (Slack's documented set). */
export function escapeMrkdwn(text: string): string {
  return cleanText(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const ENTITY = /^&(?:amp|lt|gt|quot|#\d{1,7}|#x[0-9a-f]{1,6});/i;
/** The longest entity `ENTITY` matches (`&#x10ffff;`): how far back a cut may have landed inside one. */
const LONGEST_ENTITY = 10;
/**
 * The longest `<…>` token we write (a date with its fallback is ~80). A `<` further back is plain
 * text's own (truncate also cuts plain_text, where `<` is not escaped) and must not cost the rest.
 */
const LONGEST_TOKEN = 300;

/**
 * Where a cut at `end` should really happen so that `text.slice(0, cut)` holds no half of a
 * surrogate pair, of an entity, or of a `<…>` token.
 */
function safeCut(text: string, end: number): number {
  let cut = end;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  const amp = text.lastIndexOf('&', cut - 1);
  if (amp !== -1 && amp >= cut - LONGEST_ENTITY) {
    const entity = ENTITY.exec(text.slice(amp, amp + LONGEST_ENTITY));
    if (entity && amp + entity[0].length > cut) cut = amp;
  }
  // Every `<` left in escaped text opens a token we wrote (`<!date^…|…>`, a link): keep it whole or drop it.
  const open = text.lastIndexOf('<', cut - 1);
  if (open !== -1 && open >= cut - LONGEST_TOKEN && text.lastIndexOf('>', cut - 1) < open) {
    const close = text.indexOf('>', open);
    if (close === -1 || close >= cut) cut = open;
  }
  return cut;
}

/**
 * At most `max` UTF-16 code units (Slack counts characters; a code unit count is never lower), cut
 * with `…` when the text is longer. Never splits a surrogate pair, an entity (`&amp;`) or a `<…>`
 * token.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < 1) return '';
  const cut = safeCut(text, max - ELLIPSIS.length);
  return `${text.slice(0, cut)}${ELLIPSIS}`;
}
