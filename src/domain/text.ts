/**
 * Rules for text a client sends, whatever the field:
 * - no C0 control characters except tab, line feed and carriage return, no
 *   DEL, no C1 controls (a BEL in a name would reach calendar apps through
 *   X-WR-CALNAME);
 * - a name must show something: not only spaces, invisible format characters
 *   (zero-width space, joiners, bidi marks), fillers (U+3164, U+115F, U+2800)
 *   or combining marks.
 *
 *   textProblem('Dr Ada')           -> null
 *   textProblem('Bell\u0007')       -> 'must not contain control characters'
 *   nameProblem('\u200B\u200B')     -> 'must contain a visible character'
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;
const INVISIBLE = /[\p{White_Space}\p{Cf}\p{M}\u115F\u1160\u3164\uFFA0\u2800]/gu;

export function textProblem(value: string): string | null {
  return CONTROL.test(value) ? 'must not contain control characters' : null;
}

export function nameProblem(value: string): string | null {
  return textProblem(value) ?? (value.replace(INVISIBLE, '') === '' ? 'must contain a visible character' : null);
}
