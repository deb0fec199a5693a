import {
  EventMetaSchema,
  listEvents,
  resolveRoom,
  ROOMS,
  USER_ROOM_NAMESPACES,
  type EventMeta,
  type Namespace,
  type ResolvedEvent,
} from '../catalog';
import { describeDelivery, exampleOf } from '../catalog/describe';
import { examplesOf } from '../catalog/fields';
import { ErrorBodySchema } from '../errors';
import { AckErrorSchema } from '../gateway/ack';
import type { ActionDefinition } from '../gateway/action';
import { commonActions } from '../gateway/namespaces/common';
import { namespaceModules } from '../gateway/namespaces/registry';
import type { RelayDefinition } from '../gateway/room-actions';
import { SYSTEM_EVENTS } from '../gateway/system-events';
import { specVersions } from './info';
import { SchemaComponents, toJsonSchema, type Json } from './json-schema';

const SCHEMAS = '#/components/schemas/';
/** AsyncAPI 3.0's default schema format is a superset of JSON Schema draft-07. */
const OUTPUT = { io: 'output', target: 'draft-07' } as const;
const INPUT = { io: 'input', target: 'draft-07' } as const;

/** How the document maps Socket.IO's multi-argument events; repeated in info.description. */
const ARGUMENTS_NOTE =
  "Socket.IO events carry several arguments. A catalog event is emitted as `(data, meta)`: the message `payload` is the first argument and its `headers` the second (`meta`). Relayed and system events have one argument, the `payload`. A client action is `socket.emit(action, payload, ack)`: the `.call` message is the payload, the operation's `reply` (the `.ack` message) is what the gateway passes to the ack callback.";

export interface AsyncApiOptions {
  /** `host[:port]` clients connect to (the served document uses the request's Host). */
  host?: string;
  /** `wss` behind TLS (the served document: when the request came over HTTPS, per `req.secure`). */
  protocol?: 'ws' | 'wss';
}

/**
 * The socket API as an AsyncAPI 3.0 document, generated from the catalog (src/catalog/events.ts)
 * and the namespace modules (src/gateway/namespaces/): one channel per Socket.IO namespace, holding
 * its catalog events (payload: the zod schema's output, `{ items: [...] }` for `batch` events;
 * headers: `meta`), its relayed events (typing), the gateway's system events, and for each client
 * action a `.call` message (the payload schema's input) with its `.ack` reply
 * (`{ ok: true, data } | { ok: false, error }`). Operations: `<ns>.on.<event>` (the gateway sends)
 * and `<ns>.emit.<action>` (the gateway receives, and replies with the ack). Each event's delivery
 * policy is `x-switchboard-delivery`; the catalog version is `info.x-switchboard-catalog-version`.
 */
export function buildAsyncApi(options: AsyncApiOptions = {}): Json {
  const outputs = new SchemaComponents({ ...OUTPUT, refPrefix: SCHEMAS });
  outputs.ref('EventMeta', EventMetaSchema);
  outputs.ref('ErrorBody', ErrorBodySchema);
  outputs.ref('AckError', AckErrorSchema);
  for (const event of listEvents()) outputs.ref(`EventData.${event.name}`, event.schema);

  const systemMessages: Record<string, Json> = {};
  for (const [name, system] of Object.entries(SYSTEM_EVENTS)) {
    systemMessages[name] = {
      name,
      title: `${name} (system event)`,
      summary: system.description,
      payload: outputs.ref(`System.${name}`, system.schema),
      examples: examplesOf(system.schema).map((payload) => ({ name, payload })),
    };
  }

  const channels: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  for (const mod of Object.values(namespaceModules)) {
    const key = mod.name.slice(1);
    const channelRef = { $ref: `#/channels/${key}` };
    const messageRef = (message: string) => ({ $ref: `#/channels/${key}/messages/${message}` });
    const messages: Record<string, Json> = {};
    const events = listEvents().filter((event) => event.namespace === mod.name);

    for (const event of events) {
      messages[event.name] = eventMessage(event, outputs);
      operations[`${key}.on.${event.name}`] = {
        action: 'send',
        channel: channelRef,
        title: event.name,
        summary: event.description,
        messages: [messageRef(event.name)],
        'x-switchboard-room': event.roomTemplate,
        'x-switchboard-delivery': event.delivery,
      };
    }

    for (const [name, relay] of Object.entries(mod.relays as Record<string, RelayDefinition>)) {
      messages[name] = {
        name,
        title: `${name} (relayed)`,
        summary: relay.description,
        payload: toJsonSchema(relay.schema, OUTPUT),
        examples: examplesOf(relay.schema).map((payload) => ({ name, payload })),
        'x-switchboard-room': relay.room,
      };
      operations[`${key}.on.${name}`] = {
        action: 'send',
        channel: channelRef,
        title: name,
        summary: relay.description,
        messages: [messageRef(name)],
      };
    }

    for (const name of Object.keys(SYSTEM_EVENTS)) {
      messages[name] = { $ref: `#/components/messages/${name}` };
      operations[`${key}.on.${name}`] = {
        action: 'send',
        channel: channelRef,
        title: name,
        messages: [messageRef(name)],
      };
    }

    const actions: Record<string, ActionDefinition> = { ...commonActions, ...mod.actions };
    for (const [name, def] of Object.entries(actions)) {
      messages[`${name}.call`] = {
        name,
        title: `${name} (client action)`,
        summary: def.doc.description,
        payload: toJsonSchema(def.schema, INPUT),
        examples: examplesOf(def.schema).map((payload, i) => ({
          name: i === 0 ? name : `${name}_${i + 1}`,
          payload,
        })),
        ...(def.doc.room ? { 'x-switchboard-room': def.doc.room } : {}),
      };
      messages[`${name}.ack`] = {
        name,
        title: `${name} ack`,
        summary: `What the gateway passes to the ack callback of ${name}.`,
        payload: {
          oneOf: [
            {
              type: 'object',
              properties: { ok: { const: true }, data: toJsonSchema(def.doc.ack, OUTPUT) },
              required: ['ok', 'data'],
              additionalProperties: false,
            },
            { $ref: `${SCHEMAS}AckError` },
          ],
        },
      };
      operations[`${key}.emit.${name}`] = {
        action: 'receive',
        channel: channelRef,
        title: name,
        summary: def.doc.description,
        messages: [messageRef(`${name}.call`)],
        reply: { channel: channelRef, messages: [messageRef(`${name}.ack`)] },
        // Unordered actions (ping, typing) are answered at once instead of after the socket's earlier actions.
        'x-switchboard-ordered': def.ordered,
      };
    }

    channels[key] = {
      address: mod.name,
      title: `${mod.name} namespace`,
      description: `${mod.description}\n\n${roomsText(mod.name, events, actions)}`,
      messages,
      'x-switchboard-rooms': rooms(events, actions, mod.relays),
    };
  }

  const host = options.host ?? 'localhost:3000';
  return {
    asyncapi: '3.0.0',
    id: 'urn:switchboard:gateway',
    info: {
      title: 'Switchboard socket API',
      ...specVersions(),
      description: [
        'Connect with socket.io-client (Socket.IO protocol 5, Engine.IO 4) to one of the namespaces below: `io("<gateway>/social", { auth: { token } })`. Join rooms with the namespace\'s join actions; catalog events arrive in the rooms they were published to.',
        ARGUMENTS_NOTE,
        "Delivery is at-least-once: de-duplicate on `meta.id`. Keep the last `meta.offset` per room and re-join with `since` after a reconnect to recover what was missed. `x-switchboard-delivery` is each event's delivery policy: `immediate`, or `throttle` with `windowMs` and `mode` (`latest`: the newest payload per window; `leading`: the first at once, the newest of the rest at the window's end; `batch`: `{ items }` of at most `maxItems`). `x-switchboard-catalog-version` is the catalog's fingerprint. The HTTP API is described by /api/openapi.json.",
      ].join('\n\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      gateway: {
        host,
        protocol: options.protocol ?? 'ws',
        pathname: '/socket.io/',
        title: 'Switchboard gateway',
        description:
          'Socket.IO over websocket (or HTTP long-polling, which needs sticky sessions behind a load balancer). Every gateway serves every namespace.',
        security: [{ $ref: '#/components/securitySchemes/handshakeToken' }],
      },
    },
    channels,
    operations,
    components: {
      schemas: outputs.toJson(),
      messages: systemMessages,
      securitySchemes: {
        handshakeToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A JWT passed in the Socket.IO handshake auth, `io(url, { auth: { token } })`, not in an HTTP header (HS256 with JWT_SECRET or RS256 with JWT_PUBLIC_KEY; issuer and audience checked; see docs/auth.md). A refused handshake is a `connect_error` whose `data.code` says why. With AUTH_MODE=anonymous a socket without a token may use public (post) rooms.',
        },
      },
    },
  };
}

function eventMessage(event: ResolvedEvent, outputs: SchemaComponents): Json {
  const data = outputs.ref(`EventData.${event.name}`, event.schema);
  const batch =
    event.delivery.kind === 'throttle' && event.delivery.mode === 'batch'
      ? event.delivery
      : undefined;
  const payload = batch
    ? {
        type: 'object',
        properties: {
          items: { type: 'array', items: data, minItems: 1, maxItems: batch.maxItems },
        },
        required: ['items'],
        additionalProperties: false,
      }
    : data;
  const example = exampleOf(event);
  const meta: EventMeta = {
    id: '019a9f3c-6d2e-7b41-9c1a-3f5e8d2b7a10',
    ts: 1763889503572,
    ns: event.namespace,
    room: resolveRoom(event, example.target, example.data),
    ...(event.delivery.kind === 'throttle' ? { coalesced: 1 } : {}),
    ...(event.history !== false ? { offset: '1763889503572-0' } : {}),
  };
  const history =
    event.history === false
      ? 'none (no `meta.offset`, nothing to recover)'
      : event.history
        ? `kept (${JSON.stringify(event.history)})`
        : 'kept';
  return {
    name: event.name,
    title: event.name,
    summary: event.description,
    description: `Goes to room \`${event.roomTemplate}\`. Delivery: ${describeDelivery(event.delivery)}${batch ? ': the payload is `{ items: [...] }`, in arrival order' : ''}. Room history: ${history}. Arguments: \`(data, meta)\` = (payload, headers).`,
    payload,
    headers: { $ref: `${SCHEMAS}EventMeta` },
    examples: [
      {
        name: event.name,
        payload: batch ? { items: [example.data] } : example.data,
        headers: meta,
      },
    ],
    'x-switchboard-room': event.roomTemplate,
    'x-switchboard-delivery': event.delivery,
    'x-switchboard-history': event.history ?? true,
  };
}

interface RoomInfo {
  template: string;
  params: string[];
  events: string[];
  actions: string[];
}

function rooms(
  events: ResolvedEvent[],
  actions: Record<string, ActionDefinition>,
  relays: Record<string, RelayDefinition>,
): RoomInfo[] {
  const byTemplate = new Map<string, RoomInfo>();
  const room = (template: string) => {
    let info = byTemplate.get(template);
    if (!info) {
      info = {
        template,
        params: [...template.matchAll(/\{([A-Za-z][A-Za-z0-9_]*)\}/g)].map((m) => m[1] as string),
        events: [],
        actions: [],
      };
      byTemplate.set(template, info);
    }
    return info;
  };
  for (const event of events) room(event.roomTemplate).events.push(event.name);
  for (const [name, relay] of Object.entries(relays)) room(relay.room).events.push(name);
  for (const [name, def] of Object.entries(actions))
    if (def.doc.room) room(def.doc.room).actions.push(name);
  return [...byTemplate.values()];
}

function joinedBy(ns: Namespace, room: RoomInfo): string {
  const actions = `actions ${room.actions.map((a) => `\`${a}\``).join(', ') || 'none'}`;
  // The gateway puts a signed-in socket in its own user's room (src/gateway/server.ts).
  return room.template === ROOMS.user && USER_ROOM_NAMESPACES.has(ns)
    ? `every signed-in socket is in its own user's room from connect; ${actions}`
    : actions;
}

function roomsText(
  ns: Namespace,
  events: ResolvedEvent[],
  actions: Record<string, ActionDefinition>,
): string {
  const lines = rooms(
    events,
    actions,
    namespaceModules[ns].relays as Record<string, RelayDefinition>,
  ).map(
    (r) =>
      `- \`${r.template}\`${r.params.length > 0 ? ` (${r.params.map((p) => `{${p}}`).join(', ')}: an id, 1-128 characters of letters, digits, _ . : @ -)` : ''}: events ${r.events.map((e) => `\`${e}\``).join(', ') || 'none'}; ${joinedBy(ns, r)}`,
  );
  return `Rooms (a room is not part of the channel address: a socket joins it with an action, and receives the events sent to it):\n${lines.join('\n')}`;
}
