// The change of address in a real browser (issue 17, CONTRACT section 13): a verified visitor
// uses the "Change email" form of the account page, switches language on the code page (nothing
// of the change is in the URL, so the switch keeps it), types the code mailed to the new address
// and is back on the account page with a notice and the new address. In English and French, at
// 1280 px and 390 px, with axe on every page and a check that no page scrolls sideways.
//
//   cd tests/browser && NM_PREFIX=/path/to/stage node --test email.test.mjs
import assert from 'node:assert/strict';

import {
  PageRecorder, clickAndWait, h1, localeFor, lookAt, openBrowser, pathOf, submit,
} from './lib/browser.mjs';
import { loadCatalogue } from './lib/catalogue.mjs';
import { Inbox, codeIn, uniqueStamp } from './lib/mail.mjs';
import { register, verifyWithMailedCode } from './lib/portal.mjs';
import { PREFIX, artifactsDir, useStack } from './lib/stack.mjs';

const ARTIFACTS = artifactsDir('email');
const suite = useStack({ artifacts: ARTIFACTS });

suite.eachRun((lang, width) => `change of address (${lang}, ${width} px)`,
              { timeout: 180000 }, async (t, lang, width) => {
  const { stack } = suite;
  const tr = loadCatalogue(PREFIX, lang);
  const other = lang === 'en' ? 'fr' : 'en';
  const trOther = loadCatalogue(PREFIX, other);
  const base = stack.base_url;
  const inbox = new Inbox(stack.mail_dir);
  const stamp = uniqueStamp();
  const oldAddress = `mover.${lang}.${width}.${stamp}@example.org`;
  const newAddress = `moved.${lang}.${width}.${stamp}@example.org`;
  const password = `Moving-${lang.toUpperCase()}-2024!x`;
  const rec = new PageRecorder({ artifactsDir: ARTIFACTS, lang: `${lang}-${width}` });
  const browser = await openBrowser({ locale: localeFor(lang) });
  const { page } = browser;
  await page.setViewportSize({ width, height: 900 });
  const check = (name, want = lang) =>
    lookAt(page, rec, name, { lang: want, against: 'innerWidth' });
  try {
    // A verified account, the visitor's way.
    await page.goto(`${base}/account/register?lang=${lang}`);
    assert.equal((await register(page, oldAddress, password)).status(), 200);
    assert.equal((await verifyWithMailedCode(page, inbox, oldAddress)).status(), 200);

    // The account page's form.
    await page.goto(`${base}/account/`);
    await check('account');
    assert.equal((await page.locator('#email-change-heading').innerText()).trim(),
                 tr('auth.email_change.title'));
    await page.fill('#new_email', newAddress);
    await page.fill('#email_current_password', password);
    assert.equal((await submit(page, '/account/email')).status(), 200);
    assert.equal(pathOf(page), '/account/email/verify');
    assert.equal(await h1(page), tr('auth.email_change.verify.title'));
    assert.equal((await page.locator('#new-email').innerText()).trim(), newAddress);
    await check('email-code');

    // The language switch in the middle: the same form, the same change, the other language.
    await clickAndWait(page, page.locator(`a[hreflang="${other}"]`).first());
    assert.equal(pathOf(page), '/account/email/verify');
    assert.equal(await h1(page), trOther('auth.email_change.verify.title'));
    assert.equal((await page.locator('#new-email').innerText()).trim(), newAddress);
    await check('email-code-switched', other);
    if (other === 'fr') assert.ok(!(await page.content()).toLowerCase().includes('courriel'));

    // A wrong code first: 422, focus on the error summary, then the right one.
    const mail = await inbox.waitForCode(newAddress);
    const code = codeIn(mail.text);
    await page.fill('#code', code === '000000' ? '111111' : '000000');
    assert.equal((await submit(page, '/account/email/verify')).status(), 422);
    await check('email-code-wrong', other);
    await page.fill('#code', `${code.slice(0, 3)} ${code.slice(3)}`);
    assert.equal((await submit(page, '/account/email/verify')).status(), 200);
    const done = new URL(page.url());
    assert.equal(done.pathname, '/account/');
    assert.equal(done.searchParams.get('done'), 'email');
    assert.equal((await page.locator('#account-notice').innerText()).trim(),
                 trOther('auth.account.notice.email'));
    assert.equal((await page.locator('#account-email').innerText()).trim(), newAddress);
    await check('account-changed', other);

    // The old address is told.
    const notice = await inbox.waitFor(oldAddress, {
      pred: (m) => m.text.includes(newAddress) });
    assert.ok(notice.subject.includes(tr('auth.mail.email_changed.subject')),
              `notice subject "${notice.subject}"`);
  } finally {
    rec.writeReport();
    await browser.close();
  }
  assert.equal(rec.failures.length, 0, rec.describeFailures());
});
