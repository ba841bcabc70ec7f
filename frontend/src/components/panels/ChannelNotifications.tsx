import { useEffect, useState } from 'react';
import { errorMessage } from '../../api/client';
import { channelsApi } from '../../api/endpoints';
import type { ChannelNotificationSettings, Id } from '../../api/types';

const LEVELS = [
  { value: 'default', label: 'Default (your notification settings)' },
  { value: 'all', label: 'All messages' },
  { value: 'mentions', label: 'Mentions only' },
  { value: 'nothing', label: 'Nothing' },
] as const;

/** The caller's notification level and mute for one channel they are a member of. */
export function ChannelNotifications({ channelId }: { channelId: Id }) {
  const [settings, setSettings] = useState<ChannelNotificationSettings | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  useEffect(() => {
    setSettings(null);
    setStatus(null);
    channelsApi
      .notificationSettings(channelId)
      .then(setSettings)
      .catch((e: unknown) => setStatus(errorMessage(e)));
  }, [channelId]);

  const save = (patch: Partial<ChannelNotificationSettings>) => {
    if (!settings) return;
    const previous = settings;
    setSettings({ ...settings, ...patch });
    channelsApi
      .setNotificationSettings(channelId, patch)
      .then(() => setStatus('Saved.'))
      .catch((e: unknown) => {
        setSettings(previous);
        setStatus(errorMessage(e));
      });
  };

  return (
    <section className="space-y-2 border-b border-zinc-200 p-4 text-sm dark:border-zinc-800" data-testid="channel-notifications">
      <h3 className="font-semibold">Notifications</h3>
      {settings ? (
        <>
          <label className="block">
            Notify me about
            <select
              className="input mt-1"
              value={settings.level}
              onChange={(e) => save({ level: e.target.value as ChannelNotificationSettings['level'] })}
              data-testid="channel-notification-level"
            >
              {LEVELS.map((l) => (
                <option key={l.value} value={l.value}>
                  {l.label}
                </option>
              ))}
            </select>
          </label>
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={settings.muted} onChange={(e) => save({ muted: e.target.checked })} data-testid="channel-mute" />
            Mute: no notifications from here, not even mentions
          </label>
        </>
      ) : (
        !status && <p className="text-zinc-500">Loading…</p>
      )}
      {status && (
        <p className="text-xs text-zinc-600 dark:text-zinc-400" role="status">
          {status}
        </p>
      )}
    </section>
  );
}
