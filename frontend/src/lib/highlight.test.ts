import { describe, expect, it } from 'vitest';
import { splitHighlight } from './highlight';

describe('splitHighlight', () => {
  it('splits marked spans', () => {
    expect(splitHighlight('the <mark>quick</mark> fox <mark>jumps</mark>')).toEqual([
      { text: 'the ', marked: false },
      { text: 'quick', marked: true },
      { text: ' fox ', marked: false },
      { text: 'jumps', marked: true },
    ]);
  });

  it('keeps every other tag as plain text', () => {
    const parts = splitHighlight('<img src=x onerror=alert(1)> <mark>hit</mark><b>x</b>');
    expect(parts).toEqual([
      { text: '<img src=x onerror=alert(1)> ', marked: false },
      { text: 'hit', marked: true },
      { text: '<b>x</b>', marked: false },
    ]);
  });

  it('copes with no marks, unbalanced marks and empty input', () => {
    expect(splitHighlight('plain')).toEqual([{ text: 'plain', marked: false }]);
    expect(splitHighlight('<mark>open only')).toEqual([{ text: 'open only', marked: true }]);
    expect(splitHighlight('')).toEqual([]);
  });
});
