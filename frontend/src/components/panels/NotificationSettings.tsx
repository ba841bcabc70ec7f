import { useEffect, useState } from 'react';
import { errorMessage } from '../../api/client';
import { notificationsApi } from '../../api/endpoints';
import type { NotificationPreferences } from '../../api/types';
import { canNotifyDesktop, requestDesktopPermission } from '../../lib/alerts';

const LEVELS = [
  { value: 'all', label: 'Everything: mentions, direct messages, keywords and thread replies' },
  { value: 'mentions', label: 'Mentions, direct messages and keywords only' },
  { value: 'nothing', label: 'Nothing' },
] as const;

/** The browser's own time zone, the natural default for quiet hours. */
const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** The caller's notification preferences: level, keywords, do-not-disturb, email, desktop alerts. */
export function NotificationSettings() {
  const [prefs, setPrefs] = useState<NotificationPreferences | null>(null);
  const [keywords, setKeywords] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [desktop, setDesktop] = useState(canNotifyDesktop());

  useEffect(() => {
    notificationsApi
      .preferences()
      .then((p) => {
        setPrefs(p);
        setKeywords(p.keywords.join(', '));
      })
      .catch((e: unknown) => setError(errorMessage(e)));
  }, []);

  const save = async (patch: Partial<NotificationPreferences>) => {
    try {
      setError(null);
      const saved = await notificationsApi.setPreferences(patch);
      setPrefs(saved);
      setKeywords(saved.keywords.join(', '));
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  if (!prefs) return <p className="p-4 text-sm text-zinc-500">{error ?? 'Loading…'}</p>;
  const paused = prefs.dnd_until !== null && new Date(prefs.dnd_until) > new Date();
  const field = 'mt-1 w-full rounded border border-zinc-300 bg-transparent px-2 py-1 text-sm dark:border-zinc-700';

  return (
    <form className="space-y-5 p-4 text-sm" onSubmit={(e) => e.preventDefault()} data-testid="notification-settings">
      {error && (
        <p role="alert" className="text-red-600">
          {error}
        </p>
      )}
      <fieldset>
        <legend className="font-semibold">Notify me about</legend>
        {LEVELS.map((l) => (
          <label key={l.value} className="mt-1 flex items-center gap-2">
            <input type="radio" name="level" checked={prefs.level === l.value} onChange={() => void save({ level: l.value })} />
            {l.label}
          </label>
        ))}
      </fieldset>
      <label className="block">
        <span className="font-semibold">Keywords</span>
        <input
          className={field}
          value={keywords}
          placeholder="deploy, incident"
          onChange={(e) => setKeywords(e.target.value)}
          onBlur={() => void save({ keywords: keywords.split(',').map((k) => k.trim()).filter(Boolean) })}
        />
      </label>
      <fieldset>
        <legend className="font-semibold">Do not disturb</legend>
        <button
          type="button"
          className="mt-1 rounded border border-zinc-300 px-2 py-1 dark:border-zinc-700"
          onClick={() => void save({ dnd_until: paused ? null : new Date(Date.now() + 3600_000).toISOString() })}
        >
          {paused ? 'Resume notifications' : 'Pause for 1 hour'}
        </button>
        <label className="mt-2 flex items-center gap-2">
          <input
            type="checkbox"
            checked={prefs.dnd_schedule !== null}
            onChange={(e) =>
              void save(
                e.target.checked
                  ? { dnd_schedule: { start: '22:00', end: '08:00' }, timezone: prefs.timezone === 'UTC' ? localZone() : prefs.timezone }
                  : { dnd_schedule: null },
              )
            }
          />
          Quiet hours every day
        </label>
        {prefs.dnd_schedule && (
          <div className="mt-1 flex items-center gap-2">
            <input
              type="time"
              aria-label="Quiet hours start"
              value={prefs.dnd_schedule.start}
              onChange={(e) => prefs.dnd_schedule && void save({ dnd_schedule: { ...prefs.dnd_schedule, start: e.target.value } })}
            />
            to
            <input
              type="time"
              aria-label="Quiet hours end"
              value={prefs.dnd_schedule.end}
              onChange={(e) => prefs.dnd_schedule && void save({ dnd_schedule: { ...prefs.dnd_schedule, end: e.target.value } })}
            />
            <span className="text-xs text-zinc-500">{prefs.timezone}</span>
          </div>
        )}
      </fieldset>
      <label className="flex items-center gap-2">
        <input type="checkbox" checked={prefs.email} onChange={(e) => void save({ email: e.target.checked })} />
        Email me mentions and direct messages I leave unread
      </label>
      <div>
        {desktop ? (
          <p className="text-zinc-500">Desktop notifications are on for this browser.</p>
        ) : (
          <button
            type="button"
            className="rounded border border-zinc-300 px-2 py-1 dark:border-zinc-700"
            onClick={() => void requestDesktopPermission().then(setDesktop)}
          >
            Enable desktop notifications
          </button>
        )}
      </div>
    </form>
  );
}
