// The parts of issue 17's browser proof the other browser tests leave out, in one run per
// language and width (EN, FR; 1280 and 390 px), all under NatoMediaBasePath /portal:
// the home page, the player (readyState >= 2), search, registration with the language switched
// in the middle of the code flow, the account page, the password change, the sessions, the
// export, sign-out and sign-in without return_to (to the base path's home), the password reset
// with the language switched in the middle of its code flow, and the deletion. Every page: its
// language, axe (a violation of any impact fails), no sideways scroll at the run's width and
// at 320 px. See docs/browser-tests.md and docs/issue17-proof.md.
//
//   cd tests/browser && NM_PREFIX=/path/to/stage node --test gaps.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  PageRecorder, assertNoSidewaysScroll, clickAndWait, localeFor, lookAt, openBrowser, pathOf,
  statusChain, submit,
} from './lib/browser.mjs';
import { loadCatalogue } from './lib/catalogue.mjs';
import { firstVideo } from './lib/feed.mjs';
import { Inbox, codeIn, uniqueStamp } from './lib/mail.mjs';
import {
  changePassword, chooseNewPassword, headlineWord, playPreview, register, searchNews, signIn,
  verifyWithMailedCode,
} from './lib/portal.mjs';
import { PREFIX, artifactsDir, useStack } from './lib/stack.mjs';

const ARTIFACTS = artifactsDir('gaps');
const BASE = '/portal';
// The README's pictures (NAME-desktop.png, NAME-phone.png), taken in English when
// NM_DOCS_SCREENSHOTS names their folder (docs/screenshots).
const DOCS = process.env.NM_DOCS_SCREENSHOTS || null;
const DOCS_PAGES = new Set(['home', 'video', 'account']);

let video;
const suite = useStack({
  artifacts: ARTIFACTS, basePath: BASE, keepOnFailure: true,
  ready: (stack) => {
    assert.ok(stack.base_url.endsWith(BASE), stack.base_url);
    video = firstVideo(stack.feed, { renditions: 1 });
  },
});

async function run(t, lang, width) {
  const { stack } = suite;
  const tr = loadCatalogue(PREFIX, lang);
  const other = lang === 'en' ? 'fr' : 'en';
  const base = stack.base_url;
  const inbox = new Inbox(stack.mail_dir);
  const tag = `${lang}-${width}`;
  const stamp = uniqueStamp();
  const email = `gaps.${lang}.${width}.${stamp}@example.org`;
  const password = `Gaps-Portal-${lang.toUpperCase()}-2023!x`;
  const changed = `Changed#${lang}-${width}-Gaps-2024`;
  const reset = `Reset#${lang}-${width}-Gaps-2025`;
  const rec = new PageRecorder({ artifactsDir: ARTIFACTS, lang: tag });
  const browser = await openBrowser({ locale: localeFor(lang) });
  const { page, pageErrors } = browser;
  const viewport = { width, height: 900 };
  let checked = 0;
  // Every page: its language, under the base path, axe, no sideways scroll here and at 320 px.
  const look = async (name, inLang = lang) => {
    checked += 1;
    assert.ok(pathOf(page).startsWith(`${BASE}/`), `${name} is under ${BASE}: ${page.url()}`);
    await lookAt(page, rec, name, { lang: inLang, where: `${name} at ${width} px` });
    if (DOCS && lang === 'en' && DOCS_PAGES.has(name)) {
      fs.mkdirSync(DOCS, { recursive: true });
      const kind = width >= 1000 ? 'desktop' : 'phone';
      await page.screenshot({ path: path.join(DOCS, `${name}-${kind}.png`), fullPage: false });
    }
    await page.setViewportSize({ width: 320, height: 640 });
    try {
      await assertNoSidewaysScroll(page, `${name} at 320 px`);
    } finally {
      await page.setViewportSize(viewport);
    }
  };
  const switchTo = async (code) => {
    const resp = await clickAndWait(page, page.locator(`header a[hreflang="${code}"]`));
    assert.equal(resp.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), code);
  };

  try {
    await page.setViewportSize(viewport);

    // The home page under the base path: the newest video with its thumbnail.
    let resp = await page.goto(`${base}/?lang=${lang}`);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(page), `${BASE}/`);
    assert.equal((await page.locator('h1').innerText()).trim(), tr('site.name'));
    const tile = page.locator(`#main li[data-id="${video.id}"]`);
    assert.ok((await tile.locator('img').getAttribute('src')).startsWith(`${BASE}/videos/`));
    await look('home');

    // The video page's player plays the public preview.
    await clickAndWait(page, tile.locator('h3 a'));
    assert.equal(pathOf(page), `${BASE}/videos/${video.id}`);
    const player = page.locator('video');
    assert.equal(await player.getAttribute('poster'), `${BASE}/videos/${video.id}/thumbnail`);
    assert.equal(await page.locator('video source').getAttribute('src'),
                 `${BASE}/videos/${video.id}/preview`);
    await playPreview(page);
    await look('video');

    // Search.
    const word = headlineWord(video, lang);
    await searchNews(page, base, word);
    assert.equal(pathOf(page), `${BASE}/news/`);
    assert.equal(new URL(page.url()).searchParams.get('q'), word);
    assert.equal(await page.locator(`#main li[data-id="${video.id}"]`).count(), 1);
    await look('search');

    // Register; switch language in the middle of the code flow, and back: the address stays
    // and the mailed code still works.
    await page.goto(`${base}/account/register`);
    resp = await register(page, email, password);
    assert.equal(pathOf(page), `${BASE}/account/verify`);
    await look('code');
    await switchTo(other);
    assert.equal(pathOf(page), `${BASE}/account/verify`);
    assert.equal(await page.inputValue('main form input[name=email]'), email);
    await look('code-switched', other);
    await switchTo(lang);
    assert.equal(await page.inputValue('main form input[name=email]'), email);
    resp = await verifyWithMailedCode(page, inbox, email);
    assert.equal(resp.status(), 200, 'the code works after the switches');
    await look('verified');
    t.diagnostic(`[${tag}] registered under ${BASE}`);

    // The account page and the password change.
    resp = await page.goto(`${base}/account/`);
    assert.equal(resp.status(), 200);
    await look('account');
    await clickAndWait(page, page.locator('main a[href$="/account/password"]'));
    assert.equal(pathOf(page), `${BASE}/account/password`);
    await look('password');
    resp = await changePassword(page, password, changed);
    assert.deepEqual(await statusChain(resp), [303, 200], 'password change → 303 → account');
    assert.equal(pathOf(page), `${BASE}/account/`);
    assert.equal((await page.locator('#account-notice').innerText()).trim(),
                 tr('auth.account.notice.password'));
    await look('password-changed');

    // Sessions and export.
    await clickAndWait(page, page.locator('main a[href$="/account/sessions"]'));
    assert.equal(pathOf(page), `${BASE}/account/sessions`);
    assert.equal(await page.locator('#sessions tbody tr.current-session').count(), 1);
    await look('sessions');
    const got = await page.context().request.get(`${base}/account/export`);
    assert.equal(got.status(), 200);
    assert.match(got.headers()['content-type'], /^application\/json/);
    assert.equal((await got.json()).authentication.account.email, email);

    // Sign out: the base path's home.
    resp = await clickAndWait(page, page.locator('header form[action$="/account/logout"] button'));
    assert.deepEqual(await statusChain(resp), [303, 200]);
    assert.equal(pathOf(page), `${BASE}/`);

    // The password reset, switching language in the middle of its code flow.
    await page.goto(`${base}/account/password/reset`);
    await look('reset');
    await page.fill('#email', email);
    resp = await submit(page, '/account/password/reset');
    assert.deepEqual(await statusChain(resp), [303, 200]);
    assert.equal(pathOf(page), `${BASE}/account/password/reset/verify`);
    await look('reset-code');
    await switchTo(other);
    assert.equal(pathOf(page), `${BASE}/account/password/reset/verify`);
    assert.equal(await page.inputValue('main form input[name=email]'), email);
    await look('reset-code-switched', other);
    await switchTo(lang);
    const resetMail = await inbox.waitForCode(email, {
      pred: (m) => m.subject.includes(tr('verification.mail.reset.subject')) });
    await page.fill('#code', codeIn(resetMail.text));
    resp = await submit(page, '/account/password/reset/verify');
    assert.deepEqual(await statusChain(resp), [303, 200], 'the reset code works after switches');
    assert.equal(pathOf(page), `${BASE}/account/password/new`);
    await look('new-password');
    resp = await chooseNewPassword(page, reset);
    assert.equal(resp.status(), 200);
    await look('password-updated');

    // Sign in from the header's link (no return_to): the base path's home.
    await page.goto(`${base}/`);
    await clickAndWait(page, page.locator(`header a[href="${BASE}/account/login"]`));
    resp = await signIn(page, email, reset);
    assert.deepEqual(await statusChain(resp), [303, 200]);
    assert.equal(pathOf(page), `${BASE}/`);

    // Delete the account: back to the base path's home with the notice.
    await page.goto(`${base}/account/delete`);
    await look('delete');
    await page.fill('#current_password', reset);
    resp = await submit(page, '/account/delete');
    assert.deepEqual(await statusChain(resp), [303, 200], 'delete → 303 → home');
    assert.equal(pathOf(page), `${BASE}/`);
    assert.equal((await page.locator('#home-notice').innerText()).trim(),
                 tr('media.home.notice.deleted'));
    await look('deleted');
    t.diagnostic(`[${tag}] ${checked} pages checked under ${BASE}`);
    assert.deepEqual(pageErrors, [], 'JavaScript errors on the pages');
  } finally {
    rec.writeReport();
    await browser.close();
  }
  assert.equal(rec.failures.length, 0, rec.describeFailures());
}

suite.eachRun((lang, width) => `under ${BASE}: home, player, search, code flows, ` +
                              `self-service (${lang}, ${width} px)`,
              { timeout: 300000 }, run);
