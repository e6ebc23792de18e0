import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useRef, useState } from 'react';
import type { operations } from '../../../client/index.js';
import { type Api, must } from '../api.js';
import { Dialog, ErrorMessage, Field, Notice, TableRegion } from '../ui/common.js';
import { exactTime } from '../ui/dates.js';

type Token = operations['listScimTokens']['responses'][200]['content']['application/json'][number];
type LastRequest = NonNullable<Token['lastRequest']>;

const STATUS_WORDS: Record<number, string> = {
  200: 'OK',
  201: 'created',
  204: 'done',
  400: 'refused',
  401: 'not signed in',
  404: 'not found',
  409: 'conflict',
  413: 'too large',
  429: 'too many requests',
  503: 'unavailable',
};

/** The SCIM base URL the directory is given: this service's address (the console is served from it). */
const baseUrl = () => `${window.location.origin}/scim/v2`;

const tokenName = (token: Pick<Token, 'description' | 'id'>) => token.description ?? `Token ${token.id}`;

/** The outcome of a request in words: its status, and an error's scimType and detail. */
function outcomeOf(request: LastRequest): string {
  const words = STATUS_WORDS[request.status];
  const status = words ? `${request.status} ${words}` : String(request.status);
  const error = [request.scimType, request.detail].filter(Boolean).join(': ');
  return error ? `${status} — ${error}` : status;
}

/**
 * Copies the text; where the browser refuses the clipboard, selects the field that shows it so that the person
 * copies it with the keyboard. Answers what to tell the person.
 */
async function copy(text: string, field: HTMLInputElement | null, what: string): Promise<string> {
  try {
    await navigator.clipboard.writeText(text);
    return `The ${what} is copied.`;
  } catch {
    field?.focus();
    field?.select();
    return `The ${what} is selected: press Ctrl+C (or ⌘C) to copy it.`;
  }
}

/**
 * The organization's directory sync (SCIM 2.0): the base URL and the tokens a directory uses, each with the last
 * request the directory made with it and its outcome; a new token is shown once.
 */
export function DirectorySyncPage({ api }: { api: Api }) {
  const queryClient = useQueryClient();
  const [notice, setNotice] = useState('');
  const [description, setDescription] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string } | undefined>();
  // Said inside the token's dialog: the page behind a modal dialog is not read out.
  const [tokenCopied, setTokenCopied] = useState('');
  const [revoking, setRevoking] = useState<Token | undefined>();
  const baseUrlField = useRef<HTMLInputElement>(null);
  const tokenField = useRef<HTMLInputElement>(null);
  const baseUrlId = useId();
  const tokenId = useId();

  const tokens = useQuery({
    queryKey: ['scim-tokens'],
    queryFn: async () => must(await api.GET('/api/organizations/scim/tokens')),
    // The directory calls on its own schedule: its last request is read again now and then.
    refetchInterval: 15_000,
  });
  const create = useMutation({
    mutationFn: async (text: string) =>
      must(
        await api.POST('/api/organizations/scim/tokens', {
          body: text ? { description: text } : {},
        }),
      ),
    onSuccess: async (token) => {
      setDescription('');
      setCreated({ name: tokenName(token), token: token.token });
      await queryClient.invalidateQueries({ queryKey: ['scim-tokens'] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (token: Token) =>
      must(await api.DELETE('/api/organizations/scim/tokens/{id}', { params: { path: { id: token.id } } })),
    onSuccess: async (_result, token) => {
      setRevoking(undefined);
      setNotice(`${tokenName(token)} is revoked: the directory's next request with it is refused.`);
      await queryClient.invalidateQueries({ queryKey: ['scim-tokens'] });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(description.trim());
  };

  return (
    <>
      <h1>Directory sync</h1>
      <p className="muted">
        Your directory (Okta, Microsoft Entra ID, OneLogin, JumpCloud) adds, changes, deactivates and removes
        your sales reps through SCIM 2.0. Give it the base URL below and a token of its own.
      </p>
      <Notice text={notice} onDismiss={() => setNotice('')} />

      <h2>SCIM base URL</h2>
      <div className="form">
        <div>
          <label htmlFor={baseUrlId}>SCIM base URL</label>
          <input id={baseUrlId} ref={baseUrlField} readOnly value={baseUrl()} />
        </div>
        <div className="buttons">
          <button
            type="button"
            className="secondary"
            onClick={async () => setNotice(await copy(baseUrl(), baseUrlField.current, 'base URL'))}
          >
            Copy base URL
          </button>
        </div>
      </div>

      <h2>Tokens</h2>
      <form className="toolbar" onSubmit={submit}>
        <Field
          label="Description (optional)"
          name="description"
          value={description}
          maxLength={200}
          placeholder="Okta production"
          onChange={setDescription}
        />
        <button type="submit" disabled={create.isPending}>
          Create token
        </button>
      </form>
      <ErrorMessage error={tokens.error ?? create.error} />
      <TableRegion label="SCIM tokens">
        <table className="cards">
          <caption className="muted">Tokens, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Token</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Last request</th>
              <th scope="col">Outcome</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {tokens.data?.map((token) => (
              <tr key={token.id}>
                <td className="name">
                  {tokenName(token)}
                  {token.description !== null && <div className="muted">{token.id}</div>}
                </td>
                <td data-label="Created">{exactTime(token.createdAt)}</td>
                <td data-label="Last used">{token.lastUsedAt ? exactTime(token.lastUsedAt) : 'Never'}</td>
                <td data-label="Last request">
                  {token.lastRequest ? (
                    <code>
                      {token.lastRequest.method} {token.lastRequest.path}
                    </code>
                  ) : (
                    '—'
                  )}
                </td>
                <td data-label="Outcome">{token.lastRequest ? outcomeOf(token.lastRequest) : '—'}</td>
                <td className="actions">
                  <button type="button" className="danger" onClick={() => setRevoking(token)}>
                    Revoke<span className="visually-hidden"> {tokenName(token)}</span>
                  </button>
                </td>
              </tr>
            ))}
            {tokens.data?.length === 0 && (
              <tr>
                <td colSpan={6}>No tokens yet. Create one for your directory with "Create token".</td>
              </tr>
            )}
          </tbody>
        </table>
      </TableRegion>

      <Dialog
        title="Your new SCIM token"
        open={created !== undefined}
        onClose={() => {
          setCreated(undefined);
          setTokenCopied('');
        }}
      >
        {created && (
          <div className="form">
            <div className="warning">
              <p>
                <strong>This token is shown only once.</strong> Copy it now and paste it into your directory:
                it cannot be shown again. If it is lost, create another and revoke this one.
              </p>
            </div>
            <div>
              <label htmlFor={tokenId}>SCIM token for {created.name}</label>
              <input id={tokenId} ref={tokenField} readOnly value={created.token} />
            </div>
            <p role="status">{tokenCopied}</p>
            <div className="buttons">
              <button
                type="button"
                onClick={async () => setTokenCopied(await copy(created.token, tokenField.current, 'token'))}
              >
                Copy token
              </button>
              <button type="button" className="secondary" onClick={() => setCreated(undefined)}>
                Done
              </button>
            </div>
          </div>
        )}
      </Dialog>
      <Dialog
        title={`Revoke ${revoking ? tokenName(revoking) : 'the token'}?`}
        open={revoking !== undefined}
        onClose={() => {
          setRevoking(undefined);
          revoke.reset();
        }}
      >
        {revoking && (
          <div className="form">
            <p>
              The directory's next request with this token is refused, and it can no longer add, change or
              remove your sales reps until it is given a new token. This cannot be undone.
            </p>
            <ErrorMessage error={revoke.error} />
            <div className="buttons">
              <button
                type="button"
                className="danger"
                disabled={revoke.isPending}
                onClick={() => revoke.mutate(revoking)}
              >
                Revoke token
              </button>
              <button type="button" className="secondary" onClick={() => setRevoking(undefined)}>
                Cancel
              </button>
            </div>
          </div>
        )}
      </Dialog>
    </>
  );
}
