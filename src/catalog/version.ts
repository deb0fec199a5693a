import { createHash } from 'node:crypto';
import { z } from 'zod';
import { listEvents } from './index';

/**
 * A short fingerprint of the catalog: every event's name, namespace, room template, delivery,
 * history and payload JSON Schema. Producers stamp each delivery batch with it; a worker whose
 * catalog has the same fingerprint knows the payloads were validated against the schemas it has,
 * and skips validating them again (the cost measured in docs/performance.md). A different fingerprint
 * (producer and worker run different versions) makes the worker validate every event.
 */
function fingerprint(): string {
  const entries = listEvents().map((e) => ({
    name: e.name,
    namespace: e.namespace,
    room: e.roomTemplate,
    delivery: e.delivery,
    history: e.history ?? null,
    schema: z.toJSONSchema(e.schema, { unrepresentable: 'any', io: 'input' }),
  }));
  return createHash('sha256').update(JSON.stringify(entries)).digest('base64url').slice(0, 22);
}

export const CATALOG_VERSION = fingerprint();
