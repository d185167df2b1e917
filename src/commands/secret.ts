// `cfx-miner secret`: the node's stratum_secret for a password. The node compares keccak-256 of
// the password string a miner sends with its configured secret, and OpenSSL 3.0 and Python's
// hashlib have no keccak-256 (their sha3-256 differs), so the miner makes the value itself.
import { describeControlChar } from '../control-chars.js';
import { UsageError } from '../errors.js';
import { keccak256 } from '../native/index.js';

/** A password, not a file: anything longer is a mistake (the wrong file piped in). */
export const MAX_PASSWORD_BYTES = 4096;

/** The part of process.stdin this command uses. */
export interface SecretInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export async function secretCommand(input: SecretInput, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const tty = input.isTTY === true && typeof input.setRawMode === 'function';
  const bytes = tty ? await readTyped(input, err) : stripOneNewline(await readAll(input));
  let password: string;
  try {
    password = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError('the password is not valid UTF-8; the node hashes the UTF-8 bytes of the string the miner sends');
  }
  checkPassword(password);
  const hex = keccak256(Buffer.from(password, 'utf8')).toString('hex');
  out.write(hex + '\n');
  if (tty) err.write(`put this in the node's configuration: stratum_secret = "${hex}"\n`);
  return 0;
}

/** Refuses what no miner should be given: an empty password, and one cfx-miner itself would refuse. */
function checkPassword(password: string): void {
  if (password === '') {
    throw new UsageError('the password is empty: its keccak-256 as stratum_secret would let in any miner that sends no password; choose a password');
  }
  const control = describeControlChar(password);
  if (control !== undefined) {
    // Named by code point only, never shown. The miner refuses such a password (config/load.ts),
    // so a secret made from it could never be matched by cfx-miner.
    throw new UsageError(`the password contains a control character (${control}); cfx-miner refuses such passwords, choose another`);
  }
}

/** One trailing newline (\n or \r\n) is how the line ended, not part of the password; only one. */
export function stripOneNewline(bytes: Buffer): Buffer {
  if (bytes.length >= 2 && bytes[bytes.length - 2] === 0x0d && bytes[bytes.length - 1] === 0x0a) return bytes.subarray(0, -2);
  if (bytes.length >= 1 && bytes[bytes.length - 1] === 0x0a) return bytes.subarray(0, -1);
  return bytes;
}

async function readAll(input: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    total += b.length;
    // Two more bytes for the newline that gets stripped.
    if (total > MAX_PASSWORD_BYTES + 2) throw new UsageError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes; pipe in the password, not a file`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** On a terminal: raw mode, so nothing typed is echoed; Enter ends, Backspace deletes, Ctrl-C aborts. */
function readTyped(input: SecretInput, err: NodeJS.WritableStream): Promise<Buffer> {
  // Raw mode before the prompt: whatever is typed once the prompt shows is never echoed.
  input.setRawMode!(true);
  input.resume();
  err.write('password (not shown): ');
  let typed = '';
  return new Promise((resolve, reject) => {
    const finish = (error?: Error): void => {
      input.removeListener('data', onData);
      input.setRawMode!(false);
      input.pause();
      err.write('\n');
      if (error) reject(error);
      else resolve(Buffer.from(typed, 'utf8'));
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += ch;
        if (Buffer.byteLength(typed) > MAX_PASSWORD_BYTES) return finish(new UsageError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`));
      }
    };
    input.on('data', onData);
  });
}
