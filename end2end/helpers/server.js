// Starts the real berth binary on 127.0.0.1:0 with a temp data folder and stops it by PID.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';

export const BIN = process.env.BERTH_BIN
  || join(process.env.CARGO_TARGET_DIR || join(homedir(), '.cache/berth-target'), 'release/berth');

// `flags` are added to `berth serve`'s (`--webhook-allow-private`, say); `listen` is
// for a test that must know the address before the server starts.
export async function startServer(flags = [], { listen = '127.0.0.1:0' } = {}) {
  const data = mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  const child = spawn(BIN, ['serve', '--listen', listen, '--data-dir', data, ...flags], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log = [];
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth did not start:\n${log.join('')}`)), 30000);
    child.stderr.on('data', (chunk) => {
      log.push(chunk.toString());
      const m = /listening on http:\/\/([0-9.:]+)/.exec(log.join(''));
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => reject(new Error(`berth exited (${code}):\n${log.join('')}`)));
  });
  return {
    addr,
    url: (path = '/') => `http://${addr}${path}`,
    admin: (args, input) => JSON.parse(execFileSync(BIN, [...args, '--data-dir', data, '--json'], { input }).toString()),
    stop: () => { child.kill('SIGTERM'); rmSync(data, { recursive: true, force: true }); },
    log,
  };
}
