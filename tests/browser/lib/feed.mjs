// What the browser tests need to know of the content feed the stack serves: its video items,
// their headlines and renditions (with the nm:sha256 a downloaded file must match). A reader for
// the feed scripts/make-sample-media.sh writes, not a general NewsML-G2 parser.
import assert from 'node:assert/strict';
import fs from 'node:fs';

function unescapeXml(s) {
  return s.replace(/&(lt|gt|quot|apos|amp|#x[0-9a-fA-F]+|#\d+);/g, (_, e) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
      case 'amp': return '&';
      default:
        return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16)
                                                  : parseInt(e.slice(1), 10));
    }
  });
}

function attrs(tag) {
  const out = {};
  for (const m of tag.matchAll(/([\w:.-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    out[m[1]] = unescapeXml(m[3] !== undefined ? m[3] : m[4]);
  }
  return out;
}

/** [{id, guid, isVideo, headlines: {en, fr}, renditions: [{id, href, size, sha256, filename}]}] */
export function readFeed(file) {
  const xml = fs.readFileSync(file, 'utf8');
  const items = [];
  for (const m of xml.matchAll(/<newsItem\b([^>]*)>([\s\S]*?)<\/newsItem>/g)) {
    const a = attrs(m[1]);
    const body = m[2];
    const cls = /<itemClass\b[^>]*qcode="([^"]+)"/.exec(body);
    const headlines = {};
    for (const h of body.matchAll(/<headline\b([^>]*)>([\s\S]*?)<\/headline>/g)) {
      const lang = attrs(h[1])['xml:lang'] || 'en';
      if (!(lang in headlines)) headlines[lang] = unescapeXml(h[2].trim());
    }
    const renditions = [];
    for (const r of body.matchAll(/<remoteContent\b([^>]*?)\/?>/g)) {
      const ra = attrs(r[1]);
      renditions.push({
        id: (ra.rendition || '').split(':').pop(),
        href: ra.href,
        size: Number(ra.size),
        sha256: (ra['nm:sha256'] || '').toLowerCase(),
        filename: ra['nm:filename'],
      });
    }
    items.push({
      guid: a.guid,
      id: a.guid.split(':').pop(),
      isVideo: cls ? cls[1] === 'ninat:video' : false,
      headlines,
      renditions,
    });
  }
  return items;
}

/** The feed's first video item with at least `renditions` renditions; fails when it has none. */
export function firstVideo(file, { renditions = 0 } = {}) {
  const video = readFeed(file).find((i) => i.isVideo && i.renditions.length >= renditions);
  assert.ok(video, `the feed ${file} has no video item` +
            (renditions >= 2 ? ` with ${renditions} renditions` : ''));
  return video;
}
