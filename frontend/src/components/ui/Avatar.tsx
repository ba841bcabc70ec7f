import type { PresenceStatus, User } from '../../api/types';
import { AuthImage } from './AuthImage';

const COLORS = ['bg-rose-600', 'bg-amber-600', 'bg-emerald-600', 'bg-sky-600', 'bg-indigo-600', 'bg-fuchsia-600', 'bg-teal-600', 'bg-orange-600'];

function colorFor(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return COLORS[Math.abs(h) % COLORS.length];
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return '?';
  const first = [...parts[0]][0] ?? '';
  const second = parts.length > 1 ? ([...parts[parts.length - 1]][0] ?? '') : '';
  return (first + second).toUpperCase();
}

const SIZES = { sm: 'h-5 w-5 text-[9px]', md: 'h-9 w-9 text-sm', lg: 'h-16 w-16 text-xl' };

export function Avatar({ user, id, size = 'md', presence }: { user?: User; id: string; size?: keyof typeof SIZES; presence?: PresenceStatus }) {
  const name = user?.display_name ?? '';
  return (
    <span className={`relative inline-flex shrink-0 ${SIZES[size]}`}>
      {user?.avatar_url ? (
        <AuthImage src={user.avatar_url} alt="" className={`${SIZES[size]} rounded-md object-cover`} />
      ) : (
        <span className={`${SIZES[size]} ${colorFor(id)} inline-flex items-center justify-center rounded-md font-semibold text-white`} aria-hidden="true">
          {initials(name)}
        </span>
      )}
      {presence && <PresenceDot status={presence} className="absolute -right-0.5 -bottom-0.5" />}
    </span>
  );
}

export function PresenceDot({ status, className = '' }: { status: PresenceStatus | undefined; className?: string }) {
  const s = status ?? 'offline';
  const style =
    s === 'online'
      ? 'bg-emerald-500 border-emerald-500'
      : s === 'away'
        ? 'bg-transparent border-zinc-400'
        : s === 'dnd'
          ? 'bg-red-500 border-red-500'
          : 'bg-transparent border-zinc-400';
  return (
    <span
      className={`inline-block h-2.5 w-2.5 rounded-full border-2 ring-2 ring-white dark:ring-zinc-900 ${style} ${className}`}
      role="img"
      aria-label={s}
      data-testid="presence"
      data-status={s}
    />
  );
}
