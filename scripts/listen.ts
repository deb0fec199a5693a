import { io } from 'socket.io-client';
import { mintToken } from '../src/auth/tokens';
import { loadConfig } from '../src/config';

/**
 * `npm run listen -- /social post:123 [--url http://localhost:3000] [--token JWT | --user ID]`
 * Connects to a namespace, joins a room through the namespace's join action, and prints every
 * event as it arrives: `<time> <event> <data> <meta>`. Without --token it mints a development
 * token for --user (default `dev`) from this machine's config, as `npm run sb -- token` does.
 */
const JOIN: Record<string, Record<string, [string, string]>> = {
  '/social': { post: ['join_post', 'postId'] },
  '/chat': { chat: ['join_chat', 'chatId'] },
  '/orders': { order: ['join_order', 'orderId'] },
  '/notification': { user: ['join_user', 'userId'] },
};

function usage(message?: string): never {
  if (message) process.stderr.write(`listen: ${message}\n`);
  process.stderr.write('usage: npm run listen -- <namespace> <room> [--url URL] [--token JWT | --user ID]   e.g. /social post:123\n');
  process.exit(message ? 2 : 0);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) usage();
const opt = (name: string) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined) usage(`${name} needs a value`);
  args.splice(i, 2);
  return value;
};
const url = opt('--url') ?? process.env.SWITCHBOARD_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
const user = opt('--user') ?? 'dev';
const given = opt('--token');
const [ns, room] = args;
if (!ns || !room) usage('namespace and room are required');
const joins = JOIN[ns];
if (!joins) usage(`unknown namespace ${ns} (one of ${Object.keys(JOIN).join(', ')})`);
const [kind, ...rest] = room.split(':');
const join = joins[kind ?? ''];
if (!join || rest.length === 0) usage(`${ns} has no room like ${room} (try ${Object.keys(joins).map((k) => `${k}:<id>`).join(', ')})`);

async function listen(token: string, [event, param]: [string, string]): Promise<void> {
  const socket = io(`${url}${ns}`, { transports: ['websocket'], auth: { token } });
  socket.on('connect', () => {
    socket.emit(event, { [param]: rest.join(':') }, (ack: { ok: boolean; error?: { message: string } }) => {
      if (ack.ok) process.stdout.write(`listening on ${ns} ${room} (${url})\n`);
      else {
        process.stderr.write(`listen: join refused: ${ack.error?.message}\n`);
        process.exit(1);
      }
    });
  });
  socket.on('connect_error', (err) => process.stderr.write(`listen: cannot connect to ${url}${ns}: ${err.message}\n`));
  socket.onAny((name: string, ...payload: unknown[]) => {
    process.stdout.write(`${new Date().toISOString()} ${name} ${payload.map((p) => JSON.stringify(p)).join(' ')}\n`);
  });
  process.on('SIGINT', () => {
    socket.disconnect();
    process.exit(0);
  });
}

const joinAction = join;
void (given !== undefined ? Promise.resolve(given) : mintToken(loadConfig(), { userId: user })).then(
  (token) => listen(token, joinAction),
  (err: Error) => usage(err.message),
);
