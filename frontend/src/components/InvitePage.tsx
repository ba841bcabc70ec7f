import { useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api/client';
import { acceptInvite, loadWorkspaces } from '../stores/actions';
import { useUi } from '../stores/ui';

/** `/invite/CODE`: accepts the invite for the signed-in user and opens the workspace. */
export function InvitePage({ code }: { code: string }) {
  const navigate = useUi((s) => s.navigate);
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    acceptInvite(code)
      .then(async (workspaceId) => {
        await loadWorkspaces().catch(() => undefined);
        navigate({ name: 'app', workspaceId, channelId: null }, true);
      })
      .catch((err) => setError(errorMessage(err)));
  }, [code, navigate]);

  return (
    <main className="flex h-full items-center justify-center p-4">
      <div className="max-w-sm text-center" data-testid="invite-page">
        {error ? (
          <>
            <h1 className="mb-2 text-xl font-bold">This invite could not be used</h1>
            <p role="alert" className="mb-4 text-sm text-red-600 dark:text-red-400">{error}</p>
            <button type="button" className="btn btn-secondary" onClick={() => navigate({ name: 'app', workspaceId: null, channelId: null })}>
              Go to Echo
            </button>
          </>
        ) : (
          <p className="text-zinc-600 dark:text-zinc-300">Joining the workspace…</p>
        )}
      </div>
    </main>
  );
}
