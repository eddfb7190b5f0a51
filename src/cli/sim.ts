/** `partrm sim worker`: runs the MuJoCo backend as a worker that dials a bridge (`--sim listen:PORT`). */
import { Command, InvalidArgumentError } from 'commander';
import { type SimLogger, stderrLogger } from '../sim/server.js';
import { threadExecutor } from '../sim/executor-thread.js';
import { SimWorker } from '../sim/worker.js';

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError(`--${name} expects a positive integer, got "${value}"`);
    return Number(value);
  };
}

export function simCommand(): Command {
  const cmd = new Command('sim').description('simulation workers (the bridge hands out tasks with --sim listen:PORT)');
  cmd
    .command('worker')
    .description('connect to a bridge and run its simulation tasks with MuJoCo in this process; reconnects until stopped')
    .requiredOption('--connect <url>', 'the bridge, ws://HOST:PORT')
    .option('--token <token>', 'the bridge token (default: $PARTRM_SIM_TOKEN)')
    .option('--name <name>', 'worker name shown in the bridge log (default: mujoco@HOST:PID)')
    .option('--parallel <n>', 'tasks run at once, each in its own thread with its own MuJoCo', positiveInt('parallel'), 1)
    .option('--in-process', 'run tasks on the main thread (no worker threads; heartbeats wait while a task computes)')
    .option('--max-retries <n>', 'give up after this many failed connection attempts in a row (default: never)', positiveInt('max-retries'))
    .option('--quiet', 'log warnings and errors only')
    .action(async (o: { connect: string; token?: string; name?: string; parallel: number; inProcess?: boolean; maxRetries?: number; quiet?: boolean }) => {
      const token = o.token ?? process.env.PARTRM_SIM_TOKEN;
      if (!token) throw new Error('SimWorker: a token is required: --token T or $PARTRM_SIM_TOKEN');
      const log: SimLogger = o.quiet ? (level, m) => level !== 'info' && stderrLogger(level, m) : stderrLogger;
      // MuJoCo computes synchronously: in threads, the connection stays answered and cancels stop
      // a task at once (its thread is terminated).
      const threads = o.inProcess ? null : threadExecutor();
      const worker = new SimWorker({
        url: o.connect,
        ...(threads ? { executor: threads } : {}),
        token,
        ...(o.name ? { name: o.name } : {}),
        maxParallel: o.parallel,
        backends: ['mujoco'],
        log,
        ...(o.maxRetries ? { reconnect: { maxAttempts: o.maxRetries } } : {}),
      });
      const stop = (sig: string) => {
        log('info', `SimWorker: ${sig}: stopping`);
        void worker.stop();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      try {
        await worker.run();
      } finally {
        await threads?.close();
      }
      const s = worker.stats();
      log('info', `SimWorker: stopped after ${s.tasksDone} task(s) done, ${s.tasksFailed} failed, ${s.connections} connection(s)`);
    });
  return cmd;
}
