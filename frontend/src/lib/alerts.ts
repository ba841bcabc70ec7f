import type { AppNotification } from '../api/types';

/** What an alert says about a notification. */
export interface AlertText {
  title: string;
  body: string;
}

const KIND_TITLE = {
  mention: 'mentioned you',
  dm: 'sent you a message',
  thread_reply: 'replied in a thread',
  keyword: 'used one of your keywords',
} as const;

/** The title and body of a notification's alert, e.g. "Alice mentioned you in #general". */
export function alertText(n: AppNotification, author: string, place: string | null, preview: string): AlertText {
  const what = KIND_TITLE[n.kind] ?? 'notified you';
  return { title: `${author} ${what}${place && n.kind !== 'dm' ? ` in ${place}` : ''}`, body: preview };
}

/** Whether the browser may show system notifications now (the user granted it). */
export function canNotifyDesktop(): boolean {
  return typeof Notification !== 'undefined' && Notification.permission === 'granted';
}

/** Asks the browser for permission to show system notifications; resolves to whether it was granted. */
export async function requestDesktopPermission(): Promise<boolean> {
  if (typeof Notification === 'undefined') return false;
  if (Notification.permission === 'granted') return true;
  return (await Notification.requestPermission()) === 'granted';
}

/**
 * Shows a system notification when the tab is hidden and the user allowed them; returns false
 * when it did not (the caller then shows an in-app toast). The tag is the notification id, so a
 * repeated delivery replaces rather than stacks.
 */
export function notifyDesktop(id: string, text: AlertText, onOpen: () => void): boolean {
  if (typeof document === 'undefined' || document.visibilityState !== 'hidden' || !canNotifyDesktop()) return false;
  const shown = new Notification(text.title, { body: text.body, tag: id });
  shown.onclick = () => {
    window.focus();
    onOpen();
    shown.close();
  };
  return true;
}
