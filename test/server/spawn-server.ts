// Starts the real server as a child process, for tests that kill it, restart it, or run several.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The test's environment without any server setting of its own: each test says what it runs with. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FRAMEWISE_') && k !== 'DATABASE_URL'));
}

export interface ServerProcess {
  readonly port: number;
  readonly url: string;
  readonly proc: ChildProcess;
  /** Every line it printed, stdout and stderr, in order. */
  readonly output: string[];
  /** Its resident set size now (Linux), in MiB. */
  rssMiB(): number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Port 0 picks a free port (read back from the start line), so test files running side by
 * side do not collide; pass a fixed one where a restart must come back on the same port.
 */
export async function startServer(env: Record<string, string>, port = 0, root?: string): Promise<ServerProcess> {
  const output: string[] = [];
  // tsx as a loader, not its CLI: one process, so that a kill really frees the port. `root`: another checkout's server (a benchmark's before).
  const proc = spawn(process.execPath, ['--import', 'tsx', resolve(root ?? '.', 'server/main.ts')], {
    ...(root ? { cwd: root } : {}),
    env: { ...baseEnv(), PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (b: Buffer) => output.push(...b.toString().split('\n').filter(Boolean));
  proc.stderr!.on('data', collect);
  let closed = false;
  proc.once('close', () => (closed = true));
  const actual = await new Promise<number>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start in 30 s:\n${output.join('\n')}`)), 30_000);
    proc.stdout!.on('data', (b: Buffer) => {
      collect(b);
      const line = output.find((l) => l.startsWith('framewise: app on'));
      const m = line && /^framewise: app on http:\/\/[^/]*:(\d+)\//.exec(line);
      if (m) {
        clearTimeout(timer);
        ready(Number(m[1]));
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${output.join('\n')}`));
    });
  });
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    proc,
    output,
    rssMiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
    // Resolves once its output is complete too ('close' follows 'exit' when the pipes are drained).
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((done) => {
        if (closed) return done();
        proc.once('close', () => done());
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      }),
  };
}

/** Runs the server expecting it to refuse to start: resolves with its exit code and output. */
export function startExpectingFailure(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', resolve('server/main.ts')], {
    env: { ...baseEnv(), PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  return new Promise((done) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}
