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
 * The rep holding a rep number, if any: the reps search finds the number within rep numbers, and by rep number the
 * exact one comes before every number it starts, so it is on the first page unless 100 numbers hold it after other
 * characters. Kept a minute: a page of customers asks once per number.
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
 * A rep picker: a search of the organization's reps by name, email or rep number (the API's search), the matches
 * as choices by name and number, and a first choice for none. `value` is the rep number chosen (null: none); a
 * number chosen before is a choice of its own while the search does not list it. "Sales rep" in the customer
 * dialogs (active reps; none is "No rep"); "Rep" as the customers list's filter (any rep; none is "All reps").
 */
export function RepPicker(props: {
  api: Api;
  value: string | null;
  onChange: (repNumber: string | null) => void;
  legend: string;
  noneLabel: string;
  activeOnly: boolean;
}) {
  const id = useId();
  const [text, setText] = useState('');
  const searched = useDebounced(text.trim());
  const reps = useQuery({
    queryKey: ['rep-picker', searched, props.activeOnly],
    queryFn: async () =>
      must(
        await props.api.GET('/api/organizations/salesreps', {
          params: {
            query: {
              sortOn: 'LastName',
              pageSize: PICKER_ROWS,
              ...(props.activeOnly ? { active: true } : {}),
              ...(searched ? { search: searched } : {}),
            },
          },
        }),
      ),
  });
  const chosenUnlisted =
    props.value !== null &&
    reps.data !== undefined &&
    !reps.data.some((rep) => rep.repNumber === props.value);
  const choice = (key: string, repNumber: string | null, label: string) => (
    <li key={key}>
      <label>
        <input
          type="radio"
          name={`${id}-rep`}
          checked={props.value === repNumber}
          onChange={() => props.onChange(repNumber)}
        />{' '}
        {label}
      </label>
    </li>
  );
  return (
    <fieldset className="picker">
      <legend>{props.legend}</legend>
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
        {choice('none', null, props.noneLabel)}
        {chosenUnlisted && props.value !== null && choice('chosen', props.value, props.value)}
        {reps.data?.map((rep) => choice(rep.organizationSalesRepId, rep.repNumber, repLabel(rep)))}
        {reps.data?.length === 0 && (
          <li className="muted">
            No {props.activeOnly ? 'active ' : ''}rep matches "{searched}".
          </li>
        )}
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
      <RepPicker
        api={props.api}
        value={repNumber}
        onChange={setRepNumber}
        legend="Sales rep"
        noneLabel="No rep"
        activeOnly={true}
      />
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
