// A dockerd of our own, started as tests/docker_cli.rs starts it: a unix socket, data
// root, exec root and pidfile in a temp folder, no iptables and no bridge, the vfs
// storage driver. Docker already treats 127.0.0.1:PORT as an insecure registry, so
// login, push and pull to Berth work over plain HTTP. Stopped by PID.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why no engine can run here at all (no dockerd or docker CLI, not root), or null. */
export function whyNoDocker() {
  for (const tool of ['dockerd', 'docker']) {
    if (spawnSync(tool, ['--version']).error?.code === 'ENOENT') return `${tool} is not installed (make test installs docker.io)`;
  }
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  return null;
}

/** Runs a command to its end; resolves to { code, stdout, stderr }, never rejects on exit codes. */
function run(command, args, env, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [], err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(input);
  });
}

export async function startDockerd() {
  // Short and under /tmp: a unix socket path must stay under 108 bytes.
  const dir = mkdtempSync('/tmp/bd');
  const logFd = openSync(join(dir, 'dockerd.log'), 'w');
  const child = spawn('dockerd', [
    '--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=vfs',
    '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'), '-H', `unix://${join(dir, 'docker.sock')}`,
  ], { stdio: ['ignore', 'ignore', logFd] });
  closeSync(logFd);
  let exited = null;
  const gone = new Promise((resolve) => child.on('exit', (code, signal) => { exited = code ?? signal; resolve(); }));
  // The CLI's own config (credentials from docker login) stays in the temp folder too.
  const env = { ...process.env, DOCKER_HOST: `unix://${join(dir, 'docker.sock')}`, DOCKER_CONFIG: join(dir, 'config') };
  const log = () => { try { return readFileSync(join(dir, 'dockerd.log'), 'utf8'); } catch { return ''; } };

  const engine = {
    env,
    log,
    /** The docker CLI against this engine. */
    docker: (args, { input } = {}) => run('docker', args, env, input),
    /** The docker CLI, insisting that it succeeds; resolves to its stdout. */
    async ok(args, options) {
      const r = await engine.docker(args, options);
      if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    /** A shell command line (as a person would paste it) with this engine's environment. */
    bash: (line) => run('bash', ['-c', line], env),
    async stop() {
      if (exited === null) {
        process.kill(child.pid, 'SIGTERM');
        const timer = setTimeout(() => { if (exited === null) process.kill(child.pid, 'SIGKILL'); }, 20000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + 90000;
  for (;;) {
    if ((await engine.docker(['version'])).code === 0) return engine;
    if (exited !== null || Date.now() > deadline) {
      const why = `dockerd did not start (${exited ?? 'timed out'}):\n${log()}`;
      await engine.stop();
      throw new Error(why);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A one-layer image from a tiny root filesystem, made without any download. */
export async function importImage(engine, name) {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-rootfs-'));
  try {
    mkdirSync(join(tmp, 'etc'));
    writeFileSync(join(tmp, 'etc/os-release'), 'NAME=berth-test\n');
    writeFileSync(join(tmp, 'hello.txt'), `hello from ${name}\n`);
    const tar = spawnSync('tar', ['-C', tmp, '-cf', '-', '.']);
    if (tar.status !== 0) throw new Error(`tar of the root filesystem failed: ${tar.stderr}`);
    await engine.ok(['import', '--change', 'CMD ["/hello"]', '-', name], { input: tar.stdout });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
