import { useState } from 'react';
import { errorMessage } from '../../api/client';
import { createInvite } from '../../stores/actions';
import { activeIds, useUi } from '../../stores/ui';
import { Modal } from '../ui/Modal';

export function InviteModal({ onClose }: { onClose: () => void }) {
  const workspaceId = useUi((s) => activeIds(s.route).workspaceId);
  const [link, setLink] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);

  const generate = async () => {
    if (!workspaceId) return;
    setError(null);
    try {
      setLink(await createInvite(workspaceId));
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <Modal title="Invite people" onClose={onClose} testId="invite-modal">
      <p className="mb-3 text-sm text-zinc-600 dark:text-zinc-400">Anyone with this link can join the workspace for the next 7 days.</p>
      {link ? (
        <div className="flex gap-2">
          <input className="input" readOnly value={link} aria-label="Invite link" data-testid="invite-link" onFocus={(e) => e.target.select()} />
          <button
            type="button"
            className="btn btn-secondary"
            onClick={() => {
              void navigator.clipboard?.writeText(link).then(() => setCopied(true));
            }}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      ) : (
        <button type="button" className="btn btn-primary" onClick={() => void generate()} data-testid="create-invite">
          Create invite link
        </button>
      )}
      {error && <p className="field-error" role="alert">{error}</p>}
    </Modal>
  );
}
