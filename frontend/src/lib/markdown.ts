/**
 * A small chat-markdown parser producing a plain AST. Rendering to React lives in
 * markdownRender.tsx; nothing here ever produces HTML strings, so user text stays text.
 *
 * Supported: **bold** / __bold__, *italic* / _italic_, ~~strike~~ / ~strike~, `code`,
 * ``` fenced blocks ```, > quotes, - / * / 1. lists, [label](url), <url|label>, bare URLs,
 * <@USER_ID>, @channel / @here / @everyone, :emoji: short names, and backslash escapes.
 */
import { EMOJI } from './emoji';

export type Inline =
  | { t: 'text'; text: string }
  | { t: 'br' }
  | { t: 'code'; text: string }
  | { t: 'bold' | 'italic' | 'strike'; children: Inline[] }
  | { t: 'link'; href: string; children: Inline[] }
  | { t: 'user'; id: string }
  | { t: 'special'; name: 'channel' | 'here' | 'everyone' };

export type Block =
  | { t: 'p'; children: Inline[] }
  | { t: 'pre'; text: string; lang: string | null }
  | { t: 'quote'; children: Block[] }
  | { t: 'list'; ordered: boolean; start: number; items: Inline[][] };

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** The normalised URL when it is an absolute http(s)/mailto URL, otherwise null. */
export function safeUrl(raw: string): string | null {
  const candidate = raw.trim();
  // Control characters and whitespace inside a URL are a classic filter-evasion trick.
  if (!candidate || /[\u0000-\u0020\u007f]/.test(candidate)) return null;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
}

const LIST_ITEM = /^\s{0,3}(?:([-*•])|(\d{1,9})[.)])\s+(.*)$/;
const FENCE = '```';
const MAX_QUOTE_DEPTH = 4;

export function parseBlocks(text: string, depth = 0): Block[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) blocks.push({ t: 'p', children: parseInline(para.join('\n')) });
    para = [];
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trimStart();

    if (trimmed.startsWith(FENCE)) {
      flush();
      const rest = trimmed.slice(3);
      const closeSameLine = rest.indexOf(FENCE);
      if (closeSameLine >= 0) {
        blocks.push({ t: 'pre', text: rest.slice(0, closeSameLine), lang: null });
        const after = rest.slice(closeSameLine + 3).trim();
        if (after) para.push(after);
        continue;
      }
      const body: string[] = [];
      let lang: string | null = null;
      if (/^[\w+#.-]+$/.test(rest.trim())) lang = rest.trim();
      else if (rest.trim()) body.push(rest);
      let j = i + 1;
      let closed = false;
      for (; j < lines.length; j++) {
        const end = lines[j].indexOf(FENCE);
        if (end >= 0) {
          const before = lines[j].slice(0, end);
          if (before.trim()) body.push(before);
          const after = lines[j].slice(end + 3).trim();
          if (after) para.push(after);
          closed = true;
          break;
        }
        body.push(lines[j]);
      }
      if (!closed) {
        // An unterminated fence is just text.
        para.push(line);
        continue;
      }
      blocks.push({ t: 'pre', text: body.join('\n'), lang });
      i = j;
      continue;
    }

    if (trimmed.startsWith('>') && depth < MAX_QUOTE_DEPTH) {
      flush();
      const quoted: string[] = [];
      let j = i;
      while (j < lines.length && lines[j].trimStart().startsWith('>')) {
        quoted.push(lines[j].trimStart().replace(/^> ?/, ''));
        j++;
      }
      blocks.push({ t: 'quote', children: parseBlocks(quoted.join('\n'), depth + 1) });
      i = j - 1;
      continue;
    }

    const item = LIST_ITEM.exec(line);
    if (item) {
      flush();
      const ordered = item[2] !== undefined;
      const start = ordered ? Number(item[2]) : 1;
      const items: Inline[][] = [];
      let j = i;
      while (j < lines.length) {
        const m = LIST_ITEM.exec(lines[j]);
        if (!m || (m[2] !== undefined) !== ordered) break;
        items.push(parseInline(m[3]));
        j++;
      }
      blocks.push({ t: 'list', ordered, start, items });
      i = j - 1;
      continue;
    }

    if (!line.trim()) {
      flush();
      continue;
    }
    para.push(line);
  }
  flush();
  return blocks;
}

const USER_MENTION = /^<@([A-Za-z0-9_-]{1,64})>/;
const ANGLE_LINK = /^<((?:https?:\/\/|mailto:)[^\s<>|]+)(?:\|([^<>\n]{1,500}))?>/;
const MD_LINK = /^\[([^\]\n]{1,500})\]\(([^()\s]{1,2000})\)/;
const BARE_URL = /^(?:https?:\/\/|mailto:)[^\s<>"]*[^\s<>".,:;!?'()[\]{}*_~`]/;
const SPECIAL = /^@(channel|here|everyone)(?![\w-])/;
const SHORTCODE = /^:([a-z0-9_+-]{1,40}):/;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

type Delim = '**' | '__' | '~~' | '*' | '_' | '~';
const DELIM_KIND: Record<Delim, 'bold' | 'italic' | 'strike'> = {
  '**': 'bold',
  __: 'bold',
  '~~': 'strike',
  '*': 'italic',
  _: 'italic',
  '~': 'strike',
};

export function parseInline(src: string): Inline[] {
  // Remembers, per delimiter, a position from which no valid closer exists, so that
  // pathological input ("* * * * …") stays linear instead of quadratic.
  const noCloserFrom = new Map<string, number>();
  return parseRange(src, 0, src.length, noCloserFrom, 0);
}

function isClosingAt(s: string, at: number, delim: Delim, end: number): boolean {
  if (s.slice(at, at + delim.length) !== delim) return false;
  const before = s[at - 1];
  if (before === undefined || /\s/.test(before)) return false;
  const after = at + delim.length < end ? s[at + delim.length] : undefined;
  // Intra-word underscores (snake_case) never close emphasis.
  if (delim[0] === '_' && after !== undefined && WORD_CHAR.test(after)) return false;
  // A single delimiter must not be half of a double one.
  if (delim.length === 1 && (after === delim || before === delim)) return false;
  return true;
}

function findCloser(s: string, from: number, end: number, delim: Delim, memo: Map<string, number>): number {
  const key = `${delim}:${end}`;
  const known = memo.get(key);
  if (known !== undefined && from >= known) return -1;
  let at = s.indexOf(delim, from);
  while (at >= 0 && at + delim.length <= end) {
    if (s[at - 1] !== '\\' && isClosingAt(s, at, delim, end)) return at;
    at = s.indexOf(delim, at + 1);
  }
  memo.set(key, Math.min(known ?? Infinity, from));
  return -1;
}

function parseRange(s: string, start: number, end: number, memo: Map<string, number>, depth: number): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const pushText = () => {
    if (text) out.push({ t: 'text', text });
    text = '';
  };
  const prevIsWord = (i: number) => i > start && WORD_CHAR.test(s[i - 1]);

  let i = start;
  while (i < end) {
    const ch = s[i];
    const rest = () => s.slice(i, end);

    if (ch === '\\' && i + 1 < end && /[\\`*_~[\]()<>@:>#-]/.test(s[i + 1])) {
      text += s[i + 1];
      i += 2;
      continue;
    }
    if (ch === '\n') {
      pushText();
      out.push({ t: 'br' });
      i++;
      continue;
    }
    if (ch === '`') {
      let run = 1;
      while (s[i + run] === '`') run++;
      const fence = '`'.repeat(run);
      const close = s.indexOf(fence, i + run);
      if (close > i + run && close + run <= end) {
        pushText();
        out.push({ t: 'code', text: s.slice(i + run, close) });
        i = close + run;
        continue;
      }
      text += fence;
      i += run;
      continue;
    }
    if (ch === '<') {
      const r = rest();
      const mention = USER_MENTION.exec(r);
      if (mention) {
        pushText();
        out.push({ t: 'user', id: mention[1] });
        i += mention[0].length;
        continue;
      }
      const link = ANGLE_LINK.exec(r);
      if (link) {
        const href = safeUrl(link[1]);
        if (href) {
          pushText();
          const label = link[2] ? parseRange(link[2], 0, link[2].length, new Map(), depth + 1) : [{ t: 'text' as const, text: link[1] }];
          out.push({ t: 'link', href, children: stripLinks(label) });
          i += link[0].length;
          continue;
        }
      }
    }
    if (ch === '[') {
      const m = MD_LINK.exec(rest());
      if (m) {
        const href = safeUrl(m[2]);
        if (href) {
          pushText();
          const label = parseRange(m[1], 0, m[1].length, new Map(), depth + 1);
          out.push({ t: 'link', href, children: stripLinks(label) });
        } else {
          // Unsafe target (javascript:, data:, …): keep the whole thing as inert text.
          text += m[0];
        }
        i += m[0].length;
        continue;
      }
    }
    if ((ch === 'h' || ch === 'm') && !prevIsWord(i)) {
      const m = BARE_URL.exec(rest());
      if (m) {
        const href = safeUrl(m[0]);
        if (href) {
          pushText();
          out.push({ t: 'link', href, children: [{ t: 'text', text: m[0] }] });
          i += m[0].length;
          continue;
        }
      }
    }
    if (ch === '@' && !prevIsWord(i)) {
      const m = SPECIAL.exec(rest());
      if (m) {
        pushText();
        out.push({ t: 'special', name: m[1] as 'channel' | 'here' | 'everyone' });
        i += m[0].length;
        continue;
      }
    }
    if (ch === ':') {
      const m = SHORTCODE.exec(rest());
      if (m && EMOJI[m[1]]) {
        text += EMOJI[m[1]];
        i += m[0].length;
        continue;
      }
    }
    if ((ch === '*' || ch === '_' || ch === '~') && depth < 8) {
      const double = (s[i + 1] === ch ? ch + ch : ch) as Delim;
      const candidates: Delim[] = double.length === 2 ? [double, ch as Delim] : [double];
      let matched = false;
      for (const delim of candidates) {
        const open = i + delim.length;
        const next = s[open];
        if (next === undefined || open >= end || /\s/.test(next)) continue;
        if (delim[0] === '_' && prevIsWord(i)) continue;
        if (delim.length === 1 && next === delim) continue;
        const close = findCloser(s, open + 1, end, delim, memo);
        if (close < 0) continue;
        pushText();
        out.push({ t: DELIM_KIND[delim], children: parseRange(s, open, close, memo, depth + 1) });
        i = close + delim.length;
        matched = true;
        break;
      }
      if (matched) continue;
      // Skip the whole run so that "**" unmatched is not retried as "*".
      let run = 1;
      while (s[i + run] === ch) run++;
      text += s.slice(i, i + run);
      i += run;
      continue;
    }

    text += ch;
    i++;
  }
  pushText();
  return out;
}

/** Links cannot nest; flatten any link inside a label to its text. */
function stripLinks(nodes: Inline[]): Inline[] {
  return nodes.flatMap((n): Inline[] => {
    if (n.t === 'link') return stripLinks(n.children);
    if (n.t === 'bold' || n.t === 'italic' || n.t === 'strike') return [{ ...n, children: stripLinks(n.children) }];
    return [n];
  });
}

/** Plain text of a message for previews and notifications (mentions resolved by the caller). */
export function plainText(blocks: Block[], userName: (id: string) => string): string {
  const inline = (nodes: Inline[]): string =>
    nodes
      .map((n) => {
        switch (n.t) {
          case 'text':
          case 'code':
            return n.text;
          case 'br':
            return ' ';
          case 'user':
            return `@${userName(n.id)}`;
          case 'special':
            return `@${n.name}`;
          default:
            return inline(n.children);
        }
      })
      .join('');
  return blocks
    .map((b) => {
      if (b.t === 'p') return inline(b.children);
      if (b.t === 'pre') return b.text;
      if (b.t === 'quote') return plainText(b.children, userName);
      return b.items.map(inline).join(' ');
    })
    .join(' ');
}
