import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../../api/client';
import { createWorkspace } from '../../stores/actions';
import { useUi } from '../../stores/ui';

export function CreateWorkspaceForm({ onDone }: { onDone?: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const id = await createWorkspace(name.trim());
      useUi.getState().navigate({ name: 'app', workspaceId: id, channelId: null });
      onDone?.();
    } catch (err) {
      setError(err instanceof ApiError && err.fields?.name ? err.fields.name : errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-label="Create workspace">
      <label className="block text-sm font-medium">
        Workspace name
        <input className="input mt-1" value={name} onChange={(e) => setName(e.target.value)} placeholder="Acme Inc." data-testid="workspace-name-input" required />
      </label>
      {error && <p className="field-error" role="alert">{error}</p>}
      <button type="submit" className="btn btn-primary mt-4" disabled={busy || !name.trim()} data-testid="create-workspace-submit">
        {busy ? 'Creating…' : 'Create workspace'}
      </button>
    </form>
  );
}
