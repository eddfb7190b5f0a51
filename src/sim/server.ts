/**
 * The bridge side of the simulation protocol: workers dial in, authenticate with a token, and take
 * tasks from a queue. More workers = more tasks in parallel; a worker that disconnects or misses
 * its heartbeat mid-task has its task re-queued for another worker (bounded attempts).
 *
 * Hostile or broken peers: every malformed message gets an `error` reply and is skipped (the
 * server keeps serving everyone else); peers that have not authenticated are closed on their
 * first bad message; frames over the size limit close the connection (WebSocket 1009).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { type BundleEntry, type CollectOptions, collectBundle, encodeBundle } from './bundle.js';
import {
  type Bundle,
  type CancelMessage,
  type ErrorCode,
  type PingMessage,
  type PongMessage,
  type ProtocolLimits,
  type SimBackendName,
  type SimMessage,
  type TaskMessage,
  type WelcomeMessage,
  DEFAULT_LIMITS,
  WORKER_TO_SERVER,
  errorMessage,
  makeMessage,
  parseMessage,
  serialiseMessage,
  taskSpecSchema,
  tokensEqual,
} from './protocol.js';
import type { SimProgress, SimTaskResult, SimTaskSpec } from './task.js';
import { CLOSE_CODES, type SimConnection, wsConnection } from './transport.js';

export type LogLevel = 'info' | 'warn' | 'error';
export type SimLogger = (level: LogLevel, message: string) => void;

export const stderrLogger: SimLogger = (level, message) => {
  process.stderr.write(`${new Date().toISOString()} ${level}: ${message}\n`);
};
export const silentLogger: SimLogger = () => {};

export class SimServerError extends Error {
  constructor(message: string) {
    super(`SimServer: ${message}`);
    this.name = 'SimServerError';
  }
}

export interface SimServerOptions {
  /** Shared secret every worker must present in its hello (required, non-empty). */
  token: string;
  /** Interface to bind; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** Port; 0 picks a free one. */
  port?: number;
  /** Name sent in `welcome`. */
  name?: string;
  limits?: Partial<ProtocolLimits>;
  /** The server pings each worker this often (ms). */
  heartbeatMs?: number;
  /** A worker silent for this long (ms) is considered dead and dropped. */
  heartbeatTimeoutMs?: number;
  /** A connection that has not said hello after this long (ms) is closed. */
  helloTimeoutMs?: number;
  /** How many times one task may be dispatched (first try + re-queues) before it fails. */
  maxAttempts?: number;
  /**
   * After a cancel, the task keeps its worker slot until the worker confirms (its `task_failed`)
   * or this long (ms) has passed, so a worker still winding down is not handed a new task.
   */
  cancelGraceMs?: number;
  log?: SimLogger;
}

export interface SubmitOptions {
  onProgress?: SimProgress;
  signal?: AbortSignal;
  /** Only workers with this backend take the task (default: any). */
  backend?: SimBackendName;
  /** Options for collecting files from a bundle directory. */
  collect?: CollectOptions;
  /** Files from elsewhere added to the bundle (e.g. {@link pandaBundleEntry} for Isaac Gym workers). */
  extra?: readonly BundleEntry[];
}

export interface SimServerStats {
  workers: number;
  queued: number;
  running: number;
  completed: number;
  failed: number;
  requeued: number;
  badMessages: number;
  rejectedConnections: number;
}

interface Peer {
  readonly key: number;
  readonly conn: SimConnection;
  authed: boolean;
  name: string;
  backends: Set<SimBackendName>;
  maxParallel: number;
  running: Map<string, Task>;
  /** Cancelled tasks still winding down on the worker (they occupy a slot until confirmed). */
  draining: Map<string, NodeJS.Timeout>;
  /** No new task before this time (ms since epoch): set after a retryable failure such as "busy". */
  coolUntil: number;
  lastSeen: number;
  lastAssigned: number;
  badMessages: number;
  helloTimer: NodeJS.Timeout | null;
  gone: boolean;
}

interface Task {
  readonly taskId: string;
  readonly bundle: Bundle;
  readonly spec: SimTaskSpec;
  readonly backend: SimBackendName | undefined;
  attempts: number;
  worker: Peer | null;
  /** Workers that dropped this task (avoided when another worker is free). */
  readonly dropped: Set<number>;
  readonly onProgress: SimProgress | undefined;
  readonly resolve: (r: SimTaskResult) => void;
  readonly reject: (e: Error) => void;
  settled: boolean;
  onAbort?: () => void;
  signal?: AbortSignal;
}

const LOG_FIRST_BAD = 5;

export class SimServer {
  readonly token: string;
  readonly host: string;
  readonly limits: ProtocolLimits;
  private readonly opts: Required<Pick<SimServerOptions, 'heartbeatMs' | 'heartbeatTimeoutMs' | 'helloTimeoutMs' | 'maxAttempts' | 'cancelGraceMs' | 'name'>>;
  private readonly log: SimLogger;
  private readonly peers = new Map<number, Peer>();
  private readonly queue: Task[] = [];
  private readonly tasks = new Map<string, Task>();
  private nextPeer = 1;
  private nextTask = 1;
  private assignClock = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private http: HttpServer | null = null;
  private wss: WebSocketServer | null = null;
  private port = 0;
  private closed = false;
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];
  private readonly counters = { completed: 0, failed: 0, requeued: 0, badMessages: 0, rejectedConnections: 0 };

  constructor(options: SimServerOptions) {
    if (typeof options.token !== 'string' || options.token.length === 0) throw new SimServerError('a non-empty token is required');
    this.token = options.token;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    const heartbeatMs = options.heartbeatMs ?? 5000;
    this.opts = {
      heartbeatMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? Math.max(6 * heartbeatMs, 30_000),
      helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
      maxAttempts: options.maxAttempts ?? 3,
      cancelGraceMs: options.cancelGraceMs ?? 30_000,
      name: options.name ?? 'partrm-bridge',
    };
    if (!(this.opts.maxAttempts >= 1)) throw new SimServerError(`maxAttempts must be >= 1, got ${this.opts.maxAttempts}`);
    this.log = options.log ?? stderrLogger;
    this.heartbeat = setInterval(() => this.beat(), Math.max(10, Math.min(heartbeatMs, this.opts.heartbeatTimeoutMs / 2)));
    this.heartbeat.unref();
  }

  /** Starts listening for workers (WebSocket on host:port). Resolves with the URL workers dial. */
  async listen(): Promise<string> {
    if (this.closed) throw new SimServerError('server is closed');
    if (this.http) return this.url;
    const http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' });
      res.end('partrm simulation server: connect with a WebSocket (partrm sim worker --connect ws://HOST:PORT --token T)\n');
    });
    const wss = new WebSocketServer({ server: http, maxPayload: this.limits.maxFrameBytes, perMessageDeflate: false });
    wss.on('connection', (ws, req) => {
      const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
      this.attach(wsConnection(ws, remote));
    });
    wss.on('error', (e) => this.log('error', `SimServer: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      http.once('error', (e: NodeJS.ErrnoException) => reject(new SimServerError(`cannot listen on ${this.host}:${this.port}: ${e.message}`)));
      http.listen(this.port, this.host, () => resolve());
    });
    this.http = http;
    this.wss = wss;
    this.port = (http.address() as AddressInfo).port;
    this.log('info', `SimServer: listening on ${this.url}`);
    return this.url;
  }

  /** The URL workers dial (after {@link listen}). */
  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `ws://${h}:${this.port}`;
  }

  get boundPort(): number {
    return this.port;
  }

  stats(): SimServerStats {
    let running = 0;
    for (const p of this.peers.values()) running += p.running.size;
    return { workers: this.authedCount(), queued: this.queue.length, running, ...this.counters };
  }

  /** Names of the authenticated workers. */
  workers(): string[] {
    return [...this.peers.values()].filter((p) => p.authed).map((p) => p.name);
  }

  /** Resolves once at least `n` workers are connected and authenticated. */
  waitForWorkers(n = 1): Promise<void> {
    if (this.authedCount() >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /**
   * Queues a task. `source` is a bundle root directory (the URDF `spec.urdf` and its meshes are
   * collected from it) or in-memory files. Resolves with the worker's result; rejects when the
   * task fails on a worker, exhausts its attempts, is aborted, or the server closes.
   */
  async submit(source: string | readonly BundleEntry[], spec: SimTaskSpec, opts: SubmitOptions = {}): Promise<SimTaskResult> {
    if (this.closed) throw new SimServerError('server is closed');
    const checked = taskSpecSchema.safeParse(spec);
    if (!checked.success) {
      const i = checked.error.issues[0]!;
      throw new SimServerError(`invalid task spec: ${i.path.join('.')}: ${i.message}`);
    }
    const collected = typeof source === 'string' ? await collectBundle(source, spec.urdf, { limits: this.limits, ...opts.collect }) : source;
    const entries = opts.extra?.length ? [...collected, ...opts.extra] : collected;
    if (!entries.some((e) => e.path === spec.urdf)) throw new SimServerError(`the bundle has no file "${spec.urdf}" (spec.urdf)`);
    const bundle = encodeBundle(entries, this.limits);
    if (opts.signal?.aborted) throw new SimServerError('task aborted before it was queued');
    return new Promise<SimTaskResult>((resolve, reject) => {
      const taskId = `t${this.nextTask++}-${randomBytes(3).toString('hex')}`;
      const task: Task = {
        taskId,
        bundle,
        spec,
        backend: opts.backend,
        attempts: 0,
        worker: null,
        dropped: new Set(),
        onProgress: opts.onProgress,
        resolve,
        reject,
        settled: false,
      };
      if (opts.signal) {
        task.signal = opts.signal;
        task.onAbort = () => this.abortTask(task);
        opts.signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.tasks.set(taskId, task);
      this.queue.push(task);
      this.dispatch();
      if (task.worker === null && !task.settled && this.authedCount() === 0) this.log('info', `SimServer: task ${taskId} queued; waiting for a worker to connect to ${this.url}`);
    });
  }

  /** Closes every connection, fails pending tasks, stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const t of [...this.tasks.values()]) this.settle(t, new SimServerError(`server closed before task ${t.taskId} finished`));
    for (const p of [...this.peers.values()]) {
      this.sendTo(p, errorMessage('server_closing', 'server is closing', { fatal: true }));
      p.conn.close(CLOSE_CODES.goingAway, 'server closing');
      this.dropPeer(p);
    }
    const wss = this.wss;
    const http = this.http;
    if (wss) {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
    if (http) {
      http.closeAllConnections?.();
      await new Promise<void>((r) => http.close(() => r()));
    }
  }

  /** Serves one connection (a dialled-in worker). Public so tests can inject in-memory transports. */
  attach(conn: SimConnection): void {
    if (this.closed) {
      conn.close(CLOSE_CODES.goingAway, 'server closing');
      return;
    }
    const peer: Peer = {
      key: this.nextPeer++,
      conn,
      authed: false,
      name: `unauthenticated@${conn.remote}`,
      backends: new Set(),
      maxParallel: 1,
      running: new Map(),
      draining: new Map(),
      coolUntil: 0,
      lastSeen: Date.now(),
      lastAssigned: 0,
      badMessages: 0,
      helloTimer: null,
      gone: false,
    };
    peer.helloTimer = setTimeout(() => {
      if (!peer.authed && !peer.gone) {
        this.counters.rejectedConnections += 1;
        this.log('warn', `SimServer: ${conn.remote} sent no hello within ${this.opts.helloTimeoutMs} ms; closing`);
        this.sendTo(peer, errorMessage('hello_required', `no hello within ${this.opts.helloTimeoutMs} ms`, { fatal: true }));
        conn.close(CLOSE_CODES.helloTimeout, 'hello timeout');
      }
    }, this.opts.helloTimeoutMs);
    peer.helloTimer.unref();
    this.peers.set(peer.key, peer);
    conn.onMessage((frame) => this.onFrame(peer, frame));
    conn.onClose((code, reason) => this.onPeerClosed(peer, code, reason));
  }

  // -------------------------------------------------------------------------------------------

  private authedCount(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.authed) n += 1;
    return n;
  }

  private sendTo(peer: Peer, message: SimMessage): void {
    if (peer.gone) return;
    peer.conn.send(serialiseMessage(message));
  }

  private reject(peer: Peer, code: ErrorCode, message: string, replyTo: string | undefined, fatal: boolean): void {
    peer.badMessages += 1;
    this.counters.badMessages += 1;
    if (peer.badMessages <= LOG_FIRST_BAD || peer.badMessages % 100 === 0) {
      this.log('warn', `SimServer: ${peer.name} (${peer.conn.remote}): ${code}: ${message}${fatal ? ' (closing)' : ' (skipped)'}${peer.badMessages > LOG_FIRST_BAD ? ` [${peer.badMessages} bad messages so far]` : ''}`);
    }
    this.sendTo(peer, errorMessage(code, message, { ...(replyTo ? { replyTo } : {}), fatal }));
    if (fatal) {
      peer.conn.close(code === 'unauthorized' ? CLOSE_CODES.unauthorized : code === 'frame_too_large' ? CLOSE_CODES.tooBig : CLOSE_CODES.badHello, code);
    }
  }

  private onFrame(peer: Peer, frame: string): void {
    if (peer.gone) return;
    peer.lastSeen = Date.now();
    const parsed = parseMessage(frame, this.limits);
    if (!parsed.ok) {
      const e = parsed.error;
      // Unauthenticated peers get no second chance; oversize frames are not read twice.
      this.reject(peer, e.code, e.message, e.messageId, !peer.authed || e.code === 'frame_too_large');
      return;
    }
    const msg = parsed.message;
    if (!peer.authed) {
      if (msg.type !== 'hello') {
        this.counters.rejectedConnections += 1;
        this.reject(peer, 'hello_required', `expected hello first, got ${msg.type}`, msg.id, true);
        return;
      }
      if (!tokensEqual(msg.token, this.token)) {
        this.counters.rejectedConnections += 1;
        this.reject(peer, 'unauthorized', `wrong token from worker "${msg.worker.name}"`, msg.id, true);
        return;
      }
      if (peer.helloTimer) clearTimeout(peer.helloTimer);
      peer.helloTimer = null;
      peer.authed = true;
      peer.name = msg.worker.name;
      peer.backends = new Set(msg.capabilities.backends);
      peer.maxParallel = msg.capabilities.maxParallel;
      this.sendTo(
        peer,
        makeMessage<WelcomeMessage>({ type: 'welcome', replyTo: msg.id, server: this.opts.name, heartbeatMs: this.opts.heartbeatMs, limits: { ...this.limits } }),
      );
      this.log('info', `SimServer: worker "${peer.name}" joined from ${peer.conn.remote} (${[...peer.backends].join(', ')}, up to ${peer.maxParallel} at once); ${this.authedCount()} connected`);
      for (const w of [...this.waiters]) {
        if (this.authedCount() >= w.n) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      this.dispatch();
      return;
    }
    if (!WORKER_TO_SERVER.has(msg.type) || msg.type === 'hello') {
      this.reject(peer, 'unexpected', `a worker may not send ${msg.type}${msg.type === 'hello' ? ' twice' : ''}`, msg.id, false);
      return;
    }
    switch (msg.type) {
      case 'ping':
        this.sendTo(peer, makeMessage<PongMessage>({ type: 'pong', replyTo: msg.id, time: Date.now() }));
        return;
      case 'pong':
        return;
      case 'error':
        this.log('warn', `SimServer: worker "${peer.name}" reports ${msg.code}: ${msg.message}`);
        return;
      case 'progress': {
        const task = this.runningTask(peer, msg.taskId, msg.id);
        if (!task) return;
        try {
          task.onProgress?.(msg.fraction, msg.message);
        } catch (e) {
          this.log('warn', `SimServer: progress callback of task ${task.taskId} threw: ${(e as Error).message}`);
        }
        return;
      }
      case 'result': {
        const task = this.runningTask(peer, msg.taskId, msg.id, true);
        if (!task) return;
        peer.running.delete(task.taskId);
        task.worker = null;
        if (msg.result.kind !== task.spec.kind) {
          this.reject(peer, 'bad_message', `result.kind "${msg.result.kind}" does not match the task's kind "${task.spec.kind}"`, msg.id, false);
          this.retryOrFail(task, `worker "${peer.name}" answered a ${task.spec.kind} task with a ${msg.result.kind} result`, true);
        } else {
          this.counters.completed += 1;
          this.settle(task, null, msg.result);
        }
        this.dispatch();
        return;
      }
      case 'task_failed': {
        const task = this.runningTask(peer, msg.taskId, msg.id, true);
        if (!task) return;
        peer.running.delete(task.taskId);
        task.worker = null;
        if (msg.retryable) {
          // e.g. "worker is busy": let other workers have it first, and this one a short break.
          task.dropped.add(peer.key);
          peer.coolUntil = Date.now() + 250;
          setTimeout(() => this.dispatch(), 260).unref();
        }
        this.retryOrFail(task, `failed on worker "${peer.name}": ${msg.error}`, msg.retryable);
        this.dispatch();
        return;
      }
      default:
        return;
    }
  }

  private runningTask(peer: Peer, taskId: string, msgId: string, final = false): Task | null {
    const task = peer.running.get(taskId);
    if (task) return task;
    const timer = peer.draining.get(taskId);
    if (timer) {
      // A cancelled task: its late progress is dropped; its final answer frees the slot.
      if (final) {
        clearTimeout(timer);
        peer.draining.delete(taskId);
        this.dispatch();
      }
      return null;
    }
    this.reject(peer, 'unknown_task', `task "${taskId.slice(0, 80)}" is not running on this worker`, msgId, false);
    return null;
  }

  private onPeerClosed(peer: Peer, code: number, reason: string): void {
    if (peer.gone) return;
    const tasks = [...peer.running.values()];
    this.dropPeer(peer);
    if (peer.authed) {
      this.log(tasks.length ? 'warn' : 'info', `SimServer: worker "${peer.name}" left (${code}${reason ? ` ${reason}` : ''})${tasks.length ? ` with ${tasks.length} task(s) running: ${tasks.map((t) => t.taskId).join(', ')}` : ''}; ${this.authedCount()} connected`);
    }
    for (const t of tasks) {
      t.worker = null;
      t.dropped.add(peer.key);
      this.retryOrFail(t, `worker "${peer.name}" disconnected (${code}${reason ? ` ${reason}` : ''})`, true);
    }
    this.dispatch();
  }

  private dropPeer(peer: Peer): void {
    peer.gone = true;
    if (peer.helloTimer) clearTimeout(peer.helloTimer);
    peer.helloTimer = null;
    this.peers.delete(peer.key);
    peer.running.clear();
    for (const t of peer.draining.values()) clearTimeout(t);
    peer.draining.clear();
  }

  private retryOrFail(task: Task, why: string, retryable: boolean): void {
    if (task.settled || this.closed) return;
    if (retryable && task.attempts < this.opts.maxAttempts) {
      this.counters.requeued += 1;
      this.log('warn', `SimServer: task ${task.taskId} ${why}; re-queued (attempt ${task.attempts + 1} of ${this.opts.maxAttempts} next)`);
      this.queue.unshift(task);
      return;
    }
    this.counters.failed += 1;
    const attempts = retryable ? ` after ${task.attempts} attempt(s)` : '';
    this.settle(task, new SimServerError(`task ${task.taskId} (${task.spec.kind} ${task.spec.urdf} joint ${task.spec.joint}) ${why}${attempts}`));
  }

  private settle(task: Task, error: Error | null, result?: SimTaskResult): void {
    if (task.settled) return;
    task.settled = true;
    this.tasks.delete(task.taskId);
    const qi = this.queue.indexOf(task);
    if (qi >= 0) this.queue.splice(qi, 1);
    if (task.worker) {
      task.worker.running.delete(task.taskId);
      task.worker = null;
    }
    if (task.signal && task.onAbort) task.signal.removeEventListener('abort', task.onAbort);
    if (this.tasks.size === 0) this.heartbeat?.unref();
    if (error) task.reject(error);
    else task.resolve(result!);
  }

  private abortTask(task: Task): void {
    if (task.settled) return;
    const worker = task.worker;
    if (worker) {
      this.sendTo(worker, makeMessage<CancelMessage>({ type: 'cancel', taskId: task.taskId, reason: 'aborted by the bridge' }));
      const id = task.taskId;
      const timer = setTimeout(() => {
        worker.draining.delete(id);
        this.dispatch();
      }, this.opts.cancelGraceMs);
      timer.unref();
      worker.draining.set(id, timer);
    }
    this.settle(task, new SimServerError(`task ${task.taskId} aborted`));
    this.dispatch();
  }

  /** Hands queued tasks to idle workers: least loaded first, then least recently used. */
  private dispatch(): void {
    if (this.closed) return;
    // Keep the process alive while tasks are pending (heartbeats must keep running); not otherwise.
    if (this.tasks.size > 0) this.heartbeat?.ref();
    else this.heartbeat?.unref();
    for (let i = 0; i < this.queue.length; ) {
      const task = this.queue[i]!;
      const peer = this.pickWorker(task);
      if (!peer) {
        i += 1;
        continue;
      }
      this.queue.splice(i, 1);
      task.attempts += 1;
      task.worker = peer;
      peer.running.set(task.taskId, task);
      peer.lastAssigned = ++this.assignClock;
      const msg = makeMessage<TaskMessage>({ type: 'task', taskId: task.taskId, bundle: task.bundle, spec: task.spec, ...(task.backend ? { backend: task.backend } : {}) });
      this.log('info', `SimServer: task ${task.taskId} (${task.spec.kind} ${task.spec.task} ${task.spec.urdf}) -> worker "${peer.name}" (attempt ${task.attempts})`);
      this.sendTo(peer, msg);
    }
  }

  private pickWorker(task: Task): Peer | null {
    let best: Peer | null = null;
    let bestScore: [number, number, number] = [Infinity, Infinity, Infinity];
    for (const p of this.peers.values()) {
      const busy = p.running.size + p.draining.size;
      if (!p.authed || p.gone || busy >= p.maxParallel || p.coolUntil > Date.now()) continue;
      if (task.backend && !p.backends.has(task.backend)) continue;
      const score: [number, number, number] = [task.dropped.has(p.key) ? 1 : 0, busy / p.maxParallel, p.lastAssigned];
      if (score[0] < bestScore[0] || (score[0] === bestScore[0] && (score[1] < bestScore[1] || (score[1] === bestScore[1] && score[2] < bestScore[2])))) {
        best = p;
        bestScore = score;
      }
    }
    return best;
  }

  private beat(): void {
    const now = Date.now();
    for (const p of [...this.peers.values()]) {
      if (!p.authed) continue;
      if (now - p.lastSeen > this.opts.heartbeatTimeoutMs) {
        this.log('warn', `SimServer: worker "${p.name}" silent for ${now - p.lastSeen} ms; dropping it`);
        p.conn.terminate();
        // terminate() reports the close asynchronously for ws; make sure tasks move on now.
        this.onPeerClosed(p, CLOSE_CODES.heartbeatTimeout, 'heartbeat timeout');
        continue;
      }
      this.sendTo(p, makeMessage<PingMessage>({ type: 'ping', time: now }));
    }
  }
}

/** A random token suitable for `--token` (URL-safe). */
export function randomToken(): string {
  return randomBytes(18).toString('base64url');
}

