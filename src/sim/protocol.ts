/**
 * The simulation WebSocket protocol (ARCHITECTURE.md, "Simulation protocol"): one schema module,
 * versioned (`protocol: 1`), JSON text frames, every message has `protocol`, `type` and `id`.
 *
 * The bridge is the server and hands out tasks; workers (`partrm sim worker` for MuJoCo, `isaac/`
 * for Isaac Gym) dial in:
 *
 *     worker -> server   hello {token, worker: {name}, capabilities: {backends, maxParallel}}
 *     server -> worker   welcome {heartbeatMs, limits} | error {code, message, fatal}
 *     server -> worker   task {taskId, bundle: {files: [{path, data (base64), sha256?}]}, spec}
 *     worker -> server   progress {taskId, fraction, message}
 *     worker -> server   result {taskId, result} | task_failed {taskId, error, retryable}
 *     server -> worker   cancel {taskId, reason}
 *     either way         ping {time} / pong {replyTo, time}
 *
 * Everything here is pure: {@link parseMessage} turns a received frame into a typed message or a
 * {@link ProtocolError} (never throws), {@link serialiseMessage} does the reverse. The Python
 * mirror lives in `isaac/partrm_isaac/protocol.py`; keep the two in step.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { SimTaskResult, SimTaskSpec } from './task.js';

export const PROTOCOL_VERSION = 1 as const;

/** Size limits. Base64 grows data by 4/3, so a frame must be allowed to exceed the bundle. */
export interface ProtocolLimits {
  /** Largest frame accepted, in bytes (UTF-8). */
  maxFrameBytes: number;
  /** Largest bundle accepted: the sum of the decoded file sizes, in bytes. */
  maxBundleBytes: number;
  /** Most files in one bundle. */
  maxFiles: number;
}

export const DEFAULT_LIMITS: Readonly<ProtocolLimits> = Object.freeze({
  maxFrameBytes: 48 * 1024 * 1024,
  maxBundleBytes: 32 * 1024 * 1024,
  maxFiles: 4096,
});

/** Longest bundle path, in characters. */
export const MAX_PATH_CHARS = 512;
/** Longest free-text field (progress/error messages), in characters; longer text is rejected. */
export const MAX_TEXT_CHARS = 4096;

export const BACKENDS = ['mujoco', 'isaacgym'] as const;
export type SimBackendName = (typeof BACKENDS)[number];

/** Machine-readable error codes of `error` messages. */
export const ERROR_CODES = [
  'bad_json',
  'bad_message',
  'unsupported_protocol',
  'frame_too_large',
  'bundle_too_large',
  'bad_path',
  'unauthorized',
  'hello_required',
  'unexpected',
  'unknown_task',
  'server_closing',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A protocol violation: which message (when known) and what was expected. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The offending message's `id`, when it could be read. */
    readonly messageId?: string,
  ) {
    super(`SimProtocol: ${message}`);
    this.name = 'ProtocolError';
  }
}

/**
 * Why a bundle path is unacceptable, or null when it is fine. Paths are relative, use forward
 * slashes, and never leave the bundle: no leading `/`, no drive letter, no backslash, no empty,
 * `.` or `..` segment, no control characters, at most {@link MAX_PATH_CHARS} characters.
 */
export function bundlePathProblem(path: string): string | null {
  if (typeof path !== 'string') return 'is not a string';
  if (path.length === 0) return 'is empty';
  if (path.length > MAX_PATH_CHARS) return `is longer than ${MAX_PATH_CHARS} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains control characters';
  if (path.includes('\\')) return 'contains a backslash (use forward slashes)';
  if (path.startsWith('/')) return 'is absolute (bundle paths are relative)';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter (bundle paths are relative)';
  for (const seg of path.split('/')) {
    if (seg === '') return 'has an empty segment';
    if (seg === '.' || seg === '..') return `has a "${seg}" segment (bundle paths may not leave the bundle)`;
  }
  return null;
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decoded byte length of standard, padded base64 text, or null when the text is not base64. */
export function base64DecodedLength(text: string): number | null {
  if (text.length % 4 !== 0 || !BASE64_RE.test(text)) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - pad;
}

// ---------------------------------------------------------------------------------------------
// Schemas

const idSchema = z.string().min(1).max(128);
const textSchema = z.string().max(MAX_TEXT_CHARS);
const finite = z.number().finite();

const pathSchema = z.string().superRefine((p, ctx) => {
  const why = bundlePathProblem(p);
  if (why) ctx.addIssue({ code: 'custom', message: `bad path "${p.slice(0, 80)}": ${why}`, params: { code: 'bad_path' } });
});

export const bundleFileSchema = z.object({
  path: pathSchema,
  data: z.string().superRefine((d, ctx) => {
    if (base64DecodedLength(d) === null) ctx.addIssue({ code: 'custom', message: 'data is not standard padded base64' });
  }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits').optional(),
});
export type BundleFile = z.infer<typeof bundleFileSchema>;

export const bundleSchema = z.object({ files: z.array(bundleFileSchema).min(1) });
export type Bundle = z.infer<typeof bundleSchema>;

/** A policy travels as a JSON object; src/policy validates its own fields. */
const policySchema = z.record(z.string(), z.unknown());

/**
 * {@link SimTaskSpec} on the wire. Unknown fields are kept (loose) so a newer bridge can add task
 * options without the protocol dropping them silently.
 */
export const taskSpecSchema = z.looseObject({
  kind: z.enum(['evaluate', 'train']),
  urdf: pathSchema,
  joint: z.string().min(1).max(256),
  task: z.enum(['drawer', 'door']),
  policy: policySchema.optional(),
  trials: z.number().int().min(1).max(100_000).optional(),
  budget: z.looseObject({ iterations: z.number().int().min(1).max(100_000), population: z.number().int().min(1).max(100_000) }).optional(),
  seed: z.number().int().optional(),
});

/** {@link SimTaskResult} on the wire (loose, like the spec). */
export const taskResultSchema = z.looseObject({
  kind: z.enum(['evaluate', 'train']),
  successRate: finite.min(0).max(1),
  trials: z.number().int().min(0),
  finalStates: z.array(finite),
  policy: policySchema.optional(),
  trajectory: z.looseObject({ t: z.array(finite), joint: z.array(finite) }).optional(),
});

const base = { protocol: z.literal(PROTOCOL_VERSION), id: idSchema };

export const helloSchema = z.object({
  ...base,
  type: z.literal('hello'),
  token: z.string().max(1024),
  worker: z.object({ name: z.string().min(1).max(256) }),
  capabilities: z.object({
    backends: z.array(z.enum(BACKENDS)).min(1),
    maxParallel: z.number().int().min(1).max(1024),
  }),
});
export const welcomeSchema = z.object({
  ...base,
  type: z.literal('welcome'),
  replyTo: idSchema,
  server: z.string().max(256),
  heartbeatMs: z.number().int().min(1),
  limits: z.object({ maxFrameBytes: z.number().int().min(1), maxBundleBytes: z.number().int().min(1), maxFiles: z.number().int().min(1) }),
});
export const errorSchema = z.object({
  ...base,
  type: z.literal('error'),
  replyTo: idSchema.optional(),
  code: z.enum(ERROR_CODES),
  message: textSchema,
  /** The sender closes the connection after a fatal error. */
  fatal: z.boolean(),
});
export const taskSchema = z.object({
  ...base,
  type: z.literal('task'),
  taskId: idSchema,
  backend: z.enum(BACKENDS).optional(),
  bundle: bundleSchema,
  spec: taskSpecSchema,
});
export const progressSchema = z.object({
  ...base,
  type: z.literal('progress'),
  taskId: idSchema,
  fraction: finite.min(0).max(1),
  message: textSchema,
});
export const resultSchema = z.object({ ...base, type: z.literal('result'), taskId: idSchema, result: taskResultSchema });
export const taskFailedSchema = z.object({
  ...base,
  type: z.literal('task_failed'),
  taskId: idSchema,
  error: textSchema,
  /** True when another worker might succeed (e.g. the worker ran out of memory), false for task errors. */
  retryable: z.boolean(),
});
export const cancelSchema = z.object({ ...base, type: z.literal('cancel'), taskId: idSchema, reason: textSchema });
export const pingSchema = z.object({ ...base, type: z.literal('ping'), time: finite });
export const pongSchema = z.object({ ...base, type: z.literal('pong'), replyTo: idSchema, time: finite });

export const messageSchema = z.discriminatedUnion('type', [
  helloSchema,
  welcomeSchema,
  errorSchema,
  taskSchema,
  progressSchema,
  resultSchema,
  taskFailedSchema,
  cancelSchema,
  pingSchema,
  pongSchema,
]);

type Wire<T> = z.infer<T extends z.ZodType ? T : never>;
export type HelloMessage = Wire<typeof helloSchema>;
export type WelcomeMessage = Wire<typeof welcomeSchema>;
export type ErrorMessage = Wire<typeof errorSchema>;
/** The wire spec/result are the task module's types (plus any extra fields a newer peer sent). */
export type TaskMessage = Omit<Wire<typeof taskSchema>, 'spec'> & { spec: SimTaskSpec };
export type ProgressMessage = Wire<typeof progressSchema>;
export type ResultMessage = Omit<Wire<typeof resultSchema>, 'result'> & { result: SimTaskResult };
export type TaskFailedMessage = Wire<typeof taskFailedSchema>;
export type CancelMessage = Wire<typeof cancelSchema>;
export type PingMessage = Wire<typeof pingSchema>;
export type PongMessage = Wire<typeof pongSchema>;

export type SimMessage =
  | HelloMessage
  | WelcomeMessage
  | ErrorMessage
  | TaskMessage
  | ProgressMessage
  | ResultMessage
  | TaskFailedMessage
  | CancelMessage
  | PingMessage
  | PongMessage;
export type SimMessageType = SimMessage['type'];
export const MESSAGE_TYPES: readonly SimMessageType[] = ['hello', 'welcome', 'error', 'task', 'progress', 'result', 'task_failed', 'cancel', 'ping', 'pong'];

/** Messages only a server sends / only a worker sends (the other side rejects them as `unexpected`). */
export const SERVER_TO_WORKER: ReadonlySet<SimMessageType> = new Set(['welcome', 'error', 'task', 'cancel', 'ping', 'pong']);
export const WORKER_TO_SERVER: ReadonlySet<SimMessageType> = new Set(['hello', 'error', 'progress', 'result', 'task_failed', 'ping', 'pong']);

/** A message without the envelope fields that {@link makeMessage} fills in. */
export type MessageBody<T extends SimMessage = SimMessage> = T extends SimMessage ? Omit<T, 'protocol' | 'id'> & { id?: string } : never;

// ---------------------------------------------------------------------------------------------
// Parse / serialise

export type ParseResult = { ok: true; message: SimMessage } | { ok: false; error: ProtocolError };

/** UTF-8 byte length of a frame. */
export function frameBytes(frame: string | Uint8Array): number {
  return typeof frame === 'string' ? Buffer.byteLength(frame, 'utf8') : frame.byteLength;
}

function fail(code: ErrorCode, message: string, id?: string): ParseResult {
  return { ok: false, error: new ProtocolError(code, message, id) };
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('').replace(/^\./, '');
}

/**
 * Parses one received frame. Checks, in order: frame size, JSON, envelope (`protocol`, `type`,
 * `id`), the message's schema (path checks included), then bundle limits (file count, decoded
 * size, duplicate paths). Never throws.
 */
export function parseMessage(frame: string | Uint8Array, limits: ProtocolLimits = DEFAULT_LIMITS): ParseResult {
  const bytes = frameBytes(frame);
  if (bytes > limits.maxFrameBytes) return fail('frame_too_large', `frame of ${bytes} bytes exceeds the limit of ${limits.maxFrameBytes} bytes`);
  const text = typeof frame === 'string' ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return fail('bad_json', `frame is not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('bad_message', `message must be a JSON object, got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`);
  const obj = raw as Record<string, unknown>;
  const id = typeof obj.id === 'string' && obj.id.length > 0 && obj.id.length <= 128 ? obj.id : undefined;
  if (obj.protocol !== PROTOCOL_VERSION) {
    return fail('unsupported_protocol', `expected "protocol": ${PROTOCOL_VERSION}, got ${JSON.stringify(obj.protocol)?.slice(0, 40) ?? 'nothing'}`, id);
  }
  if (typeof obj.type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(obj.type)) {
    return fail('bad_message', `"type" must be one of ${MESSAGE_TYPES.join(', ')}, got ${JSON.stringify(obj.type)?.slice(0, 40) ?? 'nothing'}`, id);
  }
  if (obj.type === 'task') {
    const pre = checkBundleLimits(obj.bundle, limits);
    if (pre) return fail(pre.code, pre.message, id);
  }
  const parsed = messageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const badPath = parsed.error.issues.find((i) => i.code === 'custom' && (i.params as { code?: string } | undefined)?.code === 'bad_path');
    const shown = badPath ?? issue;
    const where = issuePath(shown.path);
    return fail(badPath ? 'bad_path' : 'bad_message', `${obj.type}${where ? `.${where}` : ''}: ${shown.message}`, id);
  }
  const message = parsed.data as SimMessage;
  if (message.type === 'task') {
    const seen = new Set<string>();
    for (const f of message.bundle.files) {
      if (seen.has(f.path)) return fail('bad_path', `task.bundle: duplicate path "${f.path}"`, id);
      seen.add(f.path);
    }
    if (!seen.has(message.spec.urdf)) return fail('bad_message', `task.spec.urdf "${message.spec.urdf}" is not in the bundle`, id);
  }
  return { ok: true, message };
}

/** Bundle size checks that run before the schema, so a huge bundle is refused cheaply. */
function checkBundleLimits(bundle: unknown, limits: ProtocolLimits): { code: ErrorCode; message: string } | null {
  if (typeof bundle !== 'object' || bundle === null) return null; // the schema reports it
  const files = (bundle as { files?: unknown }).files;
  if (!Array.isArray(files)) return null;
  if (files.length > limits.maxFiles) return { code: 'bundle_too_large', message: `task.bundle has ${files.length} files, the limit is ${limits.maxFiles}` };
  let total = 0;
  for (const f of files) {
    const data = (f as { data?: unknown } | null)?.data;
    if (typeof data === 'string') total += Math.floor((data.length * 3) / 4);
  }
  if (total > limits.maxBundleBytes) return { code: 'bundle_too_large', message: `task.bundle holds about ${total} bytes, the limit is ${limits.maxBundleBytes} bytes` };
  return null;
}

let idCounter = 0;
const idPrefix = Math.random().toString(36).slice(2, 8);
/** A fresh message id (unique within this process). */
export function nextId(prefix = 'm'): string {
  idCounter += 1;
  return `${prefix}-${idPrefix}-${idCounter}`;
}

/** Fills in `protocol` and `id`. */
export function makeMessage<T extends SimMessage>(body: MessageBody<T>): T {
  const { id, ...rest } = body as { id?: string } & Record<string, unknown>;
  return { protocol: PROTOCOL_VERSION, id: id ?? nextId(String(rest.type ?? 'm')), ...rest } as unknown as T;
}

/** One JSON text frame. Throws `SimProtocol:` when the message does not satisfy its own schema. */
export function serialiseMessage(message: SimMessage): string {
  const parsed = messageSchema.safeParse(message);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ProtocolError('bad_message', `refusing to send an invalid ${message.type}: ${issuePath(issue.path)}: ${issue.message}`, message.id);
  }
  return JSON.stringify(message);
}

/** An `error` message answering `replyTo` (when the offending message's id is known). */
export function errorMessage(code: ErrorCode, message: string, opts: { replyTo?: string; fatal?: boolean } = {}): ErrorMessage {
  const text = message.length > MAX_TEXT_CHARS ? `${message.slice(0, MAX_TEXT_CHARS - 3)}...` : message;
  return makeMessage<ErrorMessage>({ type: 'error', code, message: text, fatal: opts.fatal ?? false, ...(opts.replyTo ? { replyTo: opts.replyTo } : {}) });
}

/** Truncates free text to what the schema accepts. */
export function clampText(text: string): string {
  return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS - 3)}...` : text;
}

/** Constant-time token comparison (lengths may differ; the comparison time does not depend on where they differ). */
export function tokensEqual(given: string, expected: string): boolean {
  // Compare fixed-size digests so the length does not leak through timingSafeEqual's length check.
  const a = sha256Bytes(Buffer.from(given, 'utf8'));
  const b = sha256Bytes(Buffer.from(expected, 'utf8'));
  return timingSafeEqual(a, b) && given.length === expected.length;
}

function sha256Bytes(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Lowercase hex SHA-256 of some bytes (the bundle file checksum). */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
