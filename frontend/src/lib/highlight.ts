export interface HighlightPart {
  text: string;
  marked: boolean;
}

/**
 * Splits a search `highlight` string on its `<mark>`…`</mark>` tags. Everything else,
 * including any other angle-bracket text, is returned as plain text to be rendered as text.
 */
export function splitHighlight(highlight: string): HighlightPart[] {
  const parts: HighlightPart[] = [];
  const re = /<mark>|<\/mark>/gi;
  let marked = false;
  let last = 0;
  let m: RegExpExecArray | null;
  const push = (text: string) => {
    if (!text) return;
    const prev = parts[parts.length - 1];
    if (prev && prev.marked === marked) prev.text += text;
    else parts.push({ text, marked });
  };
  while ((m = re.exec(highlight))) {
    push(highlight.slice(last, m.index));
    marked = m[0].toLowerCase() === '<mark>';
    last = m.index + m[0].length;
  }
  push(highlight.slice(last));
  return parts;
}
