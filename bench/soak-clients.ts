/**
 * Client process of the soak: `node soak-clients.js <url> <first> <count> <rooms>` (forked with
 * IPC, SOAK_TOKENS = JSON array of `count` handshake tokens). Opens `count` clients with the client
 * library (reconnect, re-join and recovery are the library's), client `first + i` in room
 * `order:soak-<(first + i) % rooms>`, and counts each event per client by its phase, room and
 * sequence number (the note `soak|<phase>|<room>|<seq>|<send time>`). Latency (receive time - send
 * time, one clock) goes into one histogram per minute of send time.
 */
import { createClient, type SwitchboardClient } from '../src/client';
import { serve } from './lib/procs';
import { clock, Histogram, type SparseHistogram } from './lib/stats';

export const SOAK_ORDER = (room: number) => `soak-${room}`;

export function soakNote(phase: number, room: number, seq: number, sentAt: number): string {
  return `soak|${phase}|${room}|${seq}|${sentAt.toFixed(3)}`;
}

function parseNote(
  note: unknown,
): { phase: number; room: number; seq: number; sentAt: number } | undefined {
  if (typeof note !== 'string' || !note.startsWith('soak|')) return undefined;
  const [, phase, room, seq, sentAt] = note.split('|').map(Number);
  if (phase === undefined || room === undefined || seq === undefined || sentAt === undefined)
    return undefined;
  return { phase, room, seq, sentAt };
}

/** What `check` answers: per client, the accepted events it never got and those it got twice. */
export interface SoakCheck {
  missing: number;
  duplicated: number;
  /** Clients with at least one missing event. */
  clientsMissing: number;
}

export interface SoakReport {
  /** [minute of send time since the phase began, histogram, max, sum]. */
  minutes: Array<[number, SparseHistogram, number, number]>;
  received: number;
  stale: number;
}

interface ClientState {
  sb: SwitchboardClient;
  room: number;
  /** Per sequence number of its room in the current phase: times received (capped at 255). */
  seen: Uint8Array;
}

const [url = '', firstArg = '0', countArg = '0', roomsArg = '1'] = process.argv.slice(2);
const first = Number(firstArg);
const rooms = Number(roomsArg);
const tokens = JSON.parse(process.env.SOAK_TOKENS ?? '[]') as string[];
const clients: ClientState[] = [];
let phase = -1;
let phaseStart = 0;
let minutes = new Map<number, Histogram>();
let received = 0;
let stale = 0;
/** When each client was last told recovery_incomplete (ms, shared clock). */
const incompleteAt: number[] = [];

function onEvent(state: ClientState, data: { note?: unknown }): void {
  const now = clock();
  received++;
  const note = parseNote(data.note);
  if (!note || note.phase !== phase || note.room !== state.room || note.seq >= state.seen.length) {
    stale++;
    return;
  }
  const times = state.seen[note.seq] ?? 0;
  state.seen[note.seq] = Math.min(255, times + 1);
  if (times > 0) return;
  const minute = Math.floor((note.sentAt - phaseStart) / 60_000);
  let hist = minutes.get(minute);
  if (!hist) minutes.set(minute, (hist = new Histogram()));
  hist.record(now - note.sentAt);
}

async function connect(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const index = first + i;
    const room = index % rooms;
    const token = tokens[i];
    if (!token) throw new Error(`SOAK_TOKENS has ${tokens.length} tokens for ${count} clients`);
    const sb = createClient({
      url,
      token,
      socket: { reconnectionDelayMax: 2000 },
      onRecoveryIncomplete: () => (incompleteAt[i] = clock()),
    });
    const state: ClientState = { sb, room, seen: new Uint8Array(0) };
    sb.on('/orders', 'order_status_changed', (data) => onEvent(state, data as { note?: unknown }));
    await sb.join('/orders', `order:${SOAK_ORDER(room)}`);
    clients.push(state);
  }
}

serve({
  connect: async () => {
    await connect(Number(countArg));
    return { clients: clients.length };
  },
  /** A new phase: counts start over, room sequence numbers up to `capacity`. */
  start: ({
    phase: p,
    startedAt,
    capacity,
  }: {
    phase: number;
    startedAt: number;
    capacity: number;
  }) => {
    phase = p;
    phaseStart = startedAt;
    minutes = new Map();
    received = stale = 0;
    for (const c of clients) c.seen = new Uint8Array(capacity);
    return { clients: clients.length };
  },
  report: (): SoakReport => ({
    minutes: [...minutes].map(([m, h]) => [m, h.toSparse(), h.max, h.sum]),
    received,
    stale,
  }),
  /** Compares what each client got with what was accepted (per room, sequence numbers). */
  check: ({ accepted }: { accepted: number[][] }): SoakCheck => {
    let missing = 0;
    let duplicated = 0;
    let clientsMissing = 0;
    for (const c of clients) {
      let mine = 0;
      for (const seq of accepted[c.room] ?? []) {
        const times = c.seen[seq] ?? 0;
        if (times === 0) mine++;
        else if (times > 1) duplicated++;
      }
      missing += mine;
      if (mine > 0) clientsMissing++;
    }
    return { missing, duplicated, clientsMissing };
  },
  /** How many clients were told recovery_incomplete at or after `since`, and when the last was. */
  incomplete: ({ since }: { since: number }) => {
    const times = incompleteAt.filter((t) => t >= since);
    return { clients: times.length, last: times.length > 0 ? Math.max(...times) : 0 };
  },
  close: () => {
    for (const c of clients) c.sb.close();
    return { closed: clients.length };
  },
});
