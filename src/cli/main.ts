/** The `partrm` command line. Errors print one clear line and exit non-zero (see bin/partrm.js). */
import { Command } from 'commander';
import { datasetCommand } from './dataset.js';
import { replayCommand } from './replay.js';
import { serveCommand } from './serve.js';
import { simCommand } from './sim.js';
import { policyCommand } from './policy.js';
import { extractCommand, sampleCommand } from './extract.js';
import { predictCommand, runCommand } from './run.js';
import { evalCommand } from './eval.js';

export function buildProgram(): Command {
  const program = new Command('partrm')
    .description('PartRM bridge: one image + drags -> articulated 3D model -> URDF -> robot policies')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(runCommand());
  program.addCommand(predictCommand());
  program.addCommand(evalCommand());
  program.addCommand(datasetCommand());
  program.addCommand(replayCommand());
  program.addCommand(serveCommand());
  program.addCommand(simCommand());
  program.addCommand(policyCommand());
  program.addCommand(extractCommand());
  program.addCommand(sampleCommand());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    // commander reports --help/--version through exitOverride as "errors" with exit code 0.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      process.exitCode = 0;
      return;
    }
    if (err.code?.startsWith('commander.')) {
      process.exitCode = err.exitCode ?? 1;
      return;
    }
    throw e;
  }
}
