import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { contentSecurityPolicy } from 'helmet';

type Middleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/**
 * helmet's headers on every answer of the gateway's HTTP port (JSON API, admin API, pages, errors):
 * nosniff, no framing, no referrer, same-origin opener and resource policies, and a CSP that lets a
 * JSON answer load nothing. Pages replace the CSP with their own (the console's in
 * src/console/routes.ts, the dashboards' below). HSTS without includeSubDomains: a gateway answers
 * for its own host, not for every name under its domain.
 */
export function securityHeaders(): (res: ServerResponse) => void {
  return fixedHeaders(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'none'"],
          'base-uri': ["'none'"],
          'form-action': ["'none'"],
          'frame-ancestors': ["'none'"],
        },
      },
      strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: false },
    }),
  );
}

/**
 * What a helmet middleware does to an answer, recorded once and replayed per request. With fixed
 * directives it sets the same headers every time, yet runs a dozen middlewares and rebuilds the
 * CSP string per request: under publish load a CPU profile put that at a fifth of the edge's time.
 */
function fixedHeaders(middleware: Middleware): (res: ServerResponse) => void {
  const set: Array<[string, string | number | readonly string[]]> = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) =>
      set.push([name, value]),
    removeHeader: (name: string) => removed.push(name),
  };
  const outcome: { called: boolean; error?: unknown } = { called: false };
  middleware(
    Object.create(null) as IncomingMessage,
    recorder as unknown as ServerResponse,
    (err) => {
      outcome.called = true;
      outcome.error = err;
    },
  );
  // helmet calls back synchronously; a version that did not would leave the headers unrecorded.
  if (!outcome.called || outcome.error !== undefined)
    throw new Error('helmet did not call back at once without error: its headers cannot be fixed');
  return (res) => {
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
  };
}

/**
 * The CSP of the admin pages (sign-in form, Bull Board, the Socket.IO Admin UI): scripts, styles,
 * fonts, images and connections (the Admin UI's websocket) from this gateway only. Inline styles
 * are allowed: the sign-in page has a `<style>`, Bull Board's loading screen uses style
 * attributes and the Admin UI's components inject `<style>` tags at run time. No inline script
 * runs on any of them (the Admin UI's defaults are a script file of their own, dashboards.ts).
 */
export const adminPageCsp: Middleware = contentSecurityPolicy({
  useDefaults: false,
  directives: {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    // Bull Board's page sets <base href="/admin/queues/">.
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  },
});
