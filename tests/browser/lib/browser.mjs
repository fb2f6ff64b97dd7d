// Debian's headless chromium driven by playwright-core (never a browser Playwright downloads),
// one fresh profile per visitor, plus the per-page checks every step makes: the page's language,
// no sideways scroll, a screenshot kept as an artefact, and an axe-core accessibility run; and
// the small moves every test makes on a portal page (click and wait, submit a form, the
// statuses of a redirect chain, the path, the heading, signed in or not).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

export const CHROMIUM = process.env.NM_CHROMIUM || '/usr/bin/chromium';
export const VIEWPORT = { width: 1000, height: 800 };
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
              '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'];
// axe impacts that fail the test: every one (issue 17: "no violation of any impact").
export const FAILING_IMPACTS = new Set(['minor', 'moderate', 'serious', 'critical']);

/**
 * A browser for one visitor: a persistent context on a fresh --user-data-dir (so nothing is
 * shared between visitors), downloads accepted into downloadsDir. close() removes the profile.
 */
export async function openBrowser({ locale = 'en-GB', downloadsDir } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'nm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: VIEWPORT,
    locale,
    acceptDownloads: true,
    downloadsPath: downloadsDir,
    timeout: 60000,
  });
  context.setDefaultTimeout(30000);
  context.setDefaultNavigationTimeout(30000);
  const page = context.pages()[0] || await context.newPage();
  return {
    context,
    page,
    /** The page's uncaught JavaScript errors so far ("URL: message"). */
    pageErrors: collectPageErrors(page),
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The browser locale for a portal language ('en' or 'fr'). */
export function localeFor(lang) {
  return lang === 'fr' ? 'fr-FR' : 'en-GB';
}

/** Collects the page's uncaught JavaScript errors ("URL: message") into the array it returns. */
function collectPageErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  return errors;
}

/** Clicks and waits for the navigation it causes; returns the final document's response. */
export async function clickAndWait(page, locator) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
                                    locator.click()]);
  assert.ok(resp, `no document response after clicking ${locator}`);
  return resp;
}

/** Submits the page's form posting to action (a path) with its submit button. */
export function submit(page, action) {
  return clickAndWait(page, page.locator(`main form[action$="${action}"] button[type=submit]`));
}

/** The statuses of a navigation's redirect chain and final answer, e.g. [303, 200]. */
export async function statusChain(resp) {
  const out = [resp.status()];
  let req = resp.request().redirectedFrom();
  while (req) {
    const r = await req.response();
    out.unshift(r ? r.status() : null);
    req = req.redirectedFrom();
  }
  return out;
}

/** The path of the page's URL. */
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** The page's first heading, trimmed. */
export async function h1(page) {
  return (await page.locator('h1').first().innerText()).trim();
}

/** True when the header offers "Log out" (the visitor is signed in). */
export async function signedIn(page) {
  return (await page.locator('header form[action$="/account/logout"]').count()) === 1;
}

/**
 * Fails when the page scrolls sideways: its content (the root's scrollWidth) is wider than the
 * root's clientWidth, or with against: 'innerWidth' than the window's innerWidth (scroll bar
 * included).
 */
export async function assertNoSidewaysScroll(page, name, { against = 'clientWidth' } = {}) {
  const { scroll, width } = await page.evaluate((measure) => ({
    scroll: document.documentElement.scrollWidth,
    width: measure === 'innerWidth' ? window.innerWidth : document.documentElement.clientWidth,
  }), against);
  assert.ok(scroll <= width, `${name} (${page.url()}) scrolls sideways: ` +
            `${scroll} px of content in ${width} px (${against})`);
}

/**
 * The checks a step makes on the page it is on, in this order: its language is lang (unless
 * lang is null), it does not scroll sideways (against as assertNoSidewaysScroll; null: not
 * checked; where names the page in that message, its name by default), then rec.check (a
 * screenshot and axe).
 */
export async function lookAt(page, rec, name,
                             { lang = null, against = 'clientWidth', where = name } = {}) {
  if (lang !== null) {
    assert.equal(await page.getAttribute('html', 'lang'), lang,
                 `lang of ${name} (${page.url()})`);
  }
  if (against !== null) await assertNoSidewaysScroll(page, where, { against });
  return rec.check(page, name);
}

/**
 * Records what each page looked like and what axe found on it.
 * check(page, name) saves ARTIFACTS/LANG-NN-name.png (full page), runs axe on the page, and
 * returns the violations, of any impact (also kept in this.failures for the final assert).
 */
export class PageRecorder {
  constructor({ artifactsDir, lang, docsDir = null, docsPages = [] }) {
    this.dir = artifactsDir;
    this.lang = lang;
    this.n = 0;
    this.pages = [];      // [{step, url, title, screenshot, violations}]
    this.failures = [];   // violations of any impact, flattened
    this.docsDir = docsDir;
    this.docsPages = new Set(docsPages);
    fs.mkdirSync(this.dir, { recursive: true });
  }

  async check(page, step) {
    this.n += 1;
    const file = path.join(this.dir, `${this.lang}-${String(this.n).padStart(2, '0')}-${step}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (this.docsDir && this.docsPages.has(step)) {
      // The README's pictures: the viewport only, so they stay small.
      fs.mkdirSync(this.docsDir, { recursive: true });
      await page.screenshot({ path: path.join(this.docsDir, `${step}.png`), fullPage: false });
    }
    const results = await new AxeBuilder({ page }).analyze();
    const violations = results.violations.map((v) => ({
      lang: this.lang,
      step,
      url: page.url(),
      rule: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '), html: n.html, summary: n.failureSummary,
      })),
    }));
    const failing = violations.filter((v) => FAILING_IMPACTS.has(v.impact));
    this.failures.push(...failing);
    const title = await page.title();
    this.pages.push({ step, url: page.url(), title, screenshot: file, violations });
    return failing;
  }

  /** A screenshot only (e.g. a mail rendered in a tab, which is not a page of the portal). */
  async snapshot(page, step) {
    this.n += 1;
    const file = path.join(this.dir, `${this.lang}-${String(this.n).padStart(2, '0')}-${step}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  writeReport() {
    const file = path.join(this.dir, `${this.lang}-axe-report.json`);
    fs.writeFileSync(file, JSON.stringify(this.pages, null, 2));
    return file;
  }

  /** One readable line per failing violation and element. */
  describeFailures() {
    const lines = [];
    for (const v of this.failures) {
      for (const n of v.nodes) {
        const summary = String(n.summary).replace(/\n/g, ' ');
        lines.push(`[${v.lang}] page ${v.step} (${v.url}): ${v.rule} (${v.impact}) ${v.help}\n` +
                   `    element ${n.target}: ${n.html}\n    ${summary}`);
      }
    }
    return lines.join('\n');
  }
}
