// Runs a command to its end for a test: stdout and stderr as text, bounded in time.
import { spawn } from 'node:child_process';
import { repoRoot } from './fixtures.js';

export interface RunResult { code: number | null; stdout: string; stderr: string }

/**
 * Runs `command` with `args` (cwd: the repository unless given), writes `input` to its stdin
 * (nothing: an empty stdin) and resolves with its exit code and output; rejects, killing it,
 * when it has not finished within `timeoutMs`.
 */
export function runCommand(command: string, args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish in ${options.timeoutMs} ms; stderr:\n${stderr}`));
    }, options.timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.on('error', () => {}); // a child that exits without reading its input
    child.stdin.end(options.input ?? '');
  });
}
