// The inbox of the browser tests: the messages NatoMediaMailTransport file:///DIR writes under
// DIR/new/, read as a person reads them (To, Subject, the text, the code in it). A small RFC 5322
// / MIME reader: folded headers, RFC 2047 encoded words, multipart bodies, base64 and
// quoted-printable parts. Nothing here knows how the server builds its mail beyond the RFCs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

function decodeQuotedPrintable(text, { header = false } = {}) {
  const src = header ? text.replace(/_/g, ' ') : text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < src.length; i++) {
    const hex = src.slice(i + 1, i + 3);
    if (src[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(src[i], 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeBytes(buf, charset) {
  const cs = (charset || 'utf-8').toLowerCase();
  try {
    return new TextDecoder(cs).decode(buf);
  } catch {
    return buf.toString('utf8');
  }
}

/** Decodes RFC 2047 encoded words (=?charset?B|Q?text?=) in a header value. */
export function decodeHeaderValue(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')  // white space between adjacent encoded words is dropped
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset, enc, text) => {
      const buf = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64')
                                             : decodeQuotedPrintable(text, { header: true });
      return decodeBytes(buf, charset);
    });
}

function splitHeadBody(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return [raw, ''];
  return [raw.slice(0, m.index), raw.slice(m.index + m[0].length)];
}

function parseHeaders(head) {
  const headers = new Map();
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (!headers.has(name)) headers.set(name, []);
    headers.get(name).push(value);
  }
  return headers;
}

function param(value, name) {
  const re = new RegExp(`;\\s*${name}\\s*=\\s*("([^"]*)"|[^;\\s]+)`, 'i');
  const m = re.exec(value || '');
  return m ? (m[2] !== undefined ? m[2] : m[1]) : undefined;
}

/** Parses one MIME entity (latin1 string of the raw bytes) into {headers, type, parts|body}. */
function parseEntity(raw) {
  const [head, body] = splitHeadBody(raw);
  const headers = parseHeaders(head);
  const get = (n) => (headers.get(n) || [])[0];
  const ctype = get('content-type') || 'text/plain; charset=us-ascii';
  const type = ctype.split(';')[0].trim().toLowerCase();
  const entity = { headers, get, type, parts: [], text: '' };
  if (type.startsWith('multipart/')) {
    const boundary = param(ctype, 'boundary');
    if (!boundary) return entity;
    const delim = '--' + boundary;
    const chunks = body.split(delim);
    // chunks[0] is the preamble; a chunk starting with "--" is the close delimiter's epilogue.
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith('--')) break;
      entity.parts.push(parseEntity(chunk.replace(/^\r?\n/, '').replace(/\r?\n$/, '')));
    }
    return entity;
  }
  const cte = (get('content-transfer-encoding') || '7bit').toLowerCase();
  let buf;
  if (cte === 'base64') buf = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else if (cte === 'quoted-printable') buf = decodeQuotedPrintable(body);
  else buf = Buffer.from(body, 'latin1');
  entity.text = decodeBytes(buf, param(ctype, 'charset'));
  return entity;
}

function walk(entity, out = []) {
  out.push(entity);
  for (const p of entity.parts) walk(p, out);
  return out;
}

/** A message file as {file, to, subject, header(name), text, html, language}. */
export function readMessage(file) {
  const raw = fs.readFileSync(file).toString('latin1');
  const root = parseEntity(raw);
  const leaves = walk(root);
  const textPart = leaves.find((e) => e.type === 'text/plain');
  const htmlPart = leaves.find((e) => e.type === 'text/html');
  const header = (name) => {
    const v = root.get(name.toLowerCase());
    return v === undefined ? undefined : decodeHeaderValue(v);
  };
  return {
    file,
    to: header('to') || '',
    subject: header('subject') || '',
    header,
    text: textPart ? textPart.text : '',
    html: htmlPart ? htmlPart.text : '',
    language: header('content-language'),
  };
}

/** The 6-digit code a person would copy from the text (spaces or a dash inside allowed). */
export function codeIn(text) {
  const m = /(?<!\d)(\d{3})[ -]?(\d{3})(?!\d)/.exec(text || '');
  return m ? m[1] + m[2] : null;
}

/** A fresh tag for a test's addresses (base-36 time and 6 random hex digits). */
export function uniqueStamp() {
  return Date.now().toString(36) + crypto.randomBytes(3).toString('hex');
}

/** The mailbox: DIR/new/ files oldest first (mtime, then name). */
export class Inbox {
  constructor(mailDir) {
    this.dir = path.join(mailDir, 'new');
  }

  files() {
    let names;
    try {
      names = fs.readdirSync(this.dir).filter((n) => !n.startsWith('.'));
    } catch (e) {
      if (e.code === 'ENOENT') return [];
      throw e;
    }
    return names
      .map((n) => path.join(this.dir, n))
      .filter((p) => fs.statSync(p).isFile())
      .map((p) => ({ p, t: fs.statSync(p).mtimeMs }))
      .sort((a, b) => a.t - b.t || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0))
      .map((x) => x.p);
  }

  /** Every message to address, oldest first. */
  messagesTo(address) {
    const want = address.toLowerCase();
    return this.files().map(readMessage).filter((m) => m.to.toLowerCase().includes(want));
  }

  /**
   * Waits for the (after+1)-th message to address that pred accepts; throws after timeoutMs
   * with what the inbox holds, so a missing mail is explained.
   */
  async waitFor(address, { after = 0, pred = () => true, timeoutMs = 30000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messagesTo(address).filter(pred);
      if (found.length > after) return found[after];
      if (Date.now() > deadline) {
        const all = this.files().map(readMessage).map((m) => `${m.to} | ${m.subject}`);
        throw new Error(`no message #${after + 1} to ${address} within ${timeoutMs} ms; ` +
                        `inbox ${this.dir} holds ${all.length}: ${JSON.stringify(all)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** waitFor a message to address with a code in its text (and that pred accepts). */
  waitForCode(address, { pred = () => true, ...options } = {}) {
    return this.waitFor(address, { ...options, pred: (m) => pred(m) && codeIn(m.text) !== null });
  }
}
