import { Fragment, type ReactNode } from 'react';
import { parseBlocks, type Block, type Inline } from './markdown';

export interface MentionContext {
  /** Display name for a user id (falls back to a short id while the profile loads). */
  userName: (id: string) => string;
  selfId: string | null;
  onUserClick?: (id: string) => void;
}

const LINK_REL = 'noopener noreferrer nofollow';

function renderInline(nodes: Inline[], ctx: MentionContext, keyPrefix: string): ReactNode[] {
  return nodes.map((n, idx) => {
    const key = `${keyPrefix}.${idx}`;
    switch (n.t) {
      case 'text':
        return <Fragment key={key}>{n.text}</Fragment>;
      case 'br':
        return <br key={key} />;
      case 'code':
        return (
          <code key={key} className="md-code">
            {n.text}
          </code>
        );
      case 'bold':
        return <strong key={key}>{renderInline(n.children, ctx, key)}</strong>;
      case 'italic':
        return <em key={key}>{renderInline(n.children, ctx, key)}</em>;
      case 'strike':
        return <del key={key}>{renderInline(n.children, ctx, key)}</del>;
      case 'link':
        return (
          <a key={key} href={n.href} target="_blank" rel={LINK_REL} className="md-link">
            {renderInline(n.children, ctx, key)}
          </a>
        );
      case 'user': {
        const self = n.id === ctx.selfId;
        return (
          <span
            key={key}
            className={self ? 'mention mention-self' : 'mention'}
            data-user-id={n.id}
            data-testid="mention"
            role={ctx.onUserClick ? 'button' : undefined}
            tabIndex={ctx.onUserClick ? 0 : undefined}
            onClick={ctx.onUserClick ? () => ctx.onUserClick!(n.id) : undefined}
          >
            @{ctx.userName(n.id)}
          </span>
        );
      }
      case 'special':
        return (
          <span key={key} className="mention mention-special" data-testid="mention">
            @{n.name}
          </span>
        );
    }
  });
}

function renderBlocks(blocks: Block[], ctx: MentionContext, keyPrefix: string): ReactNode[] {
  return blocks.map((b, idx) => {
    const key = `${keyPrefix}.${idx}`;
    switch (b.t) {
      case 'p':
        return (
          <p key={key} className="md-p">
            {renderInline(b.children, ctx, key)}
          </p>
        );
      case 'pre':
        return (
          <pre key={key} className="md-pre" data-lang={b.lang ?? undefined}>
            <code>{b.text}</code>
          </pre>
        );
      case 'quote':
        return (
          <blockquote key={key} className="md-quote">
            {renderBlocks(b.children, ctx, key)}
          </blockquote>
        );
      case 'list': {
        const items = b.items.map((item, i) => <li key={i}>{renderInline(item, ctx, `${key}.${i}`)}</li>);
        return b.ordered ? (
          <ol key={key} className="md-ol" start={b.start}>
            {items}
          </ol>
        ) : (
          <ul key={key} className="md-ul">
            {items}
          </ul>
        );
      }
    }
  });
}

/** Renders message text as React elements. User input is never interpreted as HTML. */
/**
 * Renders chat markdown. `trailing` (e.g. an "(edited)" marker) is placed at the end of the last
 * paragraph so that it flows with the text instead of starting a line of its own.
 */
export function Markdown({ text, ctx, trailing }: { text: string; ctx: MentionContext; trailing?: ReactNode }) {
  const blocks = parseBlocks(text);
  const nodes = renderBlocks(blocks, ctx, 'm');
  if (trailing == null) return <>{nodes}</>;
  const last = blocks[blocks.length - 1];
  if (last?.t === 'p') {
    nodes[nodes.length - 1] = (
      <p key={`m.${blocks.length - 1}`} className="md-p">
        {renderInline(last.children, ctx, `m.${blocks.length - 1}`)}
        {trailing}
      </p>
    );
    return <>{nodes}</>;
  }
  return (
    <>
      {nodes}
      {trailing}
    </>
  );
}
