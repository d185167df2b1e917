// One line of the stratum protocol <-> a typed message. Pure: no I/O, no clocks except the
// receive time a caller may pass in. Every line from the network is untrusted, so every parse
// returns a value (a message or a typed error with a short reason) and never throws.
import type { Job } from '../miner/job.js';
import { createJob } from '../miner/job.js';
import { U256_MAX, strip0x } from '../hex.js';
import { heightProblem } from '../native/limits.js';
import { cleanText, clipText } from '../control-chars.js';
import { MAX_QUOTED_CHARS } from '../log/untrusted.js';

export type JsonRpcId = number | string | null;

export interface RpcError {
  code: number;
  /** Already clipped and stripped of control characters: safe to log. */
  message: string;
}

/** mining.notify, validated. `params` had 4 entries (with height) or 3 (the older form, no height). */
export interface NotifyMessage {
  kind: 'notify';
  id: JsonRpcId | undefined;
  paramCount: 3 | 4;
  job: Job;
}

/** A reply to one of our requests; what `result` means depends on the request (see interpret*). */
export interface ResponseMessage {
  kind: 'response';
  id: JsonRpcId;
  result: unknown;
  error: RpcError | undefined;
}

/** Any other request or notification (the test node receives subscribe/submit this way). */
export interface RequestMessage {
  kind: 'request';
  id: JsonRpcId | undefined;
  method: string;
  params: unknown;
}

/** A line that is not a usable message. `method`/`id` are set when the line got that far. */
export interface InvalidLine {
  kind: 'invalid';
  reason: string;
  method?: string;
  id?: JsonRpcId;
}

export type Message = NotifyMessage | ResponseMessage | RequestMessage;
export type ParsedLine = Message | InvalidLine;

export const NOTIFY_METHOD = 'mining.notify';
export const SUBSCRIBE_METHOD = 'mining.subscribe';
export const SUBMIT_METHOD = 'mining.submit';

/** Longest job id accepted, in hex digits; the node uses the 64-digit pow hash. */
const MAX_JOB_ID_DIGITS = 128;
const HEX_BODY = /^[0-9a-fA-F]+$/;
const DECIMAL = /^[0-9]+$/;

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parses one line (without its ending). `receivedAt` stamps a job (default performance.now()). */
export function parseLine(line: string, receivedAt?: number): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return invalid('not JSON');
  }
  if (value === null || typeof value !== 'object') return invalid(`not a JSON object (${jsonType(value)})`);
  if (Array.isArray(value)) return invalid('a JSON array, not an object (batches are not used)');
  return parseObject(value as Record<string, unknown>, receivedAt);
}

function parseObject(obj: Record<string, unknown>, receivedAt: number | undefined): ParsedLine {
  const id = obj['id'];
  if (id !== undefined && !isJsonRpcId(id)) return invalid(`bad id (${jsonType(id)})`);
  const method = obj['method'];
  if (method !== undefined) {
    if (typeof method !== 'string') return invalid(`method is not a string (${jsonType(method)})`, { id });
    if (method === NOTIFY_METHOD) return parseNotify(obj['params'], id, receivedAt ?? performance.now());
    return { kind: 'request', id, method, params: obj['params'] };
  }
  return parseResponse(obj, id);
}

function parseResponse(obj: Record<string, unknown>, id: JsonRpcId | undefined): ParsedLine {
  if (id === undefined) return invalid('neither a request (no method) nor a response (no id)');
  const hasResult = 'result' in obj;
  const rawError = obj['error'];
  // JSON-RPC 1.0 style replies carry `"error": null` next to the result.
  if (rawError !== undefined && rawError !== null) return { kind: 'response', id, result: obj['result'], error: parseRpcError(rawError) };
  if (!hasResult) return invalid('response without result or error', { id });
  return { kind: 'response', id, result: obj['result'], error: undefined };
}

/**
 * A malformed error object still answers the request (better than letting it time out), so it
 * becomes code 0 with a note rather than an invalid line.
 */
function parseRpcError(raw: unknown): RpcError {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { code: 0, message: typeof raw === 'string' ? clip(raw) : `malformed error (${jsonType(raw)})` };
  }
  const e = raw as Record<string, unknown>;
  const code = typeof e['code'] === 'number' && Number.isInteger(e['code']) ? e['code'] : 0;
  const message = typeof e['message'] === 'string' ? clip(e['message']) : 'no message';
  return { code, message };
}

function parseNotify(params: unknown, id: JsonRpcId | undefined, receivedAt: number): NotifyMessage | InvalidLine {
  const bad = (reason: string): InvalidLine => invalid(`mining.notify: ${reason}`, { id, method: NOTIFY_METHOD });
  if (!Array.isArray(params)) return bad(`params is not an array (${jsonType(params)})`);
  if (params.length !== 4 && params.length !== 3) return bad(`expected 4 params (or 3 without height), got ${params.length}`);
  const four = params.length === 4;
  const [rawJobId, rawHeight, rawPowHash, rawBoundary] = four
    ? params : [params[0], undefined, params[1], params[2]];

  const jobId = checkJobId(rawJobId);
  if (typeof jobId !== 'string') return bad(jobId.reason);
  let height: number | undefined;
  if (four) {
    const h = checkHeight(rawHeight);
    if (typeof h !== 'number') return bad(h.reason);
    height = h;
  }
  const powHash = checkPowHash(rawPowHash);
  if (!Buffer.isBuffer(powHash)) return bad(powHash.reason);
  const boundary = checkBoundary(rawBoundary);
  if (typeof boundary !== 'bigint') return bad(boundary.reason);

  const job = createJob({ jobId, height, powHash, boundary, receivedAt });
  return { kind: 'notify', id, paramCount: four ? 4 : 3, job };
}

interface FieldError { reason: string }

/** Strips an optional 0x/0X; undefined when the value is not a hex string at all. */
function hexBody(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const body = strip0x(value);
  return body.length > 0 && HEX_BODY.test(body) ? body : undefined;
}

function checkJobId(value: unknown): string | FieldError {
  const body = hexBody(value);
  if (body === undefined) return { reason: `job id is not hex (${describe(value)})` };
  if (body.length > MAX_JOB_ID_DIGITS) return { reason: `job id longer than ${MAX_JOB_ID_DIGITS} hex digits` };
  return `0x${body.toLowerCase()}`;
}

/** A decimal string (what the node sends) or a JSON number, within the one height rule (native/limits.ts). */
export function checkHeight(value: unknown): number | FieldError {
  let n: number;
  if (typeof value === 'string') {
    if (!DECIMAL.test(value)) return { reason: `height is not a decimal number (${describe(value)})` };
    n = Number(value); // leading zeros are harmless; a value past 2^53 is still past the limit
  } else if (typeof value === 'number') {
    n = value;
  } else {
    return { reason: `height is not a number (${describe(value)})` };
  }
  const problem = heightProblem(n);
  return problem === undefined ? n : { reason: `height ${problem} (${describe(value)})` };
}

function checkPowHash(value: unknown): Buffer | FieldError {
  const body = hexBody(value);
  if (body === undefined) return { reason: `pow hash is not hex (${describe(value)})` };
  if (body.length !== 64) return { reason: `pow hash must be 32 bytes (64 hex digits), got ${body.length} digits` };
  return Buffer.from(body, 'hex');
}

function checkBoundary(value: unknown): bigint | FieldError {
  const body = hexBody(value);
  if (body === undefined) return { reason: `boundary is not hex (${describe(value)})` };
  const digits = body.replace(/^0+/, '');
  if (digits.length === 0) return { reason: 'boundary is 0 (no nonce could ever be valid)' };
  if (digits.length > 64) return { reason: 'boundary is larger than 256 bits' };
  const boundary = BigInt(`0x${digits}`);
  return boundary <= U256_MAX ? boundary : { reason: 'boundary is larger than 256 bits' };
}

// ---------------------------------------------------------------------------------------------
// What a reply means

export type SubscribeOutcome =
  | { kind: 'subscribed' }
  | { kind: 'refused' }
  | { kind: 'error'; error: RpcError }
  | { kind: 'invalid'; reason: string };

/** `true`/`"true"` subscribed, `false`/`"false"` refused (the node's answer to a wrong password). */
export function interpretSubscribeReply(reply: ResponseMessage): SubscribeOutcome {
  if (reply.error) return { kind: 'error', error: reply.error };
  const r = reply.result;
  if (r === true || r === 'true') return { kind: 'subscribed' };
  if (r === false || r === 'false') return { kind: 'refused' };
  return { kind: 'invalid', reason: `subscribe result is neither true nor false (${describe(r)})` };
}

export type SubmitVerdict =
  | { kind: 'accepted' }
  | { kind: 'rejected'; reason: string | undefined }
  | { kind: 'error'; error: RpcError }
  | { kind: 'invalid'; reason: string };

/**
 * Accepted: `[true]`, `["true"]`, `true`, `"true"`. Rejected: `[false, reason]`, `[false]`,
 * `false`, `"false"` (and the design note's `["false", reason]`). Errors: JSON-RPC error objects.
 */
export function interpretSubmitReply(reply: ResponseMessage): SubmitVerdict {
  if (reply.error) return { kind: 'error', error: reply.error };
  const r = reply.result;
  const head: unknown = Array.isArray(r) ? r[0] : r;
  if (head === true || head === 'true') return { kind: 'accepted' };
  if (head === false || head === 'false') {
    const detail: unknown = Array.isArray(r) ? r[1] : undefined;
    return { kind: 'rejected', reason: rejectReason(detail) };
  }
  return { kind: 'invalid', reason: `submit result is neither accepted nor rejected (${describe(r)})` };
}

function rejectReason(detail: unknown): string | undefined {
  if (detail === undefined || detail === null) return undefined;
  if (typeof detail === 'string') return clip(detail);
  // Never JSON.stringify untrusted structures: deep nesting would overflow the stack.
  return typeof detail === 'number' || typeof detail === 'boolean' ? String(detail) : `(${jsonType(detail)})`;
}

// ---------------------------------------------------------------------------------------------
// Requests we send

/** `{"jsonrpc":"2.0","method":"mining.subscribe","params":[worker, password],"id":N}` (no newline). */
export function buildSubscribe(id: number, worker: string, password: string): string {
  return JSON.stringify({ jsonrpc: '2.0', method: SUBSCRIBE_METHOD, params: [worker, password], id });
}

/**
 * `mining.submit` with `[worker, "0x"+jobId, "0x"+nonce (no leading zeros), "0x"+powHash]`.
 * The nonce is a U256 on the wire; our search only produces 64-bit ones.
 */
export function buildSubmit(id: number, worker: string, jobId: string, nonce: bigint, powHash: Buffer): string {
  if (nonce < 0n || nonce > U256_MAX) throw new RangeError('nonce must fit in 256 bits');
  if (powHash.length !== 32) throw new RangeError('pow hash must be 32 bytes');
  const jobHex = strip0x(jobId);
  const params = [worker, `0x${jobHex.toLowerCase()}`, `0x${nonce.toString(16)}`, `0x${powHash.toString('hex')}`];
  return JSON.stringify({ jsonrpc: '2.0', method: SUBMIT_METHOD, params, id });
}

// ---------------------------------------------------------------------------------------------
// Helpers

function invalid(reason: string, extra: { id?: unknown; method?: string } = {}): InvalidLine {
  const out: InvalidLine = { kind: 'invalid', reason };
  if (extra.method !== undefined) out.method = extra.method;
  if (extra.id !== undefined && isJsonRpcId(extra.id)) out.id = extra.id;
  return out;
}

function isJsonRpcId(v: unknown): v is JsonRpcId {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** A short, log-safe picture of an untrusted value. */
function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(clip(v, 40));
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return jsonType(v);
}

/** A node's string, cleaned of control characters and clipped, so it cannot break a log line. */
export function clip(s: string, maxChars = MAX_QUOTED_CHARS): string {
  return clipText(cleanText(s), maxChars);
}
