/**
 * Thin wrapper around urdfdom's `check_urdf` (Debian package liburdfdom-tools): the reference
 * URDF parser used by ROS, so passing it means ROS tooling (robot_state_publisher, RViz, MoveIt)
 * will accept the file.
 */
import { spawn } from 'node:child_process';

export interface UrdfCheckResult {
  /** true when check_urdf exited 0 and printed no `ERROR` line. */
  ok: boolean;
  /** stdout followed by stderr (urdfdom prints its `Error:`/`ERROR:` lines on stderr). */
  output: string;
}

export interface UrdfCheckOptions {
  /** Executable to run; default `check_urdf` looked up on PATH. */
  binary?: string;
  /** Kill the process after this many milliseconds (default 60 s). */
  timeoutMs?: number;
}

const NOT_FOUND = 'UrdfCheck: check_urdf not found; install Debian package liburdfdom-tools';

/**
 * Runs `check_urdf <urdfPath>` (no shell) and reports whether urdfdom accepts the file.
 * Throws only when the binary itself cannot be run; an invalid URDF gives `ok: false`.
 */
export function checkUrdf(urdfPath: string, options: UrdfCheckOptions = {}): Promise<UrdfCheckResult> {
  const binary = options.binary ?? 'check_urdf';
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [urdfPath], { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new Error(NOT_FOUND));
      else reject(new Error(`UrdfCheck: failed to run ${binary}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let output = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (stderr) output += (output && !output.endsWith('\n') ? '\n' : '') + stderr;
      if (signal) output += `${output && !output.endsWith('\n') ? '\n' : ''}check_urdf killed by ${signal}\n`;
      // urdfdom (console_bridge) prefixes fatal messages with "ERROR:" at the start of a line;
      // matching only line starts avoids false failures on link/joint names containing "ERROR".
      const ok = code === 0 && !/^ERROR/m.test(output);
      resolve({ ok, output });
    });
  });
}
