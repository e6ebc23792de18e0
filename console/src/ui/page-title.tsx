import { createContext, useContext, useEffect } from 'react';

/** The signed-in organization's name (its code until read), for the pages' titles. */
export const OrganizationNameContext = createContext('');

/** The browser tab's title: "Sales reps · Demo Distributors", so that tabs and history tell pages apart. */
export function usePageTitle(title: string) {
  const organization = useContext(OrganizationNameContext);
  useEffect(() => {
    document.title = organization ? `${title} · ${organization}` : title;
  }, [title, organization]);
}
