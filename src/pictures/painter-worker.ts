/** The PicturePainter's thread (painter.ts): paints each job posted to it and answers with the PNG. */
import { parentPort } from 'node:worker_threads';
import type { PainterRequest, PainterResponse } from './painter.js';
import { paintPng } from './pictures.js';

const port = parentPort;
if (!port) throw new Error('PicturePainter worker: must run inside a worker thread');

port.on('message', ({ id, job }: PainterRequest) => {
  let msg: PainterResponse;
  try {
    msg = { id, png: paintPng(job) };
  } catch (err) {
    msg = { id, error: (err as Error).message };
  }
  port.postMessage(msg, 'png' in msg ? [msg.png.buffer as ArrayBuffer] : []);
});
