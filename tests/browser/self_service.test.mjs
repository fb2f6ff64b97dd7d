// Account self-service in a real browser (issue 17, CONTRACT section 13): on /account/, change the
// password (the old one then fails, the new one works), list the sessions and end every other
// one (a second browser signed in is signed out), export the account's data (a JSON attachment
// with its email) and delete the account (→ the home page's "deleted" notice; signing in then
// fails). On the way, the pages no other browser test visits: a download quota refusal, a
// tampered signed download link, a live and then dead unsubscribe link, `/?done=deleted`.
//
// At 1280 px and 390 px, in English and French. Every page: its language, no sideways scroll,
// and axe with no violation of any impact. At 1280 px each page is also checked in the dark
// (prefers-color-scheme: dark, axe again) and at 200 % zoom: a 1280 px window at 200 % lays the
// page out in 640 CSS px (WCAG 1.4.10), so the page is re-laid out at 640 px with a device pixel
// ratio of 2 (Chrome DevTools Protocol) and must not scroll sideways either.
//
//   cd tests/browser && NM_PREFIX=/path/to/stage node --test self_service.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  PageRecorder, assertNoSidewaysScroll, clickAndWait, h1, localeFor, lookAt, openBrowser, pathOf,
  signedIn, statusChain, submit,
} from './lib/browser.mjs';
import { loadCatalogue } from './lib/catalogue.mjs';
import { firstVideo } from './lib/feed.mjs';
import { Inbox, uniqueStamp } from './lib/mail.mjs';
import { changePassword, register, signIn, verifyWithMailedCode } from './lib/portal.mjs';
import { PREFIX, artifactsDir, useStack } from './lib/stack.mjs';

const ARTIFACTS = artifactsDir('self_service');
const ZOOMED = { width: 640, height: 450 };  // 1280 × 900 at 200 %
const QUOTA = 1000;  // bytes a day; the sample renditions are tens of kB

// One portal for every run, with a daily quota of 1000 bytes: the first 1000 bytes of a video
// (a Range request) are downloaded, then the whole file is refused (the quota page); signed
// links are checked before the quota (the "bad link" page).
let video;
const suite = useStack({
  artifacts: ARTIFACTS, directives: `NatoMediaDownloadQuota ${QUOTA}`,
  keepOnFailure: true, label: 'self-service',
  ready: (stack) => { video = firstVideo(stack.feed, { renditions: 1 }); },
});

// ------------------------------------------------------------------------------------------------
// Helpers

// The sign-in throttle holds one of 10 places of the client (127.0.0.1, for every run) for 60 s
// per wrong password, and locks the client when they are all taken. The runs' deliberate wrong
// passwords (4 each) are paced to stay under that: on a fast machine they would meet the lock.
const wrongAt = [];
async function wrongPasswordSlot() {
  for (;;) {
    const now = Date.now();
    while (wrongAt.length && now - wrongAt[0] > 65000) wrongAt.shift();
    if (wrongAt.length < 8) {
      wrongAt.push(now);
      return;
    }
    await new Promise((r) => setTimeout(r, wrongAt[0] + 65000 - now));
  }
}

/** Signs in on the sign-in page of a fresh visit; returns the answer's status chain. */
async function signInAfresh(page, base, email, password) {
  await page.goto(`${base}/account/login`);
  return statusChain(await signIn(page, email, password));
}

// ------------------------------------------------------------------------------------------------
// One run: a new account, every self-service action, then its deletion.

async function selfService(t, lang, width) {
  const { stack } = suite;
  const tr = loadCatalogue(PREFIX, lang);
  const base = stack.base_url;
  const inbox = new Inbox(stack.mail_dir);
  const locale = localeFor(lang);
  const tag = `${lang}-${width}`;
  const stamp = uniqueStamp();
  const email = `self.${lang}.${width}.${stamp}@example.org`;
  const password = `Self-Service-${lang.toUpperCase()}-2023!x`;
  const newPassword = `Changed#${lang}-${width}-Pass-2024`;
  const rec = new PageRecorder({ artifactsDir: ARTIFACTS, lang: tag });
  const dark = new PageRecorder({ artifactsDir: ARTIFACTS, lang: `${tag}-dark` });
  const zoomed = new PageRecorder({ artifactsDir: ARTIFACTS, lang: `${tag}-zoom200` });
  const downloads = path.join(ARTIFACTS, `downloads-${tag}`);
  const browser = await openBrowser({ locale, downloadsDir: downloads });
  const other = await openBrowser({ locale });  // the same visitor on a second device
  const { page, pageErrors } = browser;
  const viewport = { width, height: 900 };
  let checked = 0;

  // Every page of the portal the visitor sees.
  const look = async (name) => {
    checked += 1;
    await lookAt(page, rec, name, { lang, where: `${name} at ${width} px` });
    if (width !== 1280) return;
    await page.emulateMedia({ colorScheme: 'dark' });
    try {
      await dark.check(page, name);
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
    }
    // 200 %: 640 CSS px at 2 device pixels each, as Chromium lays out a zoomed 1280 px window.
    const cdp = await page.context().newCDPSession(page);
    try {
      await cdp.send('Emulation.setDeviceMetricsOverride',
                     { ...ZOOMED, deviceScaleFactor: 2, mobile: false });
      assert.deepEqual(await page.evaluate(() => [window.innerWidth, window.devicePixelRatio]),
                       [ZOOMED.width, 2], 'the 200 % zoom emulation');
      await assertNoSidewaysScroll(page, `${name} at 200 % zoom (640 CSS px)`);
      await zoomed.snapshot(page, name);
    } finally {
      await cdp.send('Emulation.clearDeviceMetricsOverride').catch(() => {});
      await cdp.detach().catch(() => {});
      await page.setViewportSize(viewport);
    }
  };

  // A link of the account page to target: the page it opens answers 200 with its title.
  const openFromAccount = async (target, titleKey) => {
    const resp = await clickAndWait(page, page.locator(`main a[href$="${target}"]`));
    assert.equal(resp.status(), 200);
    assert.equal(await h1(page), tr(titleKey));
    return resp;
  };

  try {
    await page.setViewportSize(viewport);
    await other.page.setViewportSize(viewport);

    // A new account: register, the mailed code, the newsletter (its mail has an unsubscribe
    // link, dead once the account is gone). These pages are the journey's; not checked again.
    let resp = await page.goto(`${base}/account/register?lang=${lang}`);
    assert.equal(resp.status(), 200);
    await register(page, email, password);
    assert.equal(pathOf(page), '/account/verify');
    resp = await verifyWithMailedCode(page, inbox, email);
    assert.equal(resp.status(), 200, 'the mailed code verifies the account');
    resp = await clickAndWait(
      page, page.locator('main form[action$="/newsletter/subscribe"] button[type=submit]'));
    assert.equal(resp.status(), 200, 'subscribed');
    const welcome = await inbox.waitFor(email, {
      pred: (m) => /\/newsletter\/unsubscribe\?token=/.test(m.text) });
    const unsubscribeUrl = /https?:\/\/\S+\/newsletter\/unsubscribe\?token=[^\s>]+/
      .exec(welcome.text)[0];
    t.diagnostic(`[${tag}] registered, verified, subscribed`);

    // The newsletter mail's unsubscribe link: its confirmation page (it unsubscribes on POST).
    resp = await page.goto(unsubscribeUrl);
    assert.equal(resp.status(), 200, `the unsubscribe link ${unsubscribeUrl}`);
    await look('unsubscribe-confirm');

    // The account page.
    resp = await page.goto(`${base}/account/`);
    assert.equal(resp.status(), 200);
    assert.equal((await page.locator('#account-email').innerText()).trim(), email);
    await look('account');

    // 1. Change the password: a wrong current password is refused (401), then the change.
    resp = await openFromAccount('/account/password', 'auth.change.title');
    await look('password');
    await wrongPasswordSlot();
    resp = await changePassword(page, `${password}-wrong`, newPassword);
    assert.equal(resp.status(), 401, 'a wrong current password is refused');
    assert.equal((await page.locator('#current_password-error').innerText()).trim(),
                 tr('auth.change.current_wrong'));
    assert.equal(await page.getAttribute('#current_password', 'aria-invalid'), 'true');
    await look('password-refused');
    resp = await changePassword(page, password, newPassword);
    assert.deepEqual(await statusChain(resp), [303, 200], 'password change → 303 → /account/');
    assert.equal(pathOf(page), '/account/');
    assert.equal(new URL(page.url()).searchParams.get('done'), 'password');
    assert.equal((await page.locator('#account-notice').innerText()).trim(),
                 tr('auth.account.notice.password'));
    assert.ok(await signedIn(page), 'this device stays signed in');
    await look('password-changed');
    await inbox.waitFor(email, {
      pred: (m) => m.subject.includes(tr('auth.mail.password_changed.subject')) });
    // On another device: the old password fails, the new one works.
    await wrongPasswordSlot();
    let chain = await signInAfresh(other.page, base, email, password);
    assert.deepEqual(chain, [401], 'the old password is refused');
    chain = await signInAfresh(other.page, base, email, newPassword);
    assert.deepEqual(chain, [303, 200], 'the new password signs in');
    assert.ok(await signedIn(other.page), 'the second device is signed in');
    t.diagnostic(`[${tag}] password changed`);

    // 2. Sessions: both devices listed, this one marked; end the other one.
    resp = await page.goto(`${base}/account/`);
    resp = await openFromAccount('/account/sessions', 'auth.sessions.title');
    assert.equal(await page.locator('#sessions tbody tr').count(), 2, 'two devices signed in');
    assert.equal(await page.locator('#sessions tbody tr.current-session').count(), 1);
    await look('sessions');
    resp = await submit(page, '/account/sessions/end-others');
    assert.deepEqual(await statusChain(resp), [303, 200], 'end others → 303 → /account/');
    assert.equal(pathOf(page), '/account/');
    assert.equal((await page.locator('#account-notice').innerText()).trim(),
                 tr('auth.account.notice.sessions'));
    assert.ok(await signedIn(page), 'this device stays signed in');
    await look('sessions-ended');
    resp = await other.page.goto(`${base}/account/`);
    assert.equal(pathOf(other.page), '/account/login', 'the other device is signed out');
    assert.equal(await signedIn(other.page), false);
    resp = await page.goto(`${base}/account/sessions`);
    assert.equal(await page.locator('#sessions tbody tr').count(), 1, 'one device left');
    t.diagnostic(`[${tag}] other sessions ended`);

    // 3. Export: a JSON attachment with the account's email.
    resp = await page.goto(`${base}/account/`);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('main a[href$="/account/export"]').click(),
    ]);
    assert.equal(await download.failure(), null, 'export download failed');
    const saved = path.join(downloads, download.suggestedFilename());
    await download.saveAs(saved);
    assert.match(download.suggestedFilename(), /\.json$/);
    // One part per plugin: the authentication plugin's has the account and its sessions.
    const exported = JSON.parse(fs.readFileSync(saved, 'utf8')).authentication;
    assert.equal(exported.account.email, email, 'the export names the account');
    assert.ok(Array.isArray(exported.sessions) && exported.sessions.length >= 1);
    const got = await page.context().request.get(`${base}/account/export`);
    assert.equal(got.status(), 200);
    assert.match(got.headers()['content-type'], /^application\/json/);
    assert.match(got.headers()['content-disposition'], /^attachment;/);
    assert.equal((await got.json()).authentication.account.email, email);
    t.diagnostic(`[${tag}] exported`);

    // 4. The video page, a tampered signed link ("bad link"), and the download quota.
    const rendition = video.renditions[0];
    resp = await page.goto(`${base}/videos/${video.id}`);
    assert.equal(resp.status(), 200);
    await look('video');
    const signedUrl = new URL(await page.inputValue(`#link-${rendition.id}`));
    const sig = signedUrl.searchParams.get('sig');
    assert.ok(sig, `the signed link ${signedUrl} has a sig`);
    signedUrl.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    resp = await page.goto(signedUrl.href);
    assert.equal(resp.status(), 403, 'a tampered link is refused');
    assert.ok((await page.locator('main').innerText()).includes(tr('media.download.bad_link')));
    await look('bad-link');
    const part = await page.context().request.get(
      `${base}/download/${video.id}/${rendition.id}`,
      { headers: { Range: `bytes=0-${QUOTA - 1}` } });
    assert.equal(part.status(), 206, 'a part of the file within the quota');
    assert.equal((await part.body()).length, QUOTA);
    assert.ok(rendition.size > QUOTA);
    resp = await page.goto(`${base}/videos/${video.id}`);
    resp = await clickAndWait(
      page, page.locator(`tr[data-rendition="${rendition.id}"] a.download`));
    assert.equal(resp.status(), 429, 'over the daily quota');
    assert.ok(resp.headers()['retry-after'], 'a quota refusal says when to retry');
    assert.equal(await h1(page), tr('media.quota.title'));
    await look('quota');
    t.diagnostic(`[${tag}] bad link and quota pages`);

    // 5. The account page lists that download; delete the account: a wrong password is
    //    refused, then the erasure → the home page.
    resp = await page.goto(`${base}/account/`);
    const row = page.locator(`main table tr:has(a[href$="/videos/${video.id}"])`);
    assert.equal(await row.count(), 1, 'the account page lists the download');
    assert.ok((await row.innerText()).includes(rendition.id));
    await look('account-downloads');
    resp = await openFromAccount('/account/delete', 'auth.delete.title');
    await look('delete');
    await wrongPasswordSlot();
    await page.fill('#current_password', password);  // the old one
    resp = await submit(page, '/account/delete');
    assert.equal(resp.status(), 401, 'the old password does not delete the account');
    await look('delete-refused');
    await page.fill('#current_password', newPassword);
    resp = await submit(page, '/account/delete');
    assert.deepEqual(await statusChain(resp), [303, 200], 'delete → 303 → /');
    assert.equal(pathOf(page), '/');
    assert.equal(new URL(page.url()).searchParams.get('done'), 'deleted');
    assert.equal(await signedIn(page), false, 'signed out');
    assert.equal((await page.locator('#home-notice').innerText()).trim(),
                 tr('media.home.notice.deleted'));
    await look('deleted');
    await inbox.waitFor(email, {
      pred: (m) => m.subject.includes(tr('auth.mail.account_deleted.subject')) });

    // 6. The unsubscribe link is dead (it died with the password change, and the account is
    //    gone); signing in fails.
    resp = await page.goto(unsubscribeUrl);
    assert.equal(resp.status(), 400, 'the dead unsubscribe link');
    assert.ok((await page.locator('main').innerText()).includes(tr('newsletter.token.invalid')));
    await look('unsubscribe-dead');
    await wrongPasswordSlot();
    chain = await signInAfresh(page, base, email, newPassword);
    assert.deepEqual(chain, [401], 'a deleted account cannot sign in');
    await look('login-refused');
    t.diagnostic(`[${tag}] deleted; ${checked} pages checked`);

    assert.deepEqual(pageErrors, [], 'JavaScript errors on the pages');
  } finally {
    rec.writeReport();
    dark.writeReport();
    await browser.close();
    await other.close();
  }
  const all = [...rec.pages, ...dark.pages].flatMap((p) => p.violations);
  assert.equal(all.length, 0, `axe violations (${tag}):\n` + all.map(
    (v) => `${v.lang} ${v.step} (${v.url}): ${v.rule} (${v.impact}) ${v.help}\n` +
           v.nodes.map((n) => `    ${n.target}: ${n.html}`).join('\n')).join('\n'));
}

suite.eachRun((lang, width) => `account self-service (${lang}, ${width} px)`,
              { timeout: 240000 }, selfService);
