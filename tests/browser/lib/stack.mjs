// Starts tests/browser/stack.py (memcached + httpd with the four plugins, sample media, file://
// mail) and stops it. The launcher prints one JSON line when it is up and stops everything when
// its stdin closes, so even a runner killed with SIGKILL leaves no server behind. useStack() is
// a test file's frame around it: the checks before, the artefacts folder, the stack for all
// its tests, and its stop (keeping its work dir after a failure) at the end.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { CHROMIUM } from './browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STACK_PY = path.join(HERE, '..', 'stack.py');

/** The install prefix the stack runs (NM_PREFIX; ctest sets it to BUILD/stage). */
export const PREFIX = process.env.NM_PREFIX;
/** The languages and window widths most browser tests run in, one test each. */
export const LANGS = ['en', 'fr'];
export const WIDTHS = [1280, 390];

/** Where a test file's screenshots and reports go: NM_BROWSER_ARTIFACTS or artifacts/, /name. */
export function artifactsDir(name = '') {
  return path.join(process.env.NM_BROWSER_ARTIFACTS || path.join(HERE, '..', 'artifacts'), name);
}
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

/**
 * The frame of a test file: before its tests, NM_PREFIX and chromium must be there, the
 * artefacts folder is emptied and one stack started (options as startStack's); after them, the
 * stack stops. keepOnFailure: a failed test (one registered with suite.test) or NM_KEEP_WORK=1
 * keeps the stack's work dir, and with label the failure says where it and the artefacts are.
 * ready(stack), if given, runs once the stack is up, in the same before hook (node runs a test
 * file's top-level before hooks as they are declared, without waiting for the one before).
 * Returns the suite: suite.stack (once started), suite.failed, suite.test(), suite.eachRun().
 */
export function useStack({ artifacts, keepOnFailure = false, label = null, ready = null,
                           ...options } = {}) {
  const suite = {
    stack: null,
    failed: false,
    /** node:test's test(), marking the suite failed when fn throws. */
    test(name, testOptions, fn) {
      test(name, testOptions, async (t) => {
        try {
          await fn(t);
        } catch (e) {
          suite.failed = true;
          throw e;
        }
      });
    },
    /** One suite.test per language and width (LANGS × WIDTHS), named title(lang, width), that
     *  runs fn(t, lang, width). */
    eachRun(title, testOptions, fn) {
      for (const lang of LANGS) {
        for (const width of WIDTHS) {
          suite.test(title(lang, width), testOptions, (t) => fn(t, lang, width));
        }
      }
    },
  };
  before(async () => {
    assert.ok(PREFIX, 'NM_PREFIX must name an install prefix (ctest sets it to BUILD/stage)');
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
    fs.rmSync(artifacts, { recursive: true, force: true });
    fs.mkdirSync(artifacts, { recursive: true });
    suite.stack = await startStack(options);
    if (ready) await ready(suite.stack);
  });
  after(async () => {
    const { stack } = suite;
    if (!stack) return;
    await stack.stop({ keep: keepOnFailure && (suite.failed || process.env.NM_KEEP_WORK === '1') });
    if (label && suite.failed) {
      process.stderr.write(`${label}: kept the stack's work dir ${stack.work_dir}\n` +
                           `  error log ${stack.error_log}\n  artefacts ${artifacts}\n`);
    }
  });
  return suite;
}
