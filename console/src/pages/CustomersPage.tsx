import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { operations } from '../../../client/index.js';
import { type Api, must, totalOf } from '../api.js';
import { customersCsv } from '../logic/csv.js';
import { Dialog, ErrorMessage, Field, Notice, Pager, SortableHeadings, TableRegion } from '../ui/common.js';
import { usePageTitle } from '../ui/page-title.js';
import { useUrlState, useUrlText } from '../ui/url-state.js';
import { AssignRep, RepOfCustomer, RepPicker, useRepsByNumber } from './CustomerReps.js';
import { ImportCustomers } from './ImportCustomers.js';

type Customer = operations['listCustomers']['responses'][200]['content']['application/json'][number];
type SortOn = NonNullable<NonNullable<operations['listCustomers']['parameters']['query']>['sortOn']>;
type Query = NonNullable<operations['listCustomers']['parameters']['query']>;

const COLUMNS: { label: string; field: SortOn }[] = [
  { label: 'Customer number', field: 'CustomerNumber' },
  { label: 'Company name', field: 'CompanyName' },
  { label: 'Company email', field: 'CompanyEmail' },
  { label: 'Rep number', field: 'RepNumber' },
];

/** The view a link or a reload keeps (the URL's query), and its defaults; `customer` is the one shown. */
const VIEW = {
  search: '',
  rep: '',
  sortOn: 'CustomerNumber',
  sortDirection: 'asc',
  page: '1',
  pageSize: '25',
  customer: '',
};

/** The most rows an export reads (page after page of 100): a bound on the browser's memory and on the API. */
const EXPORT_MAX_ROWS = 50_000;

/**
 * Customers as the API scopes them: an Admin sees the organization's (with a rep filter, the CSV import), a rep
 * only its own. Search, sort, paging, a detail view and the CSV export of the current view for both.
 */
export function CustomersPage({ api, admin }: { api: Api; admin: boolean }) {
  usePageTitle(admin ? 'Customers' : 'My customers');
  const [view, setView] = useUrlState(VIEW);
  const pageNumber = Math.max(1, Number(view.page) || 1);
  const pageSize = Number(view.pageSize) || 25;
  const sortOn = view.sortOn as SortOn;
  const sortDirection = view.sortDirection === 'desc' ? 'desc' : 'asc';
  const setPageNumber = (page: number) => setView({ page: String(page) });
  const [search, setSearch] = useUrlText(view.search, (text) =>
    setView({ search: text, page: '1' }, { replace: true }),
  );
  const shown = view.customer || undefined;
  const setShown = (customerNumber: string | undefined) => setView({ customer: customerNumber ?? '' });
  const [selected, setSelected] = useState<ReadonlyMap<string, Customer>>(new Map());
  const [assigning, setAssigning] = useState(false);
  const [assigned, setAssigned] = useState('');
  const [importing, setImporting] = useState(false);
  const [importRunning, setImportRunning] = useState(false);
  const [exporting, setExporting] = useState<string | undefined>();
  const [exported, setExported] = useState('');
  const [exportError, setExportError] = useState<unknown>();

  const searched = view.search;
  const repFilter = view.rep;
  const filters: Query = {
    sortOn,
    sortDirection,
    ...(searched ? { search: searched } : {}),
    ...(admin && repFilter ? { repNumber: repFilter } : {}),
  };
  const customers = useQuery({
    queryKey: ['customers', filters, pageNumber, pageSize],
    queryFn: async () => {
      const result = await api.GET('/api/customers', {
        params: { query: { ...filters, pageNumber, pageSize } },
      });
      return { rows: must(result), total: totalOf(result.response) };
    },
    placeholderData: keepPreviousData,
  });
  const repsByNumber = useRepsByNumber(
    api,
    admin
      ? (customers.data?.rows ?? []).flatMap((customer) => (customer.repNumber ? [customer.repNumber] : []))
      : [],
  );
  const toggle = (customer: Customer, on: boolean) =>
    setSelected((current) => {
      const next = new Map(current);
      if (on) next.set(customer.customerNumber, customer);
      else next.delete(customer.customerNumber);
      return next;
    });

  const exportView = async () => {
    setExportError(undefined);
    setExported('');
    setExporting('Exporting…');
    try {
      const rows: Customer[] = [];
      let total = 0;
      for (let page = 1; rows.length < EXPORT_MAX_ROWS; page++) {
        const result = await api.GET('/api/customers', {
          params: { query: { ...filters, pageNumber: page, pageSize: 100 } },
        });
        if (result.response.status === 429) {
          const seconds = Number(result.response.headers.get('retry-after')) || 1;
          await new Promise((resolve) => setTimeout(resolve, Math.min(seconds, 30) * 1000));
          page--;
          continue;
        }
        const batch = must(result);
        total = totalOf(result.response);
        rows.push(...batch);
        setExporting(`Exporting… ${rows.length} of ${total}`);
        if (batch.length < 100) break;
      }
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([customersCsv(rows)], { type: 'text/csv' }));
      link.download = 'customers.csv';
      link.click();
      // Revoked once the download has taken the file.
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      setExported(
        rows.length < total
          ? `Exported the first ${rows.length} of ${total} customers (the most one file holds).`
          : `Exported ${rows.length} customers.`,
      );
    } catch (error) {
      setExportError(error);
    } finally {
      setExporting(undefined);
    }
  };

  return (
    <>
      <h1>{admin ? 'Customers' : 'My customers'}</h1>
      <div className="toolbar">
        <Field
          label="Search customers"
          name="search"
          type="search"
          value={search}
          maxLength={100}
          placeholder="Number or company name"
          onChange={setSearch}
        />
        <button
          type="button"
          className="secondary"
          disabled={exporting !== undefined || !customers.data?.total}
          onClick={exportView}
        >
          Export CSV
        </button>
        {admin && (
          <button type="button" onClick={() => setImporting(true)}>
            Import CSV
          </button>
        )}
        {admin && (
          <button
            type="button"
            className="secondary"
            disabled={selected.size === 0}
            onClick={() => setAssigning(true)}
          >
            Assign to…{selected.size > 0 ? ` (${selected.size})` : ''}
          </button>
        )}
      </div>
      {admin && (
        <RepPicker
          api={api}
          value={repFilter || null}
          onChange={(chosen) => setView({ rep: chosen ?? '', page: '1' }, { replace: true })}
          legend="Rep"
          noneLabel="All reps"
          activeOnly={false}
        />
      )}
      <Notice text={assigned} onDismiss={() => setAssigned('')} />
      <Notice text={exporting ?? exported} onDismiss={exporting ? undefined : () => setExported('')} />
      <ErrorMessage error={exportError} />
      <ErrorMessage error={customers.error} />
      <TableRegion label="Customers">
        <table className="cards" aria-busy={customers.isFetching}>
          <caption className="muted">{admin ? "The organization's customers" : 'Your customers'}</caption>
          <SortableHeadings
            columns={COLUMNS}
            sortOn={sortOn}
            direction={sortDirection}
            onSort={(field, direction) => setView({ sortOn: field, sortDirection: direction, page: '1' })}
            before={admin ? ['Select'] : []}
            after={['Status']}
          />
          <tbody>
            {customers.data?.rows.map((customer) => (
              <tr key={customer.customerNumber}>
                {admin && (
                  <td className="select">
                    <input
                      type="checkbox"
                      aria-label={`Select ${customer.companyName} (${customer.customerNumber})`}
                      checked={selected.has(customer.customerNumber)}
                      onChange={(event) => toggle(customer, event.target.checked)}
                    />
                  </td>
                )}
                <td className="name">
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => setShown(customer.customerNumber)}
                  >
                    <span className="visually-hidden">Show customer </span>
                    {customer.customerNumber}
                  </button>
                </td>
                <td className="name">{customer.companyName}</td>
                <td data-label="Company email">{customer.companyEmail ?? ''}</td>
                <td data-label="Rep">
                  {admin ? (
                    <RepOfCustomer
                      repNumber={customer.repNumber}
                      rep={customer.repNumber ? repsByNumber.get(customer.repNumber) : undefined}
                    />
                  ) : (
                    (customer.repNumber ?? '')
                  )}
                </td>
                <td data-label="Status">{customer.active ? 'Active' : 'Inactive'}</td>
              </tr>
            ))}
            {customers.data?.rows.length === 0 && (
              <tr>
                <td colSpan={COLUMNS.length + (admin ? 2 : 1)}>
                  {searched || (admin && repFilter)
                    ? 'No customers match the search.'
                    : admin
                      ? 'No customers yet. Add them with "Import CSV".'
                      : 'You have no customers yet: an admin assigns them to your rep number.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </TableRegion>
      {customers.data && (
        <Pager
          pageNumber={pageNumber}
          pageSize={pageSize}
          total={customers.data.total}
          onPage={setPageNumber}
          onPageSize={(size) => setView({ pageSize: String(size), page: '1' })}
        />
      )}
      <Dialog
        title={`Customer ${shown ?? ''}`}
        open={shown !== undefined}
        onClose={() => setShown(undefined)}
      >
        {shown && (
          <CustomerDetail
            api={api}
            admin={admin}
            customerNumber={shown}
            onClose={() => setShown(undefined)}
          />
        )}
      </Dialog>
      {admin && (
        <Dialog
          title={`Assign ${selected.size} customers to a rep`}
          open={assigning}
          onClose={() => setAssigning(false)}
        >
          <AssignRep
            api={api}
            customers={[...selected.values()]}
            onDone={(repNumber) => {
              setAssigning(false);
              setAssigned(
                `${selected.size} ${selected.size === 1 ? 'customer is' : 'customers are'} ${repNumber ? `assigned to ${repNumber}` : 'without a rep'} now.`,
              );
              setSelected(new Map());
            }}
            onCancel={() => setAssigning(false)}
          />
        </Dialog>
      )}
      {admin && (
        <Dialog
          title="Import customers from CSV"
          open={importing}
          dismissible={!importRunning}
          onClose={() => setImporting(false)}
        >
          <ImportCustomers api={api} onRunning={setImportRunning} onClose={() => setImporting(false)} />
        </Dialog>
      )}
    </>
  );
}

function CustomerDetail(props: { api: Api; admin: boolean; customerNumber: string; onClose: () => void }) {
  const [changing, setChanging] = useState(false);
  const [changed, setChanged] = useState('');
  const customer = useQuery({
    queryKey: ['customer', props.customerNumber],
    queryFn: async () =>
      must(
        await props.api.GET('/api/customers/{customerNumber}', {
          params: { path: { customerNumber: props.customerNumber } },
        }),
      ),
  });
  const data = customer.data;
  const [rep] = useRepsByNumber(props.api, props.admin && data?.repNumber ? [data.repNumber] : []).values();
  if (changing && data) {
    return (
      <AssignRep
        api={props.api}
        customers={[data]}
        onDone={(repNumber) => {
          setChanging(false);
          setChanged(
            repNumber
              ? `${data.companyName} is assigned to ${repNumber} now.`
              : `${data.companyName} has no rep now.`,
          );
        }}
        onCancel={() => setChanging(false)}
      />
    );
  }
  return (
    <>
      <ErrorMessage error={customer.error} />
      {customer.isPending && (
        <p role="status" className="loading">
          Loading the customer…
        </p>
      )}
      {data && (
        <dl className="detail">
          <dt>Company name</dt>
          <dd>{data.companyName}</dd>
          <dt>Company email</dt>
          <dd>{data.companyEmail ?? '—'}</dd>
          <dt>Company phone</dt>
          <dd>{data.companyPhone ?? '—'}</dd>
          <dt>Sales rep</dt>
          <dd>
            {props.admin ? <RepOfCustomer repNumber={data.repNumber} rep={rep} /> : (data.repNumber ?? '—')}
          </dd>
          <dt>Pricing</dt>
          <dd>{data.pricing ?? '—'}</dd>
          <dt>Terms</dt>
          <dd>{data.terms ?? '—'}</dd>
          <dt>Status</dt>
          <dd>{data.active ? 'Active' : 'Inactive'}</dd>
          <dt>Addresses</dt>
          <dd>
            {data.addresses.length === 0
              ? '—'
              : data.addresses.map((address, index) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: addresses have no id; the list is read-only
                  <div key={index}>
                    {[
                      address.label,
                      address.line1,
                      address.line2,
                      address.postalCode,
                      address.city,
                      address.country,
                    ]
                      .filter(Boolean)
                      .join(', ')}
                  </div>
                ))}
          </dd>
          <dt>Contacts</dt>
          <dd>
            {data.contacts.length === 0
              ? '—'
              : data.contacts.map((contact, index) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: contacts have no id; the list is read-only
                  <div key={index}>
                    {[contact.name, contact.title, contact.email, contact.phone].filter(Boolean).join(', ')}
                  </div>
                ))}
          </dd>
        </dl>
      )}
      <Notice text={changed} />
      <div className="buttons">
        {props.admin && data && (
          <button type="button" onClick={() => setChanging(true)}>
            Change sales rep
          </button>
        )}
        <button type="button" className="secondary" onClick={props.onClose}>
          Close
        </button>
      </div>
    </>
  );
}
