// The visitor's portal in a real browser (issue 17): the home page, the video page's player
// playing the public preview (the <video> element reaches readyState >= 2), and the news
// search; at 1280 px and 390 px wide, in English and French, with axe on every page and a check
// that no page scrolls sideways.
//
//   cd tests/browser && NM_PREFIX=/path/to/stage node --test home.test.mjs
import assert from 'node:assert/strict';

import {
  PageRecorder, clickAndWait, localeFor, lookAt, openBrowser, pathOf,
} from './lib/browser.mjs';
import { loadCatalogue } from './lib/catalogue.mjs';
import { firstVideo } from './lib/feed.mjs';
import { headlineWord, playPreview, searchNews } from './lib/portal.mjs';
import { PREFIX, artifactsDir, useStack } from './lib/stack.mjs';

const ARTIFACTS = artifactsDir('home');
let video;
const suite = useStack({
  artifacts: ARTIFACTS,
  ready: (stack) => { video = firstVideo(stack.feed); },
});

suite.eachRun((lang, width) => `home, player and search (${lang}, ${width} px)`,
              { timeout: 180000 }, async (t, lang, width) => {
  const tr = loadCatalogue(PREFIX, lang);
  const base = suite.stack.base_url;
  const rec = new PageRecorder({ artifactsDir: ARTIFACTS, lang: `${lang}-${width}` });
  const browser = await openBrowser({ locale: localeFor(lang) });
  const { page } = browser;
  await page.setViewportSize({ width, height: 900 });
  const check = (name) => lookAt(page, rec, name, { lang, against: 'innerWidth' });
  try {
    // The home page: name, tagline, the newest video with its thumbnail.
    let resp = await page.goto(`${base}/?lang=${lang}`);
    assert.equal(resp.status(), 200);
    assert.equal((await page.locator('h1').innerText()).trim(), tr('site.name'));
    const tile = page.locator(`#main li[data-id="${video.id}"]`);
    assert.equal(await tile.locator('img').count(), 1, 'the video tile has its thumbnail');
    await check('home');

    // The video page: its player plays the public preview.
    await clickAndWait(page, tile.locator('h3 a'));
    assert.equal(pathOf(page), `/videos/${video.id}`);
    const player = page.locator('video');
    assert.equal(await player.getAttribute('preload'), 'metadata');
    await playPreview(page);
    await check('video');

    // Search: a word of the video's headline finds it.
    const word = headlineWord(video, lang);
    await searchNews(page, base, word);
    assert.equal(new URL(page.url()).searchParams.get('q'), word);
    assert.equal(await page.locator(`#main li[data-id="${video.id}"]`).count(), 1);
    assert.ok((await page.locator('.searched').innerText()).includes(word));
    await check('search');
  } finally {
    rec.writeReport();
    await browser.close();
  }
  assert.equal(rec.failures.length, 0, rec.describeFailures());
});
