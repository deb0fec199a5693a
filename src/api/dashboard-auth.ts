import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Config } from '../config';
import { z } from 'zod';
import type { HttpOperation } from './operation';
import { adminPageCsp } from './security-headers';
import {
  ADMIN_USER,
  AdminSessions,
  SESSION_COOKIE,
  SESSION_TTL_S,
  adminCredentialsOk,
  sessionCookieOf,
} from '../admin/sessions';

/**
 * Sign-in for the browser pages under /admin (Bull Board, the Socket.IO Admin UI). A browser
 * cannot send the bearer header of the JSON /admin API, so these pages take either:
 *  - HTTP Basic: user `admin`, password ADMIN_TOKEN (compared in constant time), or
 *  - the cookie set by the login form (`GET/POST /admin/login`): an opaque random session id,
 *    HttpOnly and SameSite=Strict, whose SHA-256 is a Redis key with a TTL. The token itself never
 *    goes into a cookie, and reading Redis never yields a usable cookie.
 * With no ADMIN_TOKEN configured every page answers 401, like the JSON API.
 */
/** `Basic realm="switchboard"`: the challenge of every 401 of the pages. */
export const BASIC_CHALLENGE = 'Basic realm="switchboard"';

/** `Authorization: Basic <base64(user:password)>` decoded, if the header is one. */
export function basicCredentials(
  header: string | undefined,
): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Security headers of every dashboard response, over helmet's for the whole app: never framed, no
 * referrer to other sites, and the admin pages' CSP (inline styles allowed, scripts from here only).
 */
export const pageHeaders: RequestHandler = (req, res, next) => {
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  adminPageCsp(req, res, next);
};

/**
 * Lets a request through with valid Basic credentials or a live session cookie; otherwise 401
 * with `WWW-Authenticate: Basic realm="switchboard"` (HTML with a link to the login form for
 * browsers, the usual `{ error }` JSON for anything else).
 */
export function requireAdminPage(
  config: Pick<Config, 'ADMIN_TOKEN'>,
  sessions: AdminSessions,
): RequestHandler {
  const token = config.ADMIN_TOKEN;
  return (req, res, next) => {
    if (!token) {
      refuse(req, res, 'Dashboards are disabled: ADMIN_TOKEN is not set.');
      return;
    }
    const basic = basicCredentials(req.headers.authorization);
    if (basic) {
      if (adminCredentialsOk(token, basic.user, basic.password)) next();
      else refuse(req, res, 'Wrong user or password.');
      return;
    }
    sessions.valid(sessionCookieOf(req.headers.cookie)).then((ok) => {
      if (ok) next();
      else refuse(req, res, 'Sign in first.');
    }, next);
  };
}

function refuse(req: Request, res: Response, why: string): void {
  res.status(401).setHeader('WWW-Authenticate', BASIC_CHALLENGE);
  res.setHeader('Cache-Control', 'no-store');
  if (req.accepts(['json', 'html']) === 'html') {
    const next = encodeURIComponent(req.originalUrl);
    res.type('html').send(
      page(
        'Sign in required',
        `<p>${escapeHtml(why)}</p>
<p>Sign in with HTTP Basic (user <code>admin</code>, password ADMIN_TOKEN) or with the <a href="/admin/login?next=${next}">sign-in form</a>.</p>`,
      ),
    );
    return;
  }
  res.json({
    error: {
      code: 'unauthorized',
      message: `the admin pages need HTTP Basic (admin:ADMIN_TOKEN) or a sign-in cookie: ${why}`,
    },
  });
}

/** Only paths on this site, never `//host` or `/\host` (an open redirect). */
export function safeNext(raw: unknown): string {
  if (typeof raw !== 'string' || !/^\/(?![/\\])[\x21-\x7e]*$/.test(raw) || raw.length > 512)
    return '/admin/queues/';
  return raw;
}

function cookieHeader(req: Request, value: string, maxAgeS: number): string {
  // Path=/: the Socket.IO Admin UI's handshake (/socket.io/) carries it too. Secure when the request
  // came over HTTPS: to this gateway, or to a proxy TRUST_PROXY trusts (its X-Forwarded-Proto).
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${req.secure ? '; Secure' : ''}`;
}

const LoginForm = z.object({
  user: z.literal(ADMIN_USER).optional(),
  password: z.string().meta({ description: 'ADMIN_TOKEN' }),
  next: z.string().optional().meta({
    description: 'a path on this site to go to after signing in (default /admin/queues/)',
  }),
});

const html = { schema: z.string(), contentType: 'text/html' } as const;

export const loginOperations: HttpOperation[] = [
  {
    method: 'get',
    path: '/admin/login',
    operationId: 'adminLoginForm',
    tag: 'pages',
    auth: 'none',
    summary: 'The admin sign-in form',
    response: { status: 200, description: 'the form (401 when ADMIN_TOKEN is not set)', ...html },
    errors: ['rate_limited'],
  },
  {
    method: 'post',
    path: '/admin/login',
    operationId: 'adminLogin',
    tag: 'pages',
    auth: 'none',
    summary: 'Sign in to the admin pages: sets the HttpOnly session cookie and redirects to `next`',
    body: LoginForm,
    bodyContentType: 'application/x-www-form-urlencoded',
    examples: {
      default: { value: { user: 'admin', password: 'the ADMIN_TOKEN', next: '/admin/queues/' } },
    },
    response: {
      status: 303,
      description:
        'signed in: `Set-Cookie` and a redirect; a wrong password answers 403 with the form again',
      headers: { 'Set-Cookie': `${SESSION_COOKIE}=…; HttpOnly; SameSite=Strict` },
    },
    errors: ['rate_limited'],
  },
  {
    method: 'post',
    path: '/admin/logout',
    operationId: 'adminLogout',
    tag: 'pages',
    auth: 'none',
    summary: 'Sign out: deletes the session and its cookie',
    response: { status: 303, description: 'signed out, redirected to the sign-in form' },
    errors: ['rate_limited'],
  },
];

/**
 * `GET /admin/login` (the form), `POST /admin/login` (password, next: sets the cookie and
 * redirects to next), `POST /admin/logout` (deletes the session and the cookie). Mount at /admin.
 */
export function loginRoutes(config: Pick<Config, 'ADMIN_TOKEN'>, sessions: AdminSessions): Router {
  const r = Router();
  const token = config.ADMIN_TOKEN;
  const form = (next: string, message?: string) =>
    page(
      'Switchboard admin sign-in',
      `${message ? `<p class="error">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/admin/login">
  <input type="hidden" name="next" value="${escapeHtml(next)}">
  <label>User <input name="user" value="admin" autocomplete="username" readonly></label>
  <label>Password (ADMIN_TOKEN) <input type="password" name="password" autocomplete="current-password" autofocus required></label>
  <button type="submit">Sign in</button>
</form>
<p>Then: <a href="/admin/queues/">queues (Bull Board)</a> · <a href="/admin/socket.io/">sockets (Socket.IO Admin UI)</a> · <a href="/console">console</a></p>`,
    );

  r.use('/login', pageHeaders);
  r.get('/login', (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (!token) {
      signInDisabled(res);
      return;
    }
    res.type('html').send(form(safeNext(req.query.next)));
  });
  r.post(
    '/login',
    express.urlencoded({ extended: false, limit: 4096, parameterLimit: 10 }),
    async (req, res, next) => {
      try {
        res.setHeader('Cache-Control', 'no-store');
        const body = (req.body ?? {}) as Record<string, unknown>;
        const target = safeNext(body.next);
        if (!token) {
          signInDisabled(res);
          return;
        }
        if (!adminCredentialsOk(token, body.user ?? ADMIN_USER, body.password)) {
          // 403, not 401: a form, not HTTP authentication (no Basic prompt over the form).
          return void res.status(403).type('html').send(form(target, 'Wrong password.'));
        }
        const id = await sessions.create();
        res.setHeader('Set-Cookie', cookieHeader(req, id, SESSION_TTL_S));
        res.redirect(303, target);
      } catch (err) {
        next(err);
      }
    },
  );
  r.post('/logout', async (req, res, next) => {
    try {
      await sessions.revoke(sessionCookieOf(req.headers.cookie));
      res.setHeader('Set-Cookie', cookieHeader(req, '', 0));
      res.redirect(303, '/admin/login');
    } catch (err) {
      next(err);
    }
  });
  return r;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
label{display:block;margin:.6rem 0}input{display:block;width:100%;padding:.4rem;font:inherit;box-sizing:border-box}
button{padding:.4rem 1rem;font:inherit}.error{color:#b00020}code{background:#eef;padding:0 .2rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

/** Without ADMIN_TOKEN there is nothing to sign in to: 401 with the Basic challenge, as the pages answer. */
function signInDisabled(res: Response): void {
  res
    .status(401)
    .setHeader('WWW-Authenticate', BASIC_CHALLENGE)
    .type('html')
    .send(page('Sign-in disabled', '<p>Dashboards are disabled: ADMIN_TOKEN is not set.</p>'));
}
