/** Minimal declarations for untyped dependencies used by src/ros. */
declare module 'lz4js' {
  /** Decompresses an LZ4 frame. */
  /** Compresses to an LZ4 frame. */
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array | number[];
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array | number[];
}
