// A small history-API router: routes are patterns like "/pioreactors/:unit".
import { useEffect, useState } from "preact/hooks";

const listeners = new Set();

function notify() {
  for (const fn of listeners) fn(location.pathname + location.search);
}

window.addEventListener("popstate", notify);

export function navigate(to, { replace = false } = {}) {
  if (to === location.pathname + location.search) return;
  history[replace ? "replaceState" : "pushState"](null, "", to);
  notify();
}

/** The current path (without the query) and its query parameters. */
export function useLocation() {
  const [href, setHref] = useState(location.pathname + location.search);
  useEffect(() => {
    listeners.add(setHref);
    return () => listeners.delete(setHref);
  }, []);
  const [path, search = ""] = href.split("?");
  return { path, query: new URLSearchParams(search) };
}

export function Link({ href, children, ...rest }) {
  const onClick = (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

/** The first route whose pattern matches `path`, with its params. */
export function matchRoute(routes, path) {
  const parts = path.replace(/\/+$/, "").split("/").filter(Boolean);
  for (const route of routes) {
    const pattern = route.path.split("/").filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      if (pattern[i].startsWith(":")) params[pattern[i].slice(1)] = decodeURIComponent(parts[i]);
      else if (pattern[i] !== parts[i]) ok = false;
    }
    if (ok) return { route, params };
  }
  return null;
}
