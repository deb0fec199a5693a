import type { z } from 'zod';

import type { Namespace } from './namespaces';

export { isNamespace, NAMESPACES, type Namespace } from './namespaces';

/**
 * How an event reaches clients.
 * - `immediate`: one emit per event.
 * - `throttle`: events with the same (namespace, room, event) are coalesced per window:
 *   `latest` keeps the newest payload, `batch` emits `{ items }` (at most `maxItems` per emit),
 *   `leading` emits the first at once and the newest of the rest at the window's end.
 */
export type Delivery =
  | { readonly kind: 'immediate' }
  | { readonly kind: 'throttle'; readonly windowMs: number; readonly mode: 'latest' | 'leading' }
  | {
      readonly kind: 'throttle';
      readonly windowMs: number;
      readonly mode: 'batch';
      readonly maxItems: number;
    };

export type ImmediateDelivery = { readonly kind: 'immediate' };
export type ThrottleDelivery<
  M extends 'latest' | 'leading' | 'batch' = 'latest' | 'leading' | 'batch',
> = M extends 'batch'
  ? {
      readonly kind: 'throttle';
      readonly windowMs: number;
      readonly mode: 'batch';
      readonly maxItems: number;
    }
  : { readonly kind: 'throttle'; readonly windowMs: number; readonly mode: M };

export const immediate = (): ImmediateDelivery => ({ kind: 'immediate' });

export function throttle<M extends 'latest' | 'leading'>(
  windowMs: number,
  mode: M,
): ThrottleDelivery<M>;
export function throttle(
  windowMs: number,
  mode: 'batch',
  maxItems: number,
): ThrottleDelivery<'batch'>;
export function throttle(
  windowMs: number,
  mode: 'latest' | 'leading' | 'batch',
  maxItems = 100,
): Delivery {
  return mode === 'batch'
    ? { kind: 'throttle', windowMs, mode, maxItems }
    : { kind: 'throttle', windowMs, mode };
}

/** One catalog entry. `room` is a template such as `post:{postId}`; its params name the target. */
export interface EventDefinition<
  NS extends Namespace = Namespace,
  R extends string = string,
  S extends z.ZodType = z.ZodType,
  D extends Delivery = Delivery,
> {
  readonly namespace: NS;
  readonly room: R;
  readonly schema: S;
  readonly delivery: D;
  /** One line for humans: shown by `sb events`, the console and the API documents. */
  readonly description: string;
  /**
   * The room history kept for recovery on reconnect: `false` for none (state-like events such as
   * presence), or caps that override HISTORY_MAX_LEN / HISTORY_MAX_AGE_MS for this event.
   */
  readonly history?: false | { readonly maxLen?: number; readonly maxAgeMs?: number };
}

/** Identity function that keeps the literal types of every entry (namespace, room template). */
export function defineCatalog<const C extends Record<string, EventDefinition>>(catalog: C): C {
  return catalog;
}

export type { RoomParamNames, RoomParams } from './room-params';
