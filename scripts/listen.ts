import { mintToken } from '../src/auth/tokens';
import {
  createClient,
  roomActions,
  SwitchboardError,
  type Namespace,
  type RoomOf,
} from '../src/client';
import { loadConfig } from '../src/config';

/**
 * `npm run listen -- /social post:123 [--url http://localhost:3000] [--token JWT | --user ID]`
 * Connects to a namespace, joins a room through the namespace's join action, and prints every
 * event as it arrives: `<time> <event> <data> <meta>`. Without --token it mints a development
 * token for --user (default `dev`) from this machine's config, as `npm run sb -- token` does (a
 * fresh one on every reconnect). Uses the client library (src/client): after a reconnect it
 * re-joins with `since`, so missed events are printed too, each once.
 */
function usage(message?: string): never {
  if (message) process.stderr.write(`listen: ${message}\n`);
  process.stderr.write(
    'usage: npm run listen -- <namespace> <room> [--url URL] [--token JWT | --user ID]   e.g. /social post:123\n',
  );
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
const url =
  opt('--url') ?? process.env.SWITCHBOARD_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
const user = opt('--user') ?? 'dev';
const given = opt('--token');
const [ns, room] = args;
if (!ns || !room) usage('namespace and room are required');
try {
  roomActions(ns, room);
} catch (err) {
  usage((err as Error).message);
}

const mint = () => mintToken(loadConfig(), { userId: user });

async function listen(): Promise<void> {
  // A token that cannot be made (bad local config) is a usage error, as before; later ones are retried.
  if (given === undefined) await mint().catch((err: unknown) => usage((err as Error).message));

  const client = createClient({
    url,
    token: given ?? mint,
    onConnect: (_ns, at) =>
      client.stats.connects > 1 &&
      process.stderr.write(`listen: reconnected to ${at}, re-joining ${room}\n`),
    onDisconnect: (_ns, reason) => process.stderr.write(`listen: disconnected (${reason})\n`),
    onError: (_ns, err, refusedRoom) =>
      process.stderr.write(
        refusedRoom
          ? `listen: re-join of ${refusedRoom} refused: ${err.message}\n`
          : `listen: cannot connect to ${url}${ns}: ${err.message}\n`,
      ),
    onRecoveryIncomplete: (r, reason) =>
      process.stderr.write(
        `listen: events of ${r} missed while disconnected cannot all be replayed (${reason})\n`,
      ),
  });
  const space = client.namespace(ns as Namespace);
  space.onAny((name, ...payload) => {
    process.stdout.write(
      `${new Date().toISOString()} ${name} ${payload.map((p) => JSON.stringify(p)).join(' ')}\n`,
    );
  });
  space.join(room as RoomOf<Namespace>).then(
    () => process.stdout.write(`listening on ${ns} ${room} (${url})\n`),
    (err: unknown) => {
      process.stderr.write(
        `listen: join refused: ${err instanceof SwitchboardError ? err.message : String(err)}\n`,
      );
      process.exit(1);
    },
  );
  process.on('SIGINT', () => {
    client.close();
    process.exit(0);
  });
}

void listen();
