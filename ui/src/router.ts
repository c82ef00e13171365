// Shareable URLs: /?q=<question> asks it; /statute/<id> and /precedent/<case number> open that
// article or decision (with ?q= kept, so a shared link shows the same answer behind the panel).

export interface Route {
  q: string | null;
  statute: string | null;
  precedent: string | null;
}

function segment(pathname: string, prefix: string): string | null {
  if (!pathname.startsWith(prefix)) return null;
  const rest = pathname.slice(prefix.length).replace(/\/+$/, '');
  if (!rest) return null;
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest;
  }
}

export function parseLocation(loc: { pathname: string; search: string }): Route {
  const q = new URLSearchParams(loc.search).get('q');
  return {
    q: q && q.trim() ? q : null,
    statute: segment(loc.pathname, '/statute/'),
    precedent: segment(loc.pathname, '/precedent/'),
  };
}

export function routeURL(r: Route): string {
  let path = '/';
  if (r.statute) path = '/statute/' + encodeURIComponent(r.statute);
  else if (r.precedent) path = '/precedent/' + encodeURIComponent(r.precedent);
  return r.q ? `${path}?q=${encodeURIComponent(r.q)}` : path;
}
