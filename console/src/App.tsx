import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { type ReactNode, useSyncExternalStore } from 'react';
import { Link, Redirect, Route, Router, Switch, useRoute } from 'wouter';
import { type Api, must, useMyOrganizations } from './api.js';
import type { ConsoleSession } from './auth.js';
import { ApiProblem } from './logic/problems.js';
import { CustomersPage } from './pages/CustomersPage.js';
import { DirectorySyncPage } from './pages/DirectorySyncPage.js';
import { EffectsPage } from './pages/EffectsPage.js';
import { EventsPage } from './pages/EventsPage.js';
import { OrganizationsPage } from './pages/OrganizationsPage.js';
import { RepsPage } from './pages/RepsPage.js';
import { SingleSignOnPage } from './pages/SingleSignOnPage.js';
import { PageErrorBoundary, StatusPage } from './ui/common.js';
import { OrganizationNameContext } from './ui/page-title.js';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: false,
      // A problem the API answered (400, 403, 404, 409) is not cured by asking again.
      retry: (count, error) => !(error instanceof ApiProblem && error.problem.status < 500) && count < 2,
    },
  },
});

/** The whole console: the session's state decides between its pages and a clear page of why not. */
export function App({ session, api }: { session: ConsoleSession; api: Api }) {
  const state = useSyncExternalStore(session.subscribe, () => session.state);
  if (state.kind === 'redirecting') {
    return (
      <StatusPage title="Signing in">
        <p role="status">Taking you to the sign-in page…</p>
      </StatusPage>
    );
  }
  if (state.kind === 'signed-out') {
    return (
      <StatusPage title="You are signed out">
        <p role="status">You signed out of the console and of the sign-in page.</p>
        <p>
          <button type="button" onClick={() => void session.signIn()}>
            Sign in
          </button>
        </p>
      </StatusPage>
    );
  }
  if (state.kind !== 'signed-in') {
    return (
      <StatusPage title={state.kind === 'ended' ? 'Access ended' : 'Could not sign in'}>
        <p role="alert">{state.reason}</p>
        <p className="buttons">
          <button type="button" onClick={() => void session.signInAgain()}>
            Sign in again
          </button>
          <button type="button" className="secondary" onClick={() => void session.signOut()}>
            Sign out and use another account
          </button>
        </p>
      </StatusPage>
    );
  }
  const admin = state.token.roles.includes('Admin');
  // Unknown (a provider that does not say) offers it, as choosing again is harmless.
  const otherOrganizations = (state.person.organizations?.length ?? 2) > 1;
  return (
    <QueryClientProvider client={queryClient}>
      <SignedInRouter api={api} admin={admin} code={state.token.organization}>
        <a className="skip" href="#content">
          Skip to content
        </a>
        <header className="bar">
          <span className="org">
            <OrganizationName api={api} admin={admin} code={state.token.organization} />
            {admin ? ' · Admin' : ' · Sales rep'}
          </span>
          {state.person.email && <span className="who">Signed in as {state.person.email}</span>}
          <nav aria-label="Console">
            <ul>
              {admin ? (
                <>
                  <NavLink href="/">Sales reps</NavLink>
                  <NavLink href="/customers">Customers</NavLink>
                  <NavLink href="/effects">Side effects</NavLink>
                  <NavLink href="/events">Audit log</NavLink>
                  <NavLink href="/directory-sync">Directory sync</NavLink>
                  <NavLink href="/single-sign-on">Single sign-on</NavLink>
                </>
              ) : (
                <>
                  <NavLink href="/">My customers</NavLink>
                  <NavLink href="/organizations">My organizations</NavLink>
                </>
              )}
            </ul>
          </nav>
          {otherOrganizations && (
            <button
              type="button"
              className="secondary"
              onClick={() => void session.signIn({ choose: true, returnTo: '/console/' })}
            >
              Switch organization
            </button>
          )}
          <button type="button" className="secondary" onClick={() => void session.signOut()}>
            Sign out
          </button>
        </header>
        <main id="content" tabIndex={-1}>
          <PageErrorBoundary>
            {admin ? (
              <Switch>
                <Route path="/">
                  <RepsPage api={api} />
                </Route>
                <Route path="/customers">
                  <CustomersPage api={api} admin />
                </Route>
                <Route path="/effects">
                  <EffectsPage api={api} />
                </Route>
                <Route path="/events">
                  <EventsPage api={api} />
                </Route>
                <Route path="/directory-sync">
                  <DirectorySyncPage api={api} />
                </Route>
                <Route path="/single-sign-on">
                  <SingleSignOnPage api={api} />
                </Route>
                <Route>
                  <Redirect to="/" />
                </Route>
              </Switch>
            ) : (
              <Switch>
                <Route path="/">
                  <CustomersPage api={api} admin={false} />
                </Route>
                <Route path="/organizations">
                  <OrganizationsPage api={api} session={session} current={state.token.organization} />
                </Route>
                <Route>
                  <Redirect to="/" />
                </Route>
              </Switch>
            )}
          </PageErrorBoundary>
        </main>
      </SignedInRouter>
    </QueryClientProvider>
  );
}

function NavLink({ href, children }: { href: string; children: string }) {
  const [current] = useRoute(href);
  return (
    <li>
      <Link href={href} aria-current={current ? 'page' : undefined}>
        {children}
      </Link>
    </li>
  );
}

/**
 * The organization by name: an Admin's from GET /api/organizations/current, a rep's from its own list of
 * organizations; its code until the name is read.
 */
function OrganizationName({ api, admin, code }: { api: Api; admin: boolean; code: string }) {
  return <>{useOrganizationName(api, admin, code)}</>;
}

/** The console's router, under which every page knows the organization's name for its title. */
function SignedInRouter(props: { api: Api; admin: boolean; code: string; children: ReactNode }) {
  return (
    <OrganizationNameContext.Provider value={useOrganizationName(props.api, props.admin, props.code)}>
      <Router base="/console">{props.children}</Router>
    </OrganizationNameContext.Provider>
  );
}

function useOrganizationName(api: Api, admin: boolean, code: string): string {
  const current = useQuery({
    queryKey: ['current-organization'],
    queryFn: async () => must(await api.GET('/api/organizations/current')).organizationName,
    enabled: admin,
    retry: false,
  });
  const organizations = useMyOrganizations(api, { retry: false, enabled: !admin });
  const name = admin
    ? current.data
    : organizations.data?.find((organization) => organization.identityOrganizationId === code)
        ?.organizationName;
  return name ?? code;
}
