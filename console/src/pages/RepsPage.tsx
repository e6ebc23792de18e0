import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import type { operations } from '../../../client/index.js';
import { type Api, must, totalOf } from '../api.js';
import { ApiProblem, fieldMessages, plainMessage } from '../logic/problems.js';
import {
  ActionMenu,
  Dialog,
  ErrorMessage,
  Field,
  Notice,
  Pager,
  SortableHeadings,
  TableRegion,
} from '../ui/common.js';
import { usePageTitle } from '../ui/page-title.js';
import { useUrlState, useUrlText } from '../ui/url-state.js';
import { ImportReps } from './ImportReps.js';
import { PendingInvitations } from './PendingInvitations.js';
import { AddedOn, canResendInvitation, SignInState } from './RepSignIn.js';
import {
  type RepSelection,
  RepsBulkActions,
  repsNamed,
  SelectAllOnPage,
  SelectRep,
  useRepSelection,
} from './RepsBulkActions.js';

type Rep = operations['listSalesReps']['responses'][200]['content']['application/json'][number];
type Query = NonNullable<operations['listSalesReps']['parameters']['query']>;
type SortOn = NonNullable<Query['sortOn']>;

const COLUMNS: { label: string; field: SortOn }[] = [
  { label: 'Rep number', field: 'RepNumber' },
  { label: 'First name', field: 'FirstName' },
  { label: 'Last name', field: 'LastName' },
  { label: 'Email', field: 'Email' },
  { label: 'Phone number', field: 'PhoneNumber' },
  { label: 'Status', field: 'Active' },
];

/** The view a link or a reload keeps (the URL's query), and its defaults. */
const VIEW = {
  search: '',
  status: 'all',
  sortOn: 'LastName',
  sortDirection: 'asc',
  page: '1',
  pageSize: '25',
};

/** The Admin's reps: a sortable, searchable, paged table, the "Add sales rep" form and each rep's actions. */
export function RepsPage({ api }: { api: Api }) {
  usePageTitle('Sales reps');
  const [view, setView] = useUrlState(VIEW);
  const pageNumber = Math.max(1, Number(view.page) || 1);
  const pageSize = Number(view.pageSize) || 25;
  const sortOn = view.sortOn as SortOn;
  const sortDirection = view.sortDirection === 'desc' ? 'desc' : 'asc';
  const status = view.status as 'all' | 'active' | 'inactive';
  const setPageNumber = (page: number) => setView({ page: String(page) });
  const [search, setSearch] = useUrlText(view.search, (text) =>
    setView({ search: text, page: '1' }, { replace: true }),
  );
  const [adding, setAdding] = useState(false);
  const [importing, setImporting] = useState(false);
  const [importRunning, setImportRunning] = useState(false);
  const selection = useRepSelection();
  const [notice, setNoticeShown] = useState<{ text: string; deactivated?: readonly Rep[] }>({ text: '' });
  const setNotice = (text: string, deactivated?: readonly Rep[]) =>
    setNoticeShown(deactivated ? { text, deactivated } : { text });
  const [open, setOpen] = useState<{ kind: 'number' | 'remove' | 'deactivate'; rep: Rep } | undefined>();
  const statusId = useId();
  const queryClient = useQueryClient();
  const act = useMutation({
    mutationFn: async ({ rep, action }: { rep: Rep; action: RepAction }) => {
      const path =
        action === 'invite'
          ? '/api/organizations/salesreps/invitation'
          : action === 'activate'
            ? '/api/organizations/salesreps/activate'
            : '/api/organizations/salesreps/deactivate';
      const result = await api.POST(path, { body: { organizationSalesRepId: rep.organizationSalesRepId } });
      if (result.error !== undefined) must(result);
    },
    onSuccess: async (_, { rep, action }) => {
      await queryClient.invalidateQueries({ queryKey: ['reps'] });
      if (action === 'deactivate') setNotice(`Deactivated ${repsNamed([rep])}.`, [rep]);
      else {
        setNotice(
          action === 'invite'
            ? `A new invitation is on its way to ${rep.email}.`
            : `${rep.firstName} ${rep.lastName} is active now.`,
        );
      }
    },
  });
  // Undo of a deactivation: the same reps activated again, one request each.
  const undo = useMutation({
    mutationFn: async (reps: readonly Rep[]) => {
      for (const rep of reps) {
        const result = await api.POST('/api/organizations/salesreps/activate', {
          body: { organizationSalesRepId: rep.organizationSalesRepId },
        });
        if (result.error !== undefined) must(result);
      }
    },
    onSuccess: async (_, reps) => {
      await queryClient.invalidateQueries({ queryKey: ['reps'] });
      setNotice(`Undone: ${repsNamed(reps)} ${reps.length === 1 ? 'is' : 'are'} active again.`);
    },
    onError: async (error) => {
      await queryClient.invalidateQueries({ queryKey: ['reps'] });
      setNotice(`Not undone: ${error instanceof ApiProblem ? plainMessage(error.problem) : error.message}`);
    },
  });
  const openName = open ? `${open.rep.firstName} ${open.rep.lastName}` : '';
  const closeDialog = () => setOpen(undefined);

  const searched = view.search;
  const query: Query = {
    include: 'signIn',
    pageNumber,
    pageSize,
    sortOn,
    sortDirection,
    ...(searched ? { search: searched } : {}),
    ...(status === 'all' ? {} : { active: status === 'active' }),
  };
  const reps = useQuery({
    queryKey: ['reps', query],
    queryFn: async () => {
      const result = await api.GET('/api/organizations/salesreps', { params: { query } });
      return { rows: must(result), total: totalOf(result.response) };
    },
    placeholderData: keepPreviousData,
  });

  return (
    <>
      <h1>Sales reps</h1>
      <Notice
        text={notice.text}
        onDismiss={() => setNotice('')}
        {...(notice.deactivated
          ? { action: { label: 'Undo', onAct: () => undo.mutate(notice.deactivated as readonly Rep[]) } }
          : {})}
      />
      <PendingInvitations api={api} />
      <div className="toolbar">
        <Field
          label="Search reps"
          name="search"
          type="search"
          value={search}
          maxLength={100}
          placeholder="Name, email or rep number"
          onChange={setSearch}
        />
        <div>
          <label htmlFor={statusId}>Status</label>
          <select
            id={statusId}
            value={status}
            onChange={(event) => setView({ status: event.target.value, page: '1' })}
          >
            <option value="all">All</option>
            <option value="active">Active</option>
            <option value="inactive">Inactive</option>
          </select>
        </div>
        <button type="button" onClick={() => setAdding(true)}>
          Add sales rep
        </button>
        <button type="button" className="secondary" onClick={() => setImporting(true)}>
          Import CSV
        </button>
      </div>
      <RepsBulkActions api={api} selection={selection} onNotice={setNotice} />
      <ErrorMessage error={reps.error} />
      <ErrorMessage error={act.error} />
      <TableRegion label="Sales reps">
        <table className="cards" aria-busy={reps.isFetching}>
          <caption className="muted">Sales reps of this organization</caption>
          <SortableHeadings
            columns={COLUMNS}
            sortOn={sortOn}
            direction={sortDirection}
            onSort={(field, direction) => setView({ sortOn: field, sortDirection: direction, page: '1' })}
            after={['Added', 'Actions']}
            before={<SelectAllOnPage reps={reps.data?.rows ?? []} selection={selection} />}
          />
          <tbody>
            {reps.data?.rows.map((rep) => (
              <RepRow
                key={rep.organizationSalesRepId}
                rep={rep}
                selection={selection}
                busy={act.isPending}
                onAct={(target, action) => act.mutate({ rep: target, action })}
                onOpen={(target, kind) => setOpen({ kind, rep: target })}
              />
            ))}
            {reps.data?.rows.length === 0 && (
              <tr>
                <td colSpan={COLUMNS.length + 3}>
                  {searched || status !== 'all'
                    ? 'No sales reps match the search and status chosen.'
                    : 'No sales reps yet. Add the first with "Add sales rep".'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </TableRegion>
      {reps.data && (
        <Pager
          pageNumber={pageNumber}
          pageSize={pageSize}
          total={reps.data.total}
          onPage={setPageNumber}
          onPageSize={(size) => setView({ pageSize: String(size), page: '1' })}
        />
      )}
      <Dialog title="Add sales rep" open={adding} onClose={() => setAdding(false)}>
        <AddRepForm
          api={api}
          onAdded={(rep) => {
            setAdding(false);
            setNotice(`${rep.firstName} ${rep.lastName} was added; the welcome mail is on its way.`);
          }}
          onCancel={() => setAdding(false)}
        />
      </Dialog>
      <Dialog
        title="Import sales reps from CSV"
        open={importing}
        dismissible={!importRunning}
        onClose={() => setImporting(false)}
      >
        {importing && (
          <ImportReps api={api} onRunning={setImportRunning} onClose={() => setImporting(false)} />
        )}
      </Dialog>
      <Dialog
        title={`Change the rep number of ${openName}`}
        open={open?.kind === 'number'}
        onClose={closeDialog}
      >
        {open && (
          <RepNumberForm
            api={api}
            rep={open.rep}
            onDone={(repNumber) => {
              closeDialog();
              setNotice(`${openName} has rep number ${repNumber} now.`);
            }}
            onCancel={closeDialog}
          />
        )}
      </Dialog>
      <Dialog title={`Deactivate ${openName}?`} open={open?.kind === 'deactivate'} onClose={closeDialog}>
        {open && (
          <div className="form">
            <p>
              {openName} can no longer sign in or use the console for this organization, from their next
              request on. Their customers stay assigned to {open.rep.repNumber}. You can activate them again
              later.
            </p>
            <div className="buttons">
              <button
                type="button"
                className="danger"
                disabled={act.isPending}
                onClick={() => {
                  act.mutate({ rep: open.rep, action: 'deactivate' });
                  closeDialog();
                }}
              >
                Deactivate {openName}
              </button>
              <button type="button" className="secondary" onClick={closeDialog}>
                Cancel
              </button>
            </div>
          </div>
        )}
      </Dialog>
      <Dialog title={`Remove ${openName}?`} open={open?.kind === 'remove'} onClose={closeDialog}>
        {open && (
          <RemoveForm
            api={api}
            rep={open.rep}
            onDone={() => {
              closeDialog();
              setNotice(`${openName} was removed.`);
            }}
            onCancel={closeDialog}
          />
        )}
      </Dialog>
    </>
  );
}

const ADD_FIELDS = ['firstName', 'lastName', 'email', 'phoneNumber', 'repNumber'] as const;
const ADD_LABELS: Record<(typeof ADD_FIELDS)[number], string> = {
  firstName: 'First name',
  lastName: 'Last name',
  email: 'Email',
  phoneNumber: 'Phone number',
  repNumber: 'Rep number',
};

function AddRepForm(props: {
  api: Api;
  onAdded: (rep: { firstName: string; lastName: string }) => void;
  onCancel: () => void;
}) {
  const queryClient = useQueryClient();
  const [values, setValues] = useState<Record<(typeof ADD_FIELDS)[number], string>>({
    firstName: '',
    lastName: '',
    email: '',
    phoneNumber: '',
    repNumber: '',
  });
  const add = useMutation({
    mutationFn: async () => {
      const body = {
        firstName: values.firstName,
        lastName: values.lastName,
        email: values.email,
        repNumber: values.repNumber,
        ...(values.phoneNumber.trim() ? { phoneNumber: values.phoneNumber } : {}),
      };
      return must(await props.api.PUT('/api/organizations/salesreps', { body }));
    },
    onSuccess: async (rep) => {
      await queryClient.invalidateQueries({ queryKey: ['reps'] });
      props.onAdded(rep);
    },
  });
  const problem = add.error instanceof ApiProblem ? add.error.problem : undefined;
  const messages = problem ? fieldMessages(problem, ADD_LABELS) : { byField: {}, other: [] };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  return (
    <form className="form" onSubmit={submit} noValidate>
      {ADD_FIELDS.map((field) => (
        <Field
          key={field}
          label={ADD_LABELS[field]}
          name={field}
          type={field === 'email' ? 'email' : field === 'phoneNumber' ? 'tel' : 'text'}
          required={field !== 'phoneNumber'}
          value={values[field]}
          error={messages.byField[field]}
          onChange={(value) => setValues((current) => ({ ...current, [field]: value }))}
        />
      ))}
      {problem && (
        <div className="alert" role="alert">
          <p>
            {problem.errors?.length
              ? 'The rep was not added: correct the fields marked.'
              : plainMessage(problem)}
          </p>
          {messages.other.length > 0 && (
            <ul>
              {messages.other.map((message) => (
                <li key={message}>{message}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {add.error && !problem && <ErrorMessage error={add.error} />}
      <div className="buttons">
        <button type="submit" disabled={add.isPending}>
          {add.isPending ? 'Adding…' : 'Add'}
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

type RepAction = 'activate' | 'deactivate' | 'invite';

/** One rep's cells, and its actions in one menu (the dialogs they open live outside the table). */
function RepRow(props: {
  rep: Rep;
  selection: RepSelection;
  busy: boolean;
  onAct: (rep: Rep, action: RepAction) => void;
  onOpen: (rep: Rep, dialog: 'number' | 'remove' | 'deactivate') => void;
}) {
  const { rep } = props;
  return (
    <tr>
      <SelectRep rep={rep} selection={props.selection} />
      <td data-label="Rep number">{rep.repNumber}</td>
      <td data-label="First name" className="name">
        {rep.firstName}
      </td>
      <td data-label="Last name" className="name">
        {rep.lastName}
      </td>
      <td data-label="Email">{rep.email}</td>
      <td data-label="Phone number">{rep.phoneNumber ?? ''}</td>
      <td data-label="Status">
        <span className="badge">
          <SignInState rep={rep} />
        </span>
      </td>
      <td data-label="Added">
        <AddedOn rep={rep} />
      </td>
      <td className="actions">
        <ActionMenu
          label={`${rep.firstName} ${rep.lastName}`}
          items={[
            { label: 'Change rep number', onSelect: () => props.onOpen(rep, 'number') },
            {
              label: rep.active ? 'Deactivate' : 'Activate',
              disabled: props.busy,
              // Deactivation locks the person out at once: it asks first. Activation does not.
              onSelect: () => (rep.active ? props.onOpen(rep, 'deactivate') : props.onAct(rep, 'activate')),
            },
            ...(canResendInvitation(rep)
              ? [
                  {
                    label: 'Resend invitation',
                    disabled: props.busy,
                    onSelect: () => props.onAct(rep, 'invite'),
                  },
                ]
              : []),
            { label: 'Remove', danger: true, onSelect: () => props.onOpen(rep, 'remove') },
          ]}
        />
      </td>
    </tr>
  );
}

function RepNumberForm(props: {
  api: Api;
  rep: Rep;
  onDone: (repNumber: string) => void;
  onCancel: () => void;
}) {
  const queryClient = useQueryClient();
  const [repNumber, setRepNumber] = useState(props.rep.repNumber);
  const [reassign, setReassign] = useState(true);
  const reassignId = useId();
  const change = useMutation({
    mutationFn: async () =>
      must(
        await props.api.PATCH('/api/organizations/salesreps', {
          body: {
            organizationSalesRepId: props.rep.organizationSalesRepId,
            repNumber,
            reassignCustomers: reassign,
          },
        }),
      ),
    onSuccess: async (changed) => {
      await queryClient.invalidateQueries({ queryKey: ['reps'] });
      props.onDone(changed.repNumber);
    },
  });
  const problem = change.error instanceof ApiProblem ? change.error.problem : undefined;
  const messages = problem ? fieldMessages(problem, { repNumber: 'Rep number' }) : { byField: {}, other: [] };
  return (
    <form
      className="form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        change.mutate();
      }}
    >
      <Field
        label="Rep number"
        name="repNumber"
        required
        value={repNumber}
        error={messages.byField.repNumber}
        onChange={setRepNumber}
      />
      <div>
        <input
          id={reassignId}
          type="checkbox"
          className="inline"
          checked={reassign}
          onChange={(event) => setReassign(event.target.checked)}
        />
        <label htmlFor={reassignId} className="inline">
          Move the rep's customers to the new number
        </label>
      </div>
      {problem && !messages.byField.repNumber && (
        <p className="alert" role="alert">
          {plainMessage(problem)}
        </p>
      )}
      <div className="buttons">
        <button type="submit" disabled={change.isPending}>
          Save rep number
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function RemoveForm(props: { api: Api; rep: Rep; onDone: () => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: async () =>
      must(
        await props.api.DELETE('/api/organizations/salesreps', {
          body: { organizationSalesRepId: props.rep.organizationSalesRepId },
        }),
      ),
    // The dialog closes first: its row goes once the list is read again.
    onSuccess: async () => {
      props.onDone();
      await queryClient.invalidateQueries({ queryKey: ['reps'] });
    },
  });
  return (
    <div className="form">
      <p>
        {props.rep.firstName} {props.rep.lastName} loses access to this organization at once, and the
        assignment is deleted for good. If this is the person's last organization, their account is deleted
        entirely: their sign-in and their user at the identity provider.
      </p>
      <ErrorMessage error={remove.error} />
      <div className="buttons">
        <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
          Remove {props.rep.firstName} {props.rep.lastName}
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
