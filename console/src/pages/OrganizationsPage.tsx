import { type Api, useMyOrganizations } from '../api.js';
import type { ConsoleSession } from '../auth.js';
import { ErrorMessage, TableRegion } from '../ui/common.js';

/** The rep's organizations; another one is a new sign-in for it (org_code), as with Kinde. */
export function OrganizationsPage(props: { api: Api; session: ConsoleSession; current: string }) {
  const organizations = useMyOrganizations(props.api);
  return (
    <>
      <h1>My organizations</h1>
      <ErrorMessage error={organizations.error} />
      <TableRegion label="My organizations">
        <table>
          <caption className="muted">Organizations you are a sales rep of</caption>
          <thead>
            <tr>
              <th scope="col">Organization</th>
              <th scope="col">Rep number</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {organizations.data?.map((organization) => (
              <tr key={organization.organizationSalesRepId}>
                <td>{organization.organizationName}</td>
                <td>{organization.repNumber}</td>
                <td>{organization.active ? 'Active' : 'Inactive'}</td>
                <td>
                  {organization.identityOrganizationId === props.current ? (
                    <span>Signed in here</span>
                  ) : (
                    organization.active && (
                      <button
                        type="button"
                        className="secondary"
                        onClick={() =>
                          void props.session.signIn({
                            organization: organization.identityOrganizationId,
                            returnTo: '/console/',
                          })
                        }
                      >
                        Switch to {organization.organizationName}
                      </button>
                    )
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </>
  );
}
