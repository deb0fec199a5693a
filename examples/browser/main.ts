/**
 * A page that follows one order's status with @switchboard/client: it joins `order:<id>` on
 * /orders and lists every `order_status_changed` once, in order, also across gateway restarts
 * (the library re-joins with the last offset and the gateway replays what was missed).
 *
 * Query parameters: `gateway` (default: this page's origin), `order` (default 1001), `token`
 * (a JWT of a user allowed to join the order room; in production the page fetches it from its
 * own backend).
 */
import { createClient, type EventMeta } from '@switchboard/client';

const params = new URLSearchParams(location.search);
const gateway = params.get('gateway') ?? location.origin;
const orderId = params.get('order') ?? '1001';
const token = params.get('token') ?? '';

const $ = (id: string) => document.getElementById(id)!;
$('order').textContent = orderId;

/** What the page received, for people (the list) and for the example's test (window.switchboard). */
const received: Array<{ status: string; id: string; recovered: boolean }> = [];
let connects = 0;

const sb = createClient({
  url: gateway,
  token: () => token,
  onConnect: () => {
    connects++;
    $('state').dataset.state = 'connected';
    $('state').textContent = `connected (${connects})`;
  },
  onDisconnect: () => {
    $('state').dataset.state = 'disconnected';
    $('state').textContent = 'disconnected (reconnecting)';
  },
  onRecoveryIncomplete: (room, reason) => console.warn(`${room}: refetch the order (${reason})`),
});

(window as unknown as { switchboard: object }).switchboard = {
  received,
  connects: () => connects,
  stats: sb.stats,
};

sb.on('/orders', 'order_status_changed', (data, meta: EventMeta) => {
  received.push({ status: data.status, id: meta.id, recovered: meta.recovered === true });
  const li = document.createElement('li');
  li.dataset.id = meta.id;
  li.textContent = `${data.status}${data.note ? ` (${data.note})` : ''}${meta.recovered ? ' [recovered]' : ''}`;
  $('events').append(li);
});

sb.join('/orders', `order:${orderId}`).then(
  (joined) => {
    $('joined').textContent = joined.room;
    document.body.classList.add('joined');
  },
  (err: unknown) => {
    $('joined').textContent = `refused: ${(err as Error).message}`;
    document.body.classList.add('refused');
  },
);
