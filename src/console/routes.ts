import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { HttpOperation } from '../api/operation';
import { consoleCatalog } from './catalog-json';

/**
 * The folder of the console's static files (index.html, console.js, console.css): next to this
 * module when run from source, or under src/ when run from dist/ (the build copies no static files).
 */
export function consolePublicDir(): string {
  const candidates = [
    path.join(__dirname, 'public'),
    path.resolve(__dirname, '../../../src/console/public'),
  ];
  return (
    candidates.find((dir) => existsSync(path.join(dir, 'index.html'))) ?? (candidates[0] as string)
  );
}

/**
 * What the console's pages may do: load from this gateway only (its own script, style,
 * socket.io's browser bundle, the API and the websocket), never be framed. The tokens the page
 * holds in sessionStorage are only as safe as the page's scripts.
 */
const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const headers: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  next();
};

export const consoleOperations: HttpOperation[] = [
  {
    method: 'get',
    path: '/console',
    mount: true,
    operationId: 'console',
    tag: 'pages',
    auth: 'none',
    summary:
      'The live console: join rooms, watch events with their meta, publish test events, flush throttle windows',
    description:
      'Holds no secret: each action needs the token the user types (a JWT, PUBLISH_TOKEN or ADMIN_TOKEN).',
    response: {
      status: 200,
      description: 'the page (its script and style below this path)',
      schema: z.string(),
      contentType: 'text/html',
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/console/catalog.json',
    operationId: 'consoleCatalog',
    tag: 'pages',
    auth: 'none',
    summary:
      "The console's pickers: each event's namespace, room template, JSON Schema and example, and each namespace's rooms",
    response: {
      status: 200,
      description: 'the catalog as the console reads it',
      schema: z.record(z.string(), z.unknown()),
    },
    errors: [],
  },
];

/**
 * `/console`: the live console, plain files served as they are (no build step), and
 * `/console/catalog.json`, the catalog's events (namespace, room template, JSON Schema, an example
 * payload) and each namespace's joinable rooms, for its pickers. The page holds no secret: every
 * action it takes needs the tokens the user types (a JWT for sockets, PUBLISH_TOKEN for publishing,
 * ADMIN_TOKEN for throttle windows).
 */
export function consoleRoutes(): Router {
  const r = Router();
  r.use('/console', headers);
  r.get('/console/catalog.json', (_req, res) => {
    res.json(consoleCatalog());
  });
  const dir = consolePublicDir();
  // `/console` and `/console/` alike (the page refers to its files by absolute paths).
  r.get('/console', (_req, res) => res.sendFile(path.join(dir, 'index.html')));
  r.use('/console', express.static(dir, { index: false, redirect: false, fallthrough: true }));
  return r;
}
