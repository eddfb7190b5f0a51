/** `partrm replay --bag in.mcap --out DIR [--write out.mcap]`: the ROS bridge over a recorded bag. */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { createBridgePipeline } from '../ros/pipeline-seam.js';
import { simRollout } from '../ros/simulate.js';
import { createSimBackend } from '../sim/backend.js';
import { DEFAULT_NODE_NAME, defaultTopics, replayBag } from '../ros/replay.js';

export function replayCommand(): Command {
  const d = defaultTopics();
  return new Command('replay')
    .description('run the ROS 2 bridge node over a ROS 2 MCAP bag (images, camera_info, drags); outputs per request under --out, published messages to --write')
    .requiredOption('--bag <in.mcap>', 'input ROS 2 MCAP bag')
    .requiredOption('--out <dir>', 'output directory (request-NNNNNN/ per drag message)')
    .option('--write <out.mcap>', 'write the published messages (~/urdf, ~/articulation, ~/gaussians, ~/markers, ~/status) to this bag')
    .option('--model <path>', 'model directory or .onnx (default: the shipped model)')
    .option('--image-topic <topic>', `sensor_msgs/Image topic (default ${d.image}, or the bag's only Image topic)`)
    .option('--camera-info-topic <topic>', `sensor_msgs/CameraInfo topic (default ${d.cameraInfo}, or the bag's only CameraInfo topic)`)
    .option('--drags-topic <topic>', `partrm/msg/DragArray topic (default ${d.drags}, or the bag's only DragArray topic)`)
    .option('--drags-json-topic <topic>', `std_msgs/String JSON drags topic (default ${d.dragsJson})`)
    .option('--node-name <name>', 'node name: outputs go to /<name>/<topic>', DEFAULT_NODE_NAME)
    .option('--simulate', 'roll each URDF out in simulation (opening policy derived from the URDF) and publish ~/policy')
    .option('--sim <backend>', 'simulation backend: local (MuJoCo in-process) or listen:PORT', 'local')
    .option('--quiet', 'no per-event log lines')
    .action(async (o: { bag: string; out: string; write?: string; model?: string; imageTopic?: string; cameraInfoTopic?: string; dragsTopic?: string; dragsJsonTopic?: string; nodeName: string; quiet?: boolean; simulate?: boolean; sim: string }) => {
      if (!existsSync(o.bag)) throw new Error(`Replay: --bag ${o.bag} does not exist`);
      const runner = o.simulate ? createSimBackend(o.sim) : undefined;
      const pipeline = await createBridgePipeline(o.model ? { model: o.model } : {});
      try {
        const topics: Record<string, string> = {};
        if (o.imageTopic) topics['image'] = o.imageTopic;
        if (o.cameraInfoTopic) topics['cameraInfo'] = o.cameraInfoTopic;
        if (o.dragsTopic) topics['drags'] = o.dragsTopic;
        if (o.dragsJsonTopic) topics['dragsJson'] = o.dragsJsonTopic;
        const t0 = performance.now();
        const s = await replayBag({
          bag: o.bag,
          outDir: o.out,
          ...(o.write ? { write: o.write } : {}),
          pipeline,
          topics,
          nodeName: o.nodeName,
          ...(runner ? { simulate: simRollout(runner) } : {}),
          ...(o.quiet ? {} : { log: (level, text) => console.error(`[${level}] ${text}`) }),
        });
        const used = Object.entries(s.used).map(([k, v]) => `${k}=${v ?? '-'}`).join(' ');
        console.log(`replayed ${s.messages} messages (${used}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${s.requests} requests, ${s.done} done, ${s.failed} failed, ${s.warnings} warnings; published ${JSON.stringify(s.published)}${o.write ? ` -> ${o.write}` : ''}`);
        if (s.requests > 0 && s.done === 0) process.exitCode = 1;
      } finally {
        await runner?.close();
        await pipeline.dispose();
      }
    });
}
