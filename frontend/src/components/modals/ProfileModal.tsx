import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../../api/client';
import { usersApi } from '../../api/endpoints';
import type { NotificationLevel, Preferences, PresenceStatus, Session, Theme } from '../../api/types';
import { loadPreferences, savePreferences, updateProfile } from '../../stores/actions';
import { useAuth } from '../../stores/auth';
import { useUi } from '../../stores/ui';
import { useUsers } from '../../stores/users';
import { Modal } from '../ui/Modal';

type Tab = 'profile' | 'preferences' | 'sessions';

/** Profile, presence, preferences and sessions. Loaded on demand. */
export default function ProfileModal() {
  const close = useUi((s) => s.closeModal);
  const [tab, setTab] = useState<Tab>('profile');
  return (
    <Modal title="Your account" onClose={close} wide testId="profile-modal">
      <div role="tablist" className="mb-4 flex gap-1 border-b border-zinc-200 dark:border-zinc-800">
        {(['profile', 'preferences', 'sessions'] as Tab[]).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={`-mb-px border-b-2 px-3 py-1.5 text-sm capitalize ${tab === t ? 'border-emerald-700 font-semibold' : 'border-transparent text-zinc-500'}`}
            onClick={() => setTab(t)}
            data-testid={`tab-${t}`}
          >
            {t}
          </button>
        ))}
      </div>
      {tab === 'profile' && <ProfileTab />}
      {tab === 'preferences' && <PreferencesTab />}
      {tab === 'sessions' && <SessionsTab />}
    </Modal>
  );
}

function ProfileTab() {
  const user = useAuth((s) => s.user)!;
  const [form, setForm] = useState({
    display_name: user.display_name ?? '',
    title: user.title ?? '',
    timezone: user.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    status_text: user.status_text ?? '',
    status_emoji: user.status_emoji ?? '',
  });
  const [fields, setFields] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const presence = useUsers((s) => s.presence[user.id]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFields({});
    setMessage(null);
    try {
      await updateProfile(form);
      setMessage('Profile saved.');
    } catch (err) {
      if (err instanceof ApiError && err.fields) setFields(err.fields);
      setMessage(errorMessage(err));
    }
  };

  const setPresence = async (status: Exclude<PresenceStatus, 'offline'>) => {
    try {
      await usersApi.setPresence(status);
      useUsers.getState().setPresence({ [user.id]: status === 'invisible' ? 'offline' : status });
    } catch (err) {
      setMessage(errorMessage(err));
    }
  };

  const field = (key: keyof typeof form, label: string, placeholder = '') => (
    <label className="block text-sm font-medium">
      {label}
      <input className="input mt-1" value={form[key]} placeholder={placeholder} onChange={(e) => setForm({ ...form, [key]: e.target.value })} data-testid={`profile-${key}`} aria-invalid={!!fields[key]} />
      {fields[key] && <p className="field-error">{fields[key]}</p>}
    </label>
  );

  return (
    <form onSubmit={submit} className="space-y-3">
      {field('display_name', 'Display name')}
      {field('title', 'Title', 'e.g. Product designer')}
      {field('timezone', 'Time zone', 'Europe/Paris')}
      <div className="grid grid-cols-[5rem_1fr] gap-2">
        {field('status_emoji', 'Emoji', '🌴')}
        {field('status_text', 'Status', 'On holiday')}
      </div>
      <label className="block text-sm font-medium">
        Presence
        <select className="input mt-1" value={presence === 'offline' ? 'invisible' : (presence ?? 'online')} onChange={(e) => void setPresence(e.target.value as Exclude<PresenceStatus, 'offline'>)} data-testid="presence-select">
          <option value="online">Active</option>
          <option value="away">Away</option>
          <option value="dnd">Do not disturb</option>
          <option value="invisible">Invisible</option>
        </select>
      </label>
      {message && <p className="text-sm text-zinc-600 dark:text-zinc-400" role="status">{message}</p>}
      <button type="submit" className="btn btn-primary" data-testid="save-profile">Save profile</button>
    </form>
  );
}

function PreferencesTab() {
  const theme = useUi((s) => s.theme);
  const [prefs, setPrefs] = useState<Preferences | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    void loadPreferences().then(setPrefs);
  }, []);

  const save = async (patch: Preferences) => {
    const next = { ...(prefs ?? {}), ...patch };
    setPrefs(next);
    if (patch.theme) useUi.getState().setTheme(patch.theme);
    try {
      await savePreferences(next);
      setMessage('Preferences saved.');
    } catch (err) {
      setMessage(errorMessage(err));
    }
  };

  return (
    <div className="space-y-4">
      <fieldset>
        <legend className="mb-1 text-sm font-medium">Theme</legend>
        <div className="flex gap-2" role="radiogroup" aria-label="Theme">
          {(['light', 'dark', 'system'] as Theme[]).map((t) => (
            <button key={t} type="button" role="radio" aria-checked={theme === t} className={`btn ${theme === t ? 'btn-primary' : 'btn-secondary'} capitalize`} onClick={() => void save({ theme: t })} data-testid={`theme-${t}`}>
              {t}
            </button>
          ))}
        </div>
      </fieldset>
      <label className="block text-sm font-medium">
        Notify me about
        <select className="input mt-1" value={prefs?.notification_level ?? 'mentions'} onChange={(e) => void save({ notification_level: e.target.value as NotificationLevel })} data-testid="notification-level">
          <option value="all">All new messages</option>
          <option value="mentions">Direct messages and mentions</option>
          <option value="nothing">Nothing</option>
        </select>
      </label>
      {message && <p className="text-sm text-zinc-600 dark:text-zinc-400" role="status">{message}</p>}
    </div>
  );
}

function SessionsTab() {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    usersApi
      .sessions()
      .then((r) => setSessions(r.sessions ?? []))
      .catch((e) => setError(errorMessage(e)));
  useEffect(() => {
    void load();
  }, []);
  return (
    <div>
      {error && <p className="field-error" role="alert">{error}</p>}
      <ul role="list" className="divide-y divide-zinc-100 dark:divide-zinc-800" data-testid="sessions-list">
        {(sessions ?? []).map((s) => (
          <li key={s.id} className="flex items-center justify-between gap-2 py-2">
            <div className="min-w-0 text-sm">
              <div className="truncate font-medium">{s.user_agent || 'Unknown device'} {s.current && <span className="text-emerald-700">(this device)</span>}</div>
              <div className="text-xs text-zinc-500">Last used {new Date(s.last_used_at).toLocaleString()}</div>
            </div>
            {!s.current && (
              <button type="button" className="btn btn-secondary" onClick={() => usersApi.revokeSession(s.id).then(load).catch((e) => setError(errorMessage(e)))}>
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
