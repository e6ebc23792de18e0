import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import type { operations } from '../../../client/index.js';
import { type Api, must, totalOf } from '../api.js';
import { ApiProblem, fieldMessages, plainMessage } from '../logic/problems.js';
import {
  Dialog,
  ErrorMessage,
  Field,
  Notice,
  Pager,
  SortableHeadings,
  TableRegion,
  useDebounced,
} from '../ui/common.js';

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

/** The Admin's reps: a sortable, searchable, paged table, the "Add sales rep" form and each rep's actions. */
export function RepsPage({ api }: { api: Api }) {
  const [pageNumber, setPageNumber] = useState(1);
  const [pageSize, setPageSize] = useState(25);
  const [sortOn, setSortOn] = useState<SortOn>('LastName');
  const [sortDirection, setSortDirection] = useState<'asc' | 'desc'>('asc');
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<'all' | 'active' | 'inactive'>('all');
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState('');
  const statusId = useId();

  const searched = useDebounced(search.trim());
  const query: Query = {
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
      <Notice text={notice} />
      <div className="toolbar">
        <Field
          label="Search reps"
          name="search"
          type="search"
          value={search}
          maxLength={100}
          placeholder="Name, email or rep number"
          onChange={(value) => {
            setSearch(value);
            setPageNumber(1);
          }}
        />
        <div>
          <label htmlFor={statusId}>Status</label>
          <select
            id={statusId}
            value={status}
            onChange={(event) => {
              setStatus(event.target.value as typeof status);
              setPageNumber(1);
            }}
          >
            <option value="all">All</option>
            <option value="active">Active</option>
            <option value="inactive">Inactive</option>
          </select>
        </div>
        <button type="button" onClick={() => setAdding(true)}>
          Add sales rep
        </button>
      </div>
      <ErrorMessage error={reps.error} />
      <TableRegion label="Sales reps">
        <table aria-busy={reps.isFetching}>
          <caption className="muted">Sales reps of this organization</caption>
          <SortableHeadings
            columns={COLUMNS}
            sortOn={sortOn}
            direction={sortDirection}
            onSort={(field, direction) => {
              setSortOn(field);
              setSortDirection(direction);
              setPageNumber(1);
            }}
            after={['Actions']}
          />
          <tbody>
            {reps.data?.rows.map((rep) => (
              <RepRow key={rep.organizationSalesRepId} api={api} rep={rep} onDone={setNotice} />
            ))}
            {reps.data?.rows.length === 0 && (
              <tr>
                <td colSpan={COLUMNS.length + 1}>No sales reps match.</td>
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
          onPageSize={(size) => {
            setPageSize(size);
            setPageNumber(1);
          }}
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
  const messages = problem ? fieldMessages(problem, ADD_FIELDS) : { byField: {}, other: [] };
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

function RepRow({ api, rep, onDone }: { api: Api; rep: Rep; onDone: (notice: string) => void }) {
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<'number' | 'remove' | undefined>();
  const name = `${rep.firstName} ${rep.lastName}`;
  const id = { organizationSalesRepId: rep.organizationSalesRepId };
  const act = useMutation({
    mutationFn: async (action: 'activate' | 'deactivate' | 'invite') => {
      const path =
        action === 'invite'
          ? '/api/organizations/salesreps/invitation'
          : action === 'activate'
            ? '/api/organizations/salesreps/activate'
            : '/api/organizations/salesreps/deactivate';
      const result = await api.POST(path, { body: id });
      if (result.error !== undefined) must(result);
      return action;
    },
    onSuccess: async (action) => {
      await queryClient.invalidateQueries({ queryKey: ['reps'] });
      onDone(
        action === 'invite'
          ? `A new invitation is on its way to ${rep.email}.`
          : `${name} is ${action === 'activate' ? 'active' : 'inactive'} now.`,
      );
    },
  });
  return (
    <tr>
      <td>{rep.repNumber}</td>
      <td>{rep.firstName}</td>
      <td>{rep.lastName}</td>
      <td>{rep.email}</td>
      <td>{rep.phoneNumber ?? ''}</td>
      <td>
        <span className="badge">{rep.active ? 'Active' : 'Inactive'}</span>
      </td>
      <td className="actions">
        <button type="button" className="secondary" onClick={() => setDialog('number')}>
          Change rep number<span className="visually-hidden"> of {name}</span>
        </button>
        <button
          type="button"
          className="secondary"
          disabled={act.isPending}
          onClick={() => act.mutate(rep.active ? 'deactivate' : 'activate')}
        >
          {rep.active ? 'Deactivate' : 'Activate'}
          <span className="visually-hidden"> {name}</span>
        </button>
        <button
          type="button"
          className="secondary"
          disabled={act.isPending}
          onClick={() => act.mutate('invite')}
        >
          Resend invitation<span className="visually-hidden"> to {name}</span>
        </button>
        <button type="button" className="danger" onClick={() => setDialog('remove')}>
          Remove<span className="visually-hidden"> {name}</span>
        </button>
        <ErrorMessage error={act.error} />
        <Dialog
          title={`Change the rep number of ${name}`}
          open={dialog === 'number'}
          onClose={() => setDialog(undefined)}
        >
          <RepNumberForm
            api={api}
            rep={rep}
            onDone={(repNumber) => {
              setDialog(undefined);
              onDone(`${name} has rep number ${repNumber} now.`);
            }}
            onCancel={() => setDialog(undefined)}
          />
        </Dialog>
        <Dialog title={`Remove ${name}?`} open={dialog === 'remove'} onClose={() => setDialog(undefined)}>
          <RemoveForm
            api={api}
            rep={rep}
            onDone={() => {
              setDialog(undefined);
              onDone(`${name} was removed.`);
            }}
            onCancel={() => setDialog(undefined)}
          />
        </Dialog>
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
  const messages = problem ? fieldMessages(problem, ['repNumber']) : { byField: {}, other: [] };
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
