import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { operations } from '../../../client/index.js';
import { type Api, must } from '../api.js';
import { ErrorMessage, useDebounced } from '../ui/common.js';

type Customer = operations['listCustomers']['responses'][200]['content']['application/json'][number];
type CustomerInput = Extract<
  NonNullable<operations['putCustomers']['requestBody']>['content']['application/json'],
  unknown[]
>[number];
type Rep = operations['listSalesReps']['responses'][200]['content']['application/json'][number];

/** How many reps the picker lists for what is typed. */
const PICKER_ROWS = 8;

/** "Jane Smith (REP-001)": a rep as the console names it. */
function repLabel(rep: Pick<Rep, 'firstName' | 'lastName' | 'repNumber'>): string {
  return `${rep.firstName} ${rep.lastName} (${rep.repNumber})`;
}

/**
 * The rep holding a rep number, if any: the reps search matches the start of a rep number, so the exact number is
 * among the first page of its matches by rep number. Kept a minute: a page of customers asks once per number.
 */
async function repWithNumber(api: Api, repNumber: string): Promise<Rep | null> {
  const reps = must(
    await api.GET('/api/organizations/salesreps', {
      params: { query: { search: repNumber, sortOn: 'RepNumber', pageSize: 100 } },
    }),
  );
  return reps.find((rep) => rep.repNumber === repNumber) ?? null;
}

/** The reps of these rep numbers: a rep, null for a number no rep holds, undefined while not known. */
export function useRepsByNumber(
  api: Api,
  repNumbers: readonly string[],
): Map<string, Rep | null | undefined> {
  const distinct = [...new Set(repNumbers)];
  const results = useQueries({
    queries: distinct.map((repNumber) => ({
      queryKey: ['rep-by-number', repNumber],
      queryFn: () => repWithNumber(api, repNumber),
      staleTime: 60_000,
    })),
  });
  return new Map(distinct.map((repNumber, index) => [repNumber, results[index]?.data]));
}

/** A customer's rep in the list: the rep's name beside its number, or a flag where no rep has the number. */
export function RepOfCustomer({ repNumber, rep }: { repNumber: string | null; rep: Rep | null | undefined }) {
  if (!repNumber) return <span className="muted">No rep</span>;
  if (rep === null) {
    return (
      <>
        {repNumber} <span className="flag">No rep has this number</span>
      </>
    );
  }
  return (
    <>
      {rep ? `${rep.firstName} ${rep.lastName} ` : ''}
      <span className="muted">{repNumber}</span>
    </>
  );
}

/**
 * "Sales rep": a search of the organization's reps by name, email or rep number (the API's search), the matches
 * as choices by name and number, and "No rep". `value` is the rep number chosen (null: none).
 */
function RepPicker(props: { api: Api; value: string | null; onChange: (repNumber: string | null) => void }) {
  const id = useId();
  const [text, setText] = useState('');
  const searched = useDebounced(text.trim());
  const reps = useQuery({
    queryKey: ['rep-picker', searched],
    queryFn: async () =>
      must(
        await props.api.GET('/api/organizations/salesreps', {
          params: {
            query: {
              sortOn: 'LastName',
              pageSize: PICKER_ROWS,
              active: true,
              ...(searched ? { search: searched } : {}),
            },
          },
        }),
      ),
  });
  return (
    <fieldset className="picker">
      <legend>Sales rep</legend>
      <label htmlFor={id}>Find a rep by name, email or rep number</label>
      <input
        id={id}
        type="search"
        value={text}
        maxLength={100}
        autoComplete="off"
        onChange={(event) => setText(event.target.value)}
      />
      <ErrorMessage error={reps.error} />
      <ul className="choices" aria-busy={reps.isFetching}>
        <li>
          <label>
            <input
              type="radio"
              name={`${id}-rep`}
              checked={props.value === null}
              onChange={() => props.onChange(null)}
            />{' '}
            No rep
          </label>
        </li>
        {reps.data?.map((rep) => (
          <li key={rep.organizationSalesRepId}>
            <label>
              <input
                type="radio"
                name={`${id}-rep`}
                checked={props.value === rep.repNumber}
                onChange={() => props.onChange(rep.repNumber)}
              />{' '}
              {repLabel(rep)}
            </label>
          </li>
        ))}
        {reps.data?.length === 0 && <li className="muted">No active rep matches "{searched}".</li>}
      </ul>
    </fieldset>
  );
}

/** A customer as the PUT takes it back: its whole record (a field left out would be cleared). */
function inputOf(customer: Customer, repNumber: string | null): CustomerInput {
  return {
    customerNumber: customer.customerNumber,
    companyName: customer.companyName,
    companyEmail: customer.companyEmail,
    companyPhone: customer.companyPhone,
    pricing: customer.pricing,
    terms: customer.terms,
    active: customer.active,
    repNumber,
    externalId: customer.externalId,
    addresses: customer.addresses,
    contacts: customer.contacts,
    customerAttributes: customer.customerAttributes,
  };
}

/**
 * Gives customers another rep through the API's PUT of their whole records (one customer, or a bulk PUT of the
 * ones chosen: all or none), from the records as last read.
 */
export function AssignRep(props: {
  api: Api;
  customers: readonly Customer[];
  onDone: (repNumber: string | null) => void;
  onCancel: () => void;
}) {
  const queryClient = useQueryClient();
  const first = props.customers[0];
  const [repNumber, setRepNumber] = useState<string | null>(
    props.customers.length === 1 && first ? first.repNumber : null,
  );
  const assign = useMutation({
    mutationFn: async () => {
      const body = props.customers.map((customer) => inputOf(customer, repNumber));
      const single = body.length === 1 ? body[0] : undefined;
      must(await props.api.PUT('/api/customers', { body: single ?? body }));
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['customers'] });
      await queryClient.invalidateQueries({ queryKey: ['customer'] });
      props.onDone(repNumber);
    },
  });
  const count = props.customers.length;
  return (
    <form
      className="form"
      onSubmit={(event) => {
        event.preventDefault();
        assign.mutate();
      }}
    >
      <RepPicker api={props.api} value={repNumber} onChange={setRepNumber} />
      <ErrorMessage error={assign.error} />
      <div className="buttons">
        <button type="submit" disabled={assign.isPending}>
          {count === 1 ? 'Save sales rep' : `Assign ${count} customers`}
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
