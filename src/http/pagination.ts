/** What the Link and X-Total-Count headers of a page are made from. */
export interface PageFacts {
  total: number;
  pageNumber: number;
  pageSize: number;
  sortOn: string;
  sortDirection: string;
  /** Query parameters that chose the rows (e.g. a search); every link keeps those that were given. */
  filters?: Record<string, string | undefined>;
}

/**
 * `X-Total-Count`, and a `Link` header (RFC 8288) with `first` and `last` always and `prev` and `next` where such
 * a page exists. Links are relative to the request's own path and keep its sort and filters.
 */
export function paginationHeaders(requestUrl: string, page: PageFacts): Record<string, string> {
  const path = requestUrl.split('?')[0] ?? '';
  const lastPage = Math.max(1, Math.ceil(page.total / page.pageSize));
  const link = (pageNumber: number, rel: string) => {
    const query = new URLSearchParams({
      pageNumber: String(pageNumber),
      pageSize: String(page.pageSize),
      sortOn: page.sortOn,
      sortDirection: page.sortDirection,
    });
    for (const [name, value] of Object.entries(page.filters ?? {})) {
      if (value !== undefined) query.set(name, value);
    }
    return `<${path}?${query}>; rel="${rel}"`;
  };
  const links = [link(1, 'first')];
  if (page.pageNumber > 1) links.push(link(Math.min(page.pageNumber - 1, lastPage), 'prev'));
  if (page.pageNumber < lastPage) links.push(link(page.pageNumber + 1, 'next'));
  links.push(link(lastPage, 'last'));
  return { 'x-total-count': String(page.total), link: links.join(', ') };
}
