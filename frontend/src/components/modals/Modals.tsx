import { useUi } from '../../stores/ui';
import { Modal } from '../ui/Modal';
import { BrowseChannels } from './BrowseChannels';
import { CreateChannel } from './CreateChannel';
import { CreateWorkspaceForm } from './CreateWorkspace';
import { AuditLogModal } from './AuditLogModal';
import { InviteModal } from './InviteModal';
import { NewDm } from './NewDm';
import { QuickSwitcher } from './QuickSwitcher';

export function Modals() {
  const modal = useUi((s) => s.modal);
  const close = useUi((s) => s.closeModal);
  switch (modal) {
    case 'switcher':
      return <QuickSwitcher onClose={close} />;
    case 'createChannel':
      return <CreateChannel onClose={close} />;
    case 'browseChannels':
      return <BrowseChannels onClose={close} />;
    case 'newDm':
      return <NewDm onClose={close} />;
    case 'invite':
      return <InviteModal onClose={close} />;
    case 'auditLog':
      return <AuditLogModal onClose={close} />;
    case 'createWorkspace':
      return (
        <Modal title="Create a workspace" onClose={close} testId="create-workspace-modal">
          <CreateWorkspaceForm onDone={close} />
        </Modal>
      );
    default:
      return null;
  }
}
