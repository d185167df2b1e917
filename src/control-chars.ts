// Control characters, defined once for everything that checks or cleans text: C0 (U+0000 to
// U+001F), DEL (U+007F) and C1 (U+0080 to U+009F). None belongs in a worker name, a password or
// a token (a newline ends a stratum line or breaks an Authorization header; an escape sequence
// repaints the operator's terminal), and none may reach a terminal from outside.

/** One control character, C0, DEL or C1. Not global: safe to use with test() from anywhere. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/;

const NAMES: Record<string, string> = {
  '\u0000': 'NUL', '\t': 'a tab', '\n': 'a newline', '\r': 'a carriage return', '\u001b': 'escape', '\u007f': 'DEL',
};

/** `'\n'` -> `'U+000A'`. */
export function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The first control character of `text`, described without quoting the text around it (which
 * may be a password): `'U+000A, a newline, at the end'`, `'U+001B, escape'`. undefined when
 * there is none.
 */
export function describeControlChar(text: string): string | undefined {
  const m = CONTROL_CHAR.exec(text);
  if (!m) return undefined;
  const ch = m[0];
  const name = NAMES[ch];
  const atEnd = m.index === text.length - 1 ? ', at the end' : '';
  return `${codePoint(ch)}${name ? `, ${name}` : ''}${atEnd}`;
}

/** Every control character replaced by `by(ch)`. */
export function replaceControlChars(text: string, by: (ch: string) => string): string {
  return text.replace(new RegExp(CONTROL_CHAR.source, 'g'), by);
}

/** Also not control characters, but line breaks to a JSON-lines or log reader: cleaned like them. */
const LINE_SEPARATORS = /[\u2028\u2029]/g;

/** A node's text made safe for one line: control characters and line separators become spaces. */
export function cleanText(text: string): string {
  return replaceControlChars(text, () => ' ').replace(LINE_SEPARATORS, ' ');
}

/**
 * The one way text from outside (a node, a flag, a config file) is shortened before a line quotes
 * it: past `maxChars` it ends in `...`, `maxChars` characters in all. User input is then quoted
 * with JSON.stringify, which shows a control character escaped; a node's text is cleaned first.
 */
export function clipText(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, maxChars - 3)}...` : text;
}
