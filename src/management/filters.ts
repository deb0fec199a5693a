import { z } from 'zod';
import { isNamespace, lookupEvent } from '../catalog';
import { GatewayError } from '../errors';
import { parsePendingId } from '../redis/keys';

/** Which pending entries an operation looks at; both optional. */
export interface PendingFilter {
  /** `/social` or `social`. */
  namespace?: string | undefined;
  event?: string | undefined;
}

/** Checks a filter against the catalog and returns a predicate on pending ids. */
export function pendingMatcher(filter: PendingFilter): (pendingId: string) => boolean {
  let ns: string | undefined;
  if (filter.namespace !== undefined) {
    ns = filter.namespace.startsWith('/') ? filter.namespace : `/${filter.namespace}`;
    if (!isNamespace(ns))
      throw new GatewayError(
        'invalid_argument',
        `unknown namespace ${JSON.stringify(filter.namespace)}`,
      );
  }
  if (filter.event !== undefined) {
    try {
      lookupEvent(filter.event);
    } catch {
      throw new GatewayError('invalid_argument', `unknown event ${JSON.stringify(filter.event)}`);
    }
  }
  return (pendingId) => {
    const parts = parsePendingId(pendingId);
    return (
      parts !== undefined &&
      (ns === undefined || parts.ns === ns) &&
      (filter.event === undefined || parts.event === filter.event)
    );
  };
}

/** A pending id as operators type it: `social:post_liked:post:1` (namespace, event, room). */
export const PendingKeySchema = z
  .string()
  .max(400)
  .refine(
    (key) => parsePendingId(key) !== undefined,
    'must look like <namespace>:<event>:<room>, e.g. social:post_liked:post:1',
  );

export function checkPendingKey(key: unknown): string {
  const parsed = PendingKeySchema.safeParse(key);
  if (!parsed.success) throw GatewayError.fromZod(parsed.error, 'invalid_argument', 'key');
  return parsed.data;
}
