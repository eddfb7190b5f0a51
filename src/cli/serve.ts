/** `partrm serve [--port P] [--host 127.0.0.1]`: the operator web page. */
import { Command, InvalidArgumentError } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBridgePipeline } from '../ros/pipeline-seam.js';
import { BridgeNode } from '../ros/node.js';
import { simRollout } from '../ros/simulate.js';
import { createSimBackend } from '../sim/backend.js';
import { startWebServer } from '../web/server.js';
import { untilShutdownSignal } from '../core/signals.js';

function portOption(value: string): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 65535) throw new InvalidArgumentError(`--port expects 0..65535, got "${value}"`);
  return Number(value);
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the operator page: load an image, draw drags, run, view Gaussians, axis, URDF and a rollout')
    .option('--port <port>', 'TCP port (0 = any free port)', portOption, 8080)
    .option('--host <host>', 'address to bind (the page has no authentication: keep it on loopback unless the network is trusted)', '127.0.0.1')
    .option('--model <path>', 'model directory or .onnx (default: the shipped model)')
    .option('--out <dir>', 'per-run output directory (default: a new temporary directory)')
    .option('--simulate', 'roll each URDF out in simulation (opening policy derived from the URDF); the page plays the trajectory')
    .option('--sim <backend>', 'simulation backend: local (MuJoCo in-process) or listen:PORT', 'local')
    .action(async (o: { port: number; host: string; model?: string; out?: string; simulate?: boolean; sim: string }) => {
      const pipeline = await createBridgePipeline(o.model ? { model: o.model } : {});
      const outDir = o.out ?? mkdtempSync(join(tmpdir(), 'partrm-serve-'));
      const runner = o.simulate ? createSimBackend(o.sim) : undefined;
      const node = new BridgeNode({ pipeline, publish: () => undefined, outDir, log: (level, text) => level !== 'info' && console.error(`[${level}] ${text}`), ...(runner ? { simulate: simRollout(runner) } : {}) });
      const web = await startWebServer({ node, host: o.host, port: o.port, log: (t) => console.error(t) });
      console.log(`operator page: ${web.url} (outputs under ${outDir}); Ctrl-C to stop`);
      await untilShutdownSignal();
      await web.close();
      await node.close();
      await runner?.close();
      await pipeline.dispose();
    });
}
