import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../../api/client';
import { createChannel } from '../../stores/actions';
import { activeIds, useUi } from '../../stores/ui';
import { Modal } from '../ui/Modal';

export function CreateChannel({ onClose }: { onClose: () => void }) {
  const workspaceId = useUi((s) => activeIds(s.route).workspaceId);
  const navigate = useUi((s) => s.navigate);
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [visibility, setVisibility] = useState<'public' | 'private'>('public');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!workspaceId) return;
    setBusy(true);
    setError(null);
    setFields({});
    try {
      const ch = await createChannel(workspaceId, name.trim().replace(/^#/, ''), visibility, topic.trim());
      onClose();
      navigate({ name: 'app', workspaceId, channelId: ch.id });
    } catch (err) {
      if (err instanceof ApiError && err.fields) setFields(err.fields);
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <Modal title="Create a channel" onClose={onClose} testId="create-channel-modal">
      <form onSubmit={submit} className="space-y-4">
        <label className="block text-sm font-medium">
          Name
          <div className="relative mt-1">
            <span className="absolute top-2 left-3 text-zinc-400">#</span>
            <input className="input pl-7!" value={name} onChange={(e) => setName(e.target.value.toLowerCase().replace(/\s+/g, '-'))} placeholder="e.g. plan-budget" maxLength={80} required data-testid="channel-name-input" aria-invalid={!!fields.name} />
          </div>
          {fields.name && <p className="field-error">{fields.name}</p>}
        </label>
        <label className="block text-sm font-medium">
          Topic <span className="font-normal text-zinc-500">(optional)</span>
          <input className="input mt-1" value={topic} onChange={(e) => setTopic(e.target.value)} />
        </label>
        <fieldset className="text-sm">
          <legend className="font-medium">Visibility</legend>
          <label className="mt-1 flex items-center gap-2">
            <input type="radio" name="visibility" checked={visibility === 'public'} onChange={() => setVisibility('public')} /> Public — anyone in the workspace can join
          </label>
          <label className="flex items-center gap-2">
            <input type="radio" name="visibility" checked={visibility === 'private'} onChange={() => setVisibility('private')} data-testid="private-radio" /> Private — only invited people
          </label>
        </fieldset>
        {error && !fields.name && <p className="field-error" role="alert">{error}</p>}
        <div className="flex justify-end gap-2">
          <button type="button" className="btn btn-secondary" onClick={onClose}>Cancel</button>
          <button type="submit" className="btn btn-primary" disabled={busy || !name.trim()} data-testid="create-channel-submit">Create</button>
        </div>
      </form>
    </Modal>
  );
}
