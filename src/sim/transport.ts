/**
 * The small connection interface the simulation server and worker are written against, so their
 * logic runs over real WebSockets (`ws`) or over an in-memory pair in unit tests.
 */
import { WebSocket } from 'ws';

/** One end of a message connection (text frames). */
export interface SimConnection {
  /** Human-readable peer description for logs (e.g. `127.0.0.1:53412`). */
  readonly remote: string;
  /** Sends one text frame; a no-op once closed. */
  send(frame: string): void;
  /** Closes the connection (idempotent). `code` follows WebSocket close codes. */
  close(code?: number, reason?: string): void;
  /** Drops the connection without a closing handshake (used for dead peers). */
  terminate(): void;
  /** The handler for received frames (set once). `bytes` is the frame's size on the wire. */
  onMessage(handler: (frame: string, bytes: number) => void): void;
  /** The handler called once when the connection is gone, for whatever reason. */
  onClose(handler: (code: number, reason: string) => void): void;
}

/** Application close codes (4000-4999 are free for applications). */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  tooBig: 1009,
  unauthorized: 4001,
  helloTimeout: 4002,
  heartbeatTimeout: 4003,
  badHello: 4004,
} as const;

/** Wraps an open `ws` WebSocket. Binary frames are decoded as UTF-8 text (then fail JSON parsing if they are not). */
export function wsConnection(ws: WebSocket, remote: string): SimConnection {
  let closeHandler: ((code: number, reason: string) => void) | null = null;
  let closed = false;
  const fireClose = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    closeHandler?.(code, reason);
  };
  ws.on('close', (code: number, reason: Buffer) => fireClose(code, reason.toString('utf8')));
  ws.on('error', () => {
    // 'close' follows 'error'; a listener must exist so the process does not crash.
  });
  return {
    remote,
    send(frame) {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame);
    },
    close(code = CLOSE_CODES.normal, reason = '') {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason.slice(0, 120));
    },
    terminate() {
      ws.terminate();
    },
    onMessage(handler) {
      // Binary frames are read as UTF-8 too: they then fail JSON parsing and get an error reply.
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        handler(buf.toString('utf8'), buf.byteLength);
      });
    },
    onClose(handler) {
      closeHandler = handler;
      if (ws.readyState === WebSocket.CLOSED) fireClose(1006, 'already closed');
    },
  };
}

/** Dials a WebSocket URL; resolves once open, rejects on failure or after `timeoutMs`. */
export function dialWebSocket(url: string, opts: { maxPayload: number; timeoutMs?: number }): Promise<SimConnection> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, { maxPayload: opts.maxPayload, handshakeTimeout: opts.timeoutMs ?? 10_000 });
    } catch (e) {
      reject(new Error(`SimTransport: cannot dial ${url}: ${(e as Error).message}`));
      return;
    }
    const onError = (e: Error) => {
      cleanup();
      reject(new Error(`SimTransport: cannot connect to ${url}: ${e.message}`));
    };
    const onOpen = () => {
      cleanup();
      resolve(wsConnection(ws, url));
    };
    const cleanup = () => {
      ws.off('error', onError);
      ws.off('open', onOpen);
    };
    ws.on('error', onError);
    ws.on('open', onOpen);
  });
}

/**
 * Two connected in-memory ends (for unit tests). Frames are delivered asynchronously
 * (microtask-free `setImmediate`), in order; closing either end closes both.
 */
export function memoryPair(names: [string, string] = ['a', 'b']): [MemoryConnection, MemoryConnection] {
  const a = new MemoryConnection(names[1]);
  const b = new MemoryConnection(names[0]);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export class MemoryConnection implements SimConnection {
  peer: MemoryConnection | null = null;
  /** Every frame this end sent (for assertions). */
  readonly sent: string[] = [];
  closed = false;
  closeCode = 0;
  private messageHandler: ((frame: string, bytes: number) => void) | null = null;
  private closeHandler: ((code: number, reason: string) => void) | null = null;
  private backlog: string[] = [];

  constructor(readonly remote: string) {}

  send(frame: string): void {
    if (this.closed) return;
    this.sent.push(frame);
    const peer = this.peer;
    setImmediate(() => peer?.deliver(frame));
  }
  close(code: number = CLOSE_CODES.normal, reason = ''): void {
    if (this.closed) return;
    // Deliver after frames already queued, like a closing handshake.
    this.closed = true;
    this.closeCode = code;
    const peer = this.peer;
    setImmediate(() => {
      this.fireClose(code, reason);
      peer?.remoteClosed(code, reason);
    });
  }
  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = 1006;
    this.fireClose(1006, 'terminated');
    const peer = this.peer;
    setImmediate(() => peer?.remoteClosed(1006, 'terminated'));
  }
  onMessage(handler: (frame: string, bytes: number) => void): void {
    this.messageHandler = handler;
    const queued = this.backlog;
    this.backlog = [];
    for (const f of queued) handler(f, Buffer.byteLength(f));
  }
  onClose(handler: (code: number, reason: string) => void): void {
    this.closeHandler = handler;
  }
  private deliver(frame: string): void {
    if (this.closed) return;
    if (this.messageHandler) this.messageHandler(frame, Buffer.byteLength(frame));
    else this.backlog.push(frame);
  }
  private remoteClosed(code: number, reason: string): void {
    this.closed = true;
    this.closeCode = code;
    this.fireClose(code, reason);
  }
  private fired = false;
  private fireClose(code: number, reason: string): void {
    if (this.fired) return;
    this.fired = true;
    this.closeHandler?.(code, reason);
  }
}
