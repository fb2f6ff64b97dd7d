// The installed string catalogues (PREFIX/share/natomedia/i18n/*.LANG.strings, `key = value`
// lines, '#' comments): what the server shows for {{t:key}}, so the tests check the words on a
// page in the page's language without copying every translation.
import fs from 'node:fs';
import path from 'node:path';

export function loadCatalogue(prefix, lang) {
  const dir = path.join(prefix, 'share', 'natomedia', 'i18n');
  const strings = new Map();
  for (const name of fs.readdirSync(dir).sort()) {
    if (!name.endsWith(`.${lang}.strings`)) continue;
    for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      const s = line.trim();
      if (!s || s.startsWith('#')) continue;
      const eq = s.indexOf('=');
      if (eq <= 0) continue;
      strings.set(s.slice(0, eq).trim(), s.slice(eq + 1).trim());
    }
  }
  const t = (key) => {
    if (!strings.has(key)) throw new Error(`no string ${key} in the ${lang} catalogues of ${dir}`);
    return strings.get(key);
  };
  t.has = (key) => strings.has(key);
  return t;
}
