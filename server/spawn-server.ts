// Starts the real server as a child process, for tests that kill it, restart it, or run two.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export interface ServerProcess {
  readonly port: number;
  readonly url: string;
  readonly proc: ChildProcess;
  readonly output: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startServer(env: Record<string, string>, port: number): Promise<ServerProcess> {
  const output: string[] = [];
  // tsx as a loader, not its CLI: one process, so that a kill really frees the port.
  const proc = spawn(process.execPath, ['--import', 'tsx', resolve('server/main.ts')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (b: Buffer) => output.push(...b.toString().split('\n').filter(Boolean));
  proc.stderr!.on('data', collect);
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start in 20 s:\n${output.join('\n')}`)), 20_000);
    proc.stdout!.on('data', (b: Buffer) => {
      collect(b);
      if (output.some((l) => l.startsWith('framewise: app on'))) {
        clearTimeout(timer);
        ready();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${output.join('\n')}`));
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    proc,
    output,
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill(signal);
      }),
  };
}
