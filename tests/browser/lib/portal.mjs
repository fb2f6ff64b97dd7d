// What a visitor does on the portal, shared by the browser tests: register and verify with the
// code the mail sink received, sign in, change or choose a password, play a video page's
// preview, search the news. Each step only drives the page; the tests make their own checks
// around it.
import { clickAndWait, submit } from './browser.mjs';
import { codeIn } from './mail.mjs';

/** Fills the registration form the page shows and submits it; the final document's response. */
export async function register(page, email, password) {
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.fill('#password_confirm', password);
  return submit(page, '/account/register');
}

/** Fills the password change form (/account/password) and submits it. */
export async function changePassword(page, current, password) {
  await page.fill('#current_password', current);
  await page.fill('#password', password);
  await page.fill('#password_confirm', password);
  return submit(page, '/account/password');
}

/** Fills the new password form at the end of a reset (/account/password/new) and submits it. */
export async function chooseNewPassword(page, password) {
  await page.fill('#password', password);
  await page.fill('#password_confirm', password);
  return submit(page, '/account/password/new');
}

/** Waits for the code mailed to email, types it on the code page and submits it. */
export async function verifyWithMailedCode(page, inbox, email) {
  const mail = await inbox.waitForCode(email);
  await page.fill('#code', codeIn(mail.text));
  return submit(page, '/account/verify');
}

/** Fills the sign-in form the page shows and submits it; the final document's response. */
export async function signIn(page, email, password) {
  await page.fill('#email', email);
  await page.fill('#password', password);
  return submit(page, '/account/login');
}

/** Plays the video page's player (muted) until it has data to show (readyState >= 2). */
export async function playPreview(page) {
  const player = page.locator('video');
  await player.evaluate((v) => { v.muted = true; return v.play().catch(() => {}); });
  await page.waitForFunction(() => document.querySelector('video').readyState >= 2,
                             null, { timeout: 30000 });
}

/** A word of the item's headline in lang (English when it has none) that a search must find. */
export function headlineWord(item, lang) {
  return (item.headlines[lang] || item.headlines.en).split(/\s+/)
    .find((w) => w.length > 5).replace(/[^\p{L}\p{N}]/gu, '');
}

/** Searches the news (base/news/) for words with the page's search form. */
export async function searchNews(page, base, words) {
  await page.goto(`${base}/news/`);
  await page.fill('#search-q', words);
  return clickAndWait(page, page.locator('form.search button[type=submit]'));
}
