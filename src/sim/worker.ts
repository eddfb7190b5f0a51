/**
 * A simulation worker: dials the bridge (`ws://HOST:PORT`), says hello with its token, takes tasks,
 * writes each bundle to a fresh temporary directory (paths checked), runs the task with its
 * executor (MuJoCo in-process by default), answers with progress and a result, cleans up, and
 * reconnects with exponential backoff when the connection drops. A wrong token is fatal (no retry).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBundle, writeBundle } from './bundle.js';
import {
  type HelloMessage,
  type PingMessage,
  type PongMessage,
  type ProgressMessage,
  type ProtocolLimits,
  type ResultMessage,
  type SimBackendName,
  type SimMessage,
  type TaskFailedMessage,
  type TaskMessage,
  DEFAULT_LIMITS,
  SERVER_TO_WORKER,
  clampText,
  errorMessage,
  makeMessage,
  parseMessage,
  serialiseMessage,
} from './protocol.js';
import { type SimLogger, stderrLogger } from './server.js';
import type { SimProgress, SimTaskResult, SimTaskSpec } from './task.js';
import { type SimConnection, dialWebSocket } from './transport.js';

/** Runs one task on a bundle already written to `bundleDir`. */
export type SimExecutor = (bundleDir: string, spec: SimTaskSpec, onProgress: SimProgress, signal: AbortSignal) => Promise<SimTaskResult>;

export class SimWorkerError extends Error {
  constructor(message: string) {
    super(`SimWorker: ${message}`);
    this.name = 'SimWorkerError';
  }
}

export interface SimWorkerOptions {
  /** `ws://HOST:PORT` of the bridge. */
  url: string;
  token: string;
  /** Default: `mujoco@<hostname>:<pid>`. */
  name?: string;
  /** Default: MuJoCo in-process (`runSimTaskLocal`). */
  executor?: SimExecutor;
  backends?: SimBackendName[];
  /** Tasks run at once (default 1). */
  maxParallel?: number;
  /** Default: a real WebSocket. Tests inject in-memory connections. */
  dial?: (url: string) => Promise<SimConnection>;
  limits?: Partial<ProtocolLimits>;
  /** Reconnect backoff: starts at initialMs, doubles up to maxMs; gives up after maxAttempts failed dials in a row (default: never). */
  reconnect?: { initialMs?: number; maxMs?: number; maxAttempts?: number };
  /** Where task directories are created (default: the OS temp dir). */
  tmpRoot?: string;
  /** Progress frames are sent at most this often (ms), plus the first and the last. */
  progressIntervalMs?: number;
  /** Drop the connection when the server has been silent this long (ms; default 3 heartbeats, >= 15 s). */
  silenceTimeoutMs?: number;
  log?: SimLogger;
}

export interface SimWorkerStats {
  connections: number;
  tasksDone: number;
  tasksFailed: number;
  tasksCancelled: number;
}

interface Running {
  controller: AbortController;
  promise: Promise<void>;
  /** The server cancelled it: confirm with task_failed once it has stopped (frees the slot there). */
  cancelledByServer: boolean;
}

export class SimWorker {
  readonly name: string;
  private readonly opts: SimWorkerOptions;
  private readonly limits: ProtocolLimits;
  private readonly log: SimLogger;
  private readonly executor: SimExecutor;
  private stopped = false;
  private conn: SimConnection | null = null;
  private readonly running = new Map<string, Running>();
  private wakeUp: (() => void) | null = null;
  private readonly counters: SimWorkerStats = { connections: 0, tasksDone: 0, tasksFailed: 0, tasksCancelled: 0 };
  private welcomed: Array<() => void> = [];

  constructor(options: SimWorkerOptions) {
    if (!/^wss?:\/\//.test(options.url)) throw new SimWorkerError(`--connect expects ws://HOST:PORT, got "${options.url}"`);
    if (!options.token) throw new SimWorkerError('a token is required (--token)');
    this.opts = options;
    this.name = options.name ?? `mujoco@${hostname()}:${process.pid}`;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.log = options.log ?? stderrLogger;
    this.executor =
      options.executor ??
      (async (dir, spec, onProgress, signal) => {
        const { runSimTaskLocal } = await import('./task.js');
        return runSimTaskLocal(dir, spec, onProgress, signal);
      });
  }

  stats(): SimWorkerStats {
    return { ...this.counters };
  }

  /** Resolves the next time the worker is welcomed by the server. */
  whenWelcomed(): Promise<void> {
    return new Promise((resolve) => this.welcomed.push(resolve));
  }

  /**
   * Connects and serves until {@link stop}. Rejects with {@link SimWorkerError} when the server
   * rejects the token, or when `reconnect.maxAttempts` dials in a row fail.
   */
  async run(): Promise<void> {
    const initial = this.opts.reconnect?.initialMs ?? 250;
    const max = this.opts.reconnect?.maxMs ?? 10_000;
    const maxAttempts = this.opts.reconnect?.maxAttempts ?? Infinity;
    let delay = initial;
    let failures = 0;
    const dial = this.opts.dial ?? ((url: string) => dialWebSocket(url, { maxPayload: this.limits.maxFrameBytes }));
    while (!this.stopped) {
      let conn: SimConnection;
      try {
        conn = await dial(this.opts.url);
      } catch (e) {
        failures += 1;
        if (failures >= maxAttempts) throw new SimWorkerError(`giving up after ${failures} failed connection attempts: ${(e as Error).message}`);
        this.log('warn', `SimWorker: ${(e as Error).message}; retrying in ${delay} ms`);
        await this.sleep(delay);
        delay = Math.min(max, delay * 2);
        continue;
      }
      if (this.stopped) {
        conn.close();
        break;
      }
      const outcome = await this.session(conn);
      if (outcome.fatal) throw new SimWorkerError(outcome.fatal);
      if (outcome.welcomed) {
        failures = 0;
        delay = initial;
      } else {
        failures += 1;
        if (failures >= maxAttempts) throw new SimWorkerError(`giving up after ${failures} failed sessions: ${outcome.why}`);
      }
      if (this.stopped) break;
      this.log('warn', `SimWorker: connection to ${this.opts.url} lost (${outcome.why}); reconnecting in ${delay} ms`);
      await this.sleep(delay);
      delay = Math.min(max, delay * 2);
    }
  }

  /** Stops: aborts running tasks, closes the connection, ends {@link run}. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const r of this.running.values()) r.controller.abort();
    this.conn?.close(1000, 'worker stopping');
    this.wakeUp?.();
    // Executors should honour the abort signal; do not wait forever for one that does not.
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => {
      timer = setTimeout(r, 5000);
      timer.unref();
    });
    await Promise.race([Promise.allSettled([...this.running.values()].map((r) => r.promise)), grace]);
    clearTimeout(timer);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private session(conn: SimConnection): Promise<{ welcomed: boolean; fatal?: string; why: string }> {
    this.conn = conn;
    this.counters.connections += 1;
    let welcomed = false;
    let fatal: string | undefined;
    let lastHeard = Date.now();
    let silenceLimit = this.opts.silenceTimeoutMs ?? 30_000;
    const send = (m: SimMessage) => conn.send(serialiseMessage(m));
    return new Promise((resolve) => {
      let lastTick = Date.now();
      const watchdog = setInterval(() => {
        const now = Date.now();
        // A task that blocks the event loop (synchronous simulation) delays this timer and the
        // reading of the socket alike: after such a stall, give queued frames a chance first.
        if (now - lastTick > 3000) lastHeard = now;
        lastTick = now;
        if (now - lastHeard > silenceLimit) {
          this.log('warn', `SimWorker: server silent for ${Date.now() - lastHeard} ms; dropping the connection`);
          conn.terminate();
        }
      }, 1000);
      watchdog.unref();
      conn.onClose((code, reason) => {
        clearInterval(watchdog);
        if (this.conn === conn) this.conn = null;
        // Results of running tasks can no longer be delivered: the server re-queues them.
        for (const r of this.running.values()) r.controller.abort();
        resolve({ welcomed, ...(fatal ? { fatal } : {}), why: `${code}${reason ? ` ${reason}` : ''}` });
      });
      conn.onMessage((frame) => {
        lastHeard = Date.now();
        const parsed = parseMessage(frame, this.limits);
        if (!parsed.ok) {
          this.log('warn', `SimWorker: skipped a bad message from the server: ${parsed.error.message}`);
          send(errorMessage(parsed.error.code, parsed.error.message, parsed.error.messageId ? { replyTo: parsed.error.messageId } : {}));
          return;
        }
        const msg = parsed.message;
        if (!SERVER_TO_WORKER.has(msg.type)) {
          send(errorMessage('unexpected', `a server may not send ${msg.type}`, { replyTo: msg.id }));
          return;
        }
        switch (msg.type) {
          case 'welcome':
            welcomed = true;
            silenceLimit = this.opts.silenceTimeoutMs ?? Math.max(3 * msg.heartbeatMs, 15_000);
            this.log('info', `SimWorker: "${this.name}" connected to ${msg.server} at ${this.opts.url}`);
            for (const w of this.welcomed.splice(0)) w();
            return;
          case 'error':
            if (msg.code === 'unauthorized' || msg.code === 'hello_required' || (!welcomed && msg.fatal)) fatal = `server refused this worker: ${msg.code}: ${msg.message}`;
            this.log(msg.code === 'server_closing' ? 'info' : msg.fatal ? 'error' : 'warn', `SimWorker: server says ${msg.code}: ${msg.message}`);
            return;
          case 'ping':
            send(makeMessage<PongMessage>({ type: 'pong', replyTo: msg.id, time: Date.now() }));
            return;
          case 'pong':
            return;
          case 'cancel': {
            const r = this.running.get(msg.taskId);
            if (r) {
              this.counters.tasksCancelled += 1;
              this.log('info', `SimWorker: task ${msg.taskId} cancelled (${msg.reason})`);
              r.cancelledByServer = true;
              r.controller.abort();
            }
            return;
          }
          case 'task':
            if (!welcomed) {
              send(errorMessage('unexpected', 'task before welcome', { replyTo: msg.id }));
              return;
            }
            this.startTask(conn, msg);
            return;
          default:
            return;
        }
      });
      send(
        makeMessage<HelloMessage>({
          type: 'hello',
          token: this.opts.token,
          worker: { name: this.name },
          capabilities: { backends: this.opts.backends ?? ['mujoco'], maxParallel: this.opts.maxParallel ?? 1 },
        }),
      );
    });
  }

  private startTask(conn: SimConnection, msg: TaskMessage): void {
    const send = (m: SimMessage) => {
      if (this.conn === conn) conn.send(serialiseMessage(m));
    };
    if (this.running.has(msg.taskId)) {
      send(errorMessage('unexpected', `task ${msg.taskId} is already running here`, { replyTo: msg.id }));
      return;
    }
    if (this.running.size >= (this.opts.maxParallel ?? 1)) {
      send(makeMessage<TaskFailedMessage>({ type: 'task_failed', taskId: msg.taskId, error: 'worker is busy', retryable: true }));
      return;
    }
    const controller = new AbortController();
    const entry: Running = { controller, promise: Promise.resolve(), cancelledByServer: false };
    this.running.set(msg.taskId, entry);
    entry.promise = this.runTask(msg, controller.signal, send, () => entry.cancelledByServer).finally(() => this.running.delete(msg.taskId));
  }

  private async runTask(msg: TaskMessage, signal: AbortSignal, send: (m: SimMessage) => void, cancelledByServer: () => boolean): Promise<void> {
    const t0 = Date.now();
    const interval = this.opts.progressIntervalMs ?? 100;
    // Throttled progress: the first and final reports go out at once; in between at most one
    // frame per interval, carrying the latest report (trailing edge, so none is lost for good).
    let lastSent = -Infinity;
    let pending: { f: number; message: string } | null = null;
    let timer: NodeJS.Timeout | null = null;
    const flush = () => {
      timer = null;
      if (!pending || signal.aborted || finished) return;
      lastSent = Date.now();
      const p = pending;
      pending = null;
      send(makeMessage<ProgressMessage>({ type: 'progress', taskId: msg.taskId, fraction: p.f, message: clampText(String(p.message)) }));
    };
    let finished = false;
    const onProgress: SimProgress = (fraction, message) => {
      if (signal.aborted || finished) return;
      const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
      pending = { f, message: String(message) };
      const wait = lastSent + interval - Date.now();
      if (wait <= 0 || f >= 1) {
        if (timer) clearTimeout(timer);
        flush();
      } else if (!timer) {
        timer = setTimeout(flush, wait);
      }
    };
    const done = () => {
      if (timer) clearTimeout(timer);
      timer = null;
      finished = true;
      this.running.delete(msg.taskId);
    };
    this.log('info', `SimWorker: task ${msg.taskId}: ${msg.spec.kind} ${msg.spec.task} ${msg.spec.urdf} joint ${msg.spec.joint} (${msg.bundle.files.length} files)`);
    let dir: string | null = null;
    const cleanup = async () => {
      const d = dir;
      dir = null;
      if (d) await rm(d, { recursive: true, force: true }).catch(() => {});
    };
    const confirmCancel = async () => {
      if (!cancelledByServer()) return; // connection lost or worker stopping: nobody to tell
      await cleanup();
      done();
      send(makeMessage<TaskFailedMessage>({ type: 'task_failed', taskId: msg.taskId, error: 'cancelled by the bridge', retryable: false }));
    };
    try {
      const entries = decodeBundle(msg.bundle, this.limits);
      dir = await mkdtemp(join(this.opts.tmpRoot ?? tmpdir(), 'partrm-sim-task-'));
      await writeBundle(dir, entries);
      onProgress(0, 'bundle received');
      const result = await this.executor(dir, msg.spec, onProgress, signal);
      if (signal.aborted) {
        await confirmCancel();
        return;
      }
      // Clean up and free the slot before answering: the server may hand over the next task at once.
      await cleanup();
      done();
      send(makeMessage<ResultMessage>({ type: 'result', taskId: msg.taskId, result }));
      this.counters.tasksDone += 1;
      this.log('info', `SimWorker: task ${msg.taskId} done in ${((Date.now() - t0) / 1000).toFixed(1)} s (success ${(result.successRate * 100).toFixed(0)}% of ${result.trials})`);
    } catch (e) {
      if (signal.aborted) {
        await confirmCancel();
        return;
      }
      await cleanup();
      done();
      this.counters.tasksFailed += 1;
      const text = e instanceof Error ? e.message : String(e);
      this.log('warn', `SimWorker: task ${msg.taskId} failed: ${text}`);
      send(makeMessage<TaskFailedMessage>({ type: 'task_failed', taskId: msg.taskId, error: clampText(text), retryable: false }));
    } finally {
      done();
      await cleanup();
    }
  }
}

