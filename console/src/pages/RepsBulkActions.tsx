import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { operations } from '../../../client/index.js';
import type { Api } from '../api.js';
import { isProblem, plainMessage } from '../logic/problems.js';
import { Dialog } from '../ui/common.js';
import { plural } from './CsvImport.js';

type Rep = operations['listSalesReps']['responses'][200]['content']['application/json'][number];

/** The reps ticked in the table, by assignment id; kept across pages until an action is done or it is cleared. */
export interface RepSelection {
  selected: ReadonlyMap<string, Rep>;
  set(reps: readonly Rep[], on: boolean): void;
  clear(): void;
}

export function useRepSelection(): RepSelection {
  const [selected, setSelected] = useState<ReadonlyMap<string, Rep>>(new Map());
  return {
    selected,
    set: (reps, on) =>
      setSelected((current) => {
        const next = new Map(current);
        for (const rep of reps) {
          if (on) next.set(rep.organizationSalesRepId, rep);
          else next.delete(rep.organizationSalesRepId);
        }
        return next;
      }),
    clear: () => setSelected(new Map()),
  };
}

const nameOf = (rep: Rep) => `${rep.firstName} ${rep.lastName}`;

/** "Jane Smith (REP-001)", a few of them, then how many more: the reps a notice speaks of. */
export function repsNamed(reps: readonly Rep[]): string {
  const named = reps.slice(0, NAMES_SHOWN).map((rep) => `${nameOf(rep)} (${rep.repNumber})`);
  return `${named.join(', ')}${reps.length > NAMES_SHOWN ? ` and ${reps.length - NAMES_SHOWN} more` : ''}`;
}

/** The heading cell of the selection column: ticks or clears every rep of the page shown. */
export function SelectAllOnPage({ reps, selection }: { reps: readonly Rep[]; selection: RepSelection }) {
  const ticked = reps.filter((rep) => selection.selected.has(rep.organizationSalesRepId)).length;
  return (
    <th scope="col" className="select">
      <input
        type="checkbox"
        aria-label="Select all reps on this page"
        checked={reps.length > 0 && ticked === reps.length}
        ref={(box) => {
          if (box) box.indeterminate = ticked > 0 && ticked < reps.length;
        }}
        disabled={reps.length === 0}
        onChange={(event) => selection.set(reps, event.target.checked)}
      />
    </th>
  );
}

/** A row's selection cell. */
export function SelectRep({ rep, selection }: { rep: Rep; selection: RepSelection }) {
  return (
    <td className="select">
      <input
        type="checkbox"
        aria-label={`Select ${nameOf(rep)}`}
        checked={selection.selected.has(rep.organizationSalesRepId)}
        onChange={(event) => selection.set([rep], event.target.checked)}
      />
    </td>
  );
}

type BulkAction = 'deactivate' | 'activate' | 'invite' | 'remove';

/** What each action is called, which of the selected reps it applies to, and what it does, in the person's words. */
const ACTIONS: Record<
  BulkAction,
  {
    button: string;
    verb: string;
    danger: boolean;
    appliesTo: (rep: Rep) => boolean;
    /** Why a selected rep is left as it is. */
    skipped: string;
    consequence: string;
    done: string;
  }
> = {
  deactivate: {
    button: 'Deactivate',
    verb: 'Deactivate',
    danger: true,
    appliesTo: (rep) => rep.active,
    skipped: 'inactive already',
    consequence:
      'They can no longer sign in or use the console for this organization, from their next request on. Their customers stay with their rep numbers. You can activate them again later.',
    done: 'deactivated',
  },
  activate: {
    button: 'Activate',
    verb: 'Activate',
    danger: false,
    appliesTo: (rep) => !rep.active,
    skipped: 'active already',
    consequence: 'They can sign in again, and each is mailed that their access is back.',
    done: 'activated',
  },
  invite: {
    button: 'Resend invitations',
    verb: 'Send a new invitation to',
    danger: false,
    appliesTo: (rep) => rep.active,
    skipped: 'inactive (activating a rep invites it)',
    consequence:
      'Each gets a new invitation link by mail, and their earlier link stops working. A rep who has set a password already is left out and listed.',
    done: 'got a new invitation',
  },
  remove: {
    button: 'Remove',
    verb: 'Remove',
    danger: true,
    appliesTo: () => true,
    skipped: '',
    consequence:
      "They lose access to this organization at once, and their assignments are deleted for good. Where this is a person's last organization, their account is deleted entirely: their sign-in and their user at the identity provider.",
    done: 'removed',
  },
};

const PATHS = {
  deactivate: '/api/organizations/salesreps/deactivate',
  activate: '/api/organizations/salesreps/activate',
  invite: '/api/organizations/salesreps/invitation',
} as const;
const BUSY_RETRIES = 3;
const AT_ONCE = 3;
const NAMES_SHOWN = 10;

/** One rep's request, waiting out a 429 a few times; answers why it failed, in plain words, or nothing. */
async function perform(api: Api, action: BulkAction, rep: Rep): Promise<string | undefined> {
  const body = { organizationSalesRepId: rep.organizationSalesRepId };
  for (let attempt = 0; ; attempt++) {
    const result =
      action === 'remove'
        ? await api.DELETE('/api/organizations/salesreps', { body })
        : await api.POST(PATHS[action], { body });
    if (result.error === undefined) return undefined;
    const retryAfter = Number(result.response.headers.get('retry-after'));
    if (result.response.status === 429 && attempt < BUSY_RETRIES) {
      const seconds = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 30) : 1;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      continue;
    }
    return isProblem(result.error) ? plainMessage(result.error) : result.response.statusText;
  }
}

/**
 * The bar of the selected reps' actions (deactivate, activate, resend invitations, remove), each asking once, in a
 * dialog that names the reps it applies to and says what happens to them; the reps are then changed one request
 * each, a few at a time, and the outcome is told in one notice.
 */
export function RepsBulkActions(props: {
  api: Api;
  selection: RepSelection;
  /** The outcome in words; with the reps deactivated, for the notice to offer to undo it. */
  onNotice: (text: string, deactivated?: readonly Rep[]) => void;
}) {
  const { api, selection } = props;
  const queryClient = useQueryClient();
  const [asked, setAsked] = useState<BulkAction | undefined>();
  const [progress, setProgress] = useState<number | undefined>();
  const selected = [...selection.selected.values()];
  const spec = asked ? ACTIONS[asked] : undefined;
  const targets = spec ? selected.filter(spec.appliesTo) : [];
  const left = selected.length - targets.length;
  const title = spec ? `${spec.verb} ${plural(targets.length, 'rep')}?` : '';

  const run = async (action: BulkAction, reps: readonly Rep[]) => {
    const failures: { rep: Rep; reason: string }[] = [];
    let done = 0;
    setProgress(0);
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < reps.length; index = next++) {
        const rep = reps[index] as Rep;
        const reason = await perform(api, action, rep);
        if (reason !== undefined) failures.push({ rep, reason });
        setProgress(++done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, reps.length) }, worker));
    setProgress(undefined);
    setAsked(undefined);
    selection.clear();
    await queryClient.invalidateQueries({ queryKey: ['reps'] });
    const succeeded = reps.length - failures.length;
    const verb = ACTIONS[action].done;
    const changed = reps.filter((rep) => !failures.some((failure) => failure.rep === rep));
    const summary =
      failures.length === 0
        ? action === 'deactivate'
          ? `Deactivated ${plural(succeeded, 'rep')}: ${repsNamed(changed)}.`
          : `${plural(succeeded, 'rep')} ${verb}.`
        : `${succeeded} of ${plural(reps.length, 'rep')} ${verb}. Not done: ${failures
            .map((failure) => `${nameOf(failure.rep)} (${failure.reason})`)
            .join('; ')}.`;
    props.onNotice(summary, action === 'deactivate' && changed.length > 0 ? changed : undefined);
  };

  if (selected.length === 0 && !asked) return null;
  return (
    <>
      {selected.length > 0 && (
        <section className="bulk-bar" aria-label="Selected reps">
          <p>{plural(selected.length, 'rep')} selected</p>
          {(Object.keys(ACTIONS) as BulkAction[]).map((action) => (
            <button
              key={action}
              type="button"
              className={ACTIONS[action].danger ? 'danger' : 'secondary'}
              onClick={() => setAsked(action)}
            >
              {ACTIONS[action].button}
            </button>
          ))}
          <button type="button" className="secondary" onClick={selection.clear}>
            Clear selection
          </button>
        </section>
      )}
      <Dialog
        title={title}
        open={asked !== undefined}
        dismissible={progress === undefined}
        onClose={() => setAsked(undefined)}
      >
        {asked && spec && (
          <div className="form">
            {targets.length > 0 ? (
              <>
                <p>
                  {spec.verb} {plural(targets.length, 'rep')}:{' '}
                  {targets.slice(0, NAMES_SHOWN).map(nameOf).join(', ')}
                  {targets.length > NAMES_SHOWN ? ` and ${targets.length - NAMES_SHOWN} more` : ''}.
                </p>
                <p>{spec.consequence}</p>
              </>
            ) : (
              <p>None of the selected reps can be changed this way.</p>
            )}
            {left > 0 && (
              <p className="muted">
                {left === 1 ? '1 selected rep is' : `${left} selected reps are`} {spec.skipped} and{' '}
                {left === 1 ? 'stays' : 'stay'} as {left === 1 ? 'it is' : 'they are'}.
              </p>
            )}
            {progress !== undefined && (
              <p role="status">
                {progress} of {targets.length} done…
              </p>
            )}
            <div className="buttons">
              {targets.length > 0 && (
                <button
                  type="button"
                  className={spec.danger ? 'danger' : undefined}
                  disabled={progress !== undefined}
                  onClick={() => void run(asked, targets)}
                >
                  {spec.verb} {plural(targets.length, 'rep')}
                </button>
              )}
              <button
                type="button"
                className="secondary"
                disabled={progress !== undefined}
                onClick={() => setAsked(undefined)}
              >
                Cancel
              </button>
            </div>
          </div>
        )}
      </Dialog>
    </>
  );
}
