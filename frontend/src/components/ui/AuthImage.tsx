import { useEffect, useState } from 'react';
import { api } from '../../api/client';

// Blob URLs of authenticated images, shared by every <AuthImage> showing the same file.
const cache = new Map<string, Promise<string>>();

function isSameOrigin(src: string): boolean {
  try {
    return new URL(src, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

/**
 * File contents need the bearer token, which an <img src> cannot send; fetch them and show
 * a blob: URL (allowed by the CSP's img-src). Other-origin URLs are not loaded at all.
 */
export function AuthImage({ src, alt, className }: { src: string; alt: string; className?: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let live = true;
    if (!isSameOrigin(src)) {
      setFailed(true);
      return;
    }
    let p = cache.get(src);
    if (!p) {
      p = api.fetchBlob(src).then((b) => URL.createObjectURL(b));
      cache.set(src, p);
      p.catch(() => cache.delete(src));
    }
    p.then((u) => live && setUrl(u)).catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [src]);

  if (failed) return <span className={`${className ?? ''} inline-flex items-center justify-center bg-zinc-200 text-xs text-zinc-500 dark:bg-zinc-800`}>{alt || 'image'}</span>;
  if (!url) return <span className={`${className ?? ''} inline-block animate-pulse bg-zinc-200 dark:bg-zinc-800`} aria-busy="true" />;
  return <img src={url} alt={alt} className={className} loading="lazy" decoding="async" />;
}

/** Downloads an authenticated file under its original name. */
export async function downloadFile(src: string, name: string): Promise<void> {
  const blob = await api.fetchBlob(src);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
