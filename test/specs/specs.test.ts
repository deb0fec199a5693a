import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Socket } from 'socket.io-client';
import { createHttpApp } from '../../src/api/app';
import { buildAsyncApi } from '../../src/specs/asyncapi';
import { buildOpenApi } from '../../src/specs/openapi';
import { listEvents } from '../../src/catalog';
import { ROOM_KINDS } from '../../src/client/rooms';
import type { Gateway } from '../../src/gateway/server';
import { commonActions } from '../../src/gateway/namespaces/common';
import { namespaceModules } from '../../src/gateway/namespaces/registry';
import { Stack, testConfig } from '../helpers/stack';

/** A JSON object: a schema, a payload, an ack. */
type Json = Record<string, unknown>;

/** The parts of the OpenAPI document these tests read. */
interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string; example?: string | number | boolean }>;
  requestBody?: {
    content: Record<string, { schema: Json; examples: Record<string, { value: unknown }> }>;
  };
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
  security: Json[];
  'x-switchboard-mount'?: boolean;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: unknown };
}

/** The parts of the AsyncAPI document these tests read. */
interface AsyncApiMessage {
  name?: string;
  payload: Json;
  headers: Json;
  examples: Array<{ payload: Json; headers?: { room: string } }>;
}
interface AsyncApiDocument {
  asyncapi: string;
  servers: Record<string, unknown>;
  channels: Record<string, { address: string; messages: Record<string, AsyncApiMessage> }>;
  operations: Record<
    string,
    { messages: Array<{ $ref: string }>; reply: { messages: Array<{ $ref: string }> } }
  >;
  components: { schemas: unknown };
}

const ADMIN_TOKEN = 'admin-token-for-the-specs-0123';
/** The user every example payload names (`userId: '42'`), with the admin role so every example may join. */
const EXAMPLE_USER = '42';

async function fetchDocuments(
  stack: Stack,
  gw: Gateway,
): Promise<{ openapi: OpenApiDocument; asyncapi: AsyncApiDocument }> {
  // No token: the documents are served before /api's bearer check.
  const [openapi, asyncapi] = await Promise.all(
    ['/api/openapi.json', '/api/asyncapi.json'].map(async (p) => {
      const res = await fetch(stack.url(gw, p));
      expect({ p, status: res.status }).toEqual({ p, status: 200 });
      return res.json();
    }),
  );
  return { openapi: openapi as OpenApiDocument, asyncapi: asyncapi as AsyncApiDocument };
}

/**
 * A validator of values against a schema of a document: the schema may `$ref` the document's
 * `#/components/schemas/...`, so it is compiled inside a copy of those components.
 */
function schemaValidator(ajv: Ajv | Ajv2020, doc: { components: { schemas: unknown } }) {
  let n = 0;
  return (schema: Json, value: unknown): string[] => {
    const validate = ajv.compile({
      $id: `urn:switchboard:spec:${++n}`,
      components: { schemas: doc.components.schemas },
      allOf: [schema],
    });
    return validate(value)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

/** Follows a local `$ref` (`#/channels/social/messages/post_liked`) inside a document. */
function deref(doc: unknown, node: Json): Json {
  if (typeof node.$ref !== 'string') return node;
  return node.$ref
    .slice(2)
    .split('/')
    .map((part: string) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((at: unknown, part: string) => (at as Json)[part], doc) as Json;
}

// ---- the app's routes, read off the express router ----------------------------------------------

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/** `GET /api/posts/{id}/like` for every route, and `USE /admin/queues` for every mounted handler. */
function routesOf(stack: Layer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
    if (layer.route)
      return Object.keys(layer.route.methods).map(
        (m) => `${m.toUpperCase()} ${(prefix + layer.route!.path).replace(/:(\w+)/g, '{$1}')}`,
      );
    if (layer.handle?.stack) return routesOf(layer.handle.stack, prefix + mount);
    return mount ? [`USE ${prefix}${mount}`] : [];
  });
}

describe('the OpenAPI document', () => {
  const stack = new Stack(testConfig({ ADMIN_TOKEN }));
  let gw: Gateway;
  let openapi: OpenApiDocument;
  let asyncapi: AsyncApiDocument;
  let check: ReturnType<typeof schemaValidator>;
  beforeAll(async () => {
    // Windows stay open until an operator (or an example here) flushes or drops them.
    gw = await stack.gatewayWithParkedFlushes();
    ({ openapi, asyncapi } = await fetchDocuments(stack, gw));
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    check = schemaValidator(ajv, openapi);
  });
  afterAll(() => stack.close());

  it('and the AsyncAPI document are valid against their specifications (OpenAPI 3.1, AsyncAPI 3.0)', () => {
    // The validators are ESM packages: a node child process runs them (validate-documents.mjs).
    const run = spawnSync(process.execPath, [path.join(__dirname, 'validate-documents.mjs')], {
      input: JSON.stringify({ openapi, asyncapi }),
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as { openapi: unknown; asyncapi: unknown };
    expect(result.openapi).toEqual({ valid: true, version: '3.1', errors: [] });
    expect(result.asyncapi).toEqual({ valid: true, errors: [] });
    expect(openapi.openapi).toBe('3.1.0');
    expect(asyncapi.asyncapi).toBe('3.0.0');
    // The AsyncAPI server is the gateway the document was fetched from.
    expect(asyncapi.servers.gateway).toMatchObject({
      host: `127.0.0.1:${gw.port}`,
      protocol: 'ws',
    });
  });

  it('lists exactly the routes the HTTP app serves', () => {
    const app = createHttpApp(
      gw.runtime,
      { metrics: gw.metrics, ready: () => gw.ready() },
      { openapi: buildOpenApi, asyncapi: buildAsyncApi },
    ) as unknown as {
      router: { stack: Layer[] };
    };
    const layers = routesOf(app.router.stack);
    // Middleware mounted at a path (rate limits, bearer checks, static files) is not a route of its own.
    const served = layers.filter((route) => !route.startsWith('USE '));
    const documented = Object.entries(openapi.paths).flatMap(([p, methods]) =>
      Object.entries(methods).map(([m, op]) => ({
        route: `${m.toUpperCase()} ${p}`,
        path: p,
        mount: op['x-switchboard-mount'] === true,
      })),
    );
    const mounts = documented.filter((d) => d.mount).map((d) => d.path);
    const within = (route: string, mount: string) => {
      const routePath = route.slice(route.indexOf(' ') + 1);
      return routePath === mount || routePath.startsWith(`${mount}/`);
    };
    const under = (route: string) => mounts.some((mount) => within(route, mount));
    // Every route the app answers is documented, or belongs to a documented page (its files, its own API).
    const undocumented = served.filter(
      (route) => !documented.some((d) => d.route === route) && !under(route),
    );
    expect(undocumented).toEqual([]);
    // Every documented operation is served: as a route, or as a page mounted at its path.
    const unserved = documented.filter(
      (d) =>
        !served.includes(d.route) && !(d.mount && layers.some((route) => within(route, d.path))),
    );
    expect(unserved).toEqual([]);
  });

  it('shows every catalog event as a publish example that the live API accepts with 202', async () => {
    const publish = openapi.paths['/api/events']!.post!;
    const examples = publish.requestBody!.content['application/json']!.examples;
    expect(Object.keys(examples).sort()).toEqual(
      listEvents()
        .map((e) => e.name)
        .sort(),
    );
    for (const [name, { value }] of Object.entries(examples)) {
      expect({
        name,
        errors: check(publish.requestBody!.content['application/json']!.schema, value),
      }).toEqual({ name, errors: [] });
      const res = await stack.post(gw, '/api/events', value);
      const body = await res.json();
      expect({ name, status: res.status, body }).toEqual({
        name,
        status: 202,
        body: { id: expect.any(String) as unknown },
      });
      expect(check(publish.responses['202']!.content!['application/json']!.schema, body)).toEqual(
        [],
      );
    }
  });

  /** Opens the throttle window of a throttle key (`social:post_liked:post:123`) by publishing its event. */
  async function openWindow(key: string): Promise<void> {
    const [, event, ...room] = key.split(':');
    const publish =
      openapi.paths['/api/events']!.post!.requestBody!.content['application/json']!.examples[
        event!
      ]!.value;
    expect(room.join(':')).toBe('post:123');
    expect((await stack.post(gw, '/api/events', publish)).status).toBe(202);
  }

  it('describes what each JSON operation answers to its own example: status and body schema', async () => {
    const results: Json[] = [];
    for (const [p, methods] of Object.entries(openapi.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const [status, success] = Object.entries(op.responses).find(
          ([code]) => Number(code) < 400,
        ) as [string, OpenApiOperation['responses'][string]];
        const contentType = Object.keys(success.content ?? {})[0];
        const bodyType = Object.keys(op.requestBody?.content ?? {})[0];
        // Pages and forms are driven by the dashboards and console tests; here: the JSON API.
        if (contentType !== 'application/json' || (bodyType && bodyType !== 'application/json'))
          continue;
        const params = op.parameters ?? [];
        const url = p.replace(/\{(\w+)\}/g, (_, name: string) =>
          String(params.find((x) => x.name === name)?.example),
        );
        const query = new URLSearchParams(
          params
            .filter((x) => x.in === 'query' && x.example !== undefined)
            .map((x): [string, string] => [x.name, String(x.example)]),
        );
        const auth = op.security.map((s) => Object.keys(s)[0]);
        const token = auth.includes('adminToken')
          ? ADMIN_TOKEN
          : auth.includes('publishToken')
            ? stack.config.PUBLISH_TOKEN
            : undefined;
        const example = bodyType
          ? Object.values(op.requestBody!.content[bodyType]!.examples)[0]?.value
          : undefined;
        // Dropping answers 404 for a window that is not open: open the one the example names.
        if (p === '/admin/throttle/drop') await openWindow((example as { key: string }).key);
        const res = await fetch(
          stack.url(gw, `${url}${query.size > 0 ? `?${query.toString()}` : ''}`),
          {
            method: method.toUpperCase(),
            headers: {
              ...(token ? { authorization: `Bearer ${token}` } : {}),
              ...(bodyType ? { 'content-type': bodyType } : {}),
            },
            body: bodyType ? JSON.stringify(example) : undefined,
          },
        );
        const body = await res.json();
        results.push({
          route: `${method.toUpperCase()} ${p}`,
          status: res.status,
          errors: check(success.content![contentType]!.schema, body),
        });
        expect(results.at(-1)).toEqual({
          route: `${method.toUpperCase()} ${p}`,
          status: Number(status),
          errors: [],
        });
      }
    }
    // Publish, domain, admin, health and the documents themselves: not a vacuous loop.
    expect(results.length).toBeGreaterThanOrEqual(20);
  });
});

describe('the AsyncAPI document', () => {
  const stack = new Stack(testConfig({ ADMIN_TOKEN }));
  let gw: Gateway;
  let asyncapi: AsyncApiDocument;
  let check: ReturnType<typeof schemaValidator>;
  beforeAll(async () => {
    gw = await stack.gateway();
    await stack.worker();
    ({ asyncapi } = await fetchDocuments(stack, gw));
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    check = schemaValidator(ajv, asyncapi);
  });
  afterAll(() => stack.close());

  const channelOf = (ns: string) => ns.slice(1);
  const messagesOf = (ns: string) => asyncapi.channels[channelOf(ns)]!.messages;

  it('has one channel per namespace, with every catalog event there and every client action as a call with an ack', () => {
    expect(
      Object.values(asyncapi.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual(
      Object.values(namespaceModules)
        .map((m) => m.name)
        .sort(),
    );
    for (const event of listEvents()) {
      expect({ event: event.name, message: messagesOf(event.namespace)[event.name]?.name }).toEqual(
        { event: event.name, message: event.name },
      );
    }
    for (const mod of Object.values(namespaceModules)) {
      for (const action of Object.keys({ ...commonActions, ...mod.actions })) {
        const op = asyncapi.operations[`${channelOf(mod.name)}.emit.${action}`];
        expect({
          ns: mod.name,
          action,
          call: op?.messages[0]!.$ref,
          ack: op?.reply.messages[0]!.$ref,
        }).toEqual({
          ns: mod.name,
          action,
          call: `#/channels/${channelOf(mod.name)}/messages/${action}.call`,
          ack: `#/channels/${channelOf(mod.name)}/messages/${action}.ack`,
        });
      }
    }
  });

  it("sends each client action's examples to a live gateway and gets acks of the documented shape", async () => {
    let calls = 0;
    for (const mod of Object.values(namespaceModules)) {
      const socket = await stack.client(gw, mod.name, await stack.auth(EXAMPLE_USER, ['admin']));
      const messages = messagesOf(mod.name);
      // Joins first and leaves last: typing and messages need the room joined.
      const order = (name: string) =>
        name.startsWith('join_') ? 0 : name.startsWith('leave_') ? 2 : 1;
      const actions = Object.keys(messages)
        .filter((m) => m.endsWith('.call'))
        .map((m) => m.slice(0, -'.call'.length))
        .sort((a, b) => order(a) - order(b));
      for (const action of actions) {
        for (const { payload } of messages[`${action}.call`]!.examples) {
          expect({ action, errors: check(messages[`${action}.call`]!.payload, payload) }).toEqual({
            action,
            errors: [],
          });
          // A token cannot be a fixed example: refresh_token is sent a live one of the same user.
          const sent =
            action === 'refresh_token'
              ? { token: await stack.token(EXAMPLE_USER, ['admin']) }
              : payload;
          const ack = (await socket.timeout(5000).emitWithAck(action, sent)) as Json;
          calls += 1;
          expect({ ns: mod.name, action, payload, ok: ack.ok, error: ack.error }).toEqual({
            ns: mod.name,
            action,
            payload,
            ok: true,
            error: undefined,
          });
          expect({ action, errors: check(messages[`${action}.ack`]!.payload, ack) }).toEqual({
            action,
            errors: [],
          });
        }
      }
      socket.disconnect();
    }
    expect(calls).toBeGreaterThanOrEqual(20);
  });

  it('delivers each event example, published through the API, as its documented payload and meta', async () => {
    const openapi = (await (
      await fetch(stack.url(gw, '/api/openapi.json'))
    ).json()) as OpenApiDocument;
    const publishExamples =
      openapi.paths['/api/events']!.post!.requestBody!.content['application/json']!.examples;
    const sockets = new Map<string, Socket>();
    const received = await Promise.all(
      listEvents().map(async (event) => {
        const message = messagesOf(event.namespace)[event.name]!;
        const [example] = message.examples;
        const room = example!.headers!.room;
        let socket = sockets.get(event.namespace);
        if (!socket) {
          socket = await stack.client(
            gw,
            event.namespace,
            await stack.auth(EXAMPLE_USER, ['admin']),
          );
          sockets.set(event.namespace, socket);
        }
        // Join the example's room with the namespace's join action (a user's own room is joined on connect).
        const kinds = ROOM_KINDS[event.namespace] as Record<
          string,
          { join: string; param?: string }
        >;
        const kind = kinds[room.split(':')[0]!];
        if (kind) {
          const ack: unknown = await socket.emitWithAck(
            kind.join,
            kind.param ? { [kind.param]: room.slice(room.indexOf(':') + 1) } : {},
          );
          expect({ event: event.name, join: kind.join, ack }).toEqual({
            event: event.name,
            join: kind.join,
            ack: { ok: true, data: expect.anything() as unknown },
          });
        }
        // Many events share a socket (and presence sends user_status_changed of its own): take this one's.
        const expected = example!.payload;
        const arrived = new Promise<{ data: Json; meta: Json }>((resolve) => {
          const listener = (data: Json, meta: Json) => {
            const items = 'items' in expected ? (data.items as unknown[]) : [data];
            const wanted = 'items' in expected ? (expected.items as unknown[])[0] : expected;
            if (items.some((item) => JSON.stringify(item) === JSON.stringify(wanted))) {
              socket.off(event.name, listener);
              resolve({ data, meta });
            }
          };
          socket.on(event.name, listener);
        });
        const res = await stack.post(gw, '/api/events', publishExamples[event.name]!.value);
        expect({ event: event.name, status: res.status }).toEqual({
          event: event.name,
          status: 202,
        });
        const { data, meta } = await arrived;
        return { event: event.name, room, data, meta, message };
      }),
    );
    for (const { event, room, data, meta, message } of received) {
      expect({
        event,
        payload: check(deref(asyncapi, message.payload), data),
        meta: check(deref(asyncapi, message.headers), meta),
      }).toEqual({
        event,
        payload: [],
        meta: [],
      });
      expect({ event, room: meta.room }).toEqual({ event, room });
    }
  }, 20_000);
});
