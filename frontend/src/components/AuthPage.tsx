import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../api/client';
import { login, register } from '../stores/actions';
import { useUi } from '../stores/ui';

export function AuthPage({ mode }: { mode: 'login' | 'register' }) {
  const navigate = useUi((s) => s.navigate);
  const afterLogin = useUi((s) => s.afterLogin);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      if (mode === 'register') await register(email.trim(), password, displayName.trim());
      else await login(email.trim(), password);
    } catch (err) {
      if (err instanceof ApiError && err.fields) setFields(err.fields);
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const isRegister = mode === 'register';
  return (
    <main className="flex min-h-full items-center justify-center bg-zinc-50 p-4 dark:bg-zinc-950">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <div className="mx-auto mb-3 flex h-12 w-12 items-center justify-center rounded-xl bg-aubergine-800 text-2xl font-black text-white">E</div>
          <h1 className="text-2xl font-bold">{isRegister ? 'Create your Echo account' : 'Sign in to Echo'}</h1>
          {afterLogin?.startsWith('/invite/') && (
            <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">You have been invited to a workspace. Sign in or create an account to join.</p>
          )}
        </div>
        <form onSubmit={submit} className="space-y-4 rounded-lg border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900" aria-label={isRegister ? 'Register' : 'Log in'} noValidate>
          {isRegister && (
            <label className="block text-sm font-medium">
              Display name
              <input className="input mt-1" name="display_name" autoComplete="name" required value={displayName} onChange={(e) => setDisplayName(e.target.value)} aria-invalid={!!fields.display_name} />
              {fields.display_name && <p className="field-error">{fields.display_name}</p>}
            </label>
          )}
          <label className="block text-sm font-medium">
            Email
            <input className="input mt-1" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} aria-invalid={!!fields.email} />
            {fields.email && <p className="field-error">{fields.email}</p>}
          </label>
          <label className="block text-sm font-medium">
            Password
            <input className="input mt-1" type="password" name="password" autoComplete={isRegister ? 'new-password' : 'current-password'} required value={password} onChange={(e) => setPassword(e.target.value)} aria-invalid={!!fields.password} />
            {fields.password && <p className="field-error">{fields.password}</p>}
          </label>
          {error && (
            <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300" data-testid="auth-error">
              {error}
            </p>
          )}
          <button type="submit" className="btn btn-primary w-full py-2" disabled={busy}>
            {busy ? 'Please wait…' : isRegister ? 'Create account' : 'Sign in'}
          </button>
        </form>
        <p className="mt-4 text-center text-sm text-zinc-600 dark:text-zinc-400">
          {isRegister ? 'Already have an account? ' : 'New to Echo? '}
          <a
            href={isRegister ? '/login' : '/register'}
            className="font-medium text-sky-700 hover:underline dark:text-sky-400"
            onClick={(e) => {
              e.preventDefault();
              navigate({ name: isRegister ? 'login' : 'register' });
            }}
          >
            {isRegister ? 'Sign in' : 'Create an account'}
          </a>
        </p>
      </div>
    </main>
  );
}
