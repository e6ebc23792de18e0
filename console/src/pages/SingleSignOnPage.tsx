import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import type { operations } from '../../../client/index.js';
import { type Api, must } from '../api.js';
import { ApiProblem, plainMessage, problemCode } from '../logic/problems.js';
import {
  CONNECTION_LABELS,
  type ConnectionForm,
  connectionBody,
  connectionFieldMessages,
  missingFields,
  SETUP_LINK_DURATIONS,
  setupLinkExpiry,
} from '../logic/sso.js';
import { Dialog, ErrorMessage, Field, Notice } from '../ui/common.js';
import { exactTime } from '../ui/dates.js';

type Connection = operations['getSsoConnection']['responses'][200]['content']['application/json'];

/** What GET /api/organizations/sso says: a connection, none (404), or that the external provider runs them (409). */
type ConnectionState =
  | { kind: 'connected'; connection: Connection }
  | { kind: 'none' }
  | { kind: 'external' };

/**
 * After a save or a removal the form is made afresh: the keyboard focus goes to the connection's state (what
 * changed) instead of falling back to the page.
 */
function focusStatusSoon() {
  requestAnimationFrame(() => document.getElementById('sso-status')?.focus());
}

const PROTOCOL_NAMES = { oidc: 'OpenID Connect', saml: 'SAML 2.0' } as const;

/**
 * The Admin's "Single sign-on": the organization's connection to its own identity provider (docs/sso.md) — what
 * to register at the IdP, each value with a copy button, the connection form, and its removal.
 */
export function SingleSignOnPage({ api }: { api: Api }) {
  const [notice, setNotice] = useState('');
  const [removing, setRemoving] = useState(false);
  const state = useQuery({
    queryKey: ['sso-connection'],
    // Someone else may change it meanwhile (the IT admin, through a setup link): read afresh on every visit.
    staleTime: 0,
    refetchOnWindowFocus: true,
    queryFn: async (): Promise<ConnectionState> => {
      try {
        return { kind: 'connected', connection: must(await api.GET('/api/organizations/sso')) };
      } catch (error) {
        if (error instanceof ApiProblem && error.problem.status === 404) return { kind: 'none' };
        if (error instanceof ApiProblem && problemCode(error.problem) === 'sso-managed-externally') {
          return { kind: 'external' };
        }
        throw error;
      }
    },
  });
  const current = state.data;
  const connection = current?.kind === 'connected' ? current.connection : undefined;

  return (
    <>
      <h1>Single sign-on</h1>
      <p>
        Your people sign in through your organization's own identity provider (Okta, Microsoft Entra ID,
        Google Workspace or another that speaks OpenID Connect or SAML 2.0) instead of with a password here.
      </p>
      <Notice text={notice} onDismiss={() => setNotice('')} />
      <ErrorMessage error={state.error} />
      {state.isPending && <p role="status">Reading the connection…</p>}
      {current?.kind === 'external' && (
        <section className="panel" aria-labelledby="sso-external">
          <h2 id="sso-external">Set up at your identity provider</h2>
          <p>
            This service signs people in at an external identity provider (such as Kinde), so single sign-on
            is set up there, not here. In Kinde: Settings → Authentication → Enterprise connections, then
            enable the connection for your organization. People who sign in that way get the same access here
            as before.
          </p>
        </section>
      )}
      {current && current.kind !== 'external' && (
        <>
          <ConnectionStatus connection={connection} onRemove={() => setRemoving(true)} />
          {connection && <TestSignIn api={api} />}
          <SetupLink api={api} />
          <ConnectionEditor
            // A saved or removed connection starts the form afresh from what the API now holds.
            key={connection?.updatedAt ?? 'none'}
            api={api}
            connection={connection}
            onNotice={setNotice}
          />
        </>
      )}
      <Dialog title="Remove single sign-on?" open={removing} onClose={() => setRemoving(false)}>
        <RemoveConnection
          api={api}
          onDone={() => {
            setRemoving(false);
            setNotice(
              'Single sign-on is removed. Your people sign in with a password here from their next sign-in.',
            );
          }}
          onCancel={() => setRemoving(false)}
        />
      </Dialog>
    </>
  );
}

function ConnectionStatus(props: { connection: Connection | undefined; onRemove: () => void }) {
  const { connection } = props;
  if (!connection) {
    return (
      <section className="panel" aria-labelledby="sso-status">
        <h2 id="sso-status" tabIndex={-1}>
          Not connected
        </h2>
        <p>Your people sign in with a password here. Connect your identity provider below.</p>
      </section>
    );
  }
  return (
    <section className="panel" aria-labelledby="sso-status">
      <h2 id="sso-status" tabIndex={-1}>
        Connected with {PROTOCOL_NAMES[connection.protocol]}
      </h2>
      <dl className="detail">
        <dt>{connection.protocol === 'oidc' ? 'Issuer' : 'Identity provider'}</dt>
        <dd className="value">{connection.issuer ?? connection.idpEntityId}</dd>
        {connection.clientId !== undefined && (
          <>
            <dt>Client ID</dt>
            <dd className="value">{connection.clientId}</dd>
          </>
        )}
        <dt>Email domains</dt>
        <dd>{connection.domains.length > 0 ? connection.domains.join(', ') : 'None'}</dd>
        <dt>Password sign-in</dt>
        <dd>
          {connection.passwordSignIn
            ? 'Allowed too'
            : 'Off: your people sign in only through the identity provider'}
        </dd>
        <dt>Last changed</dt>
        <dd>{exactTime(connection.updatedAt)}</dd>
      </dl>
      <p>
        <button type="button" className="danger" onClick={props.onRemove}>
          Remove single sign-on
        </button>
      </p>
    </section>
  );
}

/**
 * "Test sign-in": the service's test URL opened in a new tab, so the console keeps its session (held in this tab's
 * memory) and the Admin comes back to it by closing the tab. The tab is opened at the click, before the request,
 * where a browser allows a new window; a blocked one leaves a link to open instead.
 */
function TestSignIn({ api }: { api: Api }) {
  const [blockedUrl, setBlockedUrl] = useState('');
  const start = useMutation({
    mutationFn: async () => must(await api.POST('/api/organizations/sso/test', { body: {} })),
  });
  const run = () => {
    setBlockedUrl('');
    const tab = window.open('about:blank', '_blank');
    // The IdP's pages get no handle on the console.
    if (tab) tab.opener = null;
    start.mutate(undefined, {
      onSuccess: ({ url }) => {
        if (tab) tab.location.href = url;
        else setBlockedUrl(url);
      },
      onError: () => tab?.close(),
    });
  };
  return (
    <section className="panel" aria-labelledby="sso-test">
      <h2 id="sso-test">Test sign-in</h2>
      <p id="sso-test-hint">
        One round trip to your identity provider, in a new tab: sign in there as one of your people. Nobody is
        signed in here; the page shows what the identity provider sent and whom it would sign in, or why not.
        Close the tab to come back.
      </p>
      <p>
        <button
          type="button"
          className="secondary"
          aria-describedby="sso-test-hint"
          disabled={start.isPending}
          onClick={run}
        >
          {start.isPending ? 'Starting…' : 'Test sign-in'}
        </button>
      </p>
      {start.error && (
        <p className="alert" role="alert">
          {testProblemMessage(start.error)}
        </p>
      )}
      {blockedUrl && (
        <p role="status">
          The browser did not open a new tab:{' '}
          <a href={blockedUrl} target="_blank" rel="noopener noreferrer">
            open the test sign-in
          </a>
          .
        </p>
      )}
    </section>
  );
}

/** Why a test sign-in could not start, in plain words. */
function testProblemMessage(error: unknown): string {
  if (!(error instanceof ApiProblem)) return `The test could not start: ${String(error)}`;
  if (error.problem.status === 404)
    return 'The test could not start: there is no connection any more. Reload the page.';
  if (error.problem.status === 503) {
    return 'The test could not start: your identity provider cannot be reached just now. Try again in a moment.';
  }
  return `The test could not start: ${plainMessage(error.problem)}`;
}

/**
 * A single-use link for the organization's IT admin, who has no account here: the URL is shown once (the API keeps
 * only its hash), with a copy button, its expiry, and what anyone holding it can do.
 */
function SetupLink({ api }: { api: Api }) {
  const [hours, setHours] = useState<number>(SETUP_LINK_DURATIONS[0].hours);
  const selectId = useId();
  const create = useMutation({
    mutationFn: async (expiresInHours: number) =>
      must(await api.POST('/api/organizations/sso/setup-links', { body: { expiresInHours } })),
  });
  const link = create.data;
  return (
    <section className="panel" aria-labelledby="sso-setup-link">
      <h2 id="sso-setup-link">Setup link for your IT admin</h2>
      <p>
        Someone without an account here (your identity provider's administrator) can enter the connection
        through a link: it shows the values to register, takes the connection with the same checks as the form
        below, and lets them test it.
      </p>
      <p>
        <strong>Anyone who has the link</strong> can set the connection for your organization until it expires
        or is used: send it only to that person. A new link stops earlier unused ones from working.
      </p>
      <div className="setup-link-create">
        <div>
          <label htmlFor={selectId}>Works for</label>
          <select id={selectId} value={hours} onChange={(event) => setHours(Number(event.target.value))}>
            {SETUP_LINK_DURATIONS.map((duration) => (
              <option key={duration.hours} value={duration.hours}>
                {duration.label}
              </option>
            ))}
          </select>
        </div>
        <button type="button" disabled={create.isPending} onClick={() => create.mutate(hours)}>
          {link ? 'Create a new setup link' : 'Create setup link'}
        </button>
      </div>
      {create.error && (
        <p className="alert" role="alert">
          No link was made:{' '}
          {create.error instanceof ApiProblem ? plainMessage(create.error.problem) : String(create.error)}
        </p>
      )}
      {link && (
        <div>
          <p role="status">
            <strong>Copy the link now: it is not shown again.</strong>{' '}
            {setupLinkExpiry(link.expiresAt, new Date())}
          </p>
          <dl className="values">
            <CopyValue label="Setup link" value={link.url} />
          </dl>
        </div>
      )}
    </section>
  );
}

const EMPTY_FORM: ConnectionForm = {
  protocol: 'oidc',
  issuer: '',
  clientId: '',
  clientSecret: '',
  metadataSource: 'url',
  metadataUrl: '',
  metadataXml: '',
  domains: '',
  passwordSignIn: false,
};

function formOf(connection: Connection | undefined): ConnectionForm {
  if (!connection) return EMPTY_FORM;
  return {
    ...EMPTY_FORM,
    protocol: connection.protocol,
    issuer: connection.issuer ?? '',
    clientId: connection.clientId ?? '',
    domains: connection.domains.join(', '),
    passwordSignIn: connection.passwordSignIn,
  };
}

/** The values to register at the IdP, then what the IdP gives: one form, saved with PUT. */
function ConnectionEditor(props: {
  api: Api;
  connection: Connection | undefined;
  onNotice: (text: string) => void;
}) {
  const { connection } = props;
  const queryClient = useQueryClient();
  const [form, setForm] = useState(() => formOf(connection));
  const [missing, setMissing] = useState<Record<string, string>>({});
  const set = <K extends keyof ConnectionForm>(field: K, value: ConnectionForm[K]) =>
    setForm((before) => ({ ...before, [field]: value }));
  const save = useMutation({
    mutationFn: async (body: ReturnType<typeof connectionBody>) =>
      must(await props.api.PUT('/api/organizations/sso', { body })),
    onSuccess: (saved) => {
      focusStatusSoon();
      const state: ConnectionState = { kind: 'connected', connection: saved };
      queryClient.setQueryData(['sso-connection'], state);
      props.onNotice(
        saved.protocol === 'oidc'
          ? 'Single sign-on is connected. Add your people on the Sales reps page with the email addresses your identity provider knows them by.'
          : 'Single sign-on is connected. Register the entity ID and ACS URL below at your identity provider, then add your people on the Sales reps page.',
      );
    },
  });
  const problem = save.error instanceof ApiProblem ? save.error.problem : undefined;
  const apiMessages = problem ? connectionFieldMessages(problem, form) : {};
  const messages: Record<string, string> = { ...apiMessages, ...missing };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const empty = missingFields(form);
    setMissing(empty);
    save.reset();
    if (Object.keys(empty).length === 0) save.mutate(connectionBody(form));
  };
  const fieldError = (field: keyof typeof CONNECTION_LABELS) => messages[field];
  const hasFieldErrors = Object.keys(messages).length > 0;

  return (
    <form className="form sso" onSubmit={submit} noValidate aria-labelledby="sso-form">
      <h2 id="sso-form">{connection ? 'Change the connection' : 'Connect your identity provider'}</h2>
      <Choice
        legend="Protocol"
        name="protocol"
        value={form.protocol}
        options={[
          { value: 'oidc', label: 'OpenID Connect (Okta, Entra ID, Google Workspace…)' },
          { value: 'saml', label: 'SAML 2.0' },
        ]}
        onChange={(value) => set('protocol', value)}
      />
      <section aria-labelledby="sso-values">
        <h3 id="sso-values">1. Values for your identity provider</h3>
        <IdpValues protocol={form.protocol} connection={connection} />
      </section>
      <section aria-labelledby="sso-idp" className="form">
        <h3 id="sso-idp">2. What your identity provider gives you</h3>
        {form.protocol === 'oidc' ? (
          <>
            <Field
              label={CONNECTION_LABELS.issuer}
              name="issuer"
              type="url"
              value={form.issuer}
              placeholder="https://acme.okta.com"
              error={fieldError('issuer')}
              onChange={(value) => set('issuer', value)}
            />
            <Field
              label={CONNECTION_LABELS.clientId}
              name="clientId"
              value={form.clientId}
              error={fieldError('clientId')}
              onChange={(value) => set('clientId', value)}
            />
            <Field
              label={CONNECTION_LABELS.clientSecret}
              name="clientSecret"
              type="password"
              value={form.clientSecret}
              autoComplete="off"
              hint={
                connection
                  ? 'Never shown again once saved. Enter it again with every change: the service keeps only the one entered last.'
                  : 'Never shown again once saved.'
              }
              error={fieldError('clientSecret')}
              onChange={(value) => set('clientSecret', value)}
            />
          </>
        ) : (
          <>
            <Choice
              legend="The identity provider's metadata"
              name="metadataSource"
              value={form.metadataSource}
              options={[
                { value: 'url', label: 'Its address (metadata URL)' },
                { value: 'xml', label: 'The XML document, pasted' },
              ]}
              onChange={(value) => set('metadataSource', value)}
            />
            {connection?.protocol === 'saml' && (
              <p className="muted">
                The metadata is read once and not shown again: give it again with every change (when the
                identity provider's certificate changes too).
              </p>
            )}
            {form.metadataSource === 'url' ? (
              <Field
                label={CONNECTION_LABELS.metadataUrl}
                name="metadataUrl"
                type="url"
                value={form.metadataUrl}
                placeholder="https://login.microsoftonline.com/…/federationmetadata.xml"
                error={fieldError('metadataUrl')}
                onChange={(value) => set('metadataUrl', value)}
              />
            ) : (
              <TextArea
                label={CONNECTION_LABELS.metadataXml}
                name="metadataXml"
                value={form.metadataXml}
                error={fieldError('metadataXml')}
                onChange={(value) => set('metadataXml', value)}
              />
            )}
          </>
        )}
        <Field
          label={CONNECTION_LABELS.domains}
          name="domains"
          value={form.domains}
          placeholder="acme.com, acme.co.uk"
          hint="Separated by commas. On the sign-in page, an email of these domains goes to your identity provider. Another organization's domain cannot be used."
          error={fieldError('domains')}
          onChange={(value) => set('domains', value)}
        />
        <Checkbox
          label="Allow password sign-in too"
          hint="Off: your people sign in only through the identity provider. On: a password here works as well (while you try the connection out, or for people outside it)."
          checked={form.passwordSignIn}
          onChange={(value) => set('passwordSignIn', value)}
        />
      </section>
      {(problem || hasFieldErrors) && (
        <div className="alert" role="alert">
          <p>
            {hasFieldErrors
              ? 'The connection was not saved: correct the fields marked.'
              : problem && saveProblemMessage(problem)}
          </p>
        </div>
      )}
      {save.error && !problem && <ErrorMessage error={save.error} />}
      <div className="buttons">
        <button type="submit" disabled={save.isPending}>
          {save.isPending ? 'Checking and saving…' : connection ? 'Save changes' : 'Connect'}
        </button>
      </div>
    </form>
  );
}

/** The problems of a save that no field shows, in plain words. */
function saveProblemMessage(problem: ApiProblem['problem']): string {
  switch (problemCode(problem)) {
    case 'sso-managed-externally':
      return 'Not saved: single sign-on is set up at your external identity provider (such as Kinde), not here.';
    default:
      return plainMessage(problem);
  }
}

/**
 * What to register at the IdP for the protocol chosen: OpenID Connect's redirect URI (one for every organization,
 * so shown before any connection: the console is served at the service's own address), SAML's per-connection
 * entity ID, ACS URL and metadata URL (made when the connection is saved).
 */
function IdpValues(props: { protocol: 'oidc' | 'saml'; connection: Connection | undefined }) {
  const { connection } = props;
  if (props.protocol === 'oidc') {
    return (
      <>
        <p>
          Register this service at your identity provider as a web application with a client secret
          (authorization code flow, scopes <code>openid</code> and <code>email</code>), with this redirect
          URI:
        </p>
        <dl className="values">
          <CopyValue
            label="Redirect URI"
            value={connection?.redirectUri ?? `${window.location.origin}/signin/sso/callback`}
          />
        </dl>
      </>
    );
  }
  if (connection?.protocol !== 'saml') {
    return (
      <p>
        A SAML connection's values are its own: connect first with your identity provider's metadata (below),
        and the entity ID, ACS URL and metadata URL to register there appear here. If your identity provider
        shows its metadata only once the application exists, create it there with any placeholder first.
      </p>
    );
  }
  return (
    <>
      <p>Register these at your identity provider (or let it read the metadata URL):</p>
      <dl className="values">
        <CopyValue label="Entity ID" value={connection.spEntityId} />
        <CopyValue label="ACS URL" value={connection.acsUrl} />
        <CopyValue label="SP metadata URL" value={connection.spMetadataUrl} />
      </dl>
      <p className="muted">
        Let it send the person's email (an <code>email</code> attribute or an email-format NameID) and leave
        its sign-on URL and relay state empty: sign-in starts here.
      </p>
    </>
  );
}

/** A value to copy to the IdP, with a button that copies it and says so beside it (or how else to copy it). */
function CopyValue(props: { label: string; value: string }) {
  const [said, setSaid] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
      setSaid('Copied.');
    } catch {
      setSaid('Could not copy: select the value and copy it with the keyboard.');
    }
  };
  return (
    <div>
      <dt>{props.label}</dt>
      <dd>
        <code className="value">{props.value}</code>
        <span className="copy">
          <button type="button" className="secondary" onClick={() => void copy()}>
            Copy<span className="visually-hidden"> the {props.label}</span>
          </button>
          <span role="status" className="muted">
            {said}
          </span>
        </span>
      </dd>
    </div>
  );
}

/** A group of radio buttons under its legend. */
function Choice<T extends string>(props: {
  legend: string;
  name: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (value: T) => void;
}) {
  const id = useId();
  return (
    <fieldset>
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <div key={option.value}>
          <input
            id={`${id}-${option.value}`}
            type="radio"
            className="inline"
            name={props.name}
            value={option.value}
            checked={props.value === option.value}
            onChange={() => props.onChange(option.value)}
          />
          <label htmlFor={`${id}-${option.value}`} className="inline">
            {option.label}
          </label>
        </div>
      ))}
    </fieldset>
  );
}

function Checkbox(props: {
  label: string;
  hint: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  const id = useId();
  return (
    <div>
      <input
        id={id}
        type="checkbox"
        className="inline"
        checked={props.checked}
        aria-describedby={`${id}-hint`}
        onChange={(event) => props.onChange(event.target.checked)}
      />
      <label htmlFor={id} className="inline">
        {props.label}
      </label>
      <p id={`${id}-hint`} className="muted hint">
        {props.hint}
      </p>
    </div>
  );
}

/** A labelled multi-line field with its error beside it, as `Field` is for one line. */
function TextArea(props: {
  label: string;
  name: string;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
}) {
  const id = useId();
  return (
    <div>
      <label htmlFor={id}>{props.label}</label>
      <textarea
        id={id}
        name={props.name}
        rows={8}
        spellCheck={false}
        value={props.value}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
        onChange={(event) => props.onChange(event.target.value)}
      />
      {props.error && (
        <p id={`${id}-error`} className="field-error">
          {props.error}
        </p>
      )}
    </div>
  );
}

/** The removal's confirmation: what changes for the people (docs/sso.md), then DELETE. */
function RemoveConnection(props: { api: Api; onDone: () => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: async () => must(await props.api.DELETE('/api/organizations/sso')),
    onSuccess: () => {
      queryClient.setQueryData<ConnectionState>(['sso-connection'], { kind: 'none' });
      props.onDone();
    },
  });
  return (
    <div className="form">
      <p>
        Your identity provider no longer signs anyone in here: from their next sign-in, your people sign in
        with their password here, and the email domains go to no identity provider.
      </p>
      <p>
        People who never set a password here cannot sign in until they set one: "Resend invitation" on the
        Sales reps page, or "Forgot your password?" on the sign-in page, mails them a link.
      </p>
      <ErrorMessage error={remove.error} />
      <div className="buttons">
        <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
          Remove single sign-on
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
