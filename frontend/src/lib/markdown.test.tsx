import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { Markdown, type MentionContext } from './markdownRender';
import { parseBlocks, parseInline, safeUrl } from './markdown';

const ctx: MentionContext = {
  userName: (id) => ({ U1: 'Alice', U2: 'Bob <b>' } as Record<string, string>)[id] ?? id,
  selfId: 'U1',
};

function render(text: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = renderToStaticMarkup(<Markdown text={text} ctx={ctx} />);
  return div;
}

describe('markdown rendering', () => {
  it('renders bold, italics, strike and inline code', () => {
    const el = render('**bold** *it* _also_ ~~gone~~ ~gone2~ `x < y`');
    expect(el.querySelector('strong')?.textContent).toBe('bold');
    expect([...el.querySelectorAll('em')].map((e) => e.textContent)).toEqual(['it', 'also']);
    expect([...el.querySelectorAll('del')].map((e) => e.textContent)).toEqual(['gone', 'gone2']);
    expect(el.querySelector('code')?.textContent).toBe('x < y');
  });

  it('nests emphasis', () => {
    const el = render('**bold _and italic_**');
    expect(el.querySelector('strong em')?.textContent).toBe('and italic');
  });

  it('leaves snake_case and lone stars alone', () => {
    const el = render('call my_var_name and 2 * 3 * 4');
    expect(el.querySelector('em')).toBeNull();
    expect(el.textContent).toBe('call my_var_name and 2 * 3 * 4');
  });

  it('renders fenced code blocks verbatim, including markup-looking text', () => {
    const el = render('before\n```js\nconst a = "**no**";\n<b>x</b>\n```\nafter');
    const pre = el.querySelector('pre');
    expect(pre?.getAttribute('data-lang')).toBe('js');
    expect(pre?.textContent).toBe('const a = "**no**";\n<b>x</b>');
    expect(pre?.querySelector('b')).toBeNull();
    expect(el.querySelectorAll('p').length).toBe(2);
  });

  it('renders block quotes and lists', () => {
    const el = render('> quoted **text**\n> more\n- one\n- two\n1. first\n2. second');
    expect(el.querySelector('blockquote strong')?.textContent).toBe('text');
    expect([...el.querySelectorAll('ul li')].map((l) => l.textContent)).toEqual(['one', 'two']);
    expect([...el.querySelectorAll('ol li')].map((l) => l.textContent)).toEqual(['first', 'second']);
  });

  it('turns line breaks into <br>', () => {
    const el = render('a\nb');
    expect(el.querySelectorAll('br').length).toBe(1);
  });

  it('renders safe links with the hardened rel and target', () => {
    const el = render('see [docs](https://example.com/a?b=1) and https://echo.dev/x. or <mailto:a@b.c|mail>');
    const links = [...el.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      'https://example.com/a?b=1',
      'https://echo.dev/x',
      'mailto:a@b.c',
    ]);
    for (const a of links) {
      expect(a.getAttribute('rel')).toBe('noopener noreferrer nofollow');
      expect(a.getAttribute('target')).toBe('_blank');
    }
    expect(links[0].textContent).toBe('docs');
    expect(links[2].textContent).toBe('mail');
  });
});

describe('markdown XSS safety', () => {
  const payloads = [
    '<img src=x onerror=alert(1)>',
    '<script>alert(1)</script>',
    '<svg/onload=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '"><iframe src=javascript:alert(1)>',
  ];

  it.each(payloads)('renders %s as inert text', (payload) => {
    const el = render(payload);
    expect(el.querySelector('img,script,svg,iframe,a')).toBeNull();
    expect(el.textContent).toBe(payload);
  });

  it('refuses javascript:, data: and vbscript: link targets', () => {
    const el = render('[x](javascript:alert(1)) [y](data:text/html,hi) [z](vbscript:msgbox) <javascript:alert(1)|z> javascript:alert(1)');
    expect(el.querySelector('a')).toBeNull();
    expect(el.textContent).toContain('[x](javascript:alert(1))');
  });

  it('rejects obfuscated schemes', () => {
    expect(safeUrl('java\tscript:alert(1)')).toBeNull();
    expect(safeUrl(' JaVaScRiPt:alert(1)')).toBeNull();
    expect(safeUrl('//evil.com')).toBeNull();
    expect(safeUrl('HTTPS://ok.com')).toBe('https://ok.com/');
  });

  it('never emits event-handler attributes', () => {
    const html = renderToStaticMarkup(
      <Markdown text={'**<img src=x onerror=alert(1)>** [<b onclick=x>](https://a.b) `<script>`'} ctx={ctx} />,
    );
    expect(html).not.toMatch(/<img|<script|<b[ >]/i);
    const div = document.createElement('div');
    div.innerHTML = html;
    for (const el of div.querySelectorAll('*')) {
      expect([...el.attributes].filter((a) => a.name.startsWith('on'))).toEqual([]);
    }
  });
});

describe('mentions', () => {
  it('shows <@id> as @DisplayName and marks the current user', () => {
    const el = render('hi <@U1> and <@U2>, also <@U9>');
    const mentions = [...el.querySelectorAll('[data-testid="mention"]')];
    expect(mentions.map((m) => m.textContent)).toEqual(['@Alice', '@Bob <b>', '@U9']);
    expect(mentions[0].className).toContain('mention-self');
    expect(mentions[1].className).not.toContain('mention-self');
    expect(mentions[1].getAttribute('data-user-id')).toBe('U2');
    expect(el.querySelector('b')).toBeNull();
  });

  it('highlights @channel and @here but not e-mail addresses', () => {
    const el = render('@channel ping @here; mail me@here.com');
    const mentions = [...el.querySelectorAll('.mention-special')].map((m) => m.textContent);
    expect(mentions).toEqual(['@channel', '@here']);
  });

  it('keeps mentions inert inside code', () => {
    const nodes = parseInline('`<@U1>`');
    expect(nodes).toEqual([{ t: 'code', text: '<@U1>' }]);
  });
});

describe('parser robustness', () => {
  it('handles pathological delimiter runs quickly', () => {
    const text = '* _ ~ '.repeat(7000);
    const started = performance.now();
    parseBlocks(text);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('treats an unterminated fence as text', () => {
    const blocks = parseBlocks('```\nno end');
    expect(blocks.every((b) => b.t === 'p')).toBe(true);
  });

  it('converts emoji short names', () => {
    expect(render('ship it :rocket: :notanemoji:').textContent).toBe('ship it 🚀 :notanemoji:');
  });

  it('honours backslash escapes', () => {
    expect(render('\\*not italic\\*').querySelector('em')).toBeNull();
  });
});
