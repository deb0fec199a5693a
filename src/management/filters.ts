import { z } from 'zod';
import { isNamespace, lookupEvent } from '../catalog';
import { GatewayError } from '../errors';
import { parseThrottleKey } from '../redis/keys';

/** Which open windows an operation looks at; both optional. */
export interface WindowFilter {
  /** `/social` or `social`. */
  namespace?: string | undefined;
  event?: string | undefined;
}

/** Checks a filter against the catalog and returns a predicate on throttle keys. */
export function windowMatcher(filter: WindowFilter): (throttleKey: string) => boolean {
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
  return (throttleKey) => {
    const parts = parseThrottleKey(throttleKey);
    return (
      parts !== undefined &&
      (ns === undefined || parts.ns === ns) &&
      (filter.event === undefined || parts.event === filter.event)
    );
  };
}

/** A throttle key as operators type it: `social:post_liked:post:1` (namespace, event, room). */
export const ThrottleKeySchema = z
  .string()
  .max(400)
  .refine(
    (key) => parseThrottleKey(key) !== undefined,
    'must look like <namespace>:<event>:<room>, e.g. social:post_liked:post:1',
  );

export function checkThrottleKey(key: unknown): string {
  const parsed = ThrottleKeySchema.safeParse(key);
  if (!parsed.success) throw GatewayError.fromZod(parsed.error, 'invalid_argument', 'key');
  return parsed.data;
}
