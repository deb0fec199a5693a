import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createBullBoard } from '@bull-board/api';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { Router, type RequestHandler } from 'express';
import { queueNames } from '../../wire/delivery-batch';
import { GatewayError } from '../../errors';
import type { QueueKind } from '../../management/jobs';
import type { Runtime } from '../../runtime';
import { z } from 'zod';
import { loginOperations, loginRoutes, pageHeaders, requireAdminPage } from '../dashboard-auth';
import { AdminSessions } from '../../admin/sessions';
import type { HttpOperation } from '../operation';

export const BULL_BOARD_PATH = '/admin/queues';
export const ADMIN_UI_PATH = '/admin/socket.io';

export const dashboardOperations: HttpOperation[] = [
  ...loginOperations,
  {
    method: 'get',
    path: BULL_BOARD_PATH,
    mount: true,
    operationId: 'queuesDashboard',
    tag: 'pages',
    auth: 'adminPage',
    summary:
      'Bull Board, read-only: the delivery, throttle and handler queues, their counts and jobs',
    response: {
      status: 200,
      description: 'the page (with its files and API below this path)',
      schema: z.string(),
      contentType: 'text/html',
    },
    errors: ['not_found'],
  },
  {
    method: 'get',
    path: ADMIN_UI_PATH,
    mount: true,
    operationId: 'socketsDashboard',
    tag: 'pages',
    auth: 'adminPage',
    summary:
      "The Socket.IO Admin UI, served from the package's own files; it connects to this gateway's /admin namespace",
    response: {
      status: 200,
      description: 'the page (with its files below this path)',
      schema: z.string(),
      contentType: 'text/html',
    },
    errors: ['not_found'],
  },
];

/**
 * The browser dashboards, behind the admin page sign-in (HTTP Basic admin:ADMIN_TOKEN, or the
 * /admin/login cookie; see dashboard-auth.ts):
 *   /admin/login, /admin/logout   sign-in form and sign-out
 *   /admin/queues/                Bull Board over the delivery, throttle and handler queues (read-only)
 *   /admin/socket.io/             the Socket.IO Admin UI, served from @socket.io/admin-ui's own files;
 *                                 it connects back to this gateway's `/admin` namespace (gateway/admin-ui.ts)
 * Both UIs come from their packages' files; the one stylesheet each loads from a font CDN is left
 * out of their HTML (these machines reach no CDN, and an admin page should not call third parties).
 * Mount before the JSON /admin API, whose bearer check covers every other /admin path.
 */
export function dashboardRoutes(
  rt: Pick<Runtime, 'config' | 'keys' | 'management' | 'redis'>,
): Router {
  const r = Router();
  const sessions = new AdminSessions(rt.redis, rt.keys);
  const guard = requireAdminPage(rt.config, sessions);
  r.use('/admin', loginRoutes(rt.config, sessions));
  // Nothing is opened without ADMIN_TOKEN: the guard refuses every request first.
  const enabled = rt.config.ADMIN_TOKEN !== undefined;
  r.use(BULL_BOARD_PATH, pageHeaders, guard, enabled ? bullBoard(rt) : notFound);
  // The Admin UI's page only where its namespace runs (ADMIN_UI=on): a page that cannot connect helps nobody.
  r.use(
    ADMIN_UI_PATH,
    pageHeaders,
    guard,
    enabled && rt.config.ADMIN_UI === 'on' ? adminUiFiles() : notFound,
  );
  return r;
}

const notFound: RequestHandler = (req, _res, next) =>
  next(new GatewayError('not_found', `no route ${req.method} ${req.originalUrl.split('?')[0]}`));

/** Removes `<link>` tags that load from another site (Google Fonts, a CDN icon font). */
export function withoutExternalLinks(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi, '');
}

const QUEUE_LABELS: Record<QueueKind, string> = {
  delivery:
    'Delivery batches: one job carries many accepted events; a worker emits them with one Lua call',
  throttle: 'Throttle window flushes, the throttle sweep scheduler and operator flushes',
  handlers: 'Retries of server-side handlers that threw (the happy path uses the handler inbox)',
};

/**
 * Bull Board, read-only: it shows the queues, counts, jobs and their data, but changes nothing
 * (no retry, clean, promote, pause or add). Operators change things through the management core
 * (`sb failed retry`, `POST /admin/failed/retry`, `sb queue pause`), which knows what each queue
 * is for; removing or editing a delivery job from a generic UI would lose events.
 */
function bullBoard(rt: Pick<Runtime, 'config' | 'management'>): RequestHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const names = queueNames(rt.config.QUEUE_NAME);
  const kinds: QueueKind[] = ['delivery', 'throttle', 'handlers'];
  createBullBoard({
    queues: kinds.map(
      (kind) =>
        new BullMQAdapter(rt.management.jobs.queue(kind), {
          readOnlyMode: true,
          allowRetries: false,
          displayName: `${names[kind]} (${kind})`,
          description: QUEUE_LABELS[kind],
        }),
    ),
    // @bull-board/express 9.10.1 pins its own copy of @bull-board/api 9.10.1, while package.json
    // asks for api ^9.10.2: the two typings declare the same adapter twice. The express adapter only
    // wires routes, so the newer api (routes, handlers, and the UI files it resolves) drives it.
    serverAdapter: serverAdapter as unknown as IServerAdapter,
    options: { uiConfig: { boardTitle: 'Switchboard queues' } },
  });
  const router = serverAdapter.getRouter() as RequestHandler;
  // The entry page (every GET outside /api and /static) is rendered by Bull Board's template,
  // which links a Google Fonts stylesheet: drop it (the UI falls back to system fonts).
  const stripFonts: RequestHandler = (req, res, next) => {
    if (req.method === 'GET' && !/^\/(api|static)\//.test(req.path)) {
      const send = res.send.bind(res);
      res.send = (body?: unknown) =>
        send(typeof body === 'string' ? withoutExternalLinks(body) : body);
      res.setHeader('Cache-Control', 'no-store');
    }
    next();
  };
  return Router().use(stripFonts, router);
}

/** Where @socket.io/admin-ui keeps its built UI (`ui/dist`: index.html, js/, css/, img/). */
export function adminUiDist(): string {
  return path.join(path.dirname(require.resolve('@socket.io/admin-ui/package.json')), 'ui', 'dist');
}

/**
 * Runs in the Admin UI's page before the UI itself: a first visit connects to this gateway (the
 * page's own origin, path /socket.io, namespace /admin) instead of showing an empty server URL.
 * The UI keeps its own settings in localStorage afterwards.
 */
const DEFAULTS_SCRIPT = `try {
  if (!localStorage.getItem('server_url')) {
    localStorage.setItem('server_url', location.origin);
    localStorage.setItem('namespace', '/admin');
    localStorage.setItem('path', '/socket.io');
  }
} catch (e) {}
`;

/** The Admin UI's own static files; its index.html without CDN links, plus the defaults above. */
function adminUiFiles(): RequestHandler {
  const dist = adminUiDist();
  const index = withoutExternalLinks(readFileSync(path.join(dist, 'index.html'), 'utf8')).replace(
    '<script ',
    '<script src="switchboard-defaults.js"></script><script ',
  );
  const r = Router({ strict: true });
  r.get('/', (req, res) => {
    // Relative asset paths (css/, js/) need the trailing slash.
    if (!req.originalUrl.split('?')[0]?.endsWith('/')) {
      res.redirect(301, `${ADMIN_UI_PATH}/`);
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(index);
  });
  r.get('/switchboard-defaults.js', (_req, res) => {
    res.type('application/javascript').send(DEFAULTS_SCRIPT);
  });
  r.use(express.static(dist, { index: false, redirect: false, fallthrough: true }));
  r.use(notFound);
  return r;
}
