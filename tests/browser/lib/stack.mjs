// Starts tests/browser/stack.py (memcached + httpd with the four plugins, sample media, file://
// mail) and stops it. The launcher prints one JSON line when it is up and stops everything when
// its stdin closes, so even a runner killed with SIGKILL leaves no server behind.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STACK_PY = path.join(HERE, '..', 'stack.py');
const SYSTEM_PYTHON = '/usr/bin/python3';  // Debian's: harness.py wants its packages

// basePath: serve the portal under that NatoMediaBasePath (base_url then includes it).
// directives: server-config lines added after the NatoMedia ones (e.g. a download quota).
export async function startStack({ timeoutMs = 180000, basePath = '', directives = '' } = {}) {
  const child = spawn(SYSTEM_PYTHON, [STACK_PY], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', NM_STACK_BASE_PATH: basePath,
           NM_STACK_DIRECTIVES: directives },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (process.env.NM_BROWSER_VERBOSE) process.stderr.write(d);
  });
  const info = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`stack.py was not up within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      let parsed;
      try {
        parsed = JSON.parse(out.slice(0, nl));
      } catch (e) {
        reject(new Error(`stack.py printed no JSON (${e.message}): ${out}\n${stderr}`));
        return;
      }
      if (parsed.error) reject(new Error(`stack.py: ${parsed.error}\n${stderr}`));
      else resolve(parsed);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stack.py exited (${code}) before it was up; stderr:\n${stderr}`));
    });
  });
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', resolve);
  });
  return {
    ...info,
    stderr: () => stderr,
    /** Stops the stack; keep=true keeps its work dir (logs, database, mail) for a post-mortem. */
    async stop({ keep = false } = {}) {
      if (child.exitCode === null && !child.stdin.destroyed) {
        if (keep) child.stdin.write('keep\n');
        child.stdin.end();
      }
      const timer = setTimeout(() => child.kill('SIGTERM'), 60000);
      await exited;
      clearTimeout(timer);
    },
  };
}
