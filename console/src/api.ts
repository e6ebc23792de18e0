import { useQuery } from '@tanstack/react-query';
import { createSalesRepsClient } from '../../client/index.js';
import type { ConsoleSession } from './auth.js';
import { ApiProblem, accessEndedReason, isProblem, type Problem } from './logic/problems.js';

/**
 * The typed client of the API (client/), with the session's access token on every request: renewed and tried once
 * more when the API says 401; a 401 or 403 that remains ends the session, saying why in plain words.
 */
export function createApi(session: ConsoleSession) {
  const send = async (request: Request): Promise<Response> => {
    const attempt = async (token: string) => {
      const copy = request.clone();
      copy.headers.set('authorization', `Bearer ${token}`);
      return fetch(copy);
    };
    let response = await attempt(await session.token());
    if (response.status === 401) response = await attempt(await session.renew());
    if (response.status === 401 || response.status === 403) session.end(accessEndedReason(response.status));
    return response;
  };
  return createSalesRepsClient({ baseUrl: window.location.origin, fetch: send });
}

export type Api = ReturnType<typeof createApi>;

/** The data of an API answer, or the problem it answered, thrown for the query cache and the forms to show. */
export function must<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    const problem: Problem = isProblem(result.error)
      ? result.error
      : { type: 'about:blank', title: result.response.statusText || 'Error', status: result.response.status };
    throw new ApiProblem(problem);
  }
  return result.data;
}

/** X-Total-Count of a list answer: the number of rows all pages hold. */
export function totalOf(response: Response): number {
  return Number(response.headers.get('x-total-count') ?? '0');
}

/** The signed-in person's own organizations as a rep (the header's name and "My organizations" share it). */
export function useMyOrganizations(api: Api, options: { retry?: boolean; enabled?: boolean } = {}) {
  return useQuery({
    queryKey: ['my-organizations'],
    queryFn: async () => must(await api.GET('/api/salesreps/organizations')).salesRepOrganizations,
    ...options,
  });
}
