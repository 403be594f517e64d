import { lazy, LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { api, currentUserId, must, resume, signOut } from './api';
import { SignIn } from './pages/sign-in';
import { MeContext, roleAtLeast, type Me } from './session';
import { ErrorText } from './ui';

const Contacts = lazy(() => import('./pages/contacts').then((m) => m.Contacts));
const ContactPage = lazy(() => import('./pages/contact').then((m) => m.ContactPage));
const Groups = lazy(() => import('./pages/groups').then((m) => m.Groups));
const GroupPage = lazy(() => import('./pages/group').then((m) => m.GroupPage));
const Duplicates = lazy(() => import('./pages/duplicates').then((m) => m.Duplicates));
const Compare = lazy(() => import('./pages/compare').then((m) => m.Compare));
const Import = lazy(() => import('./pages/import').then((m) => m.Import));
const Webhooks = lazy(() => import('./pages/webhooks').then((m) => m.Webhooks));
const WebhookDeliveries = lazy(() => import('./pages/webhooks').then((m) => m.WebhookDeliveries));
const Admin = lazy(() => import('./pages/admin').then((m) => m.Admin));

async function loadMe(onSignOut: () => void): Promise<Me> {
  const user = must(await api.GET('/v1/users/{id}', { params: { path: { id: currentUserId()! } } }));
  return {
    user,
    canWrite: roleAtLeast(user.role, 'editor'),
    canManage: roleAtLeast(user.role, 'admin'),
    signOut: async () => {
      await signOut();
      onSignOut();
    },
  };
}

function Shell({ me }: { me: Me }) {
  const { path } = useLocation();
  const link = (href: string, text: string) => (
    <a href={href} aria-current={path === href || path.startsWith(`${href}/`) ? 'page' : undefined}>
      {text}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="bar">
        <span class="brand">Roster</span>
        <nav aria-label="Main">
          {link('/contacts', 'Contacts')}
          {link('/groups', 'Groups')}
          {link('/duplicates', 'Duplicates')}
          {me.canWrite && link('/import', 'Import')}
          {me.canManage && link('/webhooks', 'Webhooks')}
          {link('/admin', 'Administration')}
        </nav>
        <span class="who">
          {me.user.display_name} ({me.user.role})
          <button type="button" onClick={() => void me.signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main">
        <Router>
          <Route path="/" component={Contacts} />
          <Route path="/sign-in" component={Contacts} />
          <Route path="/contacts" component={Contacts} />
          <Route path="/contacts/:id" component={ContactPage} />
          <Route path="/groups" component={Groups} />
          <Route path="/groups/:id" component={GroupPage} />
          <Route path="/duplicates" component={Duplicates} />
          <Route path="/duplicates/compare" component={Compare} />
          <Route path="/import" component={Import} />
          <Route path="/webhooks" component={Webhooks} />
          <Route path="/webhooks/:id" component={WebhookDeliveries} />
          <Route path="/admin" component={Admin} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </>
  );
}

function NotFound() {
  return <p>No such page.</p>;
}

export function App() {
  const [me, setMe] = useState<Me | undefined>();
  const [state, setState] = useState<'resuming' | 'signed-out' | 'signed-in'>('resuming');
  const [error, setError] = useState<unknown>();
  const signedOut = () => {
    setMe(undefined);
    setState('signed-out');
  };
  const enter = async () => {
    try {
      setMe(await loadMe(signedOut));
      setState('signed-in');
    } catch (e) {
      setError(e);
      setState('signed-out');
    }
  };
  useEffect(() => {
    void resume().then((ok) => (ok ? enter() : setState('signed-out')));
  }, []);
  if (state === 'resuming') return <p aria-live="polite">Loading…</p>;
  return (
    <LocationProvider>
      {me ? (
        <MeContext.Provider value={me}>
          <Shell me={me} />
        </MeContext.Provider>
      ) : (
        <>
          <ErrorText error={error} />
          <SignIn onSignedIn={enter} />
        </>
      )}
    </LocationProvider>
  );
}
