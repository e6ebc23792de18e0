import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type Api, must } from '../api.js';
import { ErrorMessage } from '../ui/common.js';
import { plural } from './CsvImport.js';

/** The most rounds "Send invitations" asks for: the API sends 100 a round, so this covers 10,000 waiting reps. */
const MAX_ROUNDS = 100;

/**
 * "Send invitations": the invitations a reps import held back, sent 100 at a time (the API's bound) until none
 * waits.
 */
export function SendInvitations({ api }: { api: Api }) {
  const queryClient = useQueryClient();
  const send = useMutation({
    mutationFn: async () => {
      let sent = 0;
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const answer = must(await api.POST('/api/organizations/salesreps/pending-invitations'));
        sent += answer.sent;
        if (answer.pending === 0 || answer.sent === 0) break;
      }
      return sent;
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['pending-invitations'] }),
  });
  return (
    <>
      <button type="button" disabled={send.isPending || send.isSuccess} onClick={() => send.mutate()}>
        {send.isPending ? 'Sending invitations…' : 'Send invitations'}
      </button>
      <span role="status" className="muted">
        {send.isSuccess ? `Sent ${plural(send.data, 'invitation')}.` : ''}
      </span>
      <ErrorMessage error={send.error} />
    </>
  );
}

/** Says how many active reps wait for their invitation, with "Send invitations"; nothing when none does. */
export function PendingInvitations({ api }: { api: Api }) {
  const pending = useQuery({
    queryKey: ['pending-invitations'],
    queryFn: async () => must(await api.GET('/api/organizations/salesreps/pending-invitations')).pending,
  });
  if (!pending.data) return null;
  return (
    <div className="warning pending-invitations">
      <p>
        {pending.data === 1 ? '1 rep has' : `${pending.data.toLocaleString('en-US')} reps have`} not been
        invited yet: they cannot sign in until their invitation arrives.
      </p>
      <SendInvitations api={api} />
    </div>
  );
}
