import { useEffect } from 'react';
import { type Toast, useToasts } from '../stores/toasts';

/** How long a toast stays up unless clicked. */
const TOAST_MS = 6000;

function ToastItem({ toast }: { toast: Toast }) {
  const dismiss = useToasts((s) => s.dismiss);
  useEffect(() => {
    const timer = setTimeout(() => dismiss(toast.id), TOAST_MS);
    return () => clearTimeout(timer);
  }, [toast.id, dismiss]);
  return (
    <li>
      <button
        type="button"
        className="block w-80 rounded-lg border border-zinc-200 bg-white p-3 text-left shadow-lg hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800"
        onClick={() => {
          dismiss(toast.id);
          toast.onOpen?.();
        }}
        data-testid="toast"
      >
        <div className="truncate text-sm font-semibold">{toast.title}</div>
        {toast.body && <div className="line-clamp-2 text-xs text-zinc-600 dark:text-zinc-400">{toast.body}</div>}
      </button>
    </li>
  );
}

/** Notifications that arrive while the tab is visible, in the corner, announced to screen readers. */
export function Toasts() {
  const toasts = useToasts((s) => s.toasts);
  return (
    <ul role="status" aria-live="polite" className="pointer-events-auto fixed right-4 bottom-4 z-50 flex flex-col gap-2">
      {toasts.map((t) => (
        <ToastItem key={t.id} toast={t} />
      ))}
    </ul>
  );
}
