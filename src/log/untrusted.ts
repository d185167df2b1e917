// Text that came from outside (a node's reject reason, error message or bad line) before it
// joins a log line: control characters out (no terminal escapes or forged lines), length bounded,
// and a secret the node may echo back masked where it stands as a whole token. Text the miner
// writes itself never passes through here, so it can never be garbled by a short password.
import { cleanText, clipText } from '../control-chars.js';

/** The secrets of this process (the stratum password, the API token): two at most. */
const secrets = new Set<string>();

export function registerSecret(secret: string | undefined): void {
  if (secret) secrets.add(secret);
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
}

/** A node's text is quoted up to this many characters; a reason longer than this says nothing more. */
export const MAX_QUOTED_CHARS = 200;

/**
 * `secret` replaced by *** wherever it stands as a whole token: not preceded or followed by a
 * letter, a digit or `_`. A one-letter password leaves "cfx-miner" and "0x2c71" untouched.
 */
export function maskTokens(text: string, list: Iterable<string>): string {
  let out = text;
  // Longest first, so a secret that contains a shorter one is masked whole.
  for (const secret of [...list].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) {
    let from = 0;
    for (let at = out.indexOf(secret, from); at !== -1; at = out.indexOf(secret, from)) {
      const end = at + secret.length;
      if (!isWordChar(out[at - 1]) && !isWordChar(out[end])) {
        out = `${out.slice(0, at)}***${out.slice(end)}`;
        from = at + 3;
      } else {
        from = at + 1;
      }
    }
  }
  return out;
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[\p{L}\p{N}_]/u.test(c);
}

/** A node's text, safe to put in a log line. */
export function fromNode(text: string, maxChars = MAX_QUOTED_CHARS): string {
  return maskTokens(clipText(cleanText(text), maxChars), secrets);
}
