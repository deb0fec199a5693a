import { createClient, type ClientOptions, type SwitchboardClient } from '../../src/client';
import type { Gateway } from '../../src/gateway/server';
import { cmpOffset } from '../helpers/fault';
import type { Stack } from '../helpers/stack';
import { sleep } from '../helpers/wait';

/** One `order_status_changed` as the application received it from the library. */
export interface Seen {
  id: string;
  offset: string;
  recovered: boolean;
  /** The producer numbers its events in `note`. */
  note?: string;
  at: number;
}

/**
 * An application as a frontend would write it: create the client, listen, join. No recovery code:
 * whatever it receives is recorded as is, so the tests see exactly what an application would.
 */
export async function orderApp(options: ClientOptions, orderId: string) {
  const seen: Seen[] = [];
  const ids = new Set<string>();
  const incomplete: Array<{ room: string; reason: string }> = [];
  const connects: string[] = [];
  const disconnects: string[] = [];
  const client: SwitchboardClient = createClient({
    ...options,
    onConnect: (_ns, url) => connects.push(url),
    onDisconnect: (_ns, reason) => disconnects.push(reason),
    onRecoveryIncomplete: (room, reason) => incomplete.push({ room, reason }),
  });
  client.on('/orders', 'order_status_changed', (data, meta) => {
    seen.push({
      id: meta.id,
      offset: meta.offset ?? '',
      recovered: meta.recovered === true,
      note: data.note,
      at: Date.now(),
    });
    ids.add(meta.id);
  });
  await client.join('/orders', `order:${orderId}`);
  return {
    client,
    seen,
    incomplete,
    connects,
    disconnects,
    has: (id: string) => ids.has(id),
    /** Live (not replayed) deliveries since `t`. */
    liveSince: (t: number) => seen.filter((s) => !s.recovered && s.at >= t).length,
  };
}

/** What the application received against what the producer got accepted (ids in accept order). */
export function summarize(seen: Seen[], accepted: string[]) {
  const unique = new Set(seen.map((s) => s.id));
  const want = new Set(accepted);
  const position = new Map(accepted.map((id, i) => [id, i]));
  const inAccepted = seen.filter((s) => want.has(s.id));
  return {
    expected: accepted.length,
    received: seen.length,
    duplicates: seen.length - unique.size,
    missing: accepted.filter((id) => !unique.has(id)),
    extra: seen.filter((s) => !want.has(s.id)),
    /** Deliveries whose offset is not after the previous delivery's: room order broken. */
    outOfRoomOrder: seen.filter((s, i) => i > 0 && cmpOffset(s.offset, seen[i - 1]!.offset) <= 0)
      .length,
    /** Deliveries of accepted events that came before one accepted earlier. */
    outOfAcceptOrder: inAccepted.filter(
      (s, i) => i > 0 && position.get(s.id)! < position.get(inAccepted[i - 1]!.id)!,
    ).length,
    recovered: seen.filter((s) => s.recovered).length,
  };
}

export type Summary = ReturnType<typeof summarize>;

export function line(s: Summary, client: SwitchboardClient): string {
  return (
    `expected ${s.expected}, received ${s.received}, duplicates ${s.duplicates}, missing ${s.missing.length}, extra ${s.extra.length}, ` +
    `out of room order ${s.outOfRoomOrder}, out of accept order ${s.outOfAcceptOrder}, recovered ${s.recovered}; ` +
    `library: ${client.stats.duplicates} repeats dropped, ${client.stats.connects} connects`
  );
}

/**
 * One producer: `publish(n)` one event at a time (each after the previous one was answered, so
 * accept order is well defined), about every `everyMs`, until stopped. Keeps the accepted ids in
 * accept order and the notes of the refused ones.
 */
export function startProducer(
  publish: (n: number) => Promise<{ id?: string; refused?: string }>,
  everyMs = 10,
) {
  const accepted: string[] = [];
  const refusedNotes = new Set<string>();
  const refusals: string[] = [];
  let running = true;
  // A named function, not an IIFE: TypeScript would read `running` as still `true` inside one.
  const produce = async () => {
    for (let n = 0; running; n++) {
      const started = Date.now();
      const outcome = await publish(n).catch((err: unknown) => ({
        refused: err instanceof Error ? err.message : String(err),
        id: undefined,
      }));
      if (outcome.id) accepted.push(outcome.id);
      else {
        refusedNotes.add(String(n));
        refusals.push(outcome.refused ?? 'refused');
      }
      await sleep(Math.max(0, everyMs - (Date.now() - started))); // the producer's pace
    }
  };
  const done = produce();
  return {
    accepted,
    refusedNotes,
    refusals,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Publishes `order_status_changed` (note = n) through the HTTP API of a gateway. */
export function postOrderEvent(stack: Stack, gw: Pick<Gateway, 'port'>, orderId: string) {
  return async (n: number): Promise<{ id?: string; refused?: string }> => {
    const res = await stack.post(gw as Gateway, '/api/events', {
      event: 'order_status_changed',
      target: { orderId },
      data: { orderId, status: 'preparing', note: String(n) },
    });
    const body = (await res.json()) as { id?: string; error?: { code: string } };
    return res.status === 202 ? { id: body.id } : { refused: `${res.status} ${body.error?.code}` };
  };
}
