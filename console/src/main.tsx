import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { ConsoleSignIn } from '../../client/index.js';
import { App } from './App.js';
import { createApi } from './api.js';
import { ConsoleSession } from './auth.js';
import './styles.css';

/**
 * Starts the console: asks the service where to sign in, comes to the origin of the registered redirect URI (the
 * sign-in's state lives in this origin's session storage), then finishes or begins the sign-in.
 */
async function start(root: HTMLElement): Promise<void> {
  const { signIn } = (await (await fetch('/console/config.json')).json()) as {
    signIn: ConsoleSignIn | null;
  };
  const view = createRoot(root);
  if (!signIn) {
    view.render(
      <main className="status-page">
        <h1>The console is not configured</h1>
        <p>
          This service signs in at an external identity provider: set CONSOLE_OIDC_CLIENT_ID
          (docs/console.md).
        </p>
      </main>,
    );
    return;
  }
  const home = new URL(signIn.redirectUri);
  if (window.location.origin !== home.origin) {
    window.location.replace(`${home.origin}${window.location.pathname}${window.location.search}`);
    return;
  }
  const session = await ConsoleSession.discover(signIn);
  view.render(
    <StrictMode>
      <App session={session} api={createApi(session)} />
    </StrictMode>,
  );
  await session.start();
}

const root = document.getElementById('root');
if (root) {
  start(root).catch((error: unknown) => {
    root.innerHTML = '';
    const message = document.createElement('p');
    message.className = 'alert';
    message.setAttribute('role', 'alert');
    message.textContent = `The console could not start: ${error instanceof Error ? error.message : String(error)}`;
    root.append(message);
  });
}
