import { useEffect } from 'react';
import { AuthPage } from './components/AuthPage';
import { InvitePage } from './components/InvitePage';
import { Workspace } from './components/Workspace';
import { bootstrap } from './stores/actions';
import { useAuth } from './stores/auth';
import { routePath, useUi } from './stores/ui';

export function App() {
  const status = useAuth((s) => s.status);
  const route = useUi((s) => s.route);

  useEffect(() => {
    void bootstrap();
    const onPop = () => useUi.getState().syncFromLocation();
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  // Logged-out visitors are sent to the login page, remembering where they were going.
  useEffect(() => {
    if (status !== 'anonymous') return;
    if (route.name === 'app' || route.name === 'invite') {
      if (route.name === 'invite' || route.workspaceId) useUi.getState().setAfterLogin(routePath(route));
      useUi.getState().navigate({ name: 'login' }, true);
    }
  }, [status, route]);

  if (status === 'unknown') {
    return (
      <div className="flex h-full items-center justify-center bg-aubergine-800 text-white" data-testid="splash">
        <span className="text-2xl font-bold tracking-tight">Echo</span>
      </div>
    );
  }
  if (status === 'anonymous') return <AuthPage mode={route.name === 'register' ? 'register' : 'login'} />;
  if (route.name === 'invite') return <InvitePage code={route.code} />;
  if (route.name === 'login' || route.name === 'register') {
    return <Redirect />;
  }
  return <Workspace />;
}

function Redirect() {
  useEffect(() => {
    const ui = useUi.getState();
    const target = ui.afterLogin;
    ui.setAfterLogin(null);
    if (target) {
      history.replaceState(null, '', target);
      ui.syncFromLocation();
    } else {
      ui.navigate({ name: 'app', workspaceId: null, channelId: null }, true);
    }
  }, []);
  return null;
}
