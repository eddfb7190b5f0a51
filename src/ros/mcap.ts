/**
 * ROS 2 MCAP bags (profile `ros2`, schema encoding `ros2msg`, message encoding `cdr`) read and
 * written with @mcap/core. Reading streams the file (zstd / lz4 chunks decompressed with fzstd /
 * lz4js, as rosbag2 writes them); writing goes to a temporary file renamed into place on close.
 */
import { createReadStream } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { McapStreamReader, McapWriter, type IWritable } from '@mcap/core';
import { decompress as zstdDecompress } from 'fzstd';
import { decompress as lz4Decompress } from 'lz4js';
import { codec, longTypeName, schemaText } from './messages.js';

export interface BagChannel {
  id: number;
  topic: string;
  /** Fully qualified type (`pkg/msg/Type`). */
  type: string;
  schemaEncoding: string;
  schema: string;
  messageEncoding: string;
}

export interface BagMessage {
  channel: BagChannel;
  sequence: number;
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}

const decompressHandlers = {
  zstd: (buf: Uint8Array, size: bigint) => {
    const out = zstdDecompress(buf, new Uint8Array(Number(size)));
    return out;
  },
  lz4: (buf: Uint8Array, size: bigint) => Uint8Array.from(lz4Decompress(buf, Number(size))),
};

/** Calls `onMessage` for each message in file order (awaited: back-pressure on the file stream). */
export async function readBag(path: string, onMessage: (m: BagMessage) => void | Promise<void>, onChannel?: (c: BagChannel) => void): Promise<{ messages: number; channels: BagChannel[] }> {
  const reader = new McapStreamReader({ decompressHandlers });
  const schemas = new Map<number, { name: string; encoding: string; data: string }>();
  const channels = new Map<number, BagChannel>();
  let messages = 0;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      try {
        reader.append(chunk as Uint8Array);
      } catch (err) {
        throw new Error(`McapBag: ${path} is not a readable MCAP file (${(err as Error).message})`, { cause: err });
      }
      for (;;) {
        let rec: ReturnType<McapStreamReader['nextRecord']>;
        try {
          rec = reader.nextRecord();
        } catch (err) {
          throw new Error(`McapBag: ${path} is not a readable MCAP file (${(err as Error).message})`, { cause: err });
        }
        if (!rec) break;
        if (rec.type === 'Schema') {
          schemas.set(rec.id, { name: rec.name, encoding: rec.encoding, data: new TextDecoder().decode(rec.data) });
        } else if (rec.type === 'Channel') {
          const s = schemas.get(rec.schemaId);
          const c: BagChannel = {
            id: rec.id,
            topic: rec.topic,
            type: s ? longTypeName(s.name) : '',
            schemaEncoding: s?.encoding ?? '',
            schema: s?.data ?? '',
            messageEncoding: rec.messageEncoding,
          };
          channels.set(rec.id, c);
          onChannel?.(c);
        } else if (rec.type === 'Message') {
          const c = channels.get(rec.channelId);
          if (!c) throw new Error(`McapBag: ${path}: message on unknown channel ${rec.channelId}`);
          messages++;
          await onMessage({ channel: c, sequence: rec.sequence, logTime: rec.logTime, publishTime: rec.publishTime, data: rec.data });
        }
      }
    }
    if (!reader.done()) throw new Error(`McapBag: ${path} ends before the MCAP footer (truncated file?)`);
  } finally {
    stream.destroy();
  }
  return { messages, channels: [...channels.values()] };
}

class FileWritable implements IWritable {
  #pos = 0n;
  constructor(readonly fh: FileHandle) {}
  async write(buffer: Uint8Array): Promise<void> {
    let off = 0;
    while (off < buffer.length) {
      const { bytesWritten } = await this.fh.write(buffer, off, buffer.length - off);
      off += bytesWritten;
    }
    this.#pos += BigInt(buffer.length);
  }
  position(): bigint {
    return this.#pos;
  }
}

/** Writes a ROS 2 MCAP bag; call `close()` to finish (renames the temporary file into place). */
export class BagWriter {
  #writer: McapWriter;
  #fh: FileHandle;
  #tmp: string;
  #path: string;
  #channels = new Map<string, number>();
  #schemas = new Map<string, number>();
  #seq = new Map<number, number>();
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(path: string, tmp: string, fh: FileHandle) {
    this.#path = path;
    this.#tmp = tmp;
    this.#fh = fh;
    this.#writer = new McapWriter({ writable: new FileWritable(fh), useChunks: true, useStatistics: true, chunkSize: 4 << 20 });
  }

  static async create(path: string): Promise<BagWriter> {
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    const fh = await open(tmp, 'wx');
    const w = new BagWriter(path, tmp, fh);
    await w.#writer.start({ profile: 'ros2', library: 'partrm' });
    return w;
  }

  /** Encodes `msg` as CDR of `type` (a known type) and appends it. Calls are serialised. */
  write(topic: string, type: string, msg: unknown, logTime: bigint, publishTime = logTime): Promise<void> {
    const data = codec(type).encode(msg);
    return this.writeRaw(topic, type, data, logTime, publishTime);
  }

  /** Appends CDR bytes; the schema of a known type is registered on first use. */
  writeRaw(topic: string, type: string, data: Uint8Array, logTime: bigint, publishTime = logTime, schema?: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('McapBag: writer is closed'));
    const run = async (): Promise<void> => {
      const long = longTypeName(type);
      let channelId = this.#channels.get(topic);
      if (channelId === undefined) {
        let schemaId = this.#schemas.get(long);
        if (schemaId === undefined) {
          schemaId = await this.#writer.registerSchema({ name: long, encoding: 'ros2msg', data: new TextEncoder().encode(schema ?? schemaText(long)) });
          this.#schemas.set(long, schemaId);
        }
        channelId = await this.#writer.registerChannel({ topic, schemaId, messageEncoding: 'cdr', metadata: new Map([['offered_qos_profiles', '']]) });
        this.#channels.set(topic, channelId);
      }
      const sequence = (this.#seq.get(channelId) ?? 0) + 1;
      this.#seq.set(channelId, sequence);
      await this.#writer.addMessage({ channelId, sequence, logTime, publishTime, data });
    };
    const p = this.#queue.then(run);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#queue;
      await this.#writer.end();
      await this.#fh.close();
      await rename(this.#tmp, this.#path);
    } catch (err) {
      await this.#fh.close().catch(() => undefined);
      await unlink(this.#tmp).catch(() => undefined);
      throw new Error(`McapBag: could not write ${this.#path} (${(err as Error).message})`, { cause: err });
    }
  }

  /** Drops the partial file. */
  async abort(): Promise<void> {
    this.#closed = true;
    await this.#fh.close().catch(() => undefined);
    await unlink(this.#tmp).catch(() => undefined);
  }
}
