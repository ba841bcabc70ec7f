import { useEffect, useRef, useState } from 'react';
import { EMOJI, PICKER_EMOJI } from '../lib/emoji';

export function EmojiPicker({ onPick, onClose }: { onPick: (name: string) => void; onClose: () => void }) {
  const [filter, setFilter] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  const names = filter ? Object.keys(EMOJI).filter((n) => n.includes(filter.toLowerCase())) : PICKER_EMOJI;

  useEffect(() => {
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        onClose();
      }
    };
    document.addEventListener('mousedown', onDown);
    window.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('mousedown', onDown);
      window.removeEventListener('keydown', onKey, true);
    };
  }, [onClose]);

  return (
    <div ref={ref} className="w-72 rounded-lg border border-zinc-200 bg-white p-2 shadow-xl dark:border-zinc-700 dark:bg-zinc-800" role="dialog" aria-label="Emoji picker" data-testid="emoji-picker">
      <input className="input mb-2 py-1!" placeholder="Search emoji" aria-label="Search emoji" autoFocus value={filter} onChange={(e) => setFilter(e.target.value)} />
      <div className="grid grid-cols-8 gap-0.5" role="listbox" aria-label="Emoji">
        {names.map((name) => (
          <button
            key={name}
            type="button"
            role="option"
            aria-selected="false"
            aria-label={name}
            title={`:${name}:`}
            data-testid={`emoji-${name}`}
            className="flex h-8 w-8 items-center justify-center rounded text-xl hover:bg-zinc-100 dark:hover:bg-zinc-700"
            onClick={() => onPick(name)}
          >
            {EMOJI[name]}
          </button>
        ))}
      </div>
    </div>
  );
}
