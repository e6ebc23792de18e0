import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { type Api, must } from '../api.js';
import { ErrorMessage, Notice, TableRegion } from '../ui/common.js';
import { Time } from '../ui/dates.js';
import { usePageTitle } from '../ui/page-title.js';
import { useUrlState } from '../ui/url-state.js';

const PAGE_SIZE = 50;
/** The view a link or a reload keeps (the URL's query), and its defaults. */
const VIEW = { status: 'dead', page: '1' };
const KINDS: Record<string, string> = {
  'identity.provision': 'Identity provider user',
  'identity.grantMembership': 'Identity provider access',
  'identity.revokeMembership': 'Identity provider access removed',
  'identity.deleteUser': 'Identity provider user deleted',
  'email.welcome': 'Welcome mail',
  'email.reinvitation': 'Access again mail',
  'email.signinLink': 'Sign-in link mail',
  'sync.grant': 'Data sync access',
  'sync.revoke': 'Data sync access removed',
  'sync.deleteAccount': 'Data sync account deleted',
  'webhook.deliver': 'Webhook delivery',
};

/** Side effects still to be carried out, or given up on (dead), with a retry for the dead ones. */
export function EffectsPage({ api }: { api: Api }) {
  const queryClient = useQueryClient();
  usePageTitle('Side effects');
  const [view, setView] = useUrlState(VIEW);
  const status = view.status === 'pending' ? 'pending' : 'dead';
  const pageNumber = Math.max(1, Number(view.page) || 1);
  const setPageNumber = (page: number) => setView({ page: String(page) });
  const [notice, setNotice] = useState('');
  const statusId = useId();
  const effects = useQuery({
    queryKey: ['effects', status, pageNumber],
    queryFn: async () =>
      must(
        await api.GET('/api/organizations/effects', {
          params: { query: { status, pageNumber, pageSize: PAGE_SIZE } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const retry = useMutation({
    mutationFn: async (effectId: string) =>
      must(await api.POST('/api/organizations/effects/retry', { body: { effectId } })),
    onSuccess: async (effect) => {
      setNotice(`Effect ${effect.effectId} is pending again; it is carried out shortly.`);
      await queryClient.invalidateQueries({ queryKey: ['effects'] });
    },
  });
  return (
    <>
      <h1>Side effects</h1>
      <p className="muted">
        Mails, identity provider calls, data sync and webhook deliveries are carried out after each change and
        retried through outages; a dead one gave up after its last attempt.
      </p>
      <Notice text={notice} onDismiss={() => setNotice('')} />
      <div className="toolbar">
        <div>
          <label htmlFor={statusId}>Show</label>
          <select
            id={statusId}
            value={status}
            onChange={(event) => setView({ status: event.target.value, page: '1' })}
          >
            <option value="dead">Dead</option>
            <option value="pending">Pending</option>
          </select>
        </div>
      </div>
      <ErrorMessage error={effects.error ?? retry.error} />
      <TableRegion label="Side effects">
        <table>
          <caption className="muted">
            {status === 'dead' ? 'Dead effects' : 'Pending effects'}, oldest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Effect</th>
              <th scope="col">Kind</th>
              <th scope="col">Created</th>
              <th scope="col">Attempts</th>
              {status === 'pending' && <th scope="col">Next attempt</th>}
              <th scope="col">Last error</th>
              {status === 'dead' && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {effects.data?.map((effect) => (
              <tr key={effect.effectId}>
                <td>{effect.effectId}</td>
                <td>{KINDS[effect.kind] ?? effect.kind}</td>
                <td>
                  <Time at={effect.createdAt} />
                </td>
                <td>{effect.attempts}</td>
                {status === 'pending' && (
                  <td>
                    <Time at={effect.nextAttemptAt} />
                  </td>
                )}
                <td>{effect.lastError ?? ''}</td>
                {status === 'dead' && (
                  <td>
                    <button
                      type="button"
                      disabled={retry.isPending}
                      onClick={() => retry.mutate(effect.effectId)}
                    >
                      Retry
                      <span className="visually-hidden">
                        {' '}
                        {KINDS[effect.kind] ?? effect.kind} of rep {effect.salesRepId}
                      </span>
                    </button>
                  </td>
                )}
              </tr>
            ))}
            {effects.data?.length === 0 && (
              <tr>
                <td colSpan={6}>{status === 'dead' ? 'No dead effects.' : 'Nothing is pending.'}</td>
              </tr>
            )}
          </tbody>
        </table>
      </TableRegion>
      <nav className="pager" aria-label="Pages">
        <span className="range">Page {pageNumber}</span>
        <button
          type="button"
          className="secondary"
          disabled={pageNumber <= 1}
          onClick={() => setPageNumber(pageNumber - 1)}
        >
          Previous
        </button>
        <button
          type="button"
          className="secondary"
          disabled={effects.isPlaceholderData || (effects.data?.length ?? 0) < PAGE_SIZE}
          onClick={() => setPageNumber(pageNumber + 1)}
        >
          Next
        </button>
      </nav>
    </>
  );
}
